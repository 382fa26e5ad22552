"""
The article's Example 2 crashes in its forward pass
===================================================

The article recommends its Example 2, "Iterative Access", for dynamic architectures
and comments its last line with "Gradient calculation works correctly." Run as
published, the model never gets that far: its second layer cannot accept the output
of its first. We run the code, explain the shapes, and fix the model so that it
works for any number of layers from one up (run below with 1, 3 and 6).
"""

# %%
# The article's Example 2, as published
# -------------------------------------
# Quoted exactly, comments included, from ``_article.md``, the one place the site
# keeps the article's code:
#
# .. container:: guide-article-quote
#
#    .. article-code:: EXAMPLE_2
#
# We run that text with ``exec`` after ``torch.manual_seed(0)``. Its forward pass,
# ``output = model(torch.randn(1,10))``, raises; ``expect_error`` shows the error this
# build raised.
import torch
from _article import EXAMPLE_2
from _guide import expect_error
from torch import nn

torch.manual_seed(0)
namespace = {}
with expect_error(RuntimeError, r"mat1 and mat2 shapes cannot be multiplied"):
    exec(EXAMPLE_2, namespace)
model = namespace["model"]  # built before the crash

# %%
# The article's last two lines, ``loss = output.mean()`` and
# ``loss.backward() # Gradient calculation works correctly.``, are never reached:
# there is no ``output`` to take the mean of.

assert "output" not in namespace and "loss" not in namespace

# %%
# Why the shapes do not fit
# -------------------------
# Every layer is ``nn.Linear(10, 5)``: it takes 10 features and returns 5. The
# first layer turns the ``(1, 10)`` input into ``(1, 5)``; the second layer still
# expects 10 features. ``nn.Linear`` computes ``x @ weight.T``, and ``weight`` is
# stored as ``(out_features, in_features)``, hence the ``1x5`` and ``10x5`` of
# the message.

print("name    in -> out  weight.T")
for name, layer in model.layers.items():
    shape = tuple(layer.weight.T.shape)
    print(f"{name:7} {layer.in_features:2} -> {layer.out_features:<3} {shape}")
first_output = model.layers["layer1"](torch.randn(1, 10))
second = model.layers["layer2"]
print("layer1 output:", tuple(first_output.shape), "| layer2 expects", second.in_features,
      "features")
assert first_output.shape[-1] != second.in_features

# %%
# A dynamic model that works at any depth of one or more
# ------------------------------------------------------
# Each layer must take the width the previous one returns. A list of widths says
# that once: hidden layers keep 10 features, the last one maps to 5. (Like the
# article, we leave out activation functions to keep the focus on shapes.)


class FixedDynamicModel(nn.Module):
    def __init__(self, num_layers, width=10, out_features=5):
        super().__init__()
        widths = [width] * num_layers + [out_features]
        self.layers = nn.ModuleDict()
        for i in range(num_layers):
            self.layers[f"layer{i+1}"] = nn.Linear(widths[i], widths[i + 1])

    def forward(self, x):
        for layer in self.layers.values():
            x = layer(x)
        return x


for num_layers in (1, 3, 6):
    fixed = FixedDynamicModel(num_layers)
    output = fixed(torch.randn(1, 10))
    output.mean().backward()
    with_grad = [p.grad is not None for p in fixed.parameters()]
    assert output.shape == (1, 5) and all(with_grad)
    print(f"{num_layers} layers: output {tuple(output.shape)}, "
          f"{sum(with_grad)}/{len(with_grad)} parameters have a gradient")

# %%
# Iteration follows insertion order
# ---------------------------------
# ``items()`` and ``values()`` yield the layers in the order they were assigned,
# which is what a chain of layers needs. The order is not alphabetical: with 12
# layers, sorting the keys would put ``layer10`` right after ``layer1``.

deep = FixedDynamicModel(12)
inserted = [f"layer{i+1}" for i in range(12)]
iterated = [name for name, _ in deep.layers.items()]
print("iterated:", iterated)
print("sorted:  ", sorted(iterated))
assert iterated == inserted and iterated != sorted(iterated)

# %%
# Conclusion
# ----------
# Iterating over a ``ModuleDict`` is a fine way to run a variable number of layers,
# but the layers must compose: the ``in_features`` of each must equal the
# ``out_features`` of the one before. Derive the layer sizes from one list of
# widths, and test the model at more than one depth. A layer added *during* training
# is missing from an optimizer built before it: see "determined at runtime or during
# training" in the :ref:`claims ledger <sphx_glr_auto_examples_article_plot_claims_ledger.py>`.
