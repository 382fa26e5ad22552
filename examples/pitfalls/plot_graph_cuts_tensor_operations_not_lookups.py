"""
Tensor operations cut the graph: detach, no_grad, .data, in place
=================================================================

Looking a layer up with ``model["layer1"]`` never disconnects it. What does is
an operation on the tensors themselves. Each case below runs on the same
two-layer ``ModuleDict``, looked up by key every time, and shows either the
exact error torch raises or, where torch stays silent, the measured symptom.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# The model, and a run where everything is connected
# --------------------------------------------------
import torch
from torch import nn

_ = torch.manual_seed(0)
model = nn.ModuleDict({"layer1": nn.Linear(4, 3), "layer2": nn.Linear(3, 2)})
x = torch.randn(8, 4)
rows = []  # (case, loud or silent, what happened): the table at the end


def missing() -> list[str]:
    """The parameters without a gradient (``zero_grad()`` sets all to None)."""
    return [name for name, p in model.named_parameters() if p.grad is None]


model.zero_grad()
model["layer2"](model["layer1"](x)).sum().backward()
assert missing() == []
print("no gradient after backward:", missing())

# %%
# ``.detach()`` and ``.data`` between the layers
# ----------------------------------------------
# Both return a tensor with no history. Backward runs, fills ``layer2`` and
# silently leaves ``layer1`` without a gradient.
for how in ("detach()", "data"):
    model.zero_grad()
    hidden = model["layer1"](x)
    hidden = hidden.detach() if how == "detach()" else hidden.data
    model["layer2"](hidden).sum().backward()
    assert missing() == ["layer1.weight", "layer1.bias"]
    print(f".{how}: no gradient for", missing())
    symptom = "no grad: " + ", ".join(missing())
    rows.append((f"hidden.{how}", "silent", symptom))

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
# ``torch.no_grad()``
# -------------------
# Around the first layer only, it cuts like ``.detach()``. Around the whole
# forward pass, nothing requires a gradient, and backward refuses:
model.zero_grad()
with torch.no_grad():
    hidden = model["layer1"](x)
model["layer2"](hidden).sum().backward()
assert missing() == ["layer1.weight", "layer1.bias"]
symptom = "no grad: " + ", ".join(missing())
rows.append(("no_grad() around layer1", "silent", symptom))

with torch.no_grad():
    out = model["layer2"](model["layer1"](x))
with raises(RuntimeError, "element 0 of tensors does not require grad"):
    out.sum().backward()
rows.append(("no_grad() around forward", "error", "RuntimeError"))

# %%
# Changing a parameter in place
# -----------------------------
# Outside ``no_grad``, an in-place change of a parameter (a leaf that requires
# grad) is refused at once:
with raises(RuntimeError, "a leaf Variable that requires grad is being used"):
    model["layer1"].weight.add_(1.0)
rows.append(("param.add_() outside no_grad", "error", "RuntimeError"))

# %%
# Inside ``no_grad`` it is allowed, and it raises the parameter's version
# counter. ``layer2`` saved a view of its weight for backward (``weight.t()``,
# the ``[3, 2]`` tensor in the message), which shares the weight's version
# counter, so a backward through an older forward pass now refuses to use the
# changed value:
out = model["layer2"](model["layer1"](x)).sum()
with torch.no_grad():
    model["layer2"].weight.mul_(2.0)
with raises(RuntimeError, "modified by an inplace operation"):
    out.backward()
case = "no_grad(): param.mul_() before backward"
rows.append((case, "error", "RuntimeError"))

# %%
# Through ``.data`` the same change raises no counter. Backward then silently
# uses the changed weight: ``layer1``'s gradient comes out exactly twice the
# true one.
with torch.no_grad():
    model["layer2"].weight.div_(2.0)  # undo the change above
model.zero_grad()
model["layer2"](model["layer1"](x)).sum().backward()
true_grad = model["layer1"].weight.grad.clone()

model.zero_grad()
out = model["layer2"](model["layer1"](x)).sum()
model["layer2"].weight.data.mul_(2.0)
out.backward()
doubled = torch.equal(model["layer1"].weight.grad, 2 * true_grad)
assert doubled
print("layer1 gradient is exactly twice the true one:", doubled)
ratio = (model["layer1"].weight.grad.sum() / true_grad.sum()).item()
symptom = f"layer1 grad = {ratio:g} x true"
rows.append(("param.data.mul_() before backward", "silent", symptom))
_ = model["layer2"].weight.data.div_(2.0)  # undo the change

# %%
# Changing a saved activation in place
# ------------------------------------
# ``sigmoid`` saves its output for backward; changing that output in place is
# caught (torch names the tensor by its newest operation, the ``mul_``):
hidden = torch.sigmoid(model["layer1"](x))
out = model["layer2"](hidden).sum()
hidden.mul_(2.0)
with raises(
    RuntimeError, r"inplace operation: \[torch.FloatTensor \[8, 3\]\]"
):
    out.backward()
rows.append(("activation.mul_() before backward", "error", "RuntimeError"))

# %%
# A second backward through the same graph
# ----------------------------------------
# Backward frees the tensors the graph saved, so the second call refuses:
out = model["layer2"](model["layer1"](x)).sum()
out.backward()
with raises(
    RuntimeError, "Trying to backward through the graph a second time"
):
    out.backward()
rows.append(("second backward()", "error", "RuntimeError"))

# %%
# Conclusion
# ----------
# Every case above broke the graph through a tensor, never through the key
# lookup. The silent ones are the dangerous ones: check ``p.grad is None``
# after a first backward, change parameters only inside ``no_grad()`` (never
# through ``.data``), and run a new forward pass after changing them.
for case, loud, what in rows:
    print(f"{case:40} {loud:6} {what}")
assert [loud for _, loud, _ in rows].count("silent") == 4
