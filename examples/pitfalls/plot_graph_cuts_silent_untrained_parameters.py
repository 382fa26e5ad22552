"""
Parameters that silently never train: unused, replaced or unregistered
======================================================================

Some parameters are never disconnected by an error: backward and
``optimizer.step()`` run, and the parameter simply does not change. It happens
to an entry the forward pass never uses, to an entry replaced after the
optimizer was built, and to a module kept in a plain ``dict`` instead of the
``ModuleDict``. Each symptom is measured: the gradient, and whether ``step()``
changed the parameter.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# An entry the forward pass never uses
# ------------------------------------
# ``parameters()`` includes every entry, used or not. Backward fills the
# gradients of the entries the forward pass used; an unused entry keeps
# ``grad`` None, and ``SGD.step()`` skips parameters without a gradient.
import torch
from torch import nn

_ = torch.manual_seed(0)
x = torch.randn(8, 4)
rows = []  # (case, what happened to the parameter): the table at the end
heads = nn.ModuleDict({"used": nn.Linear(4, 2), "unused": nn.Linear(4, 2)})
optimizer = torch.optim.SGD(heads.parameters(), lr=0.1)


def trained(parameter, optimizer, loss) -> tuple[bool, bool]:
    """(has a gradient, changed by step()) after one backward and one step."""
    before = parameter.detach().clone()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return parameter.grad is not None, not torch.equal(parameter, before)


used = trained(heads["used"].weight, optimizer, heads["used"](x).sum())
unused = trained(heads["unused"].weight, optimizer, heads["used"](x).sum())
assert used == (True, True) and unused == (False, False)
print("used entry (grad, changed):", used, "| unused entry:", unused)
rows.append(("entry unused by forward", *unused))

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
# Asked for explicitly, the gradient of a tensor the output does not depend on
# is an error, unless ``allow_unused=True`` turns it into None:
out = heads["used"](x).sum()
params = [heads["used"].weight, heads["unused"].weight]
with raises(
    RuntimeError,
    "differentiated Tensor at index 1 appears to not have been used",
):
    torch.autograd.grad(out, params, retain_graph=True)
grads = torch.autograd.grad(out, params, allow_unused=True)
assert grads[0] is not None and grads[1] is None
print(
    "allow_unused=True:",
    [None if g is None else tuple(g.shape) for g in grads],
)

# %%
# An entry replaced after the optimizer was built
# -----------------------------------------------
# The optimizer holds the parameter tensors it was given. A new module assigned
# to the key has new tensors, which the optimizer has never seen (:ref:`more on
# stale references
# <sphx_glr_auto_examples_pitfalls_plot_references_stale_after_replace.py>`).
optimizer = torch.optim.SGD(heads.parameters(), lr=0.1)
heads["used"] = nn.Linear(4, 2)
stale = trained(heads["used"].weight, optimizer, heads["used"](x).sum())
assert stale == (True, False)
print("replaced entry (grad, changed):", stale)
rows.append(("entry replaced after the optimizer", *stale))

# The fix: build the optimizer again.
optimizer = torch.optim.SGD(heads.parameters(), lr=0.1)
rebuilt = trained(heads["used"].weight, optimizer, heads["used"](x).sum())
assert rebuilt == (True, True)
rows.append(("... optimizer built again", *rebuilt))


# %%
# A module kept outside the ``ModuleDict``
# ----------------------------------------
# A module in a plain ``dict`` is not registered: ``parameters()`` does not
# list it, so an optimizer built from them never updates it, although backward
# gives it a gradient (:ref:`every consequence of a plain dict
# <sphx_glr_auto_examples_pitfalls_plot_registration_plain_dict_is_invisible.py>`).
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.ModuleDict({"layer1": nn.Linear(4, 3)})
        self.heads = {"out": nn.Linear(3, 2)}  # a plain dict

    def forward(self, x):
        return self.heads["out"](self.trunk["layer1"](x))


model = Model()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
listed = any(p is model.heads["out"].weight for p in model.parameters())
outside = trained(model.heads["out"].weight, optimizer, model(x).sum())
assert not listed and outside == (True, False)
print(
    "in parameters():",
    listed,
    "| head in a plain dict (grad, changed):",
    outside,
)
rows.append(("module in a plain dict", *outside))

# %%
# Conclusion
# ----------
# None of these raised an error during training. After a first ``step()``,
# compare each parameter with a copy taken before it: one that did not change
# was not trained, whatever its gradient says.
for case, grad, changed in rows:
    print(
        f"{case:36} has a gradient: {grad!s:5}  changed by step(): {changed}"
    )
assert [changed for _, _, changed in rows] == [False, False, True, False]
