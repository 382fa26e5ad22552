"""
Myth busted: the article's "incorrect" Example 3 runs backward just fine
========================================================================

The article's Example 3 is titled "Incorrect Indexing" and says its ``loss.backward()``
"will likely fail". We run it as published, then compare it with the article's
"recommended" Example 1: same seed, same input, bit-for-bit the same output, the
same gradients and the same autograd graph.
"""

# %%
# Two preparations that change nothing in the article's code: a fixed seed, and a
# record of every call to ``print``, so that we can tell whether the article's
# ``except`` branch ran.
import builtins

import matplotlib.pyplot as plt
import torch

_ = torch.manual_seed(0)
printed = []
real_print = builtins.print
builtins.print = lambda *args, **kwargs: (printed.append(args), real_print(*args, **kwargs))

# %%
# The article's Example 3, verbatim
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
        # INCORRECT: Accessing the dictionary directly breaks the graph connection.
        layer1 = self.layers['layer1'] #This line is incorrect!
        x = layer1(x)
        x = self.layers['layer2'](x)  # Even though only one line was changed the connection is affected.
        return x

model = MyModel()
output = model(torch.randn(1,10))
loss = output.mean()
try:
    loss.backward()
except RuntimeError as e:
    print(f"RuntimeError: {e}")  # This will likely raise a RuntimeError.

# %%
# Nothing was printed, so ``backward()`` raised nothing, and every parameter,
# ``layer1``'s included, received a gradient.

builtins.print = real_print
Example3Model = MyModel
print("calls to print during Example 3:", len(printed))
assert printed == []
for name, parameter in model.named_parameters():
    print(f"{name:22} grad {tuple(parameter.grad.shape)}")
assert all(p.grad is not None for p in model.parameters())

# %%
# The article's Example 1, verbatim
# ---------------------------------
# The "recommended" version, quoted exactly. It also defines a class named
# ``MyModel``, so we keep a second name for each.

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
# Same seed, same input: bit-for-bit the same
# -------------------------------------------
# Both models are built right after ``torch.manual_seed(0)``, so they start with
# identical weights; both get the same input. ``torch.equal`` demands exact
# equality, with no tolerance.

Example1Model = MyModel
runs = {}
x = torch.randn(1, 10)
for label, cls in (("Example 1", Example1Model), ("Example 3", Example3Model)):
    torch.manual_seed(0)
    net = cls()
    out = net(x)
    loss = out.mean()
    loss.backward()
    runs[label] = (net, out, loss)

(net1, out1, loss1), (net3, out3, loss3) = runs.values()
assert torch.equal(out1, out3)
print(f"{'tensor':26} equal")
print(f"{'output':26} {torch.equal(out1, out3)}")
for (name, p1), (_, p3) in zip(net1.named_parameters(), net3.named_parameters()):
    assert torch.equal(p1.grad, p3.grad)
    print(f"{name + '.grad':26} {torch.equal(p1.grad, p3.grad)}")

# %%
# The two autograd graphs are the same
# ------------------------------------
# Autograd records operations on tensors. Walking back from ``loss.grad_fn``
# through ``next_functions`` lists every node and edge; ``AccumulateGrad`` nodes,
# where gradients land in leaf tensors, are named after their parameter. Nodes
# are numbered in the order the walk finds them.


def describe(loss, net):
    names = {p: name for name, p in net.named_parameters()}
    nodes, edges, queue = [loss.grad_fn], [], [loss.grad_fn]
    while queue:
        node = queue.pop(0)
        for child, _ in node.next_functions:
            if child is None:
                continue
            if child not in nodes:
                nodes.append(child)
                queue.append(child)
            edges.append((nodes.index(node), nodes.index(child)))
    labels = [names[n.variable] if hasattr(n, "variable") else type(n).__name__ for n in nodes]
    return labels, edges


graph1, graph3 = describe(loss1, net1), describe(loss3, net3)
assert graph1 == graph3
labels, edges = graph1
for parent, child in edges:
    print(f"[{parent}] {labels[parent]:15} -> [{child}] {labels[child]}")

# %%
# Drawn side by side: gradients flow from the loss at the top to the parameters
# (green) at the bottom.

parameter_names = dict(net1.named_parameters())
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, (title, (labels, edges)) in zip(axes, (("Example 1 (recommended)", graph1), ("Example 3 (\"incorrect\")", graph3))):
    depth = [0] * len(labels)
    for parent, child in edges:
        depth[child] = depth[parent] + 1
    rows = {d: [i for i in range(len(labels)) if depth[i] == d] for d in set(depth)}
    pos = {i: ((k + 1) / (len(row) + 1), -d) for d, row in rows.items() for k, i in enumerate(row)}
    for parent, child in edges:
        ax.annotate("", xy=pos[child], xytext=pos[parent], arrowprops={"arrowstyle": "->", "shrinkA": 14, "shrinkB": 14})
    for i, label in enumerate(labels):
        leaf = label in parameter_names  # an AccumulateGrad node
        ax.text(*pos[i], label, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "#d8ecd8" if leaf else "#dde6f5"})
    ax.set_title(title)
    ax.set_xlim(0, 1)
    ax.set_ylim(-max(depth) - 0.5, 0.5)
    ax.axis("off")
fig.tight_layout()

# %%
# Conclusion
# ----------
# ``self.layers['layer1']``, stored in a local variable or called directly, is the
# same lookup returning the same module, and autograd never sees it. The article's
# "incorrect" example is correct code; write whichever version reads better.
