"""
An unused entry stops DDP's gradient sync; the next step raises
===============================================================

A model that runs one ``ModuleDict`` entry per step leaves the other entries'
parameters without gradients. Under ``DistributedDataParallel`` (DDP), the
first such step runs without an error but trains wrong: the ranks never
average their gradients, so each applies its own, and their copies of the
model differ. The next forward raises.

Everything here runs on **2 ranks**: two processes in a gloo process group on
127.0.0.1, on the CPU, with the torch version given at the top of this page.
Each run that completes is compared with the same training done in one
process without DDP.

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# The model
# ---------
# ``Branches`` is a ``ModuleDict`` with a ``forward`` that runs one entry.
# With ``every_entry_in_graph=True``, its output also depends on every
# parameter (with a weight of zero).
import copy

import torch
from torch import nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present
from torch.nn.parallel import DistributedDataParallel as DDP

class Branches(nn.ModuleDict):
    def __init__(self, every_entry_in_graph=False):
        super().__init__({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})
        self.every_entry_in_graph = every_entry_in_graph

    def forward(self, x, key):
        out = self[key](x)
        if self.every_entry_in_graph:
            # + 0 * every parameter: each one gets a gradient (of zero)
            out = out + 0 * sum(p.sum() for p in self.parameters())
        return out


# %%
# What each rank runs
# -------------------
# Each run trains a fresh DDP copy of ``Branches`` from the same starting
# weights: at step ``s``, rank ``r`` feeds ``inputs[s, r]`` to the entry
# ``keys[s][r]``, then takes an optimizer step (plain SGD unless a run names
# another). A run keeps the weights after each step that completed, the
# names of the parameters left with no gradient (``.grad`` is ``None``), and
# where it raised, with the error. ``replace`` puts a new ``image`` entry in
# the model after it was wrapped, and with ``"and wrap again"`` wraps it
# again; the new entry gets the same starting weights.
optimizers = {  # the same learning rate for each
    "SGD": lambda params: torch.optim.SGD(params, lr=0.1),
    "SGD(momentum=0.9)": lambda params: torch.optim.SGD(
        params, lr=0.1, momentum=0.9
    ),
    "AdamW(weight_decay=0.01)": lambda params: torch.optim.AdamW(
        params, lr=0.1, weight_decay=0.01
    ),
}


def train(rank, keys, every_entry_in_graph=False, optimizer="SGD",
          replace=None, **options):
    model = DDP(Branches(every_entry_in_graph), **options)
    if replace:
        model.module["image"] = nn.Linear(4, 2)  # on every rank
    if replace == "and wrap again":
        model = DDP(model.module, **options)
    # A plain checkpoint goes into model.module (see below).
    model.module.load_state_dict(start)
    optimizer = optimizers[optimizer](model.parameters())
    result = {"after step": [], "no grad": [], "failed": None}
    try:
        for step, key_of_rank in enumerate(keys, start=1):
            optimizer.zero_grad()
            where = f"step {step}, forward"
            out = model(inputs[step - 1, rank], key_of_rank[rank])
            where = f"step {step}, backward"
            out.pow(2).mean().backward()
            optimizer.step()
            weights = copy.deepcopy(model.module.state_dict())
            result["after step"].append(weights)
            result["no grad"].append([
                n for n, p in model.module.named_parameters() if p.grad is None
            ])
    except RuntimeError as error:
        result["failed"] = (where, error)
    result["checkpoint"] = model.state_dict()
    return result


def train_on_rank(rank):
    return {
        name: train(rank, keys, **how) for name, (keys, how) in runs.items()
    }


# keys[s][r]: the entry that rank r runs at step s
per_rank = [["image", "text"], ["text", "image"], ["image", "image"]]
same_entry = [["image", "image"], ["image", "image"]]
fixed = [["image", "text"]] * 3
changing = [["image", "image"], ["text", "text"]]
unused = {"find_unused_parameters": True}
in_graph = {"every_entry_in_graph": True}
runs = {  # name: (keys, how: Branches and DDP options, optimizer, replace)
    "no option, entries differ per rank": (per_rank, {}),
    "no option, same entry on both ranks": (same_entry, {}),
    "find_unused_parameters=True": (per_rank, unused),
    "every entry in the graph": (per_rank, in_graph),
    "static_graph=True, fixed entry per rank": (
        fixed, {"static_graph": True}
    ),
    "static_graph=True, entries change": (changing, {"static_graph": True}),
    "image replaced after wrapping": (
        same_entry, {**unused, "replace": "after wrapping"}
    ),
    "image replaced, then wrapped again": (
        same_entry, {**unused, "replace": "and wrap again"}
    ),
}
for optimizer in ("SGD(momentum=0.9)", "AdamW(weight_decay=0.01)"):
    runs[f"find_unused_parameters=True, {optimizer}"] = (
        per_rank, {**unused, "optimizer": optimizer}
    )
    runs[f"every entry in the graph, {optimizer}"] = (
        per_rank, {**in_graph, "optimizer": optimizer}
    )
torch.manual_seed(0)
plain = Branches()  # the same model, trained here without DDP
start = copy.deepcopy(plain.state_dict())  # the starting weights
inputs = torch.randn(3, 2, 5, 4)  # steps x ranks x batch x features

# %%
# Running a function on 2 ranks
# -----------------------------
# ``run_on_ranks(fn)`` forks this process into 2 ranks (``fork`` exists on
# Linux and macOS), which join a gloo group on 127.0.0.1 and send
# ``fn(rank)`` back: it returns ``[fn(0), fn(1)]``. It fails, and never
# hangs, if a rank raises or crashes (its last line of stderr is quoted), if
# a collective waits more than ``timeout`` seconds, or after 40 seconds.
import datetime
import faulthandler
import logging
import os
import pickle
import socket
import tempfile
import time

import torch.distributed as dist
import torch.multiprocessing as mp

# run_on_ranks stops the ranks itself: no warning when it does
logging.getLogger("torch.multiprocessing.spawn").setLevel(logging.ERROR)


def on_rank(rank, fn, port, timeout, queue, done, logs):
    os.dup2(os.open(f"{logs}/{rank}", os.O_WRONLY | os.O_CREAT), 2)  # stderr
    faulthandler.disable()  # so that a crash's last line is its own message
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
        world_size=2, timeout=datetime.timedelta(seconds=timeout),
    )
    queue.put((rank, pickle.dumps(fn(rank))))  # pickle copies tensors
    done.wait()  # exit once both ranks are done: not while one still runs


def run_on_ranks(fn, timeout=20, deadline=40):
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fork, got, end = mp.get_context("fork"), {}, time.monotonic() + deadline
    queue, done = fork.SimpleQueue(), fork.Event()
    with tempfile.TemporaryDirectory() as logs:
        ranks = mp.start_processes(
            on_rank, (fn, port, timeout, queue, done, logs), nprocs=2,
            join=False, start_method="fork",
        )
        try:
            while not ranks.join(timeout=0.05):  # raises if a rank failed
                while not queue.empty():
                    rank, result = queue.get()
                    got[rank] = pickle.loads(result)
                if len(got) == 2:
                    done.set()
                if time.monotonic() > end:
                    raise TimeoutError(f"ranks still running at {deadline} s")
        except mp.ProcessExitedException as crash:  # quote its last words
            with open(f"{logs}/{crash.error_index}") as stderr:
                last_line = stderr.read().strip().rpartition("\n")[2]
            raise RuntimeError(f"{crash}: {last_line.strip()}") from None
        finally:
            for process in ranks.processes:
                process.kill()
    return [got[0], got[1]]


rank_results = run_on_ranks(train_on_rank)  # one value per rank


# %%
# The reference: training without DDP
# -----------------------------------
# DDP averages the ranks' gradients, so it should minimise the mean of the
# ranks' losses. ``trained_without_ddp`` trains ``plain`` on that mean, in
# this process, with the optimizer named; ``ranks=[0]`` trains on rank 0's
# loss alone instead.
def trained_without_ddp(keys, ranks=(0, 1), optimizer="SGD"):
    plain.load_state_dict(start)
    optimizer = optimizers[optimizer](plain.parameters())
    for step, key_of_rank in enumerate(keys):
        optimizer.zero_grad()
        losses = [
            plain[key_of_rank[r]](inputs[step, r]).pow(2).mean() for r in ranks
        ]
        (sum(losses) / len(losses)).backward()
        optimizer.step()
    return copy.deepcopy(plain.state_dict())


def same(weights, expected):
    return all(torch.allclose(weights[k], expected[k]) for k in expected)


# %%
# Step 1 runs, and trains each rank on its own gradients
# ------------------------------------------------------
# DDP sends a bucket of gradients to the other ranks (an all-reduce) when
# every parameter in it has its gradient. The unused entry's parameters never
# get one, so their bucket never becomes ready: no all-reduce happens, and
# each rank's optimizer applies that rank's gradients alone. After step 1,
# the two ranks' weights already differ, and each equals training on that
# rank's loss alone, not on the mean. Using the same entry on both ranks does
# not help: the other entry is unused on both.
for name in ("no option, entries differ per rank",
             "no option, same entry on both ranks"):
    keys = runs[name][0][:1]  # step 1
    rank0, rank1 = (results[name]["after step"][0] for results in rank_results)
    ranks_agree = same(rank0, rank1)
    as_without_ddp = same(rank0, trained_without_ddp(keys))
    own_loss = [
        same(rank0, trained_without_ddp(keys, ranks=[0])),
        same(rank1, trained_without_ddp(keys, ranks=[1])),
    ]
    print(f"{name}, after step 1:")
    print(f"    the ranks' weights agree: {ranks_agree}")
    print(f"    rank 0's equal training without DDP: {as_without_ddp}")
    print(f"    each rank's equal training on its own loss: {own_loss}")
    assert not ranks_agree and not as_without_ddp and own_loss == [True, True]

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
# Step 2's forward raises
# -----------------------
# The next forward finds the previous step's gradients never reduced. Rank 0's
# error:
where, error = rank_results[0]["no option, entries differ per rank"]["failed"]
print(f"rank 0, {where}:")
with raises(RuntimeError, "Expected to have finished reduction"):
    raise error

# %%
# Each rank raises in step 2's forward, and lists the parameters *it* did not
# use: indices 2 and 3 (``text.*``) on rank 0 when it ran ``image``, 0 and 1
# (``image.*``) on rank 1 when it ran ``text``.
print("parameter indices:", dict(enumerate(start)))
differ = "no option, entries differ per rank"
same_entry_name = "no option, same entry on both ranks"
raised = {}
for name in (differ, same_entry_name):
    for rank, results in enumerate(rank_results):
        where, error = results[name]["failed"]
        raised[name, rank] = (where, str(error).splitlines()[-2])
for (name, rank), (where, line) in raised.items():
    print(f"{name}, rank {rank}, {where}:\n    {line}")
did_not_receive = "Parameter indices which did not receive grad for rank"
assert raised == {
    (differ, 0): ("step 2, forward", f"{did_not_receive} 0: 2 3"),
    (differ, 1): ("step 2, forward", f"{did_not_receive} 1: 0 1"),
    (same_entry_name, 0): ("step 2, forward", f"{did_not_receive} 0: 2 3"),
    (same_entry_name, 1): ("step 2, forward", f"{did_not_receive} 1: 2 3"),
}

# %%
# Loading a DDP checkpoint into a plain model
# -------------------------------------------
# DDP keeps the model as ``model.module``, so the keys of its
# ``state_dict()`` start with ``module.`` and a plain model refuses them.
# Removing the prefix makes them load. The other way, ``train`` loads the
# plain checkpoint ``start`` into each DDP model through
# ``model.module.load_state_dict``.
checkpoint = rank_results[0]["find_unused_parameters=True"]["checkpoint"]
print(list(checkpoint))
with raises(RuntimeError, r'Unexpected key\(s\) in state_dict: "module\.'):
    plain.load_state_dict(checkpoint)
consume_prefix_in_state_dict_if_present(checkpoint, "module.")
print(plain.load_state_dict(checkpoint))


# %%
# Two fixes, checked against training without DDP, with plain SGD
# ---------------------------------------------------------------
# With the entry differing per rank and per step, and plain SGD,
# ``find_unused_parameters=True`` and a ``0 *`` term that puts every
# parameter in the graph each give, on both ranks and after every step, the
# weights of training without DDP (with the same optimizer).
def steps_matching(name):
    keys, how = runs[name]
    optimizer = how.get("optimizer", "SGD")
    verdicts = []
    for rank, results in enumerate(rank_results):
        matches = [
            same(weights, trained_without_ddp(keys[:step], optimizer=optimizer))
            for step, weights in enumerate(results[name]["after step"], 1)
        ]
        print(f"{name}, rank {rank}: after each step, equal to training "
              f"without DDP: {matches}")
        verdicts.append(matches)
    return verdicts


assert steps_matching("find_unused_parameters=True") == [[True] * 3] * 2
assert steps_matching("every entry in the graph") == [[True] * 3] * 2

# %%
# A zero gradient is not a missing one
# ------------------------------------
# Step 3 runs ``image`` on both ranks: no rank uses ``text``. Training
# without DDP and with ``find_unused_parameters=True`` leave ``text``'s
# gradients ``None`` (``optimizer.zero_grad()`` set them to ``None``); the
# ``0 *`` term gives them a gradient of zeros instead.
trained_without_ddp(per_rank)
without_ddp = [n for n, p in plain.named_parameters() if p.grad is None]
print(f"without DDP, step 3: parameters with no gradient: {without_ddp}")
for name in ("find_unused_parameters=True", "every entry in the graph"):
    no_grad = [results[name]["no grad"][2] for results in rank_results]
    print(f"{name}, step 3, each rank: parameters with no gradient: "
          f"{no_grad}")
    assert no_grad == [without_ddp if "unused" in name else []] * 2
assert without_ddp == ["text.weight", "text.bias"]

# %%
# Each optimizer here skips a parameter whose gradient is ``None``. A zero
# gradient is a step like any other: after a first step with a gradient of
# ones, a second step with a gradient of zeros moves the parameter under SGD
# with momentum (its momentum) and AdamW (its running averages and weight
# decay), not under plain SGD.
for name, make in optimizers.items():
    moves = []
    for second_grad in (None, torch.zeros(2)):
        p = nn.Parameter(torch.ones(2))
        optimizer = make([p])
        p.grad = torch.ones(2)
        optimizer.step()
        before = p.detach().clone()
        p.grad = second_grad
        optimizer.step()
        moves.append(not torch.equal(p, before))
    print(f"{name}: a None gradient moves it: {moves[0]}, "
          f"a zero gradient moves it: {moves[1]}")
    assert moves == [False, name != "SGD"]
optimizer.zero_grad()
print(f"after optimizer.zero_grad(), the gradient is {p.grad}")
assert p.grad is None

# %%
# So with momentum or weight decay, the ``0 *`` term moves ``text`` at step
# 3 where training without DDP does not, and only
# ``find_unused_parameters=True`` keeps every step equal to it.
for optimizer in ("SGD(momentum=0.9)", "AdamW(weight_decay=0.01)"):
    name = f"find_unused_parameters=True, {optimizer}"
    assert steps_matching(name) == [[True] * 3] * 2
    name = f"every entry in the graph, {optimizer}"
    assert steps_matching(name) == [[True, True, False]] * 2

# %%
# ``static_graph=True``, only for entries that never change
# ---------------------------------------------------------
# It was right where each rank used the same entry at every step (rank 0
# always ``image``, rank 1 always ``text``) ...
assert steps_matching("static_graph=True, fixed entry per rank") == [
    [True] * 3
] * 2

# %%
# ... and raised when the entries changed from step 1 to step 2.
for rank, results in enumerate(rank_results):
    where, error = results["static_graph=True, entries change"]["failed"]
    print(f"rank {rank}, {where}:")
    with raises(RuntimeError, "Your training graph has changed"):
        raise error
    assert where.startswith("step 2")

# %%
# An entry replaced after wrapping is never synchronised
# ------------------------------------------------------
# Each rank puts a new ``image`` entry into ``model.module`` after the model
# was wrapped, with the same starting weights on both ranks; both ranks run
# ``image``, with ``find_unused_parameters=True``. Nothing raises, yet after
# each step the ranks' ``image`` weights differ, each equal to training on
# that rank's loss alone: the new entry's gradients are never averaged.
name = "image replaced after wrapping"
for step in (1, 2):
    rank0, rank1 = (results[name]["after step"][step - 1]
                    for results in rank_results)
    differ = [k for k in rank0 if not torch.allclose(rank0[k], rank1[k])]
    own_loss = [
        same(weights, trained_without_ddp(same_entry[:step], ranks=[rank]))
        for rank, weights in enumerate((rank0, rank1))
    ]
    print(f"{name}, after step {step}:")
    print(f"    weights that differ between the ranks: {differ}")
    print(f"    each rank's equal training on its own loss: {own_loss}")
    assert differ == ["image.weight", "image.bias"]
    assert own_loss == [True, True]
assert [results[name]["failed"] for results in rank_results] == [None] * 2

# %%
# Wrapping the model again after the replacement, before any step
# (``model = DDP(model.module, find_unused_parameters=True)``), with the
# optimizer built after it, gives the weights of training without DDP:
assert steps_matching("image replaced, then wrapped again") == [
    [True] * 2
] * 2

# %%
# Conclusion
# ----------
# On 2 ranks, a step that leaves a ``ModuleDict`` entry unused stops DDP's
# gradient all-reduce without an error: each rank trains on its own
# gradients, and the ranks' models drift apart. The next forward raises,
# whether or not the ranks use the same entry. ``find_unused_parameters=True``
# matched training without DDP with plain SGD, SGD with momentum and AdamW.
# Adding ``0 *`` every parameter to the output matched it with plain SGD
# only: a parameter that no rank used gets a zero gradient instead of
# ``None``, which each optimizer here skips, and momentum or weight decay
# move it. Use ``static_graph=True`` only when each rank's entries never
# change. Replace an entry before wrapping the model, or wrap it again: an
# entry replaced after wrapping trains on each rank's own loss, without an
# error even with ``find_unused_parameters=True``. Load a DDP checkpoint into
# a plain model once ``module.`` is removed from its keys, and a plain
# checkpoint into a DDP model through ``model.module``.
