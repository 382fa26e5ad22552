"""
DDP fails when a step leaves a ModuleDict branch unused
=======================================================

A model that runs one ``ModuleDict`` entry per step leaves the other entries'
parameters without gradients. ``DistributedDataParallel`` waits for those gradients
and refuses the next step. One process (world size 1, gloo, CPU) is enough to see it.
"""

# %%
# A one-process group on the loopback interface
# ---------------------------------------------
import datetime
import socket

import torch
import torch.distributed as dist
from _guide import expect_error
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

with socket.socket() as probe:  # ask the OS for a free port on 127.0.0.1
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
dist.init_process_group(
    "gloo",
    init_method=f"tcp://127.0.0.1:{port}",
    rank=0,
    world_size=1,
    timeout=datetime.timedelta(seconds=30),
)
_ = torch.manual_seed(0)
x = torch.randn(3, 4)


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.branches = nn.ModuleDict({"image": nn.Linear(4, 2), "text": nn.Linear(4, 2)})

    def forward(self, x, key):
        return self.branches[key](x)


def train(model, keys):
    """One forward/backward per key; prints which parameters got a gradient."""
    for key in keys:
        model.zero_grad()
        model(x, key).sum().backward()
        with_grad = [n for n, p in model.named_parameters() if p.grad is not None]
        print(f"{key:5} -> gradients for {with_grad}")
    return model


# %%
# The failure
# -----------
# The first step runs. The second *forward* raises: the gradients of the ``text``
# branch never arrived. The indices the message lists, 2 and 3, are those of
# ``branches.text.weight`` and ``branches.text.bias``.
model = DDP(Branches())
model(x, "image").sum().backward()
with expect_error(
    RuntimeError, "Expected to have finished reduction in the prior iteration"
) as raised:
    model(x, "image")
assert "did not receive grad for rank 0: 2 3" in str(raised.value)
print([name for name, _ in model.named_parameters()][2:])

# %%
# Fix 1: ``find_unused_parameters=True``
# --------------------------------------
# Branches may then change from step to step. The branch not taken keeps no
# gradient (``None``) in that step.
_ = train(DDP(Branches(), find_unused_parameters=True), ["image", "text", "image"])


# %%
# Fix 2: make every branch contribute
# -----------------------------------
# Adding zero times every parameter puts all of them in the graph: every parameter
# receives a gradient, all zeros for the branch not taken.
class AllBranchesInGraph(Branches):
    def forward(self, x, key):
        out = self.branches[key](x)
        return out + 0 * sum(p.sum() for p in self.parameters())


every = train(DDP(AllBranchesInGraph()), ["image", "text", "image"])
text_branch = every.module.branches["text"]
assert all(torch.count_nonzero(p.grad) == 0 for p in text_branch.parameters())
print("text branch gradients after the last 'image' step are all zero")

# %%
# Fix 3, with a condition: ``static_graph=True``
# ----------------------------------------------
# A static graph is fine when every step uses the same branches ...
_ = train(DDP(Branches(), static_graph=True), ["image", "image", "image"])

# %%
# ... and fails as soon as the set of used parameters changes.
with expect_error(RuntimeError, "Your training graph has changed in this iteration"):
    train(DDP(Branches(), static_graph=True), ["image", "text"])

# %%
# FSDP2 on the same model
# -----------------------
# ``fully_shard`` applied to each entry, then to the model, runs on CPU with this
# gloo group. Parameters become ``DTensor`` (one shard here, since there is one
# rank), and alternating branches train without any flag.
from torch.distributed.fsdp import fully_shard  # noqa: E402
from torch.distributed.tensor import DTensor  # noqa: E402

sharded = Branches()
for branch in sharded.branches.values():
    fully_shard(branch)
fully_shard(sharded)
for name, parameter in sharded.named_parameters():
    print(f"{name:22} {type(parameter).__name__} {parameter.placements}")
assert all(isinstance(p, DTensor) for p in sharded.parameters())
_ = train(sharded, ["image", "text", "image"])

dist.destroy_process_group()

# %%
# Conclusion
# ----------
# With DDP, a branch chosen per step needs ``find_unused_parameters=True`` or a
# forward that touches every parameter; ``static_graph=True`` only suits a fixed
# choice. FSDP2's ``fully_shard`` handled the changing branch here without a flag.
