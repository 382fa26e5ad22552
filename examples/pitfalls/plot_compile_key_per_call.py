"""
torch.compile: one graph per ModuleDict key, one budget per code object
=======================================================================

When ``forward`` picks ``self.layers[key]`` from a ``str`` argument, Dynamo
treats the key as a constant: it guards on its value and compiles a new graph
for every key it sees, up to the recompile limit of the *code object*
``forward``, a limit that by default every instance of the class shares. Past
it, keys that have a graph keep running it; only new keys run eagerly. A
backend below records every graph it receives and counts how often each one
runs.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# The model
# ---------
# ``forward`` runs the entry named by its ``str`` argument ``key``.
import torch
from torch import nn

_ = torch.manual_seed(0)


class PickByKey(nn.Module):
    def __init__(self, keys=("a", "b", "c", "d")):
        super().__init__()
        self.layers = nn.ModuleDict({k: nn.Linear(4, 4) for k in keys})

    def forward(self, x, key: str):
        return self.layers[key](x)


model = PickByKey()
x = torch.randn(2, 4)

# %%
# A backend that counts graphs and their runs
# -------------------------------------------
import logging.handlers
from collections import Counter

import torch._dynamo

torch._dynamo.reset()

# Dynamo's log messages are kept in ``records.buffer``, off stderr, to be
# printed.
dynamo_log = logging.getLogger("torch._dynamo.convert_frame")
records = logging.handlers.BufferingHandler(capacity=100)
dynamo_log.addHandler(records)
dynamo_log.propagate = False  # restored in the last cell

graphs, runs = [], Counter()  # runs[i]: how many calls executed graph i


def counting_backend(graph_module, example_inputs):
    index = len(graphs)
    graphs.append(graph_module)

    def run(*args):
        runs[index] += 1
        return graph_module.forward(*args)  # the captured graph, run eagerly

    return run


# %%
# One graph per key
# -----------------
# Calling with ``"a"``, ``"b"``, ``"a"``, ``"b"``: two compilations, then the
# cached graphs are reused.
compiled = torch.compile(model, backend=counting_backend)
for key in ("a", "b", "a", "b"):
    assert torch.equal(compiled(x, key), model(x, key))
    print(f"called with {key!r}: {len(graphs)} graph(s),", end=" ")
    print(f"runs per graph {dict(runs)}")
assert len(graphs) == 2 and runs == {0: 2, 1: 2}

# %%
# The limit has two names
# -----------------------
# ``torch._dynamo.config.recompile_limit`` was called ``cache_size_limit``
# until https://github.com/pytorch/pytorch/pull/143709 (December 2024) renamed
# it. The old name is an alias: setting either one sets the other.
config = torch._dynamo.config
print(
    "recompile_limit =",
    config.recompile_limit,
    "| cache_size_limit =",
    config.cache_size_limit,
)
old, new = "cache_size_limit", "recompile_limit"
for name, other in [(old, new), (new, old)]:
    with config.patch(**{name: 3}):
        print(
            f"while {name} is patched to 3: {other} =", getattr(config, other)
        )
        assert getattr(config, other) == 3
assert config.recompile_limit == config.cache_size_limit == 8

# %%
# Past the limit, only keys without a graph run eagerly
# -----------------------------------------------------
# We lower the limit to 2 inside ``config.patch`` (restored on exit) and call
# with ``"a"``, ``"b"``, ``"c"``, ``"d"``, then the same four again. Dynamo
# logs one warning (captured by ``records``), whose reason is the guard on the
# key's value. ``"c"`` and ``"d"`` get no graph and run eagerly (the results
# stay correct); ``"a"`` and ``"b"`` keep running their graphs, as the run
# counts show.
torch._dynamo.reset(), graphs.clear(), runs.clear()
with config.patch(recompile_limit=2):
    compiled = torch.compile(model, backend=counting_backend)
    for key in "abcdabcd":
        before = runs.copy()
        assert torch.equal(compiled(x, key), model(x, key))
        ran = [i for i in runs if runs[i] > before[i]]
        which = f"graph {ran}" if ran else "eagerly"
        print(f"called with {key!r}: {len(graphs)} graph(s); ran {which}")
        assert ran == ([] if key in "cd" else ["ab".index(key)])
for record in records.buffer:
    lines = record.getMessage().splitlines()
    reason = (
        next(line for line in lines if "last reason" in line)
        .split("#")[0]
        .strip()
    )
    print("logged:", lines[0], "|", reason)
assert len(graphs) == 2 and runs == {0: 2, 1: 2} and len(records.buffer) == 1

# %%
# Every instance of the class shares one budget
# ---------------------------------------------
# By default the guards and the limit belong to the code object of
# ``PickByKey.forward``, not to a model. Twelve instances, each compiled
# separately and called with its own key, get ``recompile_limit`` graphs among
# them; the last four run eagerly. ``torch.compile(...,
# isolate_recompiles=True)``, an argument of this torch, gives each compiled
# instance its own budget instead.
for isolate in (False, True):
    torch._dynamo.reset()
    graphs.clear(), runs.clear(), records.buffer.clear()
    ran_compiled = []
    for i in range(12):
        instance, before = PickByKey([f"k{i}"]), runs.total()
        compiled = torch.compile(
            instance, backend=counting_backend, isolate_recompiles=isolate
        )
        assert torch.equal(compiled(x, f"k{i}"), instance(x, f"k{i}"))
        ran_compiled += [i] if runs.total() > before else []
    logged = [r.getMessage().splitlines()[0] for r in records.buffer]
    print(f"isolate_recompiles={isolate}: {len(graphs)} graphs")
    print(f"    ran compiled: {ran_compiled}")
    print(f"    logged: {logged}")
    limit = 12 if isolate else config.recompile_limit
    assert len(graphs) == limit and ran_compiled == list(range(limit))
    assert len(records.buffer) == (0 if isolate else 1)

# %%
# Twelve instances called with the *same* key share one graph: the parameters
# are graph inputs, and the guards hold for every instance.
torch._dynamo.reset(), graphs.clear()
for _ in range(12):
    instance = PickByKey(["a"])
    assert torch.equal(
        torch.compile(instance, backend=counting_backend)(x, "a"),
        instance(x, "a"),
    )
print(f"12 instances, one key: {len(graphs)} graph")
assert len(graphs) == 1

# %%
# A limit per call: ``torch.compile(..., recompile_limit=N)``
# ------------------------------------------------------------
# On this torch, ``torch.compile`` also takes ``recompile_limit``: the limit
# of that call, in place of ``config.recompile_limit``, which it leaves at 8.
# Below, ``model`` is compiled with ``recompile_limit=2`` and called with four
# keys; then another ``PickByKey`` is compiled with the default limit and
# called with the same keys. Without ``isolate_recompiles``, the two calls
# share the code object's graphs: once the first hit its limit, the second
# compiled nothing, although its own limit is 8; it ran the first call's graphs
# for ``"a"`` and ``"b"``, and the other keys eagerly. With
# ``isolate_recompiles=True`` on the first, the second compiled its own graphs.
# Dynamo's warning names ``config.recompile_limit`` with the call's value.
import inspect

print(inspect.signature(torch.compile).parameters["recompile_limit"])
for isolate in (False, True):
    torch._dynamo.reset()
    graphs.clear(), runs.clear(), records.buffer.clear()
    limited = torch.compile(
        model,
        backend=counting_backend,
        recompile_limit=2,
        isolate_recompiles=isolate,
    )
    for key in "abcd":
        assert torch.equal(limited(x, key), model(x, key))
    first, before = len(graphs), runs.total()
    other = PickByKey()
    default = torch.compile(other, backend=counting_backend)
    for key in "abcd":
        assert torch.equal(default(x, key), other(x, key))
    new, ran = len(graphs) - first, runs.total() - before
    logged = [r.getMessage().splitlines()[0] for r in records.buffer]
    print(f"isolate_recompiles={isolate}:")
    print(f"    recompile_limit=2: {first} graphs; logged: {logged}")
    print(f"    then the default limit: {new} new graphs,", end=" ")
    print(f"{ran} of 4 calls ran a graph")
    assert first == 2 and (new, ran) == ((4, 4) if isolate else (0, 2))
    assert logged == ["torch._dynamo hit config.recompile_limit (2)"]
assert config.recompile_limit == 8

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
# With ``fullgraph=True`` the fallback becomes an error; so does it with
# ``torch._dynamo.config.fail_on_recompile_limit_hit = True``. The limit here
# is the global one, lowered with ``config.patch``.
for options, fail_on_hit, match in [
    ({"fullgraph": True}, False, "fullgraph=True"),
    ({}, True, "fail_on_recompile"),
]:
    torch._dynamo.reset()
    with config.patch(
        recompile_limit=2, fail_on_recompile_limit_hit=fail_on_hit
    ):
        strict = torch.compile(model, backend=counting_backend, **options)
        strict(x, "a"), strict(x, "b")
        with raises(torch._dynamo.exc.FailOnRecompileLimitHit, match):
            strict(x, "c")

# %%
# Workaround 1: compile each entry, choose outside
# ------------------------------------------------
# Choosing the key in plain Python and compiling the entries themselves moves
# the key out of the graph. Here the four ``nn.Linear`` share one compiled
# graph: their parameters are graph inputs, not constants.
torch._dynamo.reset(), graphs.clear()
with config.patch(recompile_limit=2):
    per_key = {
        k: torch.compile(m, backend=counting_backend)
        for k, m in model.layers.items()
    }
    for key in ("a", "b", "c", "d"):
        assert torch.equal(per_key[key](x), model(x, key))
print(f"four keys, {len(graphs)} graph(s)")
assert len(graphs) == 1


# %%
# Workaround 2: run every entry, select with a tensor
# ---------------------------------------------------
# If the entries have the same output shape, stack their outputs and select
# with an index *tensor*: one graph serves every key, at the cost of computing
# all of them.
class SelectByIndex(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x, index):
        outputs = torch.stack([layer(x) for layer in self.layers.values()])
        return outputs.index_select(0, index)[0]


torch._dynamo.reset(), graphs.clear()
with config.patch(recompile_limit=2):
    selector = torch.compile(
        SelectByIndex(model.layers), backend=counting_backend
    )
    for i, key in enumerate(model.layers):
        assert torch.equal(selector(x, torch.tensor([i])), model(x, key))
print(f"four keys, {len(graphs)} graph(s)")
assert len(graphs) == 1
torch._dynamo.reset()
dynamo_log.removeHandler(records)
dynamo_log.propagate = True

# %%
# Conclusion
# ----------
# A ``str`` key inside a compiled ``forward`` costs one graph per distinct key,
# counted against one ``recompile_limit`` (alias ``cache_size_limit``) for all
# instances of the class unless each is compiled with
# ``isolate_recompiles=True``. Past it, new keys run eagerly after one logged
# warning (or fail, with ``fullgraph=True``). ``torch.compile(...,
# recompile_limit=N)`` sets the limit of one call; without
# ``isolate_recompiles=True``, once that call hit it, another
# ``torch.compile`` of the class compiled no new graph either. Pick the entry
# outside the compiled code, or turn the choice into tensor data.
