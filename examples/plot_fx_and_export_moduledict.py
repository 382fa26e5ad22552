"""
torch.fx and torch.export see ModuleDict entries by their dotted names
=======================================================================

Tracing a model turns every ``self.layers["name"]`` into a reference to the
submodule ``layers.name``; exporting keeps the same dotted names for parameters.
A ``str`` key given as input is not traced: it has to be fixed to one value.
"""

# %%
# symbolic_trace: one ``call_module`` node per entry used
# -------------------------------------------------------
import torch
import torch.fx
from _guide import expect_error
from torch import nn

_ = torch.manual_seed(0)


class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({"layer1": nn.Linear(10, 5), "layer2": nn.Linear(5, 2)})

    def forward(self, x):
        x = self.layers["layer1"](x)
        return self.layers["layer2"](x)


traced = torch.fx.symbolic_trace(TwoLayers())
for node in traced.graph.nodes:
    print(f"{node.op:12} {node.target}")
assert [n.target for n in traced.graph.nodes if n.op == "call_module"] == [
    "layers.layer1",
    "layers.layer2",
]


# %%
# A key argument: symbolic_trace needs it fixed
# ---------------------------------------------
# During tracing every argument is a ``Proxy``, so ``self.layers[key]`` looks up a
# Proxy among the string keys and fails with a ``KeyError``.
class PickByKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)})

    def forward(self, x, key: str):
        return self.layers[key](x)


model = PickByKey()
with expect_error(KeyError, r"Proxy\(key\)"):
    torch.fx.symbolic_trace(model)

# %%
# ``concrete_args`` fixes the key. The graph keeps only ``layers.a`` and checks the
# key at run time; another key is refused.
traced_a = torch.fx.symbolic_trace(model, concrete_args={"key": "a"})
for node in traced_a.graph.nodes:
    print(f"{node.op:14} {getattr(node.target, '__name__', node.target)}")
x = torch.randn(2, 4)
assert torch.equal(traced_a(x, "a"), model(x, "a"))
with expect_error(AssertionError, "specialized"):
    traced_a(x, "b")

# %%
# torch.export: parameters keep their ModuleDict paths
# ----------------------------------------------------
program = torch.export.export(TwoLayers(), (torch.randn(1, 10),))
print(list(program.state_dict))
print(program.graph_signature)

# %%
# A ``str`` input is accepted by ``torch.export.export``. The exported graph holds
# the branch of the example key only (the other entry's parameters are inputs
# nobody uses), and the exported module guards the key's value.
exported = torch.export.export(model, (x, "a"))
print(exported.graph_signature)
used = [n.name for n in exported.graph.nodes if n.op == "placeholder" and n.users]
print("placeholders used:", used)
exported_module = exported.module()
assert torch.equal(exported_module(x, "a"), model(x, "a"))
with expect_error(AssertionError, "Guard failed"):
    exported_module(x, "b")

# %%
# Conclusion
# ----------
# Graph capture sees ``ModuleDict`` entries as ordinary submodules named
# ``<dict>.<key>``, so checkpoints and exported programs use those names. A key
# chosen per call is a constant for tracing and export: trace or export once per key,
# or move the choice out of the traced code.
