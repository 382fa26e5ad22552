"""
The article's Example 2 crashes in its forward pass
===================================================

The article recommends its Example 2, "Iterative Access", for dynamic
architectures, and comments its last line with "Gradient calculation works
correctly." Run as published, the model never gets that far: its second layer
cannot accept the output of its first.
"""

# %%
# The article's Example 2, as published
# -------------------------------------
# The code below is the article's, character for character, comments included.
# Run it, and ``output = model(torch.randn(1,10))`` raises the error shown
# under it; the two lines after it never run.
import torch
import torch.nn as nn

class DynamicModel(nn.Module):
    def __init__(self, num_layers):
        super().__init__()
        self.layers = nn.ModuleDict()
        for i in range(num_layers):
            self.layers[f'layer{i+1}'] = nn.Linear(10, 5) # Dynamic creation

    def forward(self, x):
        for name, layer in self.layers.items():
            x = layer(x)
        return x

model = DynamicModel(3) #Create model with 3 layers.
output = model(torch.randn(1,10))
loss = output.mean()
loss.backward() # Gradient calculation works correctly.

# %%
# Why the shapes do not fit
# -------------------------
# Every layer is ``nn.Linear(10, 5)``: it takes 10 features and returns 5. The
# first layer turns the ``(1, 10)`` input into ``(1, 5)``, and the second
# layer still expects 10 features. ``nn.Linear`` multiplies its input by the
# transpose of its ``weight``, which it stores as ``(out_features,
# in_features)``: the ``1x5`` in the message is the first layer's output, the
# ``10x5`` the second layer's transposed weight. Their inner sizes, 5 and 10,
# differ, so the product cannot be computed. ``loss = output.mean()`` and
# ``loss.backward()`` are never reached: there is no ``output`` to take the
# mean of, and no gradient is computed at all.
#
# Conclusion
# ----------
# Iterating over a ``ModuleDict`` is a fine way to run a variable number of
# layers, but the layers must compose: the ``in_features`` of each must equal
# the ``out_features`` of the one before. The article's Example 2 cannot run
# with more than one layer. :doc:`A dynamic model whose layers compose
# <plot_article_example2_fixed_layers_compose>` derives every layer's size
# from one list of widths and runs, with its gradients, at any depth.
