"""
The article's Example 1 runs, and backward reaches every parameter
====================================================================

The article *How to correctly index a PyTorch nn.ModuleDict?* (dated 2025-01-30)
opens with an example it calls "Attribute Access (Recommended for simpler cases)".
We run its code exactly as published and look at what ``loss.backward()`` left in
the model.
"""

# %%
# The article's Example 1, as published
# -------------------------------------
# Quoted exactly, comments included, from ``_article.md``, the one place the site
# keeps the article's code:
#
# .. container:: guide-article-quote
#
#    .. article-code:: EXAMPLE_1
#
# We run that text with ``exec`` after ``torch.manual_seed(0)`` (so that every build
# prints the same numbers); ``run`` returns the names it defined.
from _article import EXAMPLE_1
from _harness import run

ex1 = run(EXAMPLE_1, seed=0)
model = ex1["model"]
assert ex1["error"] is None and ex1["printed"] == ""

# %%
# What backward left behind
# -------------------------
# Every parameter of both layers now holds a gradient of its own shape, and no gradient
# is all zeros. Nothing here depended on *how* the layers were looked up:
# ``self.layers['layer1']`` is plain item access, and it returns the very ``nn.Linear``
# registered in the model.

for name, parameter in model.named_parameters():
    print(f"{name:22} grad {tuple(parameter.grad.shape)}  sum {parameter.grad.sum():+.4f}")

assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
print(model.layers["layer1"] is model.layers.layer1)

# %%
# Conclusion
# ----------
# The article's first example is correct code, but it uses item access, not the
# attribute access its heading names: looked up by item access, both layers'
# parameters are in the graph, and ``backward()`` fills all four of their gradients.
