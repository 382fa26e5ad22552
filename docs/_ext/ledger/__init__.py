"""The claims ledger: the article's claims, the evidence that judges them, the rules.

``claims`` holds the records (each claim's words, where the article makes it, the
verdict we expect and its rule), ``evidence`` one function per claim that computes
plain values (and ``LABELS``, their words), ``tools`` what the evidence runs the
article's code with. :func:`judge_all` judges every claim with the installed torch;
the site (``docs/_ext/claims_ledger.py``) and the torch-version matrix
(``.ci/matrix.py``) both call it. Nothing here imports Sphinx.
"""

from __future__ import annotations

from ledger.claims import CLAIMS

def judge_all(claims=CLAIMS) -> list[dict]:
    """Each claim's ``quote``, its ``evidence`` values and the ``verdict`` its rule
    gives on them, in order; "no verdict (<error>)" where the evidence raised (an
    older torch may lack an API)."""
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
