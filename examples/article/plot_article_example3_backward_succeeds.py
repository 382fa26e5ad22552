"""
Myth busted: the article's "incorrect" Example 3 runs backward just fine
========================================================================

The article's Example 3 is titled "Incorrect Indexing" and says its ``loss.backward()``
"will likely fail". Here it is as published, then what it does when run.
"""

# %%
# The article's Example 3, as published
# -------------------------------------
# Quoted exactly, comments included, from ``_article.md``, the one place the site
# keeps the article's code:
#
# .. container:: guide-article-quote
#
#    .. article-code:: EXAMPLE_3
#
# What it does
# ------------
# ``run`` executes that text with ``exec`` after ``torch.manual_seed(0)``, recording
# everything it prints. The article's ``except`` branch prints; nothing was printed, so
# ``backward()`` raised nothing, and every parameter, ``layer1``'s included, received a
# gradient that is not zero.
import torch
from _article import EXAMPLE_1, EXAMPLE_3
from _harness import adam_steps, article_input, grads, run

ex3 = run(EXAMPLE_3, seed=0)
print("printed by Example 3:", repr(ex3["printed"]), "| raised:", ex3["error"])
for name, p in ex3["model"].named_parameters():
    print(f"{name:22} grad {tuple(p.grad.shape)}  |grad| sum {p.grad.abs().sum():.4f}")
assert ex3["printed"] == "" and ex3["error"] is None
assert all(g is not None and g.abs().sum() > 0 for g in grads(ex3["model"]))

# %%
# Three ways to write the forward, one result
# -------------------------------------------
# Next to Example 3 we run the article's "recommended" Example 1 and a third variant
# that uses the attribute access the article recommends in its prose,
# ``self.layers.layer1``. All three are built right after ``torch.manual_seed(0)`` and
# fed the same input. ``torch.equal`` demands exact equality: the initial weights, the
# output and every gradient are bit-for-bit the same.

ex1 = run(EXAMPLE_1, seed=0)


class AttributeAccess(ex1["MyModel"]):  # Example 1's layers, looked up as attributes
    def forward(self, x):
        x = self.layers.layer1(x)
        x = self.layers.layer2(x)
        return x


x = article_input(ex3)
torch.manual_seed(0)
attribute = AttributeAccess()
attribute_loss = attribute(x).mean()
attribute_loss.backward()
others = {"Example 1": ex1["model"], "attribute": attribute}
print(f"{'equal to Example 3':26} {'Example 1':>10} {'attribute':>10}")
for name, p3 in ex3["model"].named_parameters():
    for label, mine, theirs in ((name, p3, lambda m: m.get_parameter(name)),
                                (name + ".grad", p3.grad, lambda m: m.get_parameter(name).grad)):
        same = [torch.equal(mine, theirs(m)) for m in others.values()]
        print(f"{label:26} {same[0]!s:>10} {same[1]!s:>10}")
        assert all(same)
assert torch.equal(ex1["output"], ex3["output"]) and torch.equal(attribute(x), ex3["output"])

# %%
# A reference that uses no ModuleDict at all
# ------------------------------------------
# Equal to Example 1 could still mean equally wrong. So we compute the same network with
# ``torch.nn.functional.linear`` on copies of Example 3's weights and take its gradients
# with ``torch.autograd.grad``: bit-for-bit the gradients Example 3's ``backward()``
# produced. Then ``torch.autograd.gradcheck`` compares Example 3's analytic gradients, in
# float64, with finite differences.
import torch.nn.functional as F

w1, b1, w2, b2 = (p.detach().clone().requires_grad_() for p in ex3["model"].parameters())
reference = torch.autograd.grad(F.linear(F.linear(x, w1, b1), w2, b2).mean(), (w1, b1, w2, b2))
print("equal to the functional reference:", [torch.equal(g, r) for g, r in
                                            zip(grads(ex3["model"]), reference)])
assert all(map(torch.equal, grads(ex3["model"]), reference))

model64 = run(EXAMPLE_3, seed=0)["model"].double()
names = [n for n, _ in model64.named_parameters()]
params = tuple(p.detach().clone().requires_grad_() for p in model64.parameters())
passed = torch.autograd.gradcheck(lambda *ps: torch.func.functional_call(
    model64, dict(zip(names, ps)), (x.double(),)).mean(), params)
print("gradcheck of Example 3 in float64:", passed)
assert passed

# %%
# Training: bit-for-bit the same, step after step
# -----------------------------------------------
# ``adam_steps`` builds a fresh model after ``torch.manual_seed(0)`` and trains it for
# 50 Adam steps (learning rate 0.01) on one fixed batch of 16 random samples. The three
# versions end with the same parameters, to the last bit.

trained = {label: adam_steps(cls, steps=50) for label, cls in
           (("Example 3", ex3["MyModel"]), ("Example 1", ex1["MyModel"]),
            ("attribute", AttributeAccess))}
first = trained["Example 3"]
for label, params in trained.items():
    same = sum(map(torch.equal, first, params))
    print(f"{label:10} parameters equal to Example 3's after 50 steps: {same}/{len(first)}")
    assert same == len(first)
assert not torch.equal(first[0], ex3["model"].layers.layer1.weight)  # training moved them

# %%
# The autograd graphs are the same
# --------------------------------
# Autograd records operations on tensors. Walking back from ``loss.grad_fn`` through
# ``next_functions`` lists every node and edge; ``AccumulateGrad`` nodes, where
# gradients land in the parameters, are named after their parameter. The walks of
# Example 1, Example 3 and the attribute variant give the same nodes and edges; the
# figure draws that graph, the loss at the top.
from _graph import describe, draw

graph3 = describe(ex3["loss"], ex3["model"].named_parameters())
graph1 = describe(ex1["loss"], ex1["model"].named_parameters())
assert graph1 == graph3 == describe(attribute_loss, attribute.named_parameters())
labels, edges = graph3
for parent, child in edges:
    print(f"[{parent}] {labels[parent]:15} -> [{child}] {labels[child]}")

_ = draw(labels, edges, "Autograd graph of Examples 1 and 3 (identical)")

# %%
# Conclusion
# ----------
# ``self.layers['layer1']``, stored in a local variable or called directly, and
# ``self.layers.layer1`` are lookups that return the same module, and autograd never sees
# them: same weights, same gradients, gradients that match a computation without any
# ``ModuleDict`` and finite differences, and the same trained parameters. The article's
# "incorrect" example is correct code; write whichever version reads better.
