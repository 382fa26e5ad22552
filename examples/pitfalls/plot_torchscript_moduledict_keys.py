"""
TorchScript indexes a ModuleDict only with a literal key
=========================================================

``torch.jit.script`` compiles ``self.layers["a"]`` but rejects
``self.layers[key]`` when ``key`` is a ``str`` argument. Below: what torch says
about TorchScript itself, why it needs a file, what works, the real error, and
two workarounds that script, with what each does with a key the dictionary
does not hold.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# Scripting a literal key
# -----------------------
# In this page's own process, we record the warnings of the first
# ``torch.jit.script`` call with every warning shown, and print them. The later
# calls are made with that warning filtered, so the page stays readable.
import warnings

import torch
from torch import nn

_ = torch.manual_seed(0)
x = torch.randn(2, 4)


class TwoLayers(nn.Module):
    """Every model of this page: a ModuleDict of two entries, "a" and "b"."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)}
        )


class LiteralKey(TwoLayers):
    def forward(self, x):
        return self.layers["a"](x)


module = LiteralKey()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    scripted = torch.jit.script(module)
for warning in caught:
    first_line = str(warning.message).splitlines()[0]
    print(f"warning ({warning.category.__name__}) {first_line}")
assert any(issubclass(w.category, DeprecationWarning) for w in caught)
warnings.filterwarnings(
    "ignore", "`torch.jit.script` is deprecated", DeprecationWarning
)

# %%
# A literal key scripts and runs: the result equals the eager module's.
same = torch.equal(scripted(x), module(x))
print("scripted output equals the eager output:", same)
assert same


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
# A key passed as an argument does not script
# -------------------------------------------
# The error is raised by ``torch.jit.script`` itself, before any input is seen.
# Its message quotes the file and the line of ``forward`` that it refuses.
class VariableKey(TwoLayers):
    def forward(self, x, key: str):
        return self.layers[key](x)


with raises(RuntimeError, r"Unable to extract string literal index"):
    torch.jit.script(VariableKey())


# %%
# Workaround 1: iterate and compare keys
# --------------------------------------
# Iterating ``.items()`` scripts: the loop is unrolled over the known keys, as
# the generated code shows, and each branch is guarded by a string comparison
# that runs at each call.
class CompareKeys(TwoLayers):
    def forward(self, x, key: str):
        for name, layer in self.layers.items():
            if name == key:
                x = layer(x)
        return x


compare = torch.jit.script(CompareKeys())
print(compare.code)
assert torch.equal(compare(x, "b"), compare.layers.b(x))

# %%
# A key that is not in the dictionary matches no comparison: the loop runs no
# entry, and ``forward`` returns its input unchanged, with no error.
unchanged = torch.equal(compare(x, "missing"), x)
print('compare(x, "missing") equals x:', unchanged)
assert unchanged


# %%
# To be told, return from inside the loop and raise after it: TorchScript
# scripts the ``raise``, and the error names the key.
class CheckedKeys(TwoLayers):
    def forward(self, x, key: str):
        for name, layer in self.layers.items():
            if name == key:
                return layer(x)
        raise KeyError(key)


checked = torch.jit.script(CheckedKeys())
assert torch.equal(checked(x, "b"), checked.layers.b(x))
with raises(torch.jit.Error, r"builtins\.KeyError: missing"):
    checked(x, "missing")


# %%
# Workaround 2: a module interface
# --------------------------------
# Annotating the looked-up module with a ``torch.jit.interface`` type lets
# TorchScript index with a variable key. Every entry must implement the
# interface's ``forward``; its parameter is named ``input``, as in
# ``nn.Linear.forward`` and ``nn.ReLU.forward``. TorchScript reads the
# interface's source from the file of the module that defines it, its
# ``__file__``. A notebook has no ``__file__``: there, the first line below
# names the file this cell was compiled from (in Jupyter, the cell itself),
# which holds the source.
if "__file__" not in globals():
    __file__ = (lambda: None).__code__.co_filename


@torch.jit.interface
class TensorToTensor(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        pass


class InterfaceKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"linear": nn.Linear(4, 4), "relu": nn.ReLU()}
        )

    def forward(self, x, key: str):
        layer: TensorToTensor = self.layers[key]
        return layer.forward(x)


by_interface = torch.jit.script(InterfaceKey())
print(by_interface.code)
assert torch.equal(by_interface(x, "relu"), x.relu())
assert torch.equal(by_interface(x, "linear"), by_interface.layers.linear(x))
print("both keys give the eager results")

# %%
# Here the lookup itself runs at each call: a key that is not in the
# dictionary raises a ``RuntimeError`` that names it.
with raises(RuntimeError, r"does not have a field with name 'missing'"):
    by_interface(x, "missing")

# %%
# Scripting warns that TorchScript is deprecated, unseen by default
# -----------------------------------------------------------------
# ``torch.jit.script`` warns with a ``DeprecationWarning`` that torch raises
# from its own module ``torch.jit._script``. Python's default warning filters
# show a ``DeprecationWarning`` only when it is attributed to ``__main__`` and
# ignore it elsewhere, so a plain ``python script.py`` prints nothing. Two
# fresh interpreters run ``CHILD`` below, one started with Python's defaults,
# one with ``python -W default`` (neither has ``PYTHONWARNINGS`` in its
# environment). Each scripts a module with the filters it started with, then
# again after ``warnings.simplefilter("default")``. Their stderr is printed
# with torch's install folder cut off, so that paths start at ``torch/``.
import os
import subprocess
import sys
from pathlib import Path

CHILD = """
import sys, warnings
print("filters for a DeprecationWarning before torch is imported",
      "(first match wins):", file=sys.stderr)
for action, message, category, module, _ in warnings.filters:
    if issubclass(DeprecationWarning, category):
        module = getattr(module, "pattern", module) or "any module"
        message = message or "any"
        print("   ", action, category.__name__, "message", message,
              "from", module, file=sys.stderr)
import torch
print("-- script, filters as started", file=sys.stderr)
torch.jit.script(torch.nn.Linear(2, 2))
warnings.simplefilter("default")
print('-- script, after warnings.simplefilter("default")', file=sys.stderr)
torch.jit.script(torch.nn.Linear(2, 2))
"""
env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
children = {
    flags: subprocess.Popen(
        [sys.executable, *flags, "-c", CHILD],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    for flags in [(), ("-W", "default")]
}
torch_folder = str(Path(torch.__file__).parent.parent) + os.sep
stderr = {}
for flags, child in children.items():
    stderr[flags] = child.communicate()[1].replace(torch_folder, "")
    assert child.returncode == 0, stderr[flags]
    print("$", " ".join(["python", *flags, "-c CHILD"]))
    print(stderr[flags])
warning = "DeprecationWarning: `torch.jit.script` is deprecated"
silent, shown = stderr[()].split("simplefilter")
assert warning not in silent and shown.count(warning) == 1
assert stderr[("-W", "default")].count(warning) == 2

# %%
# Pasted at Python's interactive prompt, a class cannot be scripted
# -----------------------------------------------------------------
# TorchScript compiles a class from its source code, which
# ``torch.jit.script`` reads with Python's ``inspect``. A class typed or pasted
# at the interactive prompt has no source file. A fresh ``python -i``, which
# runs the interactive prompt on the lines piped to it, defines a module and
# scripts it; below, the exceptions its traceback names, the cause first.
PASTED = """import torch
class Double(torch.nn.Module):
    def forward(self, x):
        return 2 * x

torch.jit.script(Double())
"""
prompt = subprocess.run(
    [sys.executable, "-i"],
    input=PASTED,
    env=env,
    capture_output=True,
    text=True,
)
raised = [s for s in prompt.stderr.splitlines() if s.startswith("OSError")]
print(*raised, sep="\n\n", end="\n\n")
assert raised[0] == "OSError: could not get source code" and len(raised) == 2
assert raised[1].startswith("OSError: Can't get source for")

# %%
# Conclusion
# ----------
# In TorchScript, index a ``ModuleDict`` with literals, loop over ``.items()``
# comparing keys (and raise after the loop: an unknown key otherwise runs
# nothing), or annotate the lookup with a ``torch.jit.interface`` type (an
# unknown key raises). Run scripting code from a file, not pasted at the
# interactive prompt.
# Since torch itself now warns that ``torch.jit.script`` is deprecated (a
# warning Python's default filters hide: run with ``python -W default`` to see
# it) and points to ``torch.compile`` and ``torch.export``, prefer those for
# new code: see
# :ref:`sphx_glr_auto_examples_pitfalls_plot_compile_key_per_call.py` and
# :ref:`sphx_glr_auto_examples_pitfalls_plot_fx_and_export_moduledict.py`.
