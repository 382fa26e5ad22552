"""Judge every claim: compute its evidence, apply its rule, compare.

``verdicts()`` computes and returns every claim's verdict without comparing
(for a report across torch versions); ``judge()`` stops with a
``VerdictChanged`` naming the claim, the expected and the computed verdict and
the evidence, when a verdict is not the one the record expects.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ledger import evidence, rules
from ledger.claims import CLAIMS, Claim

VERDICTS = ("false", "misleading", "true")


class VerdictChanged(AssertionError):
    """A claim's evidence now gives another verdict than the recorded one."""


@dataclass
class Judged:
    number: int
    claim: Claim
    evidence: dict
    verdict: str

    @property
    def quote(self) -> str:
        return self.claim.quote


def _judged(claims):
    for number, claim in enumerate(claims, 1):
        values = getattr(evidence, claim.key)()
        verdict = getattr(rules, claim.key)(values)
        yield Judged(number, claim, values, verdict)


def verdicts(claims=CLAIMS) -> list[Judged]:
    """Every claim with its evidence and the verdict its rule gives."""
    return list(_judged(claims))


def judge(claims=CLAIMS) -> list[Judged]:
    """Every claim judged, in order; ``VerdictChanged`` at the first changed one."""
    judged = []
    for j in _judged(claims):
        if j.verdict != j.claim.expected:
            raise VerdictChanged(
                f"claim {j.number} ({j.quote!r}): the evidence now gives "
                f"{j.verdict!r}, the site says {j.claim.expected!r}; "
                f"evidence: {j.evidence}")
        judged.append(j)
    return judged


def count(judged) -> str:
    """'27 claims: 13 false, 7 misleading, 7 true'."""
    counts = Counter(j.verdict for j in judged)
    parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
    return f"{len(judged)} claims: {parts}"
