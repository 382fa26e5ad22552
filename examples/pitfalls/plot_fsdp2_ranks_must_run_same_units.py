"""
FSDP2: every rank must run the same sharded entries, in the same order
======================================================================

With FSDP2's ``fully_shard`` applied to each ``ModuleDict`` entry, each rank holds a
shard of every entry, and running an entry makes the ranks exchange their shards (an
all-gather). Here the ranks run different entries in the same step. Everything runs
on **2 ranks**: two processes in a gloo group on 127.0.0.1 (CPU), started by the
helper ``_ranks.run``. Each rank's result is compared with what the full, unsharded
weights give in this process.
"""

# %%
# What each rank runs
# -------------------
# Each run shards a fresh copy of the model ``full`` below: one FSDP unit per entry,
# then the root. Rank ``r`` runs the entry ``keys[r]`` on ``x[r]``, forward and
# backward, and returns its output and every parameter's full gradient.
import torch
from _guide import expect_error
from _ranks import RankError, run
from torch import nn

def step_on_rank(rank, runs, sizes, start, x):
    import torch
    from torch import nn
    from torch.distributed.fsdp import fully_shard

    class Branches(nn.ModuleDict):
        def forward(self, x, key, every_entry):
            if not every_entry:
                return self[key](x)
            outputs = {name: entry(x) for name, entry in self.items()}  # same order everywhere
            # + 0 * every output: the backward, too, goes through every entry
            return outputs[key] + 0 * sum(out.sum() for out in outputs.values())

    results = {}
    for name, (keys, every_entry) in runs.items():
        model = Branches({key: nn.Linear(4, size) for key, size in sizes.items()})
        model.load_state_dict(start)
        for entry in model.values():
            fully_shard(entry)
        fully_shard(model)
        out = model(x[rank], keys[rank], every_entry)
        out.pow(2).mean().backward()
        grads = {  # sharded too: gathered for every parameter, in the same order on each rank
            n: (p.grad if p.grad is not None else torch.zeros_like(p)).full_tensor()
            for n, p in model.named_parameters()
        }
        results[name] = (out.detach(), grads)
    return results


runs = {  # name: (entry each rank runs, run every entry?)
    "both ranks run image": (["image", "image"], False),
    "both ranks run text": (["text", "text"], False),
    "rank 0 runs image, rank 1 text": (["image", "text"], False),
    "rank 0 uses image, rank 1 text, both run every entry": (["image", "text"], True),
}
_ = torch.manual_seed(0)
full = nn.ModuleDict({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})
x = torch.randn(2, 3, 4)  # ranks x batch x features
rank_results = run(step_on_rank, runs, {"image": 2, "text": 2}, full.state_dict(), x)


# %%
# Each result against the full weights
# ------------------------------------
# The right gradient is that of the mean of the ranks' losses, computed here with
# ``full``; a parameter no rank used has a zero gradient.
def check(name):
    keys, _ = runs[name]
    full.zero_grad()
    losses = [full[key](x[rank]).pow(2).mean() for rank, key in enumerate(keys)]
    (sum(losses) / len(losses)).backward()
    verdicts = []
    for rank, key in enumerate(keys):
        out, grads = rank_results[rank][name]
        output_right = torch.allclose(out, full[key](x[rank]))
        grads_right = all(
            torch.allclose(grads[n], p.grad if p.grad is not None else torch.zeros_like(p))
            for n, p in full.named_parameters()
        )
        print(f"{name}: rank {rank} ({key}) output right: {output_right}, "
              f"gradients right: {grads_right}")
        verdicts.append((output_right, grads_right))
    return verdicts


# %%
# The same entry on both ranks: right.
assert check("both ranks run image") == [(True, True), (True, True)]
assert check("both ranks run text") == [(True, True), (True, True)]

# %%
# Different entries of the same shape: no error, and both ranks' outputs are wrong.
assert check("rank 0 runs image, rank 1 text") == [(False, False), (False, False)]

# %%
# Both ranks computed with the same mix of the two entries: the all-gather of rank 0's
# ``image`` met the all-gather of rank 1's ``text``, so each got ``image``'s first row
# (rank 0's shard) and ``text``'s second row (rank 1's shard).
weight = torch.cat([full["image"].weight[:1], full["text"].weight[1:]])
bias = torch.cat([full["image"].bias[:1], full["text"].bias[1:]])
for rank in range(2):
    out, _ = rank_results[rank]["rank 0 runs image, rank 1 text"]
    mixed = torch.allclose(out, nn.functional.linear(x[rank], weight, bias))
    print(f"rank {rank}: output equals that of the mixed weights: {mixed}")
    assert mixed

# %%
# Different entries of different shapes: the all-gathers' sizes disagree, and gloo
# aborts rank 0's process (the helper then kills rank 1 if it is still running).
_ = torch.manual_seed(0)
unequal = nn.ModuleDict({"image": nn.Linear(4, 2), "text": nn.Linear(4, 3)})
with expect_error(RankError, "Is there a distributed collective mismatch in your code"):
    run(step_on_rank, {"rank 0 runs image, rank 1 text": (["image", "text"], False)},
        {"image": 2, "text": 3}, unequal.state_dict(), x)

# %%
# The fix: every rank runs every entry, in the same order, and uses its own. With
# every output in the loss (times zero), the backward also visits every entry.
assert check("rank 0 uses image, rank 1 text, both run every entry") == [(True, True)] * 2

# %%
# Conclusion
# ----------
# On 2 ranks, FSDP2 gave right outputs and gradients only when both ranks ran the
# same sharded entries in the same order. Different entries gave wrong outputs without
# an error (same shapes) or killed the process (different shapes). An entry chosen
# per rank does train correctly under DDP with ``find_unused_parameters=True``
# (:ref:`sphx_glr_auto_examples_pitfalls_plot_ddp_unused_entry_fails_next_step.py`); with
# entries sharded by FSDP2, make every rank run every entry.
