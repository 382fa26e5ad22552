"""
Modules in a plain dict or list are invisible to the model
==========================================================

The real way to lose a layer is not how it is indexed but where it is stored.
``nn.Module`` registers a module assigned to an attribute, and
``nn.ModuleDict`` / ``nn.ModuleList`` register what they hold; a plain ``dict``
or ``list`` registers nothing. Until the model is converted with ``.to()``,
``.double()`` and the like, the forward pass still runs and torch raises no
error and no warning. We measure every consequence on one model, then fix it.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# One registered layer, the rest in plain containers
# --------------------------------------------------
import torch
from torch import nn

_ = torch.manual_seed(0)


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 4)  # registered
        self.blocks = [nn.Linear(4, 4), nn.Dropout(0.5)]  # plain list
        self.heads = {"a": nn.Linear(4, 2), "b": nn.Linear(4, 2)}  # plain dict

    def forward(self, x):
        x = self.trunk(x)
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](x)


model = Plain()
x = torch.randn(8, 4)
print(model)
print(
    "parameters:",
    len(list(model.parameters())),
    " state_dict keys:",
    list(model.state_dict()),
)
assert len(list(model.parameters())) == 2  # trunk.weight and trunk.bias only

# %%
# ``zero_grad()`` does not clear their gradients
# ----------------------------------------------
# ``model.parameters()`` does not contain the heads, so an optimizer built from
# it does not know them. ``zero_grad()`` resets the trunk only, and the heads'
# gradients accumulate: a second, identical pass (same dropout mask) doubles
# them.
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
head = model.heads["a"]
_ = torch.manual_seed(1)  # fixes the dropout mask of this pass
model(x).sum().backward()
optimizer.zero_grad()
print(
    "after zero_grad(): trunk grad",
    model.trunk.weight.grad,
    "| head grad kept:",
    head.weight.grad is not None,
)
first = head.weight.grad.clone()
_ = torch.manual_seed(1)
model(x).sum().backward()
doubled = torch.allclose(head.weight.grad, 2 * first)
assert doubled
print("head grad after the second pass == 2 x first pass:", doubled)

# %%
# The optimizer never updates them
# --------------------------------
# The head holds a gradient, yet ``step()`` leaves it exactly as it was.
before = head.weight.detach().clone()
trunk_before = model.trunk.weight.detach().clone()
optimizer.step()
trunk_moved = not torch.equal(model.trunk.weight, trunk_before)
head_moved = not torch.equal(head.weight, before)
assert head.weight.grad is not None and trunk_moved and not head_moved
print(
    "step() changed the trunk:", trunk_moved, "| changed the head:", head_moved
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
# A model that keeps *all* its layers in plain containers has nothing to
# optimize:
only_plain = nn.Module()
only_plain.heads = {"a": nn.Linear(4, 2)}
with raises(ValueError, "empty parameter list"):
    torch.optim.SGD(only_plain.parameters(), lr=0.1)

# %%
# ``eval()`` and ``double()`` do not reach them
# ---------------------------------------------
# ``model.eval()`` switches registered modules only: the Dropout in the list
# keeps dropping, so two calls in "eval mode" give different outputs.
model.eval()
dropout = model.blocks[1]
differs = not torch.equal(model(x), model(x))
assert not model.training and dropout.training and differs
print(
    "model.training:",
    model.training,
    "| dropout.training:",
    dropout.training,
    "| outputs differ:",
    differs,
)

# %%
# ``model.double()``, like ``model.to(torch.float64)``, converts the trunk, not
# the list and the dict; the first unconverted layer meets float64 activations:
model.double()
print("trunk:", model.trunk.weight.dtype, "| head:", head.weight.dtype)
with raises(RuntimeError, "must have the same dtype"):
    model(x.double())


# %%
# The fix: ``nn.ModuleList`` and ``nn.ModuleDict``
# ------------------------------------------------
# Same layers, same ``forward`` (reused from ``Plain``); only the containers
# change.
class Registered(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 4)
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Dropout(0.5)])
        self.heads = nn.ModuleDict(
            {"a": nn.Linear(4, 2), "b": nn.Linear(4, 2)}
        )

    forward = Plain.forward


fixed = Registered()
print(fixed)
names = list(fixed.state_dict())
print("parameters:", len(list(fixed.parameters())), " state_dict keys:", names)
assert (
    len(list(fixed.parameters())) == 8
    and "heads.a.weight" in names
    and "blocks.0.bias" in names
)

# %%
# Every operation that failed above now reaches the heads and the blocks.
optimizer = torch.optim.SGD(fixed.parameters(), lr=0.1)
before = fixed.heads["a"].weight.detach().clone()
fixed(x).sum().backward()
optimizer.step()
optimizer.zero_grad()
fixed.eval().double()
checks = {
    "step() changed the head": not torch.equal(
        fixed.heads["a"].weight.float(), before
    ),
    "zero_grad() cleared every grad": all(
        p.grad is None for p in fixed.parameters()
    ),
    "eval() reached the dropout": not fixed.blocks[1].training,
    "eval outputs are repeatable": torch.equal(
        fixed(x.double()), fixed(x.double())
    ),
    "double() reached the head": fixed.heads["a"].weight.dtype
    == torch.float64,
}
for check, passed in checks.items():
    print(f"{check:31} {passed}")
assert all(checks.values())

# %%
# Conclusion
# ----------
# Store submodules in an attribute, an ``nn.ModuleDict`` or an
# ``nn.ModuleList``, never in a plain ``dict``, ``list`` or ``tuple``. If
# ``print(model)`` does not show a layer, neither the optimizer,
# ``state_dict()``, ``zero_grad()``, ``eval()`` nor ``.to()`` will see it.
# :ref:`sphx_glr_auto_examples_pitfalls_plot_registration_find_unregistered_modules.py`
# finds such layers automatically.
