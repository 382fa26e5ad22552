"""
Iterating a ModuleDict works at any depth once the layers compose
=================================================================

The article's Example 2 builds every layer as ``nn.Linear(10, 5)`` and
crashes in its forward pass with three layers (see :doc:`the crash
<plot_article_example2_crashes_as_written>`).
Here we show why, from the layers' own sizes, then fix the model so that it
works for any number of layers from one up, gradients included.
"""

# %%
# Why the shapes do not fit
# -------------------------
# Three layers of the article's size, ``nn.Linear(10, 5)``, in a
# ``ModuleDict``. Each takes 10 features and returns 5, and ``nn.Linear``
# multiplies its input by the transpose of ``weight``, stored as
# ``(out_features, in_features)``. The first layer's output has 5 features;
# the second layer expects 10.
import torch
from torch import nn

_ = torch.manual_seed(0)
layers = nn.ModuleDict({f"layer{i + 1}": nn.Linear(10, 5) for i in range(3)})

print("name    in -> out  weight.T")
for name, layer in layers.items():
    shape = tuple(layer.weight.T.shape)
    print(f"{name:7} {layer.in_features:2} -> {layer.out_features:<3} {shape}")

first_output = layers["layer1"](torch.randn(1, 10))
second = layers["layer2"]
print("layer1 output:", tuple(first_output.shape))
print("layer2 expects", second.in_features, "features")
assert first_output.shape[-1] != second.in_features

# %%
# A dynamic model that works at any depth of one or more
# ------------------------------------------------------
# Each layer must take the width the previous one returns. A list of widths
# says that once: hidden layers keep 10 features, the last one maps to 5.
# (Like the article, we leave out activation functions to keep the focus on
# shapes.) We run it with 1, 3 and 6 layers, and backpropagate each time.


class FixedDynamicModel(nn.Module):
    def __init__(self, num_layers, width=10, out_features=5):
        super().__init__()
        widths = [width] * num_layers + [out_features]
        self.layers = nn.ModuleDict()
        for i in range(num_layers):
            self.layers[f"layer{i + 1}"] = nn.Linear(widths[i], widths[i + 1])

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
# ``items()`` and ``values()`` yield the layers in the order they were
# assigned, which is what a chain of layers needs. The order is not
# alphabetical: with 12 layers, sorting the keys would put ``layer10`` right
# after ``layer1`` (the first four names of each order are printed).

deep = FixedDynamicModel(12)
inserted = [f"layer{i + 1}" for i in range(12)]
iterated = [name for name, _ in deep.layers.items()]
print("iterated:", " ".join(iterated[:4]), "...")
print("sorted:  ", " ".join(sorted(iterated)[:4]), "...")
assert iterated == inserted and iterated != sorted(iterated)

# %%
# Conclusion
# ----------
# Iterating over a ``ModuleDict`` is a fine way to run a variable number of
# layers, but the layers must compose: the ``in_features`` of each must equal
# the ``out_features`` of the one before. Derive the layer sizes from one list
# of widths, and test the model at more than one depth. A layer added *during*
# training is missing from an optimizer built before it: see "determined at
# runtime or during training" in the :ref:`claims ledger <claims-ledger>`.
