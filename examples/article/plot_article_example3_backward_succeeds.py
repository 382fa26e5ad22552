"""
Myth busted: the article's "incorrect" Example 3 runs backward just fine
========================================================================

The article's Example 3 is titled "Incorrect Indexing" and says its
``loss.backward()`` "will likely fail". Here it is as published, then what it
does when run, checked against other ways of writing the same model.
"""

# %%
# The article's code draws random weights and a random input. We seed torch's
# random number generator first, so that running this page again prints the
# same numbers (``manual_seed`` returns the generator, which we do not need).
import torch

_ = torch.manual_seed(0)

# %%
# The article's Example 3, as published
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
# What it does
# ------------
# The article's ``except`` branch prints, and nothing was printed: the code
# above shows no output. So ``backward()`` raised nothing, and every
# parameter, ``layer1``'s included, received a gradient that is not zero.

for name, parameter in model.named_parameters():
    grad = parameter.grad
    assert grad is not None and grad.abs().sum() > 0
    print(f"{name:22} grad {tuple(grad.shape)}  |grad| sum "
          f"{grad.abs().sum():.4f}")

# %%
# Three ways to write the forward, one result
# -------------------------------------------
# Two more versions of the same model keep the article's ``MyModel`` and
# replace only its ``forward``: one calls ``self.layers['layer1']`` directly,
# as the article's "recommended" Example 1 does; the other uses the attribute
# access the article recommends in its prose, ``self.layers.layer1``.


class ItemAccess(MyModel):
    """Example 1's forward: each layer looked up by item and called."""

    def forward(self, x):
        x = self.layers["layer1"](x)
        x = self.layers["layer2"](x)
        return x


class AttributeAccess(MyModel):
    """The forward the article's prose recommends: attribute access."""

    def forward(self, x):
        x = self.layers.layer1(x)
        x = self.layers.layer2(x)
        return x


# %%
# The article's model was built right after ``torch.manual_seed(0)`` and then
# drew its input. Seeding again and building a model draws the same weights,
# and the next ``torch.randn(1, 10)`` is the article's input: fed to the
# article's model, it gives the article's ``output`` exactly.

_ = torch.manual_seed(0)
_ = MyModel()
x = torch.randn(1, 10)
assert torch.equal(model(x), output)

# %%
# Each version is built right after ``torch.manual_seed(0)``, fed that input,
# and backpropagated. ``torch.equal`` demands exact equality: the initial
# weights, the output and every gradient are the same, bit for bit, as those
# of the article's Example 3.


def build_and_backpropagate(model_class):
    """A fresh ``model_class()``, built after seeding, after one backward."""
    torch.manual_seed(0)
    fresh = model_class()
    fresh_loss = fresh(x).mean()
    fresh_loss.backward()
    return fresh, fresh_loss


item, item_loss = build_and_backpropagate(ItemAccess)
attribute, attribute_loss = build_and_backpropagate(AttributeAccess)
assert torch.equal(item(x), output) and torch.equal(attribute(x), output)

print(f"{'equal to Example 3':26} {'item':>9} {'attribute':>9}")
for name, parameter in model.named_parameters():
    theirs = [m.get_parameter(name) for m in (item, attribute)]
    rows = {
        name: theirs,
        name + ".grad": [p.grad for p in theirs],
    }
    mine = {name: parameter, name + ".grad": parameter.grad}
    for label, others in rows.items():
        same = [torch.equal(mine[label], other) for other in others]
        print(f"{label:26} {same[0]!s:>9} {same[1]!s:>9}")
        assert all(same)

# %%
# A reference that uses no ModuleDict at all
# ------------------------------------------
# Equal to Example 1's version could still mean equally wrong. So we compute
# the same network with ``torch.nn.functional.linear``, on copies of Example
# 3's weights, and take its gradients with ``torch.autograd.grad``: they are
# bit for bit the gradients that Example 3's ``backward()`` produced.
import torch.nn.functional as F

w1, b1, w2, b2 = (
    p.detach().clone().requires_grad_() for p in model.parameters()
)
reference_loss = F.linear(F.linear(x, w1, b1), w2, b2).mean()
reference = torch.autograd.grad(reference_loss, (w1, b1, w2, b2))
computed = [p.grad for p in model.parameters()]
equal = [torch.equal(g, r) for g, r in zip(computed, reference)]
print("equal to the functional reference:", equal)
assert all(equal)

# %%
# Then ``torch.autograd.gradcheck`` compares the gradients of Example 3's
# model, in float64, with finite differences: the gradients are right, not
# only equal to each other.
import copy

names = [name for name, _ in model.named_parameters()]
model64 = copy.deepcopy(model).double()
params64 = tuple(
    p.detach().clone().requires_grad_() for p in model64.parameters()
)


def loss64(*params):
    """Example 3's loss as a function of its parameters, in float64."""
    values = dict(zip(names, params))
    return torch.func.functional_call(model64, values, (x.double(),)).mean()


passed = torch.autograd.gradcheck(loss64, params64)
print("gradcheck of Example 3 in float64:", passed)
assert passed

# %%
# Training: bit for bit the same, step after step
# -----------------------------------------------
# ``train`` builds a fresh model right after ``torch.manual_seed(0)`` and
# trains it for 50 Adam steps (learning rate 0.01) on one fixed batch of 16
# random samples. The three versions end with the same parameters, to the
# last bit.


def train(model_class, steps=50):
    """The parameters of a fresh ``model_class()`` after ``steps`` steps."""
    torch.manual_seed(0)
    trainee = model_class()
    inputs, targets = torch.randn(16, 10), torch.randn(16, 2)
    optimizer = torch.optim.Adam(trainee.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(trainee(inputs), targets).backward()
        optimizer.step()
    return [p.detach().clone() for p in trainee.parameters()]


trained = {
    "Example 3": train(MyModel),
    "item": train(ItemAccess),
    "attribute": train(AttributeAccess),
}
first = trained["Example 3"]
for label, params in trained.items():
    same = sum(torch.equal(a, b) for a, b in zip(first, params))
    print(f"{label:10} parameters equal to Example 3's after 50 steps: "
          f"{same}/{len(first)}")
    assert same == len(first)
# Training moved them: they are no longer the initial weights.
assert not torch.equal(first[0], model.layers.layer1.weight)

# %%
# The autograd graphs are the same
# --------------------------------
# Autograd records operations on tensors. Walking back from ``loss.grad_fn``
# through ``next_functions`` lists every node and edge; the
# ``AccumulateGrad`` nodes, where gradients land in the parameters, are named
# after their parameter. The walks of Example 3 and of the two other versions
# give the same nodes and edges.


def walk(tensor):
    """The graph's nodes, breadth first from ``tensor``, and its edges."""
    nodes, edges = [tensor.grad_fn], []
    for node in nodes:  # the list grows while we walk it
        for child, _ in node.next_functions:
            if child is None:  # an input that needs no gradient
                continue
            if child not in nodes:
                nodes.append(child)
            edges.append((nodes.index(node), nodes.index(child)))
    return nodes, edges


def describe(tensor, module):
    """Node labels (a parameter's name for its AccumulateGrad) and edges."""
    parameter_names = {p: name for name, p in module.named_parameters()}
    nodes, edges = walk(tensor)
    labels = []
    for node in nodes:
        if hasattr(node, "variable"):  # an AccumulateGrad node
            labels.append(parameter_names[node.variable])
        else:
            labels.append(type(node).__name__)
    return labels, edges


labels, edges = describe(loss, model)
assert describe(item_loss, item) == (labels, edges)
assert describe(attribute_loss, attribute) == (labels, edges)
for parent, child in edges:
    print(f"[{parent}] {labels[parent]:15} -> [{child}] {labels[child]}")

# %%
# The figure draws that graph, the loss at the top; green boxes are the
# parameters.
import matplotlib.pyplot as plt

depth = [0] * len(labels)
for parent, child in edges:
    depth[child] = max(depth[child], depth[parent] + 1)
rows = {d: [i for i, di in enumerate(depth) if di == d] for d in set(depth)}
position = {
    i: ((k + 0.5) / len(row), -d)
    for d, row in rows.items()
    for k, i in enumerate(row)
}

fig, ax = plt.subplots(
    figsize=(5.2, 4.4), dpi=200,
    facecolor="white", edgecolor="#888888", linewidth=2,
)
for parent, child in edges:
    ax.annotate(
        "", xy=position[child], xytext=position[parent],
        arrowprops={"arrowstyle": "->", "shrinkA": 13, "shrinkB": 13},
    )
for i, label in enumerate(labels):
    is_parameter = "." in label
    color = "#cfe8cf" if is_parameter else "#dbe4f5"
    ax.text(
        *position[i], label.removeprefix("layers."),
        ha="center", va="center", fontsize=12, color="black",
        bbox={"boxstyle": "round", "facecolor": color},
    )
ax.set_title("Autograd graph of all three versions (identical)",
             fontsize=12, color="black")
ax.set_xlim(0, 1)
ax.set_ylim(-max(depth) - 0.5, 0.5)
ax.axis("off")
fig.tight_layout()

# %%
# Conclusion
# ----------
# ``self.layers['layer1']``, stored in a local variable or called directly,
# and ``self.layers.layer1`` are lookups that return the same module, and
# autograd never sees them: same weights, same gradients, gradients that match
# a computation without any ``ModuleDict`` and finite differences, and the
# same trained parameters. The article's "incorrect" example is correct code;
# write whichever version reads better.
