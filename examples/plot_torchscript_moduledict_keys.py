"""
TorchScript indexes a ModuleDict only with a literal key
=========================================================

``torch.jit.script`` compiles ``self.layers["a"]`` but rejects ``self.layers[key]``
when ``key`` is a ``str`` argument. Below: what works, the real error, two
workarounds that script, and what torch says about TorchScript itself.
"""

# %%
# Scripting warns that TorchScript is deprecated
# ----------------------------------------------
# We record the warnings of the first ``torch.jit.script`` call and print them. The
# later calls are made with that warning filtered, so the page stays readable.
import warnings

import torch
from _guide import expect_error
from torch import nn

_ = torch.manual_seed(0)
x = torch.randn(2, 4)


def two_layers():
    return nn.ModuleDict({"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)})


class LiteralKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = two_layers()

    def forward(self, x):
        return self.layers["a"](x)


module = LiteralKey()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    scripted = torch.jit.script(module)
for warning in caught:
    print(f"{warning.category.__name__}: {str(warning.message).splitlines()[0]}")
assert any(issubclass(w.category, DeprecationWarning) for w in caught)
warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)

# %%
# A literal key scripts and runs: the result equals the eager module's.
print(torch.equal(scripted(x), module(x)))


# %%
# A key passed as an argument does not script
# -------------------------------------------
# The error is raised by ``torch.jit.script`` itself, before any input is seen.
class VariableKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = two_layers()

    def forward(self, x, key: str):
        return self.layers[key](x)


with expect_error(RuntimeError, r"Unable to extract string literal index"):
    torch.jit.script(VariableKey())


# %%
# Workaround 1: iterate and compare keys
# --------------------------------------
# Iterating ``.items()`` scripts: the loop is unrolled over the known keys, as the
# generated code shows, and each branch is guarded by a string comparison.
class CompareKeys(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = two_layers()

    def forward(self, x, key: str):
        for name, layer in self.layers.items():
            if name == key:
                x = layer(x)
        return x


compare = torch.jit.script(CompareKeys())
print(compare.code)
assert torch.equal(compare(x, "b"), compare.layers.b(x))


# %%
# Workaround 2: a module interface
# --------------------------------
# Annotating the looked-up module with a ``torch.jit.interface`` type lets TorchScript
# index with a variable key. Every entry must implement the interface's ``forward``;
# its parameter is named ``input``, as in ``nn.Linear.forward`` and
# ``nn.ReLU.forward``. TorchScript reads the interface's source from the file of the
# module that defines it; sphinx-gallery runs this page without ``__file__``, so we
# name the file.
if "__file__" not in globals():
    __file__ = "plot_torchscript_moduledict_keys.py"


@torch.jit.interface
class TensorToTensor(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        pass


class InterfaceKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({"linear": nn.Linear(4, 4), "relu": nn.ReLU()})

    def forward(self, x, key: str):
        layer: TensorToTensor = self.layers[key]
        return layer.forward(x)


by_interface = torch.jit.script(InterfaceKey())
print(by_interface.code)
assert torch.equal(by_interface(x, "relu"), x.relu())
assert torch.equal(by_interface(x, "linear"), by_interface.layers.linear(x))
print("both keys give the eager results")

# %%
# Conclusion
# ----------
# In TorchScript, index a ``ModuleDict`` with literals, loop over ``.items()``
# comparing keys, or annotate the lookup with a ``torch.jit.interface`` type. Since
# torch itself now warns that ``torch.jit.script`` is deprecated and points to
# ``torch.compile`` and ``torch.export``, prefer those for new code: see
# :ref:`sphx_glr_auto_examples_plot_compile_key_per_call.py` and
# :ref:`sphx_glr_auto_examples_plot_fx_and_export_moduledict.py`.
