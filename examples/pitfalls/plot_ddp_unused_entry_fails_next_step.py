"""
DDP fails the step after a ModuleDict entry goes unused
=======================================================

A model that runs one ``ModuleDict`` entry per step leaves the other entries'
parameters without gradients, and ``DistributedDataParallel`` (DDP) raises at the
next forward. Everything here runs on **2 ranks**: two processes in a gloo group on
127.0.0.1 (CPU), started by the helper ``_ranks.run``. Each run that completes is
compared with the same training done in this one process without DDP.
"""

# %%
# What each rank runs
# -------------------
# Each run trains a fresh model from the same starting checkpoint: at step ``s``,
# rank ``r`` feeds ``inputs[s, r]`` to the entry ``keys[s][r]``, then takes an SGD
# step. A run returns its DDP model's ``state_dict()``, or where it raised and the error.
import copy

import torch
from _guide import expect_error
from _ranks import run
from torch import nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

def train_on_rank(rank, runs, start, inputs):
    import torch
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel as DDP

    class Branches(nn.ModuleDict):
        def __init__(self, every_entry_in_graph):
            super().__init__({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})
            self.every_entry_in_graph = every_entry_in_graph

        def forward(self, x, key):
            out = self[key](x)
            if self.every_entry_in_graph:  # + 0 * every parameter: all get a gradient
                out = out + 0 * sum(p.sum() for p in self.parameters())
            return out

    results = {}
    for name, (every_entry_in_graph, options, keys) in runs.items():
        model = DDP(Branches(every_entry_in_graph), **options)
        model.module.load_state_dict(start)  # a plain checkpoint goes into model.module
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        try:
            for step, key_of_rank in enumerate(keys, start=1):
                optimizer.zero_grad()
                where = f"step {step}, forward"
                out = model(inputs[step - 1, rank], key_of_rank[rank])
                where = f"step {step}, backward"
                out.pow(2).mean().backward()
                optimizer.step()
            results[name] = model.state_dict()
        except RuntimeError as error:
            results[name] = (where, error)
    return results


per_rank = [["image", "text"], ["text", "image"], ["image", "image"]]  # steps x ranks
fixed, changing = [["image", "text"]] * 3, [["image", "image"], ["text", "text"]]
runs = {  # name: (every entry in the graph?, DDP options, keys)
    "no option, entries differ per rank": (False, {}, per_rank),
    "no option, same entry on both ranks": (False, {}, [["image", "image"]] * 2),
    "find_unused_parameters=True": (False, {"find_unused_parameters": True}, per_rank),
    "every entry in the graph": (True, {}, per_rank),
    "static_graph=True, fixed entry per rank": (False, {"static_graph": True}, fixed),
    "static_graph=True, entries change": (False, {"static_graph": True}, changing),
}
_ = torch.manual_seed(0)
plain = nn.ModuleDict({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})
start = copy.deepcopy(plain.state_dict())  # state_dict() shares the parameters' memory
inputs = torch.randn(3, 2, 5, 4)  # steps x ranks x batch x features
rank_results = run(train_on_rank, runs, start, inputs)  # one value per rank

# %%
# The failure
# -----------
# Without an option, the first step runs and the second forward raises. Rank 0's error:
where, error = rank_results[0]["no option, entries differ per rank"]
with expect_error(RuntimeError, "Expected to have finished reduction in the prior iteration"):
    raise error

# %%
# Each rank raises in step 2's forward and lists the parameters *it* did not use:
# indices 2 and 3 (``text.*``) on rank 0, 0 and 1 (``image.*``) on rank 1. Using the
# same entry on both ranks does not help: the other entry is still unused.
print("parameter indices:", dict(enumerate(start)))
differ, same = "no option, entries differ per rank", "no option, same entry on both ranks"
raised = {
    (name, rank): (results[name][0], str(results[name][1]).splitlines()[-2])
    for name in (differ, same)
    for rank, results in enumerate(rank_results)
}
for (name, rank), (where, line) in raised.items():
    print(f"{name}, rank {rank}, {where}:\n    {line}")
did_not_receive = "Parameter indices which did not receive grad for rank"
assert raised == {
    (differ, 0): ("step 2, forward", f"{did_not_receive} 0: 2 3"),
    (differ, 1): ("step 2, forward", f"{did_not_receive} 1: 0 1"),
    (same, 0): ("step 2, forward", f"{did_not_receive} 0: 2 3"),
    (same, 1): ("step 2, forward", f"{did_not_receive} 1: 2 3"),
}

# %%
# Loading a DDP checkpoint into a plain model
# -------------------------------------------
# DDP keeps the model as ``model.module``, so the keys of its ``state_dict()`` start
# with ``module.`` and a plain model refuses them. Removing the prefix makes them load.
# The other way, ``train_on_rank`` loads the plain checkpoint ``start`` into each DDP
# model through ``model.module.load_state_dict``; the runs below start from it.
checkpoint = rank_results[0]["find_unused_parameters=True"]
print(list(checkpoint))
with expect_error(RuntimeError, 'Unexpected key\\(s\\) in state_dict: "module.image.weight"'):
    plain.load_state_dict(checkpoint)
consume_prefix_in_state_dict_if_present(checkpoint, "module.")
print(plain.load_state_dict(checkpoint))

# %%
# Three fixes, checked against training without DDP
# --------------------------------------------------
# The reference trains ``plain`` in this process: each step's loss is the mean of the
# ranks' losses, which is what DDP's averaged gradients minimise.
def trained_without_ddp(keys):
    plain.load_state_dict(start)
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.1)
    for step, key_of_rank in enumerate(keys):
        optimizer.zero_grad()
        losses = [plain[key](inputs[step, r]).pow(2).mean() for r, key in enumerate(key_of_rank)]
        (sum(losses) / len(losses)).backward()
        optimizer.step()
    return plain.state_dict()


def same_as_without_ddp(name):
    expected = trained_without_ddp(runs[name][2])
    for rank, results in enumerate(rank_results):
        weights = dict(results[name])
        consume_prefix_in_state_dict_if_present(weights, "module.")
        same = all(torch.allclose(weights[key], expected[key]) for key in expected)
        print(f"{name}, rank {rank}: same parameters as without DDP: {same}")
        assert same


same_as_without_ddp("find_unused_parameters=True")
same_as_without_ddp("every entry in the graph")

# %%
# ``static_graph=True`` was right here, where each rank used the same entry at every
# step (rank 0 always ``image``, rank 1 always ``text``) ...
same_as_without_ddp("static_graph=True, fixed entry per rank")

# %%
# ... and raised when the entries changed from step 1 to step 2.
for rank, results in enumerate(rank_results):
    where, error = results["static_graph=True, entries change"]
    print(f"rank {rank}, {where}:")
    with expect_error(RuntimeError, "Your training graph has changed in this iteration"):
        raise error
    assert where.startswith("step 2")

# %%
# Conclusion
# ----------
# On 2 ranks, a step that leaves a ``ModuleDict`` entry unused makes DDP's next
# forward raise, whether or not the ranks use the same entry. Pass
# ``find_unused_parameters=True``, or add ``0 *`` every parameter to the output; use
# ``static_graph=True`` only when each rank's entries never change. Load a DDP
# checkpoint into a plain model once ``module.`` is removed from its keys, and a plain
# checkpoint into a DDP model through ``model.module``.
