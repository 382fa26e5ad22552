"""
FSDP2: all ranks must run the same sharded entries, forward and back
====================================================================

With FSDP2's ``fully_shard`` applied to each ``ModuleDict`` entry, each rank
holds a shard of every entry, and running an entry makes the ranks exchange
their shards (an all-gather; the backward exchanges gradients too). Here the
ranks run different entries in the same step.

Everything here runs on **2 ranks**: two processes in a gloo process group on
127.0.0.1, on the CPU, with the torch version given at the top of this page.
Each rank's result is compared with what the full, unsharded weights give in
one process.
"""

# %%
# ``fully_shard`` needs a forward
# -------------------------------
# A plain ``nn.ModuleDict`` has no ``forward`` ...
import copy

import torch
from torch import nn
from torch.distributed.fsdp import fully_shard

plain = nn.ModuleDict({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})

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
# ... and ``fully_shard`` refuses it as the root to shard:
with raises(ValueError, "does not support containers that do not implement"):
    fully_shard(plain)


# %%
# The way out used here: a ``ModuleDict`` subclass with a ``forward``. It
# runs the entry ``key``; with ``run="every entry"`` it runs every entry, in
# the same order on every rank, and returns the output of ``key``; with
# ``run="every entry, all in the loss"`` it also adds ``0 *`` every output,
# so that the backward goes through every entry too.
class Branches(nn.ModuleDict):
    def forward(self, x, key, run="own entry"):
        if run == "own entry":
            return self[key](x)
        outputs = {name: entry(x) for name, entry in self.items()}
        if run == "every entry":
            return outputs[key]
        return outputs[key] + 0 * sum(out.sum() for out in outputs.values())


# %%
# What each rank runs
# -------------------
# ``one_step`` shards a copy of ``model``: one FSDP unit per entry, then the
# root. Rank ``r`` runs the entry ``keys[r]`` on ``x[r]``, forward and
# backward, and returns its output and every parameter's full gradient.
# ``on_2_ranks`` runs it on 2 ranks, with ``run_on_ranks`` (defined next).
def one_step(rank, model, keys, run="own entry"):
    model = copy.deepcopy(model)
    for entry in model.values():
        fully_shard(entry)
    fully_shard(model)
    out = model(x[rank], keys[rank], run)
    out.pow(2).mean().backward()
    grads = {  # gathered for every parameter, in the same order on each rank
        name: torch.zeros_like(p) if p.grad is None else p.grad
        for name, p in model.named_parameters()
    }
    return out.detach(), {n: g.full_tensor() for n, g in grads.items()}


def on_2_ranks(keys, run="own entry", model=None):
    model = full if model is None else model
    return run_on_ranks(lambda rank: one_step(rank, model, keys, run))


torch.manual_seed(0)
full = Branches({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})
x = torch.randn(2, 3, 4)  # ranks x batch x features


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


# %%
# Each result against the full weights
# ------------------------------------
# The right gradient is that of the mean of the ranks' losses, computed here
# with ``full``; a parameter no rank used has a zero gradient.
def check(keys, results):
    full.zero_grad()
    losses = [
        full[key](x[rank]).pow(2).mean() for rank, key in enumerate(keys)
    ]
    (sum(losses) / len(losses)).backward()
    verdicts = []
    for rank, key in enumerate(keys):
        out, grads = results[rank]
        output_right = torch.allclose(out, full[key](x[rank]))
        grads_right = all(
            torch.allclose(grads[name], torch.zeros_like(p) if p.grad is None
                           else p.grad)
            for name, p in full.named_parameters()
        )
        print(f"rank {rank} ran {key}: output right: {output_right}, "
              f"gradients right: {grads_right}")
        verdicts.append((output_right, grads_right))
    return verdicts


# %%
# The same entry on both ranks: right.
assert check(["image", "image"], on_2_ranks(["image", "image"])) == [
    (True, True), (True, True)
]
assert check(["text", "text"], on_2_ranks(["text", "text"])) == [
    (True, True), (True, True)
]

# %%
# Different entries of the same shape: no error, and both ranks' outputs
# and gradients are wrong.
mixed_results = on_2_ranks(["image", "text"])
assert check(["image", "text"], mixed_results) == [
    (False, False), (False, False)
]

# %%
# Both ranks computed with the same mix of the two entries: the all-gather
# of rank 0's ``image`` met the all-gather of rank 1's ``text``, so each got
# ``image``'s first row (rank 0's shard) and ``text``'s second row (rank 1's
# shard).
weight = torch.cat([full["image"].weight[:1], full["text"].weight[1:]])
bias = torch.cat([full["image"].bias[:1], full["text"].bias[1:]])
for rank in range(2):
    out, _ = mixed_results[rank]
    mixed = torch.allclose(out, nn.functional.linear(x[rank], weight, bias))
    print(f"rank {rank}: output equals that of the mixed weights: {mixed}")
    assert mixed

# %%
# Different entries of different shapes: the all-gathers' sizes disagree,
# and gloo aborts rank 0's process. The last line it printed names the
# mismatch.
torch.manual_seed(0)
unequal = Branches({"image": nn.Linear(4, 2), "text": nn.Linear(4, 3)})
with raises(RuntimeError, "Is there a distributed collective mismatch"):
    on_2_ranks(["image", "text"], model=unequal)


# %%
# Running every entry is not enough
# ---------------------------------
# Each rank now runs both entries, in the same order, but its loss uses only
# its own entry's output. The forward's all-gathers match; the backward's
# exchanges do not, since each rank's backward goes through its own entry
# only, and the ranks wait for each other. Here a collective waits at most 3
# seconds: the first rank to give up reports a timeout, and the other then
# finds its connection closed, or times out too (which comes first varies
# from run to run, so only these facts are printed).
def own_output_in_loss(rank):
    try:
        one_step(rank, full, ["image", "text"], "every entry")
    except RuntimeError as error:
        return error
    return None


errors = run_on_ranks(own_output_in_loss, timeout=3)
for rank, error in enumerate(errors):
    print(f"rank {rank}'s step raised a RuntimeError: "
          f"{isinstance(error, RuntimeError)}")
timed_out = any("Timed out waiting 3000ms" in str(error) for error in errors)
print(f"a rank timed out waiting for the other: {timed_out}")
assert all(isinstance(error, RuntimeError) for error in errors) and timed_out

# %%
# The fix: every rank runs every entry, in the same order, and adds ``0 *``
# every output to what it returns, so that every output is in the loss and
# the backward, too, goes through every entry.
every = "every entry, all in the loss"
assert check(["image", "text"], on_2_ranks(["image", "text"], every)) == [
    (True, True), (True, True)
]

# %%
# Conclusion
# ----------
# On 2 ranks, FSDP2 gave right outputs and gradients only when both ranks ran
# the same sharded entries in the same order, forward and backward.
# Different entries gave wrong results without an error (same shapes) or
# killed a process (different shapes); running every entry with only one's
# own output in the loss left the backward waiting until a timeout. With
# entries sharded by FSDP2, make every rank run every entry, in the same
# order, and put every output in the loss:
# ``out + 0 * sum(o.sum() for o in outputs)``. ``fully_shard`` needs a
# module with a ``forward`` at the root: subclass ``ModuleDict``, as here.
# Under DDP, by contrast, an entry chosen per rank trains correctly with
# ``find_unused_parameters=True`` (see :doc:`the DDP example
# <plot_ddp_unused_entry_fails_next_step>`).
