"""
Find the layers a model forgot to register
==========================================

A layer kept in a plain ``dict``, ``list`` or ``tuple`` runs in ``forward`` but
is missing from ``parameters()`` and ``state_dict()``.
``find_unregistered_modules``, defined below in about forty lines that need
only torch, walks every registered module and reports where such layers hide,
as paths you can paste.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# The finder
# ----------
# ``nn.Module.__setattr__`` registers a module assigned to an attribute, and
# ``nn.ModuleDict`` / ``nn.ModuleList`` register what they hold. A module kept
# anywhere else is an ordinary Python value. The finder reads every
# registered module's attributes (``vars()``), looks inside plain ``dict``,
# ``list``, ``tuple`` and ``set`` values, and reports each ``nn.Module`` it
# finds there that is registered nowhere in the model.
import torch
from torch import nn

# Attributes every nn.Module has for its own bookkeeping (_modules,
# _parameters, the hook dicts, ...), read from a bare module so that the set
# follows the installed torch.
MODULE_INTERNALS = frozenset(vars(nn.Module()))


def find_unregistered_modules(model, max_depth=3):
    """Paths of the modules ``model`` holds without registering them.

    Plain containers are searched up to ``max_depth`` levels deep. A module
    that is also registered somewhere in ``model`` is not reported. Paths
    read as Python reaches the object: ``'heads["a"]'``, ``'blocks[0]'``;
    a set has no order, so a module in one is named by its type:
    ``'extras{Linear}'``. An empty list means nothing is hidden.
    """
    registered = {id(module) for module in model.modules()}
    found = []

    def search(value, path, depth):
        if isinstance(value, nn.Module):
            # A registered module is searched in its own turn (it is in
            # named_modules); an unregistered one is reported once.
            if id(value) not in registered:
                found.append(path)
            return
        if depth == 0:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                search(item, f"{path}[{subscript(key)}]", depth - 1)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                search(item, f"{path}[{index}]", depth - 1)
        elif isinstance(value, (set, frozenset)):
            for item in sorted(value, key=lambda item: type(item).__name__):
                search(item, f"{path}{{{type(item).__name__}}}", depth - 1)

    for prefix, module in model.named_modules():
        for name, value in vars(module).items():
            if name not in MODULE_INTERNALS:
                path = f"{prefix}.{name}" if prefix else name
                search(value, path, max_depth)
    return found


def subscript(key):
    """A dict key as written in a subscript: ``"a"`` for a str, else repr."""
    if isinstance(key, str) and '"' not in key and "\\" not in key:
        return f'"{key}"'
    return repr(key)


# %%
# A model with three hiding places
# --------------------------------
# Plain containers at the top, nested two levels deep, and inside a registered
# submodule. One layer is shared: it sits in a plain dict *and* in a
# ``ModuleDict``, so it is registered and must not be reported.
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
        self.stages = {
            "low": [nn.Linear(4, 4), nn.Tanh()]
        }  # nested: both lost
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
    'heads["a"]',
    'stages["low"][0]',
    'stages["low"][1]',
    "branch.pair[0]",
    "branch.pair[1]",
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
# Each plain container is wrapped: ``nn.ModuleDict`` for a dict,
# ``nn.ModuleList`` for a list or a tuple, a ``ModuleDict`` of ``ModuleList``
# for the nested one. (The subclasses below wrap the containers ``Broken`` just
# built; in your own code, write ``nn.ModuleDict({...})`` where ``{...}`` was.)
# ``forward`` does not change, and the shared layer is still stored twice but
# counted once.
class FixedBranch(Branch):
    def __init__(self):
        super().__init__()
        self.pair = nn.ModuleList(self.pair)


class Fixed(Broken):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict(self.heads)
        self.stages = nn.ModuleDict(
            {
                name: nn.ModuleList(layers)
                for name, layers in self.stages.items()
            }
        )
        self.branch = FixedBranch()


fixed = Fixed()
print(fixed(torch.randn(3, 4)).shape, "- forward runs")
print(find_unregistered_modules(fixed))
assert find_unregistered_modules(fixed) == []
print(
    "parameters:",
    len(list(broken.parameters())),
    "->",
    len(list(fixed.parameters())),
)
# weight and bias of: shared, heads["a"], stages["low"][0], branch.pair[0]
assert (
    len(list(broken.parameters())) == 2 and len(list(fixed.parameters())) == 8
)

# %%
# Conclusion
# ----------
# Run ``find_unregistered_modules(model)`` once after building a model, for
# instance in a unit test: an empty list means no module is hidden in a plain
# ``dict``, ``list``, ``tuple`` or ``set`` attribute (up to three containers
# deep). Modules held in other objects, or created inside ``forward``, are not
# detected. Copy the first cell of this page into your project: it needs only
# torch.
