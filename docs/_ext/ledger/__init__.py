"""The claims ledger: ``claims``, their ``evidence`` and the ``tools`` it uses. Used by
the site (``claims_ledger.py``) and ``.ci/matrix.py``; nothing here imports Sphinx."""

from __future__ import annotations

from ledger.claims import CLAIMS

def judge_all(claims=CLAIMS) -> list[dict]:
    """Each claim's ``quote``, ``evidence`` and ``verdict`` ("no verdict (...)")."""
    from ledger import evidence  # imports torch

    judged = []
    for claim in claims:
        try:
            values = getattr(evidence, claim.key)()
            verdict = claim.judge(values)
        except Exception as error:  # noqa: BLE001 - reported as the verdict
            values, verdict = {}, f"no verdict ({type(error).__name__}: {error})"
        judged.append({"quote": claim.quote, "verdict": verdict, "evidence": values})
    return judged
