"""
The article's Example 1 runs, and backward reaches every parameter
====================================================================

The article *How to correctly index a PyTorch nn.ModuleDict?* (dated 2025-01-30)
opens with an example it calls "Attribute Access (Recommended for simpler cases)".
We run its code exactly as published and look at what ``loss.backward()`` left in
the model.
"""

# %%
# A fixed seed first, so that every build prints the same numbers. It comes before
# the article's code and changes nothing in it.
import torch

_ = torch.manual_seed(0)

# %%
# The article's Example 1, verbatim
# ---------------------------------
# Quoted exactly from the article, comments included.

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
# What backward left behind
# -------------------------
# Every parameter of both layers now holds a gradient of its own shape. Nothing
# here depended on *how* the layers were looked up: ``self.layers['layer1']`` is
# plain item access, and it returns the very ``nn.Linear`` registered in the model.

for name, parameter in model.named_parameters():
    print(f"{name:22} grad {tuple(parameter.grad.shape)}  sum {parameter.grad.sum():+.4f}")

assert all(p.grad is not None for p in model.parameters())
print(model.layers["layer1"] is model.layers.layer1)

# %%
# Conclusion
# ----------
# The article's first example is correct code: item access on a ``ModuleDict`` keeps
# every parameter in the graph, and ``backward()`` fills every gradient.
