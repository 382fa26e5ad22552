"""
torch.compile builds one graph per ModuleDict key
==================================================

When ``forward`` picks ``self.layers[key]`` from a ``str`` argument, Dynamo treats
the key as a constant: it guards on its value and compiles a new graph for every
key it sees. Past the recompile limit it stops compiling. We count the graphs with
a backend that records what it receives and then runs them eagerly.
"""

# %%
# A backend that counts graphs
# ----------------------------
import logging

import torch
import torch._dynamo
from _guide import expect_error
from torch import nn

torch._dynamo.reset()
_ = torch.manual_seed(0)


class Records(logging.Handler):  # keeps Dynamo's log messages off stderr, for printing
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


dynamo_log = logging.getLogger("torch._dynamo.convert_frame")
records = Records()
dynamo_log.addHandler(records)
dynamo_log.propagate = False  # restored in the last cell

graphs = []


def counting_backend(graph_module, example_inputs):
    graphs.append(graph_module)
    return graph_module.forward  # run the captured graph eagerly


class PickByKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({k: nn.Linear(4, 4) for k in ("a", "b", "c", "d")})

    def forward(self, x, key: str):
        return self.layers[key](x)


model = PickByKey()
x = torch.randn(2, 4)

# %%
# One graph per key
# -----------------
# Calling with ``"a"``, ``"b"``, ``"a"``, ``"b"``: two compilations, then the cached
# graphs are reused. Each graph holds only the chosen layer.
compiled = torch.compile(model, backend=counting_backend)
for key in ("a", "b", "a", "b"):
    assert torch.equal(compiled(x, key), model(x, key))
    print(f"called with {key!r}: {len(graphs)} graph(s) so far")
assert len(graphs) == 2
print([n.target for n in graphs[1].graph.nodes if n.op == "placeholder"])

# %%
# Past the recompile limit
# ------------------------
# The limit is ``torch._dynamo.config.recompile_limit``. We lower it to 2 inside
# ``torch._dynamo.config.patch`` (which restores it on exit) and call with four keys.
# Dynamo logs a warning through ``logging`` (captured here by ``records``); the
# reason it gives is the guard on the key's value. It then runs the frame eagerly:
# the results stay correct and no graph is added.
print("recompile_limit =", torch._dynamo.config.recompile_limit)
torch._dynamo.reset()
graphs.clear()
with torch._dynamo.config.patch(recompile_limit=2):
    compiled = torch.compile(model, backend=counting_backend)
    for key in ("a", "b", "c", "d"):
        assert torch.equal(compiled(x, key), model(x, key))
        print(f"called with {key!r}: {len(graphs)} graph(s) so far, result correct")
for message in records.messages:
    lines = message.splitlines()
    reason = next(line for line in lines if "last reason" in line).split("#")[0].strip()
    print("logged:", lines[0], "|", reason)
assert len(graphs) == 2 and len(records.messages) == 1
print("recompile_limit restored to", torch._dynamo.config.recompile_limit)

# %%
# With ``fullgraph=True`` the fallback becomes an error; so does it with
# ``torch._dynamo.config.fail_on_recompile_limit_hit = True``.
torch._dynamo.reset()
with torch._dynamo.config.patch(recompile_limit=2):
    strict = torch.compile(model, backend=counting_backend, fullgraph=True)
    strict(x, "a")
    strict(x, "b")
    with expect_error(torch._dynamo.exc.FailOnRecompileLimitHit, "fullgraph=True"):
        strict(x, "c")

torch._dynamo.reset()
with torch._dynamo.config.patch(recompile_limit=2, fail_on_recompile_limit_hit=True):
    strict = torch.compile(model, backend=counting_backend)
    strict(x, "a")
    strict(x, "b")
    with expect_error(torch._dynamo.exc.FailOnRecompileLimitHit, "fail_on_recompile"):
        strict(x, "c")

# %%
# Workaround 1: compile each entry, choose outside
# ------------------------------------------------
# Choosing the key in plain Python and compiling the entries themselves moves the
# key out of the graph. Here the four ``nn.Linear`` share one compiled graph: their
# parameters are graph inputs, not constants.
torch._dynamo.reset()
graphs.clear()
with torch._dynamo.config.patch(recompile_limit=2):
    per_key = {
        k: torch.compile(layer, backend=counting_backend) for k, layer in model.layers.items()
    }
    for key in ("a", "b", "c", "d"):
        assert torch.equal(per_key[key](x), model(x, key))
print(f"four keys, {len(graphs)} graph(s)")


# %%
# Workaround 2: run every entry, select with a tensor
# ---------------------------------------------------
# If the entries have the same output shape, stack their outputs and select with
# an index *tensor*: one graph serves every key, at the cost of computing all of
# them. The index is a one-element tensor, used through ``index_select``.
class SelectByIndex(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x, index):
        outputs = torch.stack([layer(x) for layer in self.layers.values()])
        return outputs.index_select(0, index)[0]


torch._dynamo.reset()
graphs.clear()
keys = list(model.layers)
with torch._dynamo.config.patch(recompile_limit=2):
    selector = torch.compile(SelectByIndex(model.layers), backend=counting_backend)
    for key in ("a", "b", "c", "d"):
        assert torch.equal(selector(x, torch.tensor([keys.index(key)])), model(x, key))
print(f"four keys, {len(graphs)} graph(s)")
torch._dynamo.reset()
dynamo_log.removeHandler(records)
dynamo_log.propagate = True

# %%
# Conclusion
# ----------
# A ``str`` key inside a compiled ``forward`` costs one graph per distinct key, and
# beyond ``recompile_limit`` keys the call runs eagerly after one logged warning (or
# fails, with ``fullgraph=True``). Pick the entry outside the compiled code, or turn the choice
# into tensor data.
