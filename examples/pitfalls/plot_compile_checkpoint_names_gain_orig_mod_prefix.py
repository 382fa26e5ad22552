"""
A torch.compile'd model's checkpoint names start with ``_orig_mod.``
=====================================================================

``torch.compile(model)`` returns a wrapper, an ``OptimizedModule``, that holds
the model as its submodule ``_orig_mod``. Its ``state_dict()`` names therefore
gain the prefix ``_orig_mod.``, in front of the ``ModuleDict`` keys, and a
checkpoint does not load strictly across the wrapper in either direction.
Below: both failures, and the ways to load across.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# The wrapper's names
# -------------------
import torch
from torch import nn
from torch._dynamo.testing import CompileCounter
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

_ = torch.manual_seed(0)


class PickByKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)}
        )

    def forward(self, x, key: str):
        return self.layers[key](x)


model = PickByKey()
compiled = torch.compile(model, backend="eager")
x = torch.randn(2, 4)
print(type(compiled).__name__, compiled._orig_mod is model)
print(list(model.state_dict()))
print(list(compiled.state_dict()))
assert list(compiled.state_dict()) == [
    "_orig_mod." + k for k in model.state_dict()
]

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
# Compiled checkpoint into a plain model
# --------------------------------------
# Strict loading fails: every name is both missing and unexpected.
plain = PickByKey()
with raises(
    RuntimeError, r'Unexpected key\(s\) in state_dict: "_orig_mod\.layers\.a'
):
    plain.load_state_dict(compiled.state_dict())

# %%
# ``consume_prefix_in_state_dict_if_present`` removes the prefix in place (its
# docstring offers it for DDP's ``module.`` prefix; it works for any prefix).
# Alternatively, save ``model.state_dict()`` (or
# ``compiled._orig_mod.state_dict()``) in the first place: it has no prefix.
checkpoint = compiled.state_dict()
consume_prefix_in_state_dict_if_present(checkpoint, "_orig_mod.")
print(plain.load_state_dict(checkpoint))
assert torch.equal(plain(x, "b"), compiled(x, "b"))
assert (
    list(compiled._orig_mod.state_dict())
    == list(model.state_dict())
    == list(checkpoint)
)

# %%
# Plain checkpoint into a compiled model
# --------------------------------------
# The other direction fails the same way ...
fresh = torch.compile(PickByKey(), backend="eager")
with raises(
    RuntimeError, r'Missing key\(s\) in state_dict: "_orig_mod\.layers\.a'
):
    fresh.load_state_dict(plain.state_dict())

# %%
# ... and works when loaded into the wrapped model, whose parameters the
# wrapper uses.
print(fresh._orig_mod.load_state_dict(plain.state_dict()))
assert torch.equal(fresh(x, "a"), plain(x, "a"))

# %%
# ``nn.Module.compile()`` compiles in place and keeps the names
# -------------------------------------------------------------
# ``model.compile()`` compiles the model's ``__call__`` without a wrapper: the
# object, its class and its ``state_dict()`` names stay the same, so
# checkpoints load both ways unchanged. A ``CompileCounter`` backend confirms
# that a graph was compiled.
in_place, counter = PickByKey(), CompileCounter()
in_place.compile(backend=counter)
assert not torch.equal(in_place(x, "b"), plain(x, "b"))  # not loaded yet
print("graphs compiled:", counter.frame_count)
assert counter.frame_count == 1
print(type(in_place).__name__, list(in_place.state_dict()))
print(in_place.load_state_dict(plain.state_dict()))
print(plain.load_state_dict(in_place.state_dict()))
assert list(in_place.state_dict()) == list(plain.state_dict())
assert torch.equal(in_place(x, "b"), plain(x, "b"))

# %%
# Conclusion
# ----------
# Save and load through the model, not through the ``torch.compile`` wrapper
# (``compiled._orig_mod``), or strip ``_orig_mod.`` with
# ``consume_prefix_in_state_dict_if_present``; or compile in place with
# ``model.compile()``, which leaves the names alone.
