"""The claims ledger: judge each record of ``_article.CLAIMS`` and render the verdicts.

``judge`` computes a claim's evidence (``_evidence.<key>``), applies its rule
(``_rules.<key>``) and stops the build, naming the claim, when the verdict is not the one
the record expects. ``Table`` and ``Evidence`` render the results as HTML that is also
well-formed XHTML, so the EPUB can hold it.
"""

from __future__ import annotations

import ast
import html
import inspect
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import _evidence
import _rules
from _article import Claim

HERE = Path(__file__).resolve().parent
PAGE = "auto_examples/article/plot_claims_ledger"  # the page the ledger is rendered on


@dataclass
class Judged:
    number: int
    claim: Claim
    evidence: dict
    verdict: str

    @property
    def quote(self) -> str:
        return self.claim.quote


def judge(claims) -> list[Judged]:
    judged = []
    for number, claim in enumerate(claims, 1):
        evidence = getattr(_evidence, claim.key)()
        verdict = getattr(_rules, claim.key)(evidence)
        assert verdict == claim.expected, (
            f"claim {number} ({claim.quote!r}): the evidence now gives {verdict!r}, the site "
            f"says {claim.expected!r}; evidence: {evidence}")
        judged.append(Judged(number, claim, evidence, verdict))
    return judged


def page_title(docname: str) -> str:
    """The title of a page of the site, read from its source.

    A downloaded copy of this module has no site beside it: it names the page instead.
    """
    if docname.startswith("auto_examples/"):
        source = HERE / Path(docname).relative_to("auto_examples").with_suffix(".py")
        if not source.is_file():
            return Path(docname).name
        return ast.get_docstring(ast.parse(source.read_text("utf-8"))).splitlines()[0].strip()
    page = HERE.parent / "docs" / (docname + ".md")
    for line in page.read_text(encoding="utf-8").splitlines() if page.is_file() else []:
        if line.startswith("# "):
            return line[2:].strip()
    return docname


def _href(docname: str) -> str:
    return os.path.relpath(docname, Path(PAGE).parent) + ".html"


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def count(judged) -> str:
    counts = Counter(j.verdict for j in judged)
    parts = ", ".join(f"{counts[v]} {v}" for v in ("false", "misleading", "true"))
    return f"{len(judged)} claims: {parts}"


class Table:
    def __init__(self, judged):
        self.judged = judged

    def _row(self, j: Judged) -> str:
        where = f' <span class="claim-where">({_e(j.claim.where)})</span>' if j.claim.where else ""
        proof = f'<a href="#evidence-{j.number}">evidence below</a>'
        if j.claim.proven_in:
            proof = f'<a href="{_href(j.claim.proven_in)}">{_e(page_title(j.claim.proven_in))}</a>'
        return (f'<tr id="claim-{j.number}"><td data-label="claim">{j.number}</td>'
                f'<td data-label="the article says">“{_e(j.quote)}”{where}</td>'
                f'<td data-label="verdict" class="verdict-{j.verdict}">'
                f'<a href="#evidence-{j.number}">{j.verdict}</a></td>'
                f'<td data-label="proven in">{proof}</td></tr>')

    def _repr_html_(self) -> str:
        head = ("<tr><th>#</th><th>the article says</th><th>verdict</th>"
                "<th>proven in</th></tr>")
        rows = "".join(self._row(j) for j in self.judged)
        return (f'<table class="claims-ledger"><caption>{_e(count(self.judged))}</caption>'
                f"<thead>{head}</thead><tbody>{rows}</tbody></table>")


class Evidence:
    def __init__(self, judged):
        self.judged = judged

    def _entry(self, j: Judged) -> str:
        items = "".join(f"<li><code>{_e(k)}</code>: {_e(_evidence.LABELS[k])}: "
                        f"<strong>{_e(v)}</strong></li>" for k, v in j.evidence.items())
        also = "".join(f"<li>also: “{_e(q)}”</li>" for q in j.claim.also)
        rule = _e(inspect.getsource(getattr(_rules, j.claim.key)).strip())
        return (f'<section class="claim-evidence" id="evidence-{j.number}">'
                f'<p><a href="#claim-{j.number}">{j.number}.</a> “{_e(j.quote)}” '
                f'<span class="verdict-{j.verdict}">{j.verdict}</span></p>'
                f"<ul>{also}{items}</ul><pre>{rule}</pre></section>")

    def _repr_html_(self) -> str:
        return f'<div class="claims-evidence">{"".join(map(self._entry, self.judged))}</div>'
