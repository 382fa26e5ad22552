"""The ``claims-ledger`` directive: the article's claims, judged while the page is read.

Parts: ``table``, ``evidence`` (values, rule, code folded), ``not-judged``, ``tools``.
A verdict that is not the recorded one fails the build (``LedgerError``)."""

from __future__ import annotations

import ast
import html
import inspect
import platform
import textwrap
from collections import Counter
from pathlib import Path

from docutils import nodes
from ledger.claims import CLAIMS, NOT_TESTABLE
from sphinx import addnodes
from sphinx.errors import SphinxError
from sphinx.util.docutils import SphinxDirective

LEDGER = Path(__file__).resolve().parent / "ledger"
COLUMNS = (("claim", "#"), ("the article says", ""), ("verdict", ""), ("proven in", ""))
WIDTHS = (2, 60, 8, 30)
XREF = {"refdomain": "std", "reftype": "doc", "refexplicit": False, "refwarn": True}
NO_QUOTES = {"support_smartquotes": False}  # the article's quotes, as it wrote them
UNTESTED = NOT_TESTABLE.items()
EXECUTED = "guide-executed"  # the class of a code block that ran as the page was read


class LedgerError(SphinxError):
    category = "Claims ledger: a verdict changed"


def judged(claims=CLAIMS) -> list[dict]:
    """:func:`ledger.judge_all` with ``claim`` and ``number``, or a ``LedgerError``."""
    from ledger import judge_all  # imports torch: only when the page is read

    every = []
    for number, (claim, j) in enumerate(zip(claims, judge_all(claims), strict=True), 1):
        if j["verdict"] != claim.expected:
            said = f"the evidence now gives {j['verdict']!r}, the site says {claim.expected!r}"
            raise LedgerError(
                f"claim {number} ({claim.quote!r}): {said}; evidence: {j['evidence']}"
            )
        every.append({**j, "claim": claim, "number": number})
    return every


def folded(title: str, *content: nodes.Node) -> list[nodes.Node]:
    """``<details>`` in HTML (and EPUB), its content alone elsewhere."""
    summary = f'<details class="claims-code"><summary>{html.escape(title)}</summary>'
    tags = [nodes.raw("", tag, format="html") for tag in (summary, "</details>")]
    return [tags[0], *content, tags[1]]


def python(code: str) -> nodes.literal_block:
    return nodes.literal_block(code, code, language="python", classes=[EXECUTED])


def source(function) -> str:
    return textwrap.dedent(inspect.getsource(function)).rstrip() + "\n"


def evidence_code(function, module) -> str:
    """``function`` and the functions of ``module`` it calls, recursively."""
    found = [function]
    for f in found:  # the list grows while we walk it
        for node in ast.walk(ast.parse(source(f))):
            helper = getattr(module, getattr(node, "id", ""), None)
            if inspect.getmodule(helper) is module and helper not in found:
                found.append(helper)
    return "\n\n".join(map(source, found))


def para(*parts) -> nodes.paragraph:
    parts = [nodes.Text(p) if isinstance(p, str) else p for p in parts]
    return nodes.paragraph("", "", *parts)


def bullets(items, **attributes) -> nodes.bullet_list:
    items = [nodes.list_item("", item) for item in items]
    return nodes.bullet_list("", *items, **attributes, **NO_QUOTES)


class ClaimsLedger(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        part = self.arguments[0]
        if part == "not-judged":
            items = [
                para(f"“{o} …”: ", nodes.emphasis(text=why)) for o, why in UNTESTED
            ]
            return [bullets(items, classes=["claims-not-judged"])]
        if part == "tools":
            from ledger import tools

            code = inspect.getsource(tools).split("annotations\n", 1)[1].lstrip()
            return folded("The tools' code", python(code))
        if part not in ("table", "evidence"):
            parts = "table, evidence, not-judged, tools"
            raise self.error(f"claims-ledger: {part!r} is none of {parts}")
        for path in sorted(LEDGER.glob("*.py")):  # read again when the ledger changes
            self.env.note_dependency(str(path))
        every = self.env.temp_data.get("claims-ledger") or judged()
        self.env.temp_data["claims-ledger"] = every  # judged once per reading
        return self.table(every) if part == "table" else [self.evidence(every)]

    def table(self, every) -> list[nodes.Node]:
        import torch

        counts = Counter(j["verdict"] for j in every)
        count = ", ".join(f"{counts[v]} {v}" for v in ("false", "misleading", "true"))
        torch_version = nodes.literal(text=torch.__version__)
        python_version = nodes.literal(text=platform.python_version())
        stamp = para("Verdicts computed at build time by torch ", torch_version)
        stamp += [nodes.Text(" on Python "), python_version, nodes.Text(", CPU. ")]
        stamp += nodes.strong(text=f"{len(every)} claims: {count}")
        stamp["classes"] = ["guide-stamp"]
        # No title: Sphinx gives a titled table an id, which furo 2025.12.19 copies
        # onto the wrapper it puts around every table (a duplicate id).
        group = nodes.tgroup("", *[nodes.colspec(colwidth=w) for w in WIDTHS], cols=4)
        head = nodes.row("", *[nodes.entry("", para(h or c)) for c, h in COLUMNS])
        group += [nodes.thead("", head), nodes.tbody("", *map(self.row, every))]
        return [stamp, nodes.table("", group, classes=["claims-ledger"], **NO_QUOTES)]

    def row(self, j) -> nodes.row:
        claim, n, verdict = j["claim"], j["number"], j["verdict"]
        said = para(f"“{claim.quote}”")
        if claim.where:
            where = nodes.inline(text=f"({claim.where})", classes=["claim-where"])
            said += [nodes.Text(" "), where]
        proof = nodes.reference("", "evidence below", refid=f"evidence-{n}")
        if claim.proven_in:
            title = nodes.inline(
                "", claim.proven_in, classes=["xref", "std", "std-doc"]
            )
            target = {"reftarget": "/" + claim.proven_in, "refdoc": self.env.docname}
            proof = addnodes.pending_xref("", title, **XREF, **target)
        link = nodes.reference("", verdict, refid=f"evidence-{n}")
        cells = (para(str(n)), said, para(link), para(proof))
        row = nodes.row(ids=[f"claim-{n}"])
        for (column, _), cell in zip(COLUMNS, cells, strict=True):
            classes = ["ledger-" + column.replace(" ", "-")]
            classes += [f"verdict-{verdict}"] if column == "verdict" else []
            row += nodes.entry("", cell, classes=classes)
        return row

    def evidence(self, every) -> nodes.container:
        from ledger import evidence

        entries = nodes.container(classes=["claims-evidence"], **NO_QUOTES)
        for j in every:
            claim, n, verdict = j["claim"], j["number"], j["verdict"]
            number = nodes.reference("", f"{n}.", refid=f"claim-{n}")
            verdict = nodes.inline(text=verdict, classes=[f"verdict-{verdict}"])
            items = [para(f"also: “{also}”") for also in claim.also]
            for key, value in j["evidence"].items():
                items.append(
                    para(f"{evidence.label(key)}: ", nodes.strong(text=str(value)))
                )
            code = evidence_code(getattr(evidence, claim.key), evidence)
            entry = nodes.container(ids=[f"evidence-{n}"], classes=["claim-evidence"])
            entry += [para(number, f" “{claim.quote}” ", verdict), bullets(items)]
            entry += para(nodes.emphasis(text="Rule: "), claim.words)
            entry += folded(
                "The code behind this verdict",
                para("The values above come from:"),
                python(code),
                para(
                    "The rule reads them (true, false and misleading are the verdicts):"
                ),
                python(claim.code),
            )
            entries += entry
        return entries


def setup(app):
    app.add_directive("claims-ledger", ClaimsLedger)
    return {"version": "3", "parallel_read_safe": True, "parallel_write_safe": True}
