"""
Find the layers a model forgot to register
==========================================

A layer kept in a plain ``dict``, ``list`` or ``tuple`` runs in ``forward`` but is
missing from ``parameters()`` and ``state_dict()``. ``find_unregistered_modules``,
from the helper module ``_unregistered.py`` next to this example, walks every
registered module and reports where such layers hide, as paths you can paste.
"""

# %%
# A model with three hiding places
# --------------------------------
# Plain containers at the top, nested two levels deep, and inside a registered
# submodule. One layer is shared: it sits in a plain dict *and* in a
# ``ModuleDict``, so it is registered and must not be reported.
import torch
from _unregistered import find_unregistered_modules
from torch import nn

_ = torch.manual_seed(0)


class Branch(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = (nn.Linear(4, 4), nn.ReLU())  # a tuple: not registered

    def forward(self, x):
        return self.pair[1](self.pair[0](x))


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        shared = nn.Linear(4, 4)
        self.registered = nn.ModuleDict({"shared": shared})
        self.heads = {"a": nn.Linear(4, 2), "shared": shared}  # "a" is lost
        self.stages = {"low": [nn.Linear(4, 4), nn.Tanh()]}  # nested: both lost
        self.branch = Branch()  # registered, but holds a tuple

    def forward(self, x):
        for layer in self.stages["low"]:
            x = layer(x)
        return self.heads["a"](self.branch(self.heads["shared"](x)))


broken = Broken()
print(broken(torch.randn(3, 4)).shape, "- forward runs")
lost = find_unregistered_modules(broken)
print(lost)
assert lost == [
    'heads["a"]', 'stages["low"][0]', 'stages["low"][1]', "branch.pair[0]", "branch.pair[1]"
]

# %%
# Each path evaluates, from the model, to a module the model does not list:
registered = set(broken.modules())
for path in lost:
    module = eval(f"broken.{path}")
    assert module not in registered
    print(f"{path:18} {module}")

# %%
# The fixed model
# ---------------
# Each plain container is wrapped: ``nn.ModuleDict`` for a dict, ``nn.ModuleList``
# for a list or a tuple, a ``ModuleDict`` of ``ModuleList`` for the nested one.
# (The subclasses below wrap the containers ``Broken`` just built; in your own
# code, write ``nn.ModuleDict({...})`` where ``{...}`` was.) ``forward`` does not
# change, and the shared layer is still stored twice but counted once.
class FixedBranch(Branch):
    def __init__(self):
        super().__init__()
        self.pair = nn.ModuleList(self.pair)


class Fixed(Broken):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict(self.heads)
        self.stages = nn.ModuleDict(
            {name: nn.ModuleList(layers) for name, layers in self.stages.items()}
        )
        self.branch = FixedBranch()


fixed = Fixed()
print(fixed(torch.randn(3, 4)).shape, "- forward runs")
print(find_unregistered_modules(fixed))
assert find_unregistered_modules(fixed) == []
print("parameters:", len(list(broken.parameters())), "->", len(list(fixed.parameters())))
# weight and bias of: shared, heads["a"], stages["low"][0], branch.pair[0]
assert len(list(broken.parameters())) == 2 and len(list(fixed.parameters())) == 8

# %%
# Conclusion
# ----------
# Run ``find_unregistered_modules(model)`` once after building a model, for
# instance in a unit test: an empty list means no module is hidden in a plain
# ``dict``, ``list``, ``tuple`` or ``set`` attribute (up to three containers deep).
# Modules held in other objects, or created inside ``forward``, are not detected.
# Copy ``examples/_unregistered.py`` into your project; it only needs ``torch``.
