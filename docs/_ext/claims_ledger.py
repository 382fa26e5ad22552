"""The ``claims-ledger`` directive: the article's claims, judged while the site builds.

``ledger`` (beside this module) holds the claims, their evidence functions and their
rules. The directive runs every claim's evidence, applies its rule and fails the build
with a ``LedgerError`` (naming the claim, the expected and the computed verdict, and the
evidence) when a verdict is not the recorded one. It renders, as docutils nodes::

    ```{claims-ledger} table        the table of claims and verdicts (and the stamp)
    ```{claims-ledger} evidence     for each claim: the values, the rule in words,
                                    and the code of its evidence and rule (folded)
    ```{claims-ledger} not-judged   the article's sentences no code can test
    ```{claims-ledger} tools        the code of the tools the evidence uses

The page that holds the directive is read again whenever what its verdicts depend on
has changed (:func:`inputs`): the environment ``guide`` fingerprints (torch, Python,
``requirements.txt``, ``conf.py``), the code of the ledger and of this module, and the
article's code the evidence runs. So its verdicts are always those of the installed
torch, and a build with nothing changed neither judges the claims again nor imports
torch: the ledger's modules, which import torch, are imported when a page is read. The
code blocks it shows are classed ``guide-executed``: the directive ran them when the
page was last read.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import platform
import textwrap
from pathlib import Path

import article_quote
import guide
from docutils import nodes
from ledger.claims import NOT_TESTABLE
from sphinx import addnodes
from sphinx.errors import SphinxError
from sphinx.util.docutils import SphinxDirective

HERE = Path(__file__).resolve().parent
# The code the verdicts come from: this module, the ledger package, and the module that
# reads the article's code out of the examples.
CODE = (Path(__file__).resolve(), *sorted((HERE / "ledger").glob("*.py")),
        Path(article_quote.__file__).resolve())

PARTS = ("table", "evidence", "not-judged", "tools")
COLUMNS = (("claim", "#", 2), ("the article says", "the article says", 60),
           ("verdict", "verdict", 8), ("proven in", "proven in", 30))
EXECUTED = "guide-executed"  # the class of a code block the build ran


class LedgerError(SphinxError):
    category = "Claims ledger: a verdict changed"


class details(nodes.General, nodes.Element):
    """A folded block: ``<details>`` in HTML, its content elsewhere."""


class summary(nodes.General, nodes.TextElement):
    """The always-visible line of a ``details`` block."""


def visit_details(self, node):
    self.body.append(self.starttag(node, "details"))


def depart_details(self, node):
    self.body.append("</details>\n")


def visit_summary(self, node):
    self.body.append(self.starttag(node, "summary", ""))


def depart_summary(self, node):
    self.body.append("</summary>\n")


def _pass(self, node):
    pass


_JUDGED: list | None = None


def judged_claims() -> list:
    """Every claim judged, once per build process."""
    from ledger.judge import VerdictChanged, judge  # imports torch: only when judging

    global _JUDGED
    if _JUDGED is None:
        try:
            _JUDGED = judge()
        except VerdictChanged as changed:
            raise LedgerError(str(changed)) from None
    return _JUDGED


def _text(*parts) -> list[nodes.Node]:
    return [nodes.Text(p) if isinstance(p, str) else p for p in parts]


def _python(code: str) -> nodes.literal_block:
    block = nodes.literal_block(code, code, language="python")
    block["classes"].append(EXECUTED)
    return block


def _source(function) -> str:
    return textwrap.dedent(inspect.getsource(function)).rstrip() + "\n"


def _imports(module) -> str:
    """The module's own import lines (not ``__future__``): the tools' code runs when pasted."""
    source = inspect.getsource(module)
    tree = ast.parse(source)
    return "\n".join(
        ast.get_source_segment(source, node) for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and getattr(node, "module", None) != "__future__"
    ) + "\n"


def _helpers(function, module) -> list:
    """The functions of ``module`` that ``function`` calls, in order, recursively."""
    found, todo = [], [function]
    while todo:
        tree = ast.parse(textwrap.dedent(inspect.getsource(todo.pop(0))))
        for node in ast.walk(tree):
            helper = getattr(module, getattr(node, "id", ""), None)
            if (inspect.isfunction(helper) and helper.__module__ == module.__name__
                    and helper is not function and helper not in found):
                found.append(helper)
                todo.append(helper)
    return found


def _rule_words(key: str) -> str:
    from ledger import rules

    return " ".join(inspect.getdoc(getattr(rules, key)).split())


class ClaimsLedger(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        part = self.arguments[0]
        if part not in PARTS:
            raise self.error(f"claims-ledger: {part!r} is none of {', '.join(PARTS)}")
        self.env.claims_ledger_docs = getattr(self.env, "claims_ledger_docs", set())
        self.env.claims_ledger_docs.add(self.env.docname)
        if part == "not-judged":
            return [self.not_judged()]
        if part == "tools":
            return [self.tools()]
        judged = judged_claims()
        return self.table(judged) if part == "table" else [self.evidence(judged)]

    # --- the table ---------------------------------------------------------------

    def table(self, judged) -> list[nodes.Node]:
        import torch  # imported by the evidence already
        from ledger.judge import count

        stamp = nodes.paragraph(classes=["guide-stamp"])
        stamp += _text("Verdicts computed at build time by torch ",
                       nodes.literal(text=torch.__version__), " on Python ",
                       nodes.literal(text=platform.python_version()), ", CPU.")
        # No title: Sphinx gives a titled table an id, which furo 2025.12.19 copies
        # onto the wrapper it puts around every table (a duplicate id).
        table = nodes.table(classes=["claims-ledger"])
        table["support_smartquotes"] = False  # the article's quotes stay as written
        stamp += _text(" ", nodes.strong(text=count(judged)))
        group = nodes.tgroup(cols=len(COLUMNS))
        table += group
        for _, _, width in COLUMNS:
            group += nodes.colspec(colwidth=width)
        head = nodes.row()
        for _, heading, _ in COLUMNS:
            head += nodes.entry("", nodes.paragraph(text=heading))
        group += nodes.thead("", head)
        body = nodes.tbody()
        group += body
        for j in judged:
            body += self.row(j)
        return [stamp, table]

    def row(self, j) -> nodes.row:
        claim = nodes.paragraph()
        claim += nodes.Text(f"“{j.quote}”")
        if j.claim.where:
            claim += nodes.Text(" ")
            claim += nodes.inline(text=f"({j.claim.where})", classes=["claim-where"])
        verdict = nodes.paragraph()
        verdict += nodes.reference("", j.verdict, refid=f"evidence-{j.number}")
        proof = nodes.paragraph()
        if j.claim.proven_in:
            xref = addnodes.pending_xref(
                "", refdomain="std", reftype="doc", reftarget="/" + j.claim.proven_in,
                refexplicit=False, refwarn=True, refdoc=self.env.docname)
            xref += nodes.inline("", j.claim.proven_in, classes=["xref", "std", "std-doc"])
            proof += xref
        else:
            proof += nodes.reference("", "evidence below", refid=f"evidence-{j.number}")
        cells = (nodes.paragraph(text=str(j.number)), claim, verdict, proof)
        row = nodes.row(ids=[f"claim-{j.number}"])
        for (label, _, _), cell in zip(COLUMNS, cells, strict=True):
            classes = ["ledger-" + label.replace(" ", "-")]
            if label == "verdict":
                classes.append(f"verdict-{j.verdict}")
            row += nodes.entry("", cell, classes=classes)
        return row

    # --- the evidence ------------------------------------------------------------

    def evidence(self, judged) -> nodes.container:
        every = nodes.container(classes=["claims-evidence"])
        every["support_smartquotes"] = False
        for j in judged:
            every += self.entry(j)
        return every

    def entry(self, j) -> nodes.container:
        from ledger import evidence, rules
        from ledger.labels import LABELS

        entry = nodes.container(ids=[f"evidence-{j.number}"], classes=["claim-evidence"])
        heading = nodes.paragraph()
        heading += nodes.reference("", f"{j.number}.", refid=f"claim-{j.number}")
        heading += nodes.Text(f" “{j.quote}” ")
        heading += nodes.inline(text=j.verdict, classes=[f"verdict-{j.verdict}"])
        entry += heading
        items = nodes.bullet_list()
        for also in j.claim.also:
            items += nodes.list_item("", nodes.paragraph(text=f"also: “{also}”"))
        for key, value in j.evidence.items():
            item = nodes.paragraph()
            item += _text(f"{LABELS[key]}: ", nodes.strong(text=str(value)))
            items += nodes.list_item("", item)
        entry += items
        rule = nodes.paragraph()
        rule += _text(nodes.emphasis(text="Rule: "), _rule_words(j.claim.key))
        entry += rule
        function = getattr(evidence, j.claim.key)
        values = "\n\n".join(map(_source, (function, *_helpers(function, evidence))))
        folded = details(classes=["claims-code"])
        folded += summary(text="The code behind this verdict")
        folded += nodes.paragraph(text="The values above come from:")
        folded += _python(values)
        folded += nodes.paragraph(text="The rule reads them:")
        folded += _python(_source(getattr(rules, j.claim.key)))
        entry += folded
        return entry

    # --- the rest ----------------------------------------------------------------

    def not_judged(self) -> nodes.bullet_list:
        items = nodes.bullet_list(classes=["claims-not-judged"])
        items["support_smartquotes"] = False
        for opening, reason in NOT_TESTABLE.items():
            item = nodes.paragraph()
            item += _text(f"“{opening} …”: ", nodes.emphasis(text=reason))
            items += nodes.list_item("", item)
        return items

    def tools(self) -> nodes.Node:
        from ledger import harness

        functions = [f for _, f in inspect.getmembers(harness, inspect.isfunction)
                     if f.__module__ == harness.__name__]
        functions.sort(key=lambda f: f.__code__.co_firstlineno)
        code = "\n\n".join(
            [_imports(harness), *map(_source, functions), _source(harness.PlainDictModel)])
        folded = details(classes=["claims-code"])
        folded += summary(text="The tools' code")
        folded += _python(code)
        return folded


def inputs(confdir: Path) -> str:
    """A digest of what the verdicts depend on besides the page (see the module)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(guide.fingerprint(confdir), sort_keys=True).encode())
    for path in CODE:
        digest.update(f"\0{path.name}\0".encode() + path.read_bytes())
    for n in article_quote.NUMBERS:
        digest.update(f"\0article {n}\0{article_quote.article_code(n)}".encode())
    return digest.hexdigest()


def read_again(app, env, added, changed, removed) -> list[str]:
    """The ledger's pages, when what their verdicts depend on has changed since they were
    read (:func:`inputs`)."""
    docs = getattr(env, "claims_ledger_docs", set()) - set(removed)
    if not docs or getattr(env, "claims_ledger_inputs", None) == inputs(Path(app.confdir)):
        return []
    return sorted(docs)


def remember_inputs(app, env) -> None:
    """After reading: the inputs the ledger's pages were read with (read again above
    when they differed, so they are the current ones)."""
    if getattr(env, "claims_ledger_docs", set()):
        env.claims_ledger_inputs = inputs(Path(app.confdir))


def purge(app, env, docname) -> None:
    getattr(env, "claims_ledger_docs", set()).discard(docname)


def merge(app, env, docnames, other) -> None:
    env.claims_ledger_docs = getattr(env, "claims_ledger_docs", set())
    env.claims_ledger_docs |= getattr(other, "claims_ledger_docs", set()) & set(docnames)


def setup(app):
    app.add_directive("claims-ledger", ClaimsLedger)
    others = {f: (_pass, _pass) for f in ("latex", "text", "man", "texinfo")}
    app.add_node(details, html=(visit_details, depart_details), **others)
    app.add_node(summary, html=(visit_summary, depart_summary), **others)
    app.connect("env-get-outdated", read_again)
    app.connect("env-updated", remember_inputs)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
