"""
torch.fx and torch.export see ModuleDict entries by their dotted names
=======================================================================

Tracing a model turns every ``self.layers["name"]`` into a reference to the
submodule ``layers.name``; exporting keeps the same dotted names for
parameters. Neither gives back a ``ModuleDict``: a traced ``GraphModule``
holds the entries its graph calls under a new plain ``Module`` and drops the
others, whose keys its ``state_dict`` then lacks; an exported program keeps
every entry's parameters, but its graph calls no submodules until
``torch.export.unflatten`` rebuilds them. A ``str`` key given as input is not
traced: it has to be fixed to one value.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# symbolic_trace: one ``call_module`` node per entry used
# -------------------------------------------------------
import warnings

import torch
import torch.fx
from torch import nn

_ = torch.manual_seed(0)


class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"layer1": nn.Linear(10, 5), "layer2": nn.Linear(5, 2)}
        )

    def forward(self, x):
        x = self.layers["layer1"](x)
        return self.layers["layer2"](x)


two_layers = TwoLayers()
traced = torch.fx.symbolic_trace(two_layers)
for node in traced.graph.nodes:
    print(f"{node.op:12} {node.target}")
called = [n.target for n in traced.graph.nodes if n.op == "call_module"]
assert called == ["layers.layer1", "layers.layer2"]

# %%
# ``raises(Error, pattern)`` checks that its block raises ``Error`` with a
# message matching ``pattern``, and prints the error as Python does.
import re
import traceback
from contextlib import contextmanager

@contextmanager
def raises(expected, match):
    try:
        yield
    except expected as error:
        if not re.search(match, str(error)):
            raise  # the same type, another error: let it through
        print("".join(traceback.format_exception_only(error)))
    else:
        raise AssertionError(f"{expected.__name__} was not raised")


# %%
# The traced module shares the entries, not the ``ModuleDict``
# ------------------------------------------------------------
# ``symbolic_trace`` copies no entry: for every entry its graph calls, the
# ``GraphModule`` holds the very ``nn.Linear`` object the model holds, with the
# same parameters. Entries the graph does not call are left out (see below).
# The containers on the way to the entries are new: a plain ``nn.Module`` for
# every level of the path. ``traced.layers`` is therefore a new ``Module``, not
# the ``ModuleDict``: attribute access and ``get_submodule`` reach the entries,
# item access does not.
entry = two_layers.layers["layer1"]
same = {
    "traced.layers.layer1 is the model's entry": (
        traced.layers.layer1 is entry
    ),
    "its weight is the model's weight": (
        traced.layers.layer1.weight is entry.weight
    ),
    "traced.layers is the model's ModuleDict": (
        traced.layers is two_layers.layers
    ),
}
for question, answer in same.items():
    print(f"{question}: {answer}")
assert list(same.values()) == [True, True, False]
print(type(traced.layers))
assert type(traced.layers) is nn.Module
assert traced.layers.layer1 is traced.get_submodule("layers.layer1")
with raises(TypeError, "'Module' object is not subscriptable"):
    traced.layers["layer1"]


# %%
# A key argument: symbolic_trace needs it fixed
# ---------------------------------------------
# During tracing every argument is a ``Proxy``, so ``self.layers[key]`` looks
# up a Proxy among the string keys and fails with a ``KeyError``.
class PickByKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)}
        )

    def forward(self, x, key: str):
        return self.layers[key](x)


model = PickByKey()
with raises(KeyError, r"Proxy\(key\)"):
    torch.fx.symbolic_trace(model)

# %%
# ``concrete_args`` fixes the key. The graph keeps only ``layers.a`` and checks
# the key at run time; another key is refused.
traced_a = torch.fx.symbolic_trace(model, concrete_args={"key": "a"})
for node in traced_a.graph.nodes:
    print(f"{node.op:14} {getattr(node.target, '__name__', node.target)}")
x = torch.randn(2, 4)
assert torch.equal(traced_a(x, "a"), model(x, "a"))
with raises(AssertionError, "specialized"):
    traced_a(x, "b")

# %%
# The traced module keeps only the entries its graph calls
# --------------------------------------------------------
# ``layers.b`` is not called by ``traced_a``'s graph, so ``traced_a`` does not
# hold it: its ``state_dict`` lacks ``layers.b``, and the model refuses it in a
# strict load. ``strict=False`` loads ``layers.a`` and reports the rest.
print(list(traced_a.state_dict()))
assert not hasattr(traced_a.layers, "b")
with raises(RuntimeError, r'Missing key\(s\) in state_dict: "layers\.b\.'):
    model.load_state_dict(traced_a.state_dict())
result = model.load_state_dict(traced_a.state_dict(), strict=False)
print(result)
assert result.missing_keys == ["layers.b.weight", "layers.b.bias"]

# %%
# torch.export: parameters keep their ModuleDict paths
# ----------------------------------------------------
program = torch.export.export(TwoLayers(), (torch.randn(1, 10),))
for name in program.state_dict:
    print(name)
print(program.graph_signature)

# %%
# An exported program has no submodules
# -------------------------------------
# An ``ExportedProgram`` is not a ``Module``, and its ``graph_module`` has no
# children: the parameters are graph inputs and the layers are inlined as
# ``aten.linear`` calls.
is_module = isinstance(program, nn.Module)
children = list(program.graph_module.named_children())
print("an nn.Module:", is_module, "| children:", children)
assert not is_module and children == []
nodes = program.graph_module.graph.nodes
functions = {str(n.target) for n in nodes if n.op == "call_function"}
print("functions called:", sorted(functions))

# %%
# ``program.module()`` returns a runnable ``GraphModule`` that does have
# attributes ``layers.layer1`` and ``layers.layer2``, plain ``Module`` objects
# that only hold the parameters: its graph reads them (``get_attr``) and still
# calls ``aten.linear``.
flat = program.module()
print("node kinds:", sorted({n.op for n in flat.graph.nodes}))
print("flat.layers.layer1 is a", type(flat.layers.layer1).__name__)
called = [n.target for n in flat.graph.nodes if n.op == "call_module"]
assert called == ["_guards_fn"]

# %%
# ``torch.export.unflatten`` rebuilds the hierarchy: the top graph calls
# ``layers.layer1`` and ``layers.layer2``, each a submodule running its own
# part of the graph. Those are ``InterpreterModule`` objects, so ``layers`` is
# still not subscriptable. On this torch, ``unflatten`` emits a
# ``FutureWarning`` from torch's own code (a ``deepcopy`` of its call graph
# meets a deprecated tree-spec class); we record it and show it.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    unflat = torch.export.unflatten(program)
for warning in caught:
    print(f"warning ({warning.category.__name__}) {warning.message}")
assert [w.category for w in caught] == [FutureWarning]
assert "LeafSpec" in str(caught[0].message)
print([n.target for n in unflat.graph.nodes if n.op == "call_module"])
print(type(unflat.layers).__name__, type(unflat.layers.layer1).__name__)
x1 = torch.randn(1, 10)  # the program was exported for a batch of one
assert torch.equal(unflat(x1), flat(x1))
with raises(TypeError, "'InterpreterModule' object is not subscriptable"):
    unflat.layers["layer1"]

# %%
# A ``str`` input is accepted by ``torch.export.export``. The exported graph
# holds the branch of the example key only (the other entry's parameters are
# inputs nobody uses), and the exported module guards the key's value.
exported = torch.export.export(model, (x, "a"))
print(exported.graph_signature)
placeholders = [n for n in exported.graph.nodes if n.op == "placeholder"]
used = [n.name for n in placeholders if n.users]
print("placeholders used:", used)
assert used == ["p_layers_a_weight", "p_layers_a_bias", "x"]
exported_module = exported.module()
assert torch.equal(exported_module(x, "a"), model(x, "a"))
with raises(AssertionError, "Guard failed"):
    exported_module(x, "b")

# %%
# Unlike ``traced_a``, the exported program keeps ``layers.b``: its
# ``state_dict``, and that of ``exported.module()``, hold every entry and load
# strictly into the model.
print(list(exported.state_dict))
print(model.load_state_dict(exported.state_dict))
print(model.load_state_dict(exported_module.state_dict()))
assert list(exported.state_dict) == list(model.state_dict())
assert list(exported_module.state_dict()) == list(model.state_dict())

# %%
# Conclusion
# ----------
# Graph capture sees ``ModuleDict`` entries as ordinary submodules named
# ``<dict>.<key>``, and its checkpoints use those names. A traced
# ``GraphModule`` keeps only the entries its graph calls, so its
# ``state_dict`` loads strictly into the model only when every entry is called;
# an exported program keeps every entry. Reach the entries of a traced or
# unflattened module with
# ``get_submodule("layers.<key>")`` or attribute access, not with item access.
# A key chosen per call is a constant for tracing and export: trace or export
# once per key, or move the choice out of the traced code.
