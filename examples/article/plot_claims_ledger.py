"""
The claims ledger: each of the article's claims, tested
=======================================================

Each row quotes the article and gives the verdict that code run in this build computed.
*misleading*: the part of the claim that can be checked holds, but the conclusion the
article draws from it does not. The evidence and each verdict's rule follow the table.
"""

# %%
from _article import CLAIMS
from _ledger import Evidence, Table, judge

claims = judge(CLAIMS)  # stops the build, naming the claim, if a verdict changes
Table(claims)

# %%
# The evidence
# ------------
# For each claim: the other sentences of the article that say the same, the values the
# evidence functions of ``_evidence.py`` computed in this build (Python identifiers, then
# what they mean; on CPU, in float32 and with seed 0 unless the label says otherwise), and
# the rule of ``_rules.py`` that turned them into the verdict. Every
# rule can give another verdict: ``tests/test_ledger_rules.py`` feeds each one the
# opposite evidence.

Evidence(claims)

# %%
# Where a RuntimeError during backward really comes from
# ------------------------------------------------------
# The article promises a ``RuntimeError`` from ``loss.backward()``, "indicating that
# certain parameters are not part of the computation graph", and calls it "a clear
# indicator of improper indexing". Example 3 raises none. These are three real causes of
# a ``RuntimeError`` in ``backward()``, raised here; none involves how a module was looked
# up, and no message mentions indexing.
import inspect

from _evidence import BACKWARD_ERRORS
from _guide import expect_error

for trigger, message in BACKWARD_ERRORS.items():
    print(inspect.getsource(trigger).rstrip())
    with expect_error(RuntimeError, message):
        trigger()
    print()

# %%
# In a single process without ``DistributedDataParallel``, a parameter that is *not*
# part of the graph makes ``backward()`` raise nothing: its ``.grad`` stays ``None``,
# and only ``torch.autograd.grad``, asked for that very parameter, raises. Under DDP
# without ``find_unused_parameters=True``, an unused parameter makes the next forward
# raise a ``RuntimeError`` (with ``static_graph=True``, a change in which parameters are
# used raises in ``backward()``); its message names unused parameters, not indexing:
# see :ref:`sphx_glr_auto_examples_pitfalls_plot_ddp_unused_entry_fails_next_step.py`.
import torch
from torch import nn

md = nn.ModuleDict({"used": nn.Linear(2, 1), "unused": nn.Linear(2, 1)})
loss = md["used"](torch.ones(1, 2)).sum()
loss.backward(retain_graph=True)
print("unused.weight.grad after backward():", md["unused"].weight.grad)
with expect_error(RuntimeError, "appears to not have been used in the graph"):
    torch.autograd.grad(loss, md["unused"].weight)

# %%
# What the ledger does not judge
# ------------------------------
# Every sentence of the article (a heading counts as one) is either in the table, as a
# claim or as an ``also`` of one, or here, with the reason no code can test it.
# ``tests/test_ledger_rules.py`` checks that no sentence is left out.
from _article import NOT_TESTABLE

for opening, reason in NOT_TESTABLE.items():
    print(f"“{opening} …”\n    {reason}")

# %%
# Conclusion
# ----------
# The article's claims about indexing fail the test: ``md['key']``, ``md.key`` and
# iteration return the same registered modules, and autograd records the same graph.
# Its true sentences say what ``ModuleDict`` is (an ``nn.Module`` that holds modules,
# with ``items()`` and inherited attribute access) and that Examples 1 and 3 run; none
# of them supports its warning about item access. The pitfalls worth your attention
# are elsewhere: layers whose shapes do not compose, layers added after the optimizer was
# built, modules kept in a plain ``dict``, and one module registered under two keys.
