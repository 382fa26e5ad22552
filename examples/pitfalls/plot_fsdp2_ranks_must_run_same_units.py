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

To look for the pitfalls that live in a model (unregistered modules, unused
or cut-off parameters, stale optimizers, hooks on containers, keys) in your
own model, run :doc:`the checkup <plot_check_model_finds_every_pitfall>`.
"""

# %%
# ``fully_shard`` refuses a plain ``ModuleDict``
# ----------------------------------------------
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
# ... and ``fully_shard`` refuses it as the module to shard:
with raises(ValueError, "does not support containers that do not implement"):
    fully_shard(plain)


# %%
# The model here is an ``nn.Module`` that holds the ``ModuleDict``. Its
# ``forward`` runs the entry ``key``; with ``run="every entry"`` it runs
# every entry, in the same order on every rank, and returns the output of
# ``key``; with ``run="every entry, all in the loss"`` it also adds ``0 *``
# every output, so that the backward goes through every entry too.
class Model(nn.Module):
    def __init__(self, entries):
        super().__init__()
        self.layers = nn.ModuleDict(entries)

    def forward(self, x, key, run="own entry"):
        if run == "own entry":
            return self.layers[key](x)
        outputs = {name: entry(x) for name, entry in self.layers.items()}
        if run == "every entry":
            return outputs[key]
        return outputs[key] + 0 * sum(out.sum() for out in outputs.values())


torch.manual_seed(0)
full = Model({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})
x = torch.randn(2, 3, 4)  # ranks x batch x features

# %%
# ``fully_shard`` refuses the ``ModuleDict`` inside the model too, so it
# cannot be a unit (a group of parameters gathered together) of its own:
with raises(ValueError, "does not support containers that do not implement"):
    fully_shard(full.layers)


# %%
# What each rank runs
# -------------------
# ``one_step`` shards a copy of ``model``: one FSDP unit per entry, then the
# root (with ``units="entries together"``, one unit for both entries, given
# as a list, then the root). Rank ``r`` runs the entry ``keys[r]`` on
# ``x[r]``, forward and backward, and returns its output, every parameter's
# full gradient (zeros for a gradient that is ``None``) and the names of
# those that are ``None``. ``on_2_ranks`` runs it on 2 ranks, once for each
# list of keys, with ``run_on_ranks`` (defined next), and returns the
# results of both ranks for each.
def one_step(rank, model, keys, run="own entry", units="one per entry"):
    model = copy.deepcopy(model)
    if units == "one per entry":
        for entry in model.layers.values():
            fully_shard(entry)
    else:
        fully_shard(list(model.layers.values()))
    fully_shard(model)
    out = model(x[rank], keys[rank], run)
    out.pow(2).mean().backward()
    grads = {  # gathered for every parameter, in the same order on each rank
        name: torch.zeros_like(p) if p.grad is None else p.grad
        for name, p in model.named_parameters()
    }
    no_grad = [name for name, p in model.named_parameters() if p.grad is None]
    grads = {name: grad.full_tensor() for name, grad in grads.items()}
    return out.detach(), grads, no_grad


def on_2_ranks(*keys_list, run="own entry", model=full):
    per_rank = run_on_ranks(lambda rank: [
        one_step(rank, model, keys, run) for keys in keys_list
    ])
    return list(zip(*per_rank))  # for each keys: (rank 0's, rank 1's)


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
# with ``full``; a parameter that no rank used has none, compared as zeros.
def check(keys, results):
    full.zero_grad()
    losses = [
        full(x[rank], key).pow(2).mean() for rank, key in enumerate(keys)
    ]
    (sum(losses) / len(losses)).backward()
    verdicts = []
    for rank, key in enumerate(keys):
        out, grads, _ = results[rank]
        output_right = torch.allclose(out, full(x[rank], key))
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
both_image, both_text = on_2_ranks(["image", "image"], ["text", "text"])
assert check(["image", "image"], both_image) == [(True, True), (True, True)]
assert check(["text", "text"], both_text) == [(True, True), (True, True)]

# %%
# Different entries of the same shape: no error, and both ranks' outputs
# and gradients are wrong.
(mixed_results,) = on_2_ranks(["image", "text"])
assert check(["image", "text"], mixed_results) == [
    (False, False), (False, False)
]

# %%
# Both ranks computed with the same mix of the two entries: the all-gather
# of rank 0's ``image`` met the all-gather of rank 1's ``text``, so each got
# ``image``'s first row (rank 0's shard) and ``text``'s second row (rank 1's
# shard).
image, text = full.layers["image"], full.layers["text"]
weight = torch.cat([image.weight[:1], text.weight[1:]])
bias = torch.cat([image.bias[:1], text.bias[1:]])
for rank in range(2):
    out, _, _ = mixed_results[rank]
    mixed = torch.allclose(out, nn.functional.linear(x[rank], weight, bias))
    print(f"rank {rank}: output equals that of the mixed weights: {mixed}")
    assert mixed

# %%
# Different entries of different shapes: the all-gathers' sizes disagree,
# and gloo aborts rank 0's process. The last line it printed names the
# mismatch.
torch.manual_seed(0)
unequal = Model({"image": nn.Linear(4, 2), "text": nn.Linear(4, 3)})
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
fixed, both_image = on_2_ranks(
    ["image", "text"], ["image", "image"], run=every
)
assert check(["image", "text"], fixed) == [(True, True), (True, True)]

# %%
# It gives a parameter that no rank used a gradient of zeros where the full
# weights have none (``None``): with both ranks on ``image``, ``text``'s
# gradients. An optimizer skips a parameter whose gradient is ``None``, but
# momentum or weight decay move one whose gradient is zero (see :doc:`the
# DDP example <plot_ddp_unused_entry_fails_next_step>`, where the same
# ``0 *`` term makes training differ).
assert check(["image", "image"], both_image) == [(True, True), (True, True)]
no_grad = [name for name, p in full.named_parameters() if p.grad is None]
print(f"full weights: parameters with no gradient: {no_grad}")
for rank, (_, grads, fsdp_no_grad) in enumerate(both_image):
    zeros = [name for name in no_grad if not grads[name].any()]
    print(f"rank {rank}: parameters with no gradient: {fsdp_no_grad}, "
          f"with a gradient of zeros: {zeros}")
    assert fsdp_no_grad == [] and zeros == no_grad
assert no_grad == ["layers.text.weight", "layers.text.bias"]


# %%
# Other ways to group the entries
# -------------------------------
# ``fully_shard`` also takes both entries as one unit (a list), and a
# ``ModuleDict`` subclass with a ``forward`` as the root. With both entries
# in one unit, the forward gathers both, and a rank may run either: the
# outputs are right, but with different entries on the two ranks the
# gradients are still wrong, without an error.
class Branches(nn.ModuleDict):
    def forward(self, x, key):
        return self[key](x)


def other_units(rank):
    together = one_step(
        rank, full, ["image", "text"], units="entries together"
    )
    branches = Branches(copy.deepcopy(dict(full.layers)))
    for entry in branches.values():
        fully_shard(entry)
    fully_shard(branches)  # the subclass as the root
    return together, branches(x[rank], "image").detach()


results = run_on_ranks(other_units)
together = [together for together, _ in results]
assert check(["image", "text"], together) == [(True, False), (True, False)]

# %%
# The subclass, with both ranks on ``image``, gives the right outputs:
for rank, (_, out) in enumerate(results):
    right = torch.allclose(out, full(x[rank], "image"))
    print(f"rank {rank}, the subclass ran image: output right: {right}")
    assert right

# %%
# Conclusion
# ----------
# On 2 ranks, FSDP2 gave right outputs and gradients only when both ranks ran
# the same sharded entries in the same order, forward and backward.
# Different entries gave wrong results without an error (same shapes) or
# killed a process (different shapes); running every entry with only one's
# own output in the loss left the backward waiting until a timeout; one unit
# for both entries made the outputs right, not the gradients. With entries
# sharded by FSDP2, make every rank run every entry, in the same order, and
# put every output in the loss: ``out + 0 * sum(o.sum() for o in outputs)``.
# A parameter that no rank used then gets a gradient of zeros instead of
# ``None``, which momentum or weight decay can turn into a step.
#
# ``fully_shard`` refused a plain ``ModuleDict``, as the root and as a unit
# inside a model. On the torch this page was built with, it took an
# ``nn.Module`` that holds one (this page's model), the entries, a list of
# them, and a ``ModuleDict`` subclass with a ``forward``. The record of torch
# 2.6.0 on :doc:`the versions page </explanation/across-torch-versions>`
# shows ``fully_shard`` refusing such a subclass as the root, with the same
# ``ValueError``.
#
# Under DDP, by contrast, an entry chosen per rank trains correctly with
# ``find_unused_parameters=True`` (see :doc:`the DDP example
# <plot_ddp_unused_entry_fails_next_step>`).
