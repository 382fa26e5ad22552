"""The ``claims-ledger`` directive: the article's claims, judged while the page is read.

``ledger`` (beside this module) holds the claims, their evidence and their rules;
:func:`ledger.judge_all` judges them. A verdict that is not the recorded one fails the
build with a ``LedgerError`` naming the claim, both verdicts and the evidence. Parts::

    ```{claims-ledger} table        the stamp (which torch judged) and the table
    ```{claims-ledger} evidence     each claim's values, its rule in words, and the
                                    code of its evidence and rule (folded)
    ```{claims-ledger} not-judged   the article's sentences no code can test
    ```{claims-ledger} tools        the code of the tools the evidence uses

The claims are judged once each time the page is read: Sphinx reads it again when the
environment (a config value) or the ledger's code (a noted dependency) has changed. The
code blocks it shows are classed ``guide-executed``: they ran as the page was read.
"""

from __future__ import annotations

import ast
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
COLUMNS = {"claim": "#", "the article says": "the article says", "verdict": "verdict",
           "proven in": "proven in"}
WIDTHS = (2, 60, 8, 30)


class LedgerError(SphinxError):
    category = "Claims ledger: a verdict changed"


def judged(claims=CLAIMS) -> list[dict]:
    """:func:`ledger.judge_all`, each with its ``claim`` and ``number``; a
    ``LedgerError`` at the first verdict that is not the claim's ``expected``."""
    from ledger import judge_all  # imports torch: only when the page is read

    every = []
    for number, (claim, j) in enumerate(zip(claims, judge_all(claims), strict=True), 1):
        if j["verdict"] != claim.expected:
            raise LedgerError(
                f"claim {number} ({claim.quote!r}): the evidence now gives {j['verdict']!r}, "
                f"the site says {claim.expected!r}; evidence: {j['evidence']}")
        every.append({**j, "claim": claim, "number": number})
    return every


class details(nodes.General, nodes.Element):
    """A folded block: ``<details>`` in HTML, its content elsewhere."""


class summary(nodes.General, nodes.TextElement):
    """The always-visible line of a ``details`` block."""


def folded(title: str, *content: nodes.Node) -> details:
    return details("", summary(text=title), *content, classes=["claims-code"])


def python(code: str) -> nodes.literal_block:
    return nodes.literal_block(code, code, language="python", classes=["guide-executed"])


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


def para(*parts, **attributes) -> nodes.paragraph:
    return nodes.paragraph("", "", *[nodes.Text(p) if isinstance(p, str) else p
                                     for p in parts], **attributes)


class ClaimsLedger(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        part = self.arguments[0]
        if part == "not-judged":
            items = nodes.bullet_list(classes=["claims-not-judged"], support_smartquotes=False)
            items += [nodes.list_item("", para(f"“{opening} …”: ", nodes.emphasis(text=why)))
                      for opening, why in NOT_TESTABLE.items()]
            return [items]
        if part == "tools":
            from ledger import tools

            code = inspect.getsource(tools).split("annotations\n", 1)[1].lstrip()
            return [folded("The tools' code", python(code))]
        if part not in ("table", "evidence"):
            raise self.error(f"claims-ledger: {part!r} is none of table, evidence, "
                             "not-judged, tools")
        for path in sorted(LEDGER.glob("*.py")):  # read again when the ledger changes
            self.env.note_dependency(str(path))
        every = self.env.temp_data.get("claims-ledger") or judged()
        self.env.temp_data["claims-ledger"] = every  # judged once per reading
        return self.table(every) if part == "table" else [self.evidence(every)]

    def table(self, every) -> list[nodes.Node]:
        import torch

        counts = Counter(j["verdict"] for j in every)
        count = ", ".join(f"{counts[v]} {v}" for v in ("false", "misleading", "true"))
        stamp = para("Verdicts computed at build time by torch ",
                     nodes.literal(text=torch.__version__), " on Python ",
                     nodes.literal(text=platform.python_version()), ", CPU. ",
                     nodes.strong(text=f"{len(every)} claims: {count}"),
                     classes=["guide-stamp"])
        # No title: Sphinx gives a titled table an id, which furo 2025.12.19 copies
        # onto the wrapper it puts around every table (a duplicate id).
        group = nodes.tgroup(cols=len(WIDTHS))
        group += [nodes.colspec(colwidth=width) for width in WIDTHS]
        group += nodes.thead("", nodes.row("", *[nodes.entry("", para(h))
                                                 for h in COLUMNS.values()]))
        group += nodes.tbody("", *map(self.row, every))
        table = nodes.table("", group, classes=["claims-ledger"], support_smartquotes=False)
        return [stamp, table]

    def row(self, j) -> nodes.row:
        claim, n, evidence = j["claim"], j["number"], f"evidence-{j['number']}"
        said = para(f"“{claim.quote}”")
        if claim.where:
            said += [nodes.Text(" "), nodes.inline(text=f"({claim.where})",
                                                   classes=["claim-where"])]
        proof = nodes.reference("", "evidence below", refid=evidence)
        if claim.proven_in:
            proof = addnodes.pending_xref(
                "", nodes.inline("", claim.proven_in, classes=["xref", "std", "std-doc"]),
                refdomain="std", reftype="doc", reftarget="/" + claim.proven_in,
                refexplicit=False, refwarn=True, refdoc=self.env.docname)
        verdict = para(nodes.reference("", j["verdict"], refid=evidence))
        cells = (para(str(n)), said, verdict, para(proof))
        row = nodes.row(ids=[f"claim-{n}"])
        for label, cell in zip(COLUMNS, cells, strict=True):
            classes = ["ledger-" + label.replace(" ", "-")]
            row += nodes.entry("", cell, classes=classes + (
                [f"verdict-{j['verdict']}"] if label == "verdict" else []))
        return row

    def evidence(self, every) -> nodes.container:
        from ledger import evidence

        entries = nodes.container(classes=["claims-evidence"], support_smartquotes=False)
        for j in every:
            claim, n = j["claim"], j["number"]
            items = nodes.bullet_list()
            items += [nodes.list_item("", para(f"also: “{also}”")) for also in claim.also]
            items += [nodes.list_item("", para(f"{evidence.LABELS[key]}: ",
                                               nodes.strong(text=str(value))))
                      for key, value in j["evidence"].items()]
            code = evidence_code(getattr(evidence, claim.key), evidence)
            entries += nodes.container(
                "",
                para(nodes.reference("", f"{n}.", refid=f"claim-{n}"), f" “{claim.quote}” ",
                     nodes.inline(text=j["verdict"], classes=[f"verdict-{j['verdict']}"])),
                items,
                para(nodes.emphasis(text="Rule: "), claim.words),
                folded("The code behind this verdict",
                       para("The values above come from:"), python(code),
                       para("The rule reads them (true, false and misleading are the "
                            "verdicts):"), python(claim.code)),
                ids=[f"evidence-{n}"], classes=["claim-evidence"])
        return entries


def html(tag: str) -> tuple:
    """The HTML visitors of a node written as ``<tag>``."""
    return (lambda self, node: self.body.append(self.starttag(node, tag, "")),
            lambda self, node: self.body.append(f"</{tag}>\n"))


def setup(app):
    app.add_directive("claims-ledger", ClaimsLedger)
    content_only = dict.fromkeys(("latex", "text", "man", "texinfo"), (lambda *_: None, None))
    for node, tag in ((details, "details"), (summary, "summary")):
        app.add_node(node, html=html(tag), **content_only)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
