"""
What indexing costs: a small fraction of a tiny Linear layer's forward
======================================================================

The article says the way you index a ``ModuleDict`` "will influence how
efficiently your code interacts with the PyTorch optimizer". The optimizer
receives the same parameter objects whichever lookup collected them (see
the :ref:`claims ledger <claims-ledger>`); what remains
is the cost of the lookup itself. We time four ways of reaching a module
against the forward pass of one tiny ``nn.Linear(16, 16)``.
"""

# %%
# The measurement
# ---------------
# ``torch.utils.benchmark.Timer`` runs each statement 200 times in a row, 30
# times over, and we keep the fastest of the 30 averages: short samples and
# their minimum are the times least disturbed by whatever else the machine
# was doing. Iteration is timed over a ``ModuleDict`` of 8 modules and
# divided by 8, to give the cost per module.
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.benchmark import Timer

_ = torch.manual_seed(0)
md = nn.ModuleDict({f"layer{i}": nn.Linear(16, 16) for i in range(8)})
x = torch.randn(1, 16)
statements = {  # label: (statement, modules it reaches)
    "md['layer0']": ('md["layer0"]', 1),
    "md.layer0": ("md.layer0", 1),
    "getattr(md, 'layer0')": ('getattr(md, "layer0")', 1),
    "md.items(), per module": ("for n, m in md.items(): pass", len(md)),
    "Linear(16, 16) forward": ('md["layer0"](x)', 1),
}
best_ns = {}
for label, (statement, per) in statements.items():
    timer = Timer(statement, globals={"md": md, "x": x})
    best_ns[label] = min(timer.timeit(200).mean for _ in range(30)) * 1e9 / per

forward = best_ns["Linear(16, 16) forward"]
print(f"{'operation':24} {'fastest':>10}  {'share of the forward':>20}")
for label, ns in best_ns.items():
    print(f"{label:24} {ns:8.0f} ns  {ns / forward:20.4f}")

lookups = [label for label in best_ns if "forward" not in label]
slowest = max(lookups, key=best_ns.get)
print(f"\nslowest lookup on this machine: {slowest}, "
      f"{best_ns[slowest] / forward:.2f} of the forward")

# %%
# The timings are not asserted: another run, or a busier machine, may
# reorder lookups that take about the same time. What cannot change is what
# the lookups return: the same registered module, every time.
found = {
    "md['layer0']": md["layer0"],
    "md.layer0": md.layer0,
    "getattr(md, 'layer0')": getattr(md, "layer0"),
    "md.items()": dict(md.items())["layer0"],
}
for label, module in found.items():
    print(f"{label:22} is md['layer0']: {module is md['layer0']}")
assert all(module is md["layer0"] for module in found.values())

# %%
# The same numbers as a chart (logarithmic scale). The figure is 5 inches
# wide with 11-point text, so that its labels stay legible on a phone, and
# drawn at 200 dots per inch (400 for a screen of high density).

plt.rcParams["font.size"] = 11
fig, ax = plt.subplots(figsize=(5, 3.4), dpi=200, layout="constrained")
colors = ["#4c72b0"] * len(lookups) + ["#dd8452"]  # lookups, then the forward
ax.barh(list(best_ns), list(best_ns.values()), color=colors)
ax.set_xscale("log")
ax.set_xlabel("fastest time (ns, log scale)")
# A figure title, centred on the figure: the labels leave the axes narrow.
fig.suptitle("Four lookups and a Linear(16, 16) forward,\n"
             "timed where this page was built")
ax.invert_yaxis()

# %%
# What the numbers mean
# ---------------------
# These timings come from the machine that produced this page and change
# from run to run; only their order of magnitude matters. Item access and
# iteration are plain Python method calls. Attribute access and ``getattr``
# are usually a little slower, because Python calls
# ``nn.Module.__getattr__`` only after its ordinary attribute lookup has
# failed. The table gives each lookup's share of the forward of
# ``Linear(16, 16)`` on one sample, measured here. A wider layer or a larger
# batch does more arithmetic in its forward, while a lookup does the same
# work whatever the layer holds; and the optimizer never sees lookups at
# all.
#
# Conclusion
# ----------
# A lookup costs a small fraction of the forward of even a tiny
# ``Linear(16, 16)`` on one sample, and all of them return the same
# registered module: choose between ``md[key]``, ``md.key``,
# ``getattr(md, key)`` and iteration for readability.
