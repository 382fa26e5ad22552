"""What every example does on each torch version: this build, and the record of others.

The column of the installed torch is this build: every example ran to its end (the
build fails otherwise), except the one that ends in the crash its page shows; the
errors are those the error index read from the pages. Older versions come from
``docs/_data/torch-matrix.json``, made by ``make matrix`` (``.ci/matrix.py``); an
example a column does not hold reads "not recorded yet". The directive ``torch-matrix
PART`` writes one part: ``summary``, ``environments``, ``examples``, ``myths``,
``ledger`` (claims whose verdict changes) or ``errors`` (errors whose wording changes).
The wordings of other versions go to the error index (``env.guide_older_wordings``). A cell
without a space (a version, a date) never breaks.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import error_index
import guide
from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

DATA = Path(__file__).resolve().parent.parent / "_data" / "torch-matrix.json"
MYTHS = "plot_article_example3_backward_succeeds.py"
HELD = "ran, every assertion held"
NOT_RECORDED = "not recorded yet"
EXPECTED_CRASH = "ended in the crash its page shows"

_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
_NO_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")
_NO_SETTING = re.compile(r"^(torch[\w.]*\.config)\.(\w+) does not exist")
# torch 2.0's torch.compile refuses Python 3.11: the environment, not a behaviour.
_NOT_ON_THIS_PYTHON = re.compile(r"^Python \d+\.\d+\+? not yet supported\b")
_IN_FILE = re.compile(r" \(/?[^)]*site-packages[^)]*\)$")


def missing_api(failure: dict) -> str | None:
    """The torch name whose absence stopped an example, if that is what stopped it."""
    line = failure["first_line"]
    match = _CANNOT_IMPORT.search(line)
    if match and failure["type"] == "ImportError":
        return f"{match.group(2)}.{match.group(1)}"
    match = _NO_ATTRIBUTE.search(line) or _NO_SETTING.search(line)
    if match and failure["type"] == "AttributeError" and match.group(1).startswith("torch"):
        return f"{match.group(1)}.{match.group(2)}"
    return None


def outcome_text(outcome: dict | None, crash: bool = False) -> str:
    """One table cell: what running the example did on one version."""
    if outcome is None:
        return NOT_RECORDED
    if outcome["status"] == "passed":
        return HELD
    failure = outcome["failure"]
    message = _IN_FILE.sub("", failure["first_line"])
    if name := missing_api(failure):
        return f"API not in this version: {name}"
    if outcome["status"] == "timeout":
        return f"timed out: {message}"
    if _NOT_ON_THIS_PYTHON.search(message):
        return f"not available with this torch on Python 3.11: {failure['type']}: {message}"
    # No line number: a record holds the example as it was when recorded.
    lead = EXPECTED_CRASH if crash else "failed"
    return f"{lead}: {failure['type']}" + (f": {message}" if message else "")


def normalise(text: str) -> str:
    """An error as a page shows it, wherever the tree lay when it was recorded."""
    text = re.sub(r'File "(?:[^"]*[/\\])?(plot_\w+\.py)"', r'File "\1"', text)
    return "\n".join(line.expandtabs().rstrip() for line in text.splitlines()).strip()


def this_build(app) -> dict:
    """The column of the installed torch: what the examples showed in this build."""
    shown = error_index.shown_errors(app.env)
    crashes = {Path(p).name for p in app.config.expected_crash_messages}
    column = {**guide.environment(), "date": "this build", "examples": {}, "ledger": []}
    column.update(numpy=version("numpy"), matplotlib=version("matplotlib"))
    for source, _ in guide.examples(app):
        errors = shown.get(source.name, [])
        outcome = {"status": "passed", "failure": None, "errors_shown": errors}
        if source.name in crashes and errors:
            kind, _, message = errors[-1].partition(": ")
            failure = {"type": kind, "first_line": message.splitlines()[0], "text": errors[-1]}
            outcome.update(status="failed", failure=failure, errors_shown=errors[:-1])
        column["examples"][source.name] = outcome
    return column


def matrix(app) -> dict:
    """The record's older columns, and this build's for the installed torch."""
    data = json.loads(DATA.read_text(encoding="utf-8")) if DATA.exists() else {"columns": {}}
    installed = version("torch").split("+")[0]
    columns = {v: c for v, c in data["columns"].items() if v != installed}
    columns[installed] = this_build(app)
    versions = sorted(columns, key=lambda v: tuple(int(p) for p in v.split(".")))
    crashes = {Path(p).name for p in app.config.expected_crash_messages}
    return {
        "versions": versions,
        "columns": columns,
        "crashes": crashes,
        "examples": [s.name for s, _ in guide.examples(app)],
        "labels": {s.name: guide.label(app, page) for s, page in guide.examples(app)},
    }


def _cells(m: dict, name: str) -> list[str]:
    return [
        outcome_text(m["columns"][v]["examples"].get(name), name in m["crashes"])
        for v in m["versions"]
    ]


def summary(m: dict) -> list[nodes.Node]:
    held = [v for v, cell in zip(m["versions"], _cells(m, MYTHS)) if cell == HELD]
    everywhere = [n for n in m["examples"] if set(_cells(m, n)) == {HELD}]
    text = (
        f'The article\'s "incorrect" Example 3 ran backward, with gradients equal to '
        f'its "correct" Example 1\'s, on torch {", ".join(held)}. '
        f"{len(everywhere)} of the {len(m['examples'])} examples ran with every "
        f"assertion holding on each of the {len(m['versions'])} versions."
    )
    return [nodes.paragraph(text=text)]


def environments(m: dict) -> list[nodes.Node]:
    rows = [
        [c["torch"], c["python"], c["numpy"], c["matplotlib"], c["date"]]
        for c in (m["columns"][v] for v in m["versions"])
    ]
    return [table(["torch", "Python", "NumPy", "Matplotlib", "recorded"], rows, m["labels"])]


def examples(m: dict) -> list[nodes.Node]:
    """One row per example: "held", "not recorded yet", or a note that gives the cause
    once, below."""
    notes: list[str] = []
    rows = []
    for name in m["examples"]:
        row = [name]
        for cell in _cells(m, name):
            if cell in (HELD, NOT_RECORDED):
                row.append("held" if cell == HELD else cell)
                continue
            notes += [cell] if cell not in notes else []
            row.append(f"note {notes.index(cell) + 1}")
        rows.append(row)
    listed = nodes.enumerated_list(classes=["torch-matrix-notes"])
    listed += [nodes.list_item("", nodes.paragraph(text=note)) for note in notes]
    return [table(["example", *m["versions"]], rows, m["labels"]), listed]


def myths(m: dict) -> list[nodes.Node]:
    rows = [
        [v, "yes: every assertion held" if cell == HELD else f"not established: {cell}"]
        for v, cell in zip(m["versions"], _cells(m, MYTHS))
    ]
    return [table(["torch", "backward succeeds, gradients equal"], rows, m["labels"])]


def ledger(m: dict) -> list[nodes.Node]:
    """Claims whose verdict is not the same on every recorded version."""
    from ledger.claims import CLAIMS  # the verdicts this build asserted

    by_quote = {c.quote: {} for c in CLAIMS}
    for v in m["versions"]:
        recorded = m["columns"][v].get("ledger") or []
        if m["columns"][v]["date"] == "this build":
            recorded = [{"quote": c.quote, "verdict": c.expected} for c in CLAIMS]
        for claim in recorded:
            by_quote.setdefault(claim["quote"], {})[v] = claim["verdict"]
    rows = [
        [quote, *(verdicts.get(v, "no verdict") for v in m["versions"])]
        for quote, verdicts in by_quote.items()
        if len(set(verdicts.values())) > 1 or len(verdicts) < len(m["versions"])
    ]
    if not rows:
        return [nodes.paragraph(text="Every claim gets the same verdict on every version.")]
    return [table(["claim", *m["versions"]], rows, m["labels"])]


def wordings(m: dict) -> list[dict]:
    """Every error an example shows (its n-th), with the versions that print each wording."""
    found = []
    for name in m["examples"]:
        keyed: dict[int, dict[str, list[str]]] = {}
        for v in m["versions"]:
            outcome = m["columns"][v]["examples"].get(name) or {}
            for nth, text in enumerate(outcome.get("errors_shown") or []):
                keyed.setdefault(nth, {}).setdefault(normalise(text), []).append(v)
        found += [{"example": name, "texts": texts} for _, texts in sorted(keyed.items())]
    return found


def errors(m: dict) -> list[nodes.Node]:
    rows = [
        [error["example"], ", ".join(versions), text]
        for error in wordings(m)
        if len(error["texts"]) > 1
        for text, versions in error["texts"].items()
    ]
    if not rows:
        return [nodes.paragraph(text="Every error is worded the same on every version.")]
    return [table(["example", "torch", "the error, as that version words it"], rows, m["labels"])]


def older_wordings(m: dict, installed: str) -> list[dict]:
    """Wordings that differ from the installed torch's, for the error index."""
    return [
        {"message": text, "versions": versions, "example": error["example"]}
        for error in wordings(m)
        if any(installed in vs for vs in error["texts"].values())
        for text, versions in error["texts"].items()
        if installed not in versions
    ]


def _cell(text: str, labels: dict[str, str]) -> nodes.Element:
    """An example's name links to its page, named by its title; an error keeps its lines."""
    if text in labels:
        ref = addnodes.pending_xref(
            "",
            nodes.inline(text, text),
            refdomain="std",
            reftype="ref",
            reftarget=labels[text].lower(),
            refexplicit=False,
            refwarn=True,
        )  # named by the page's title
        return nodes.paragraph("", "", ref)
    if "\n" in text:
        return nodes.literal_block(text, text)
    return nodes.paragraph(text=text, classes=[] if " " in text else ["guide-nowrap"])


def table(header: list[str], rows: list[list[str]], labels: dict[str, str]) -> nodes.table:
    tgroup = nodes.tgroup(cols=len(header))
    tgroup += [nodes.colspec(colwidth=1) for _ in header]
    for part, lines in ((nodes.thead, [header]), (nodes.tbody, rows)):
        tgroup += part(
            "", *(nodes.row("", *(nodes.entry("", _cell(c, labels)) for c in r)) for r in lines)
        )
    return nodes.table("", tgroup, classes=["torch-matrix"])


PARTS = {f.__name__: f for f in (summary, environments, examples, myths, ledger, errors)}


class torch_matrix(nodes.General, nodes.Element):
    """Where a part goes; filled once every page was read (this build's column)."""


class TorchMatrix(SphinxDirective):
    required_arguments = 1

    def run(self):
        if self.arguments[0] not in PARTS:
            raise self.error(f"unknown part {self.arguments[0]!r}; one of {sorted(PARTS)}")
        self.env.note_dependency(str(DATA))
        return [torch_matrix(part=self.arguments[0])]


class FillTorchMatrix(SphinxPostTransform):
    default_priority = 5  # before the references are resolved

    def run(self, **kwargs) -> None:
        for placeholder in list(self.document.findall(torch_matrix)):
            placeholder.replace_self(PARTS[placeholder["part"]](self.env.guide_matrix))


def share(app, env) -> list[str]:
    """Once every page is read: the matrix, its older wordings for the error index; the
    versions page is written again."""
    env.guide_matrix = matrix(app)
    env.guide_older_wordings = older_wordings(env.guide_matrix, version("torch").split("+")[0])
    return guide.pages_using(env, "torch-matrix")


def setup(app):
    app.setup_extension("error_index")
    app.add_node(torch_matrix)
    app.add_directive("torch-matrix", TorchMatrix)
    app.add_post_transform(FillTorchMatrix)
    app.connect("env-updated", share, priority=400)  # before the index page is listed
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
