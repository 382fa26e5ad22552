"""
The article's Example 1 runs, and backward reaches every parameter
====================================================================

The article *How to correctly index a PyTorch nn.ModuleDict?* (dated
2025-01-30) opens with an example it calls "Attribute Access (Recommended for
simpler cases)". We run its code exactly as published and look at what
``loss.backward()`` left in the model.
"""

# %%
# The article's code draws random weights and a random input. We seed torch's
# random number generator first, so that running this page again prints the
# same numbers (``manual_seed`` returns the generator, which we do not need).
import torch

_ = torch.manual_seed(0)

# %%
# The article's Example 1, as published
# -------------------------------------
# The code below is the article's, character for character, comments included.
import torch
import torch.nn as nn

class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({
            'layer1': nn.Linear(10, 5),
            'layer2': nn.Linear(5, 2)
        })

    def forward(self, x):
        x = self.layers['layer1'](x)
        x = self.layers['layer2'](x)
        return x

model = MyModel()
# Correctly access and use a layer: the connection to the graph is maintained.
output = model(torch.randn(1,10))
loss = output.mean()
loss.backward() # Gradient calculation works correctly.

# %%
# It prints nothing and raises nothing.
#
# What backward left behind
# -------------------------
# Every parameter of both layers now holds a gradient of its own shape, and no
# gradient is all zeros. Nothing here depended on *how* the layers were looked
# up: ``self.layers['layer1']`` is plain item access, and it returns the very
# ``nn.Linear`` registered in the model, the same object as the attribute
# ``self.layers.layer1``.

for name, parameter in model.named_parameters():
    grad = parameter.grad
    assert grad is not None and grad.shape == parameter.shape
    assert grad.abs().sum() > 0
    print(f"{name:22} grad {tuple(grad.shape)}  sum {grad.sum():+.4f}")

same_module = model.layers["layer1"] is model.layers.layer1
print("model.layers['layer1'] is model.layers.layer1:", same_module)
assert same_module

# %%
# Conclusion
# ----------
# The article's first example is correct code, but it uses item access, not
# the attribute access its heading names: looked up by item access, both
# layers' parameters are in the graph, and ``backward()`` fills all four of
# their gradients. Index a ``ModuleDict`` with ``[key]`` whenever that reads
# best.
