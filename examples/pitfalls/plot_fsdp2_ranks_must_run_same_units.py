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
# Checking an expected error
# --------------------------
# ``raises`` checks that a block fails with the error we expect, and prints
# that error as Python does; if the block stops failing, the script stops.
import re
import traceback
from contextlib import contextmanager

@contextmanager
def raises(expected, match):
    """Check that the block raises ``expected`` with a message matching
    ``match`` (a regular expression), and print the error as Python does."""
    try:
        yield
    except expected as error:
        if not re.search(match, str(error)):
            raise
        print("".join(traceback.format_exception_only(error)), end="")
    else:
        raise AssertionError(f"{expected.__name__} was not raised")


# %%
# Running a function on 2 ranks
# -----------------------------
# ``run_on_ranks(fn)`` forks this process into two ranks, so ``fn`` and
# everything defined before the call reach them as they are (fork exists on
# Linux and macOS, not on Windows). Each rank joins a gloo process group on a
# free port of 127.0.0.1, calls ``fn(rank)`` on the CPU and sends back what
# it returned or raised; ``run_on_ranks`` returns the ranks' results as a
# list. It never hangs: a collective that waits more than
# ``collective_timeout`` seconds for the other rank raises, a rank that
# crashes is reported with the last line it printed, and every rank is
# stopped after ``deadline`` seconds.
import datetime
import os
import pickle
import signal
import socket
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

def rank_main(rank, fn, world_size, port, timeout, queue, done, logs):
    """One rank: join the group, run ``fn(rank)``, send back the result."""
    # This rank's error output, C++ included, goes to a file, whose last line
    # is shown if the rank crashes.
    os.dup2(os.open(f"{logs}/{rank}.txt", os.O_WRONLY | os.O_CREAT), 2)
    torch.set_num_threads(1)
    try:
        dist.init_process_group(
            "gloo",
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=timeout),
        )
        # pickle copies tensors (a queue would share their memory)
        message = pickle.dumps((rank, fn(rank), None))
    except Exception as error:
        error.add_note(f"(raised on rank {rank})")
        message = pickle.dumps((rank, None, error))
    queue.put(message)
    done.wait()  # exit only when the parent says so: an exit would disturb
    # the ranks that are still running


def run_on_ranks(fn, world_size=2, collective_timeout=20, deadline=45):
    """``[fn(0), fn(1), ...]``, each computed by its own rank."""
    with socket.socket() as probe:  # a free port, chosen by the system
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fork = mp.get_context("fork")
    queue, done = fork.SimpleQueue(), fork.Event()
    with tempfile.TemporaryDirectory() as logs:
        args = (fn, world_size, port, collective_timeout, queue, done, logs)
        context = mp.start_processes(
            rank_main, args, world_size, join=False, start_method="fork"
        )
        results, errors = {}, []  # what the ranks returned, and raised
        end = time.monotonic() + deadline
        while len(results) < world_size and not errors:
            if any(p.exitcode not in (None, 0) for p in context.processes):
                break  # a rank crashed
            if time.monotonic() > end:
                break
            if queue.empty():
                time.sleep(0.01)
                continue
            rank, result, error = pickle.loads(queue.get())
            if error is None:
                results[rank] = result
            else:
                errors.append(error)
        done.set()
        for process in context.processes:
            process.kill()
            process.join()
        for rank, process in enumerate(context.processes):
            code = process.exitcode
            if code not in (0, -signal.SIGKILL):  # it crashed
                if code < 0:
                    how = signal.Signals(-code).name
                else:
                    how = f"exit code {code}"
                with open(f"{logs}/{rank}.txt") as log:
                    lines = log.read().strip().splitlines() or ["(none)"]
                last = lines[-1].strip()
                raise RuntimeError(f"rank {rank} died ({how}): {last}")
    if errors:
        raise errors[0]  # the first error raised: the others may follow it
    if len(results) < world_size:
        raise TimeoutError(f"the ranks were still running after {deadline} s")
    return [results[rank] for rank in range(world_size)]


# %%
# ``fully_shard`` needs a forward
# -------------------------------
# A plain ``nn.ModuleDict`` has no ``forward``, and ``fully_shard`` refuses
# it as the root to shard:
import copy

from torch import nn
from torch.distributed.fsdp import fully_shard

plain = nn.ModuleDict({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})
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
# only, and the ranks wait for each other. Here a collective waits at most 5
# seconds: the first rank to give up reports a timeout, and the other then
# finds its connection closed, or times out too (which comes first varies
# from run to run, so only these facts are printed).
def own_output_in_loss(rank):
    try:
        one_step(rank, full, ["image", "text"], "every entry")
    except RuntimeError as error:
        return error
    return None


errors = run_on_ranks(own_output_in_loss, collective_timeout=5)
for rank, error in enumerate(errors):
    print(f"rank {rank}'s step raised a RuntimeError: "
          f"{isinstance(error, RuntimeError)}")
timed_out = any("Timed out waiting 5000ms" in str(error) for error in errors)
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
