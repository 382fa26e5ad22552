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
# ``keys[s][r]``, then takes an SGD step. A run keeps the weights after each
# step that completed, and where it raised, with the error.
def train(rank, every_entry_in_graph, options, keys):
    model = DDP(Branches(every_entry_in_graph), **options)
    # A plain checkpoint goes into model.module (see below).
    model.module.load_state_dict(start)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = {"after step": [], "failed": None, "checkpoint": None}
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
    except RuntimeError as error:
        result["failed"] = (where, error)
    result["checkpoint"] = model.state_dict()
    return result


def train_on_rank(rank):
    return {name: train(rank, *setup) for name, setup in runs.items()}


# keys[s][r]: the entry that rank r runs at step s
per_rank = [["image", "text"], ["text", "image"], ["image", "image"]]
same_entry = [["image", "image"], ["image", "image"]]
fixed = [["image", "text"]] * 3
changing = [["image", "image"], ["text", "text"]]
runs = {  # name: (every entry in the graph?, DDP options, keys)
    "no option, entries differ per rank": (False, {}, per_rank),
    "no option, same entry on both ranks": (False, {}, same_entry),
    "find_unused_parameters=True": (
        False, {"find_unused_parameters": True}, per_rank
    ),
    "every entry in the graph": (True, {}, per_rank),
    "static_graph=True, fixed entry per rank": (
        False, {"static_graph": True}, fixed
    ),
    "static_graph=True, entries change": (
        False, {"static_graph": True}, changing
    ),
}
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
# this process; ``ranks=[0]`` trains on rank 0's loss alone instead.
def trained_without_ddp(keys, ranks=(0, 1)):
    plain.load_state_dict(start)
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.1)
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
    keys = runs[name][2][:1]  # step 1
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
# Two fixes, checked against training without DDP
# ------------------------------------------------
# With the entry differing per rank and per step, ``find_unused_parameters``
# and a ``0 *`` term that puts every parameter in the graph each give, on
# both ranks and after every step, the weights of training without DDP.
def check_against_training_without_ddp(name):
    keys = runs[name][2]
    for rank, results in enumerate(rank_results):
        steps = results[name]["after step"]
        matches = [
            same(weights, trained_without_ddp(keys[:step]))
            for step, weights in enumerate(steps, start=1)
        ]
        print(f"{name}, rank {rank}: steps matching training without DDP: "
              f"{sum(matches)} of {len(keys)}")
        assert matches == [True] * len(keys)


check_against_training_without_ddp("find_unused_parameters=True")
check_against_training_without_ddp("every entry in the graph")

# %%
# ``static_graph=True``, only for entries that never change
# ---------------------------------------------------------
# It was right where each rank used the same entry at every step (rank 0
# always ``image``, rank 1 always ``text``) ...
check_against_training_without_ddp("static_graph=True, fixed entry per rank")

# %%
# ... and raised when the entries changed from step 1 to step 2.
for rank, results in enumerate(rank_results):
    where, error = results["static_graph=True, entries change"]["failed"]
    print(f"rank {rank}, {where}:")
    with raises(RuntimeError, "Your training graph has changed"):
        raise error
    assert where.startswith("step 2")

# %%
# Conclusion
# ----------
# On 2 ranks, a step that leaves a ``ModuleDict`` entry unused stops DDP's
# gradient all-reduce without an error: each rank trains on its own
# gradients, and the ranks' models drift apart. The next forward raises,
# whether or not the ranks use the same entry. Pass
# ``find_unused_parameters=True``, or add ``0 *`` every parameter to the
# output; use ``static_graph=True`` only when each rank's entries never
# change. Load a DDP checkpoint into a plain model once ``module.`` is
# removed from its keys, and a plain checkpoint into a DDP model through
# ``model.module``.
