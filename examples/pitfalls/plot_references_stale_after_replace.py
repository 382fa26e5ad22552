"""
Stale references, copies and duplicates: what really disconnects a layer
========================================================================

Looking a layer up with ``self.layers['layer1']`` returns the registered module
itself. What does cut a layer off from training is holding on to an *old*
object, training a *copy*, registering the same layer under two names, or
creating layers inside ``forward``: kept in a local variable, such a layer is
never registered; assigned into the ``ModuleDict``, it is registered, but an
optimizer built before does not hold it. Each case below is measured.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# A reference taken before the entry is replaced
# ----------------------------------------------
# Assigning to a key replaces the module the ``ModuleDict`` holds. A variable
# bound earlier still points to the old one, and so does an optimizer built
# earlier.
import copy

import torch
from torch import nn

_ = torch.manual_seed(0)
x = torch.randn(8, 4)

md = nn.ModuleDict({"k": nn.Linear(4, 2)})
optimizer = torch.optim.SGD(md.parameters(), lr=0.1)
old = md["k"]
md["k"] = nn.Linear(4, 2)
print("old is md['k']:", old is md["k"])

new_weight = md["k"].weight.detach().clone()
md["k"](x).sum().backward()
optimizer.step()
held = optimizer.param_groups[0]["params"]
holds_old = held[0] is old.weight and held[1] is old.bias
knows_new = any(p is md["k"].weight for p in held)
moved = not torch.equal(md["k"].weight, new_weight)
assert (
    holds_old
    and not knows_new
    and not moved
    and md["k"].weight.grad is not None
)
print("optimizer holds the old layer:", holds_old, "| the new one:", knows_new)
print(
    "new layer has a gradient:",
    md["k"].weight.grad is not None,
    "| step() changed it:",
    moved,
)


# %%
# A ``copy.deepcopy`` inside ``forward``
# --------------------------------------
# The copy has parameters of its own. Backward fills *their* gradients, and the
# copy is thrown away at the end of ``forward``: the registered layer gets
# nothing.
class CopyInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({"layer1": nn.Linear(4, 2)})

    def forward(self, x):
        layer = copy.deepcopy(self.layers["layer1"])
        return layer(x)


model = CopyInForward()
model(x).sum().backward()
assert all(p.grad is None for p in model.parameters())
print({name: p.grad for name, p in model.named_parameters()})


# %%
# The same layer under two names
# ------------------------------
# ``self.first = self.layers['layer1']`` registers the layer a second time.
# ``parameters()`` removes duplicates, ``state_dict()`` does not: it saves the
# same tensors under both names, and a strict load wants both.
class TwoNames(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"layer1": nn.Linear(4, 3), "layer2": nn.Linear(3, 2)}
        )
        self.first = self.layers["layer1"]


model = TwoNames()
state = model.state_dict()
print(list(state))
print(
    "parameters():",
    len(list(model.parameters())),
    "| state_dict():",
    len(state),
)
assert len(list(model.parameters())) == 4 and len(state) == 6
assert (
    state["first.weight"].data_ptr()
    == state["layers.layer1.weight"].data_ptr()
)

# %%
# ``raises(Error, pattern)`` checks that its block raises ``Error`` with a
# message matching ``pattern``, and prints the error as Python does.
import re
import traceback
from contextlib import contextmanager

@contextmanager
def raises(expected, match):
    try:
        yield
    except expected as error:
        if not re.search(match, str(error)):
            raise  # the same type, another error: let it through
        print("".join(traceback.format_exception_only(error)))
    else:
        raise AssertionError(f"{expected.__name__} was not raised")


# %%
# A checkpoint written without the alias (for instance by the model before
# ``first`` was added) no longer loads strictly:
del state["first.weight"], state["first.bias"]
with raises(
    RuntimeError,
    r'Missing key\(s\) in state_dict: "first.weight", "first.bias"',
):
    model.load_state_dict(state)


# %%
# An alias that stays current and adds no key is a read-only property:
class Alias(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"layer1": nn.Linear(4, 3), "layer2": nn.Linear(3, 2)}
        )

    @property
    def first(self):
        return self.layers["layer1"]


model = Alias()
print(list(model.state_dict()))
assert len(model.state_dict()) == 4 and model.first is model.layers["layer1"]


# %%
# Layers created inside ``forward``
# ---------------------------------
# A layer built in ``forward`` and kept in a local variable is new, with new
# random weights, at every call. It is never registered, so no optimizer can
# train it, and the model is not even a function of its input.
class BuiltInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({"layer1": nn.Linear(4, 3)})

    def forward(self, x):
        head = nn.Linear(3, 2)  # new weights at every call
        return head(self.layers["layer1"](x))


model = BuiltInForward()
same_input_same_output = torch.equal(model(x), model(x))
assert not same_input_same_output and len(list(model.parameters())) == 2
print("parameters:", [name for name, _ in model.named_parameters()])
print("two calls on the same input agree:", same_input_same_output)


# %%
# A layer assigned into the ``ModuleDict`` inside ``forward`` (built the first
# time a key is met) is registered: it appears in ``named_parameters()`` after
# that call, and later calls reuse it. An optimizer built before the call does
# not hold it: ``backward`` fills its gradient, ``step()`` leaves it unchanged.
class AddedInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict()
        self.body = nn.Linear(4, 3)

    def forward(self, x, key):
        if key not in self.layers:
            self.layers[key] = nn.Linear(3, 2)
        return self.layers[key](self.body(x))


model = AddedInForward()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
print("before the call:", [name for name, _ in model.named_parameters()])
model(x, "a").sum().backward()
print("after the call: ", [name for name, _ in model.named_parameters()])
head = model.layers["a"]
before = head.weight.detach().clone()
optimizer.step()
held = [p for group in optimizer.param_groups for p in group["params"]]
knows_head = any(p is head.weight for p in held)
moved = not torch.equal(head.weight, before)
print("optimizer holds layers.a:", knows_head, "| step() changed it:", moved)
assert head.weight.grad is not None and not knows_head and not moved
assert torch.equal(model(x, "a"), model(x, "a"))

# %%
# ``add_param_group`` gives the optimizer the new layer; the next ``step()``
# trains it.
optimizer.add_param_group({"params": head.parameters()})
optimizer.step()
moved = not torch.equal(head.weight, before)
print("after add_param_group, step() changed it:", moved)
assert moved

# %%
# Conclusion
# ----------
# Build every layer in ``__init__``, register it once, look it up from the
# container when you use it, and build the optimizer after the last replacement
# or addition (or rebuild it, or give it the new layer with
# ``add_param_group``). Write an alias as a ``@property`` returning
# ``self.layers['layer1']``, not as a second registered attribute.
