"""What every example does on each torch version, from ``docs/_data/torch-matrix.json``.

``make matrix`` (``.ci/matrix.py``) runs every example on several torch versions and
records the outcome; the site is still built from one environment. This module:

* **Renders the record.** The directive ``torch-matrix`` with one argument writes a
  part of the record as tables: ``environments``, ``examples`` (example x version),
  ``myths`` (the myths page's verdict on each version), ``ledger`` (every claim
  whose verdict changes) and ``errors`` (every error whose wording changes).
* **Keeps the pinned column honest.** After the examples have run, the errors that
  this build showed are compared with the column recorded for the pinned torch
  (:func:`check_pinned_column`); a difference, another torch, or an example missing
  from the record fails the build with a message saying to run ``make matrix``.
* **Gives the error index the older wordings** (:func:`older_wordings`), in
  ``env.guide_older_wordings``: the error index does not import this module.

The errors this build showed come from the error index
(``error_index.shown_errors(app)``).
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib.metadata import version
from pathlib import Path

import expected_crash
from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent.parent / "_data" / "torch-matrix.json"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MYTHS = "plot_article_example3_backward_succeeds.py"
RERUN = "run `make matrix VERSIONS={version}` to record it again"


def load(path: Path = DATA) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for column in data["columns"].values():
        for name, outcome in column["examples"].items():
            outcome["script"] = name
    return data


# ----------------------------------------------------------------------------------
# Reading the record
# ----------------------------------------------------------------------------------

_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
_NO_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")
_NO_SETTING = re.compile(r"^(torch[\w.]*\.config)\.(\w+) does not exist")  # torch's config modules


def missing_api(failure: dict | None) -> str | None:
    """The torch name whose absence stopped an example, if that is what stopped it."""
    if not failure:
        return None
    line = failure["first_line"]
    name = None
    if failure["type"] in {"ImportError", "ModuleNotFoundError"}:
        if match := _CANNOT_IMPORT.search(line):
            name = f"{match.group(2)}.{match.group(1)}"
        elif match := _NO_MODULE.search(line):
            name = match.group(1)
    elif failure["type"] == "AttributeError" and (
        match := _NO_ATTRIBUTE.search(line) or _NO_SETTING.search(line)
    ):
        name = f"{match.group(1)}.{match.group(2)}"
    return name if name and name.split(".")[0] == "torch" else None


def outcome_text(outcome: dict | None) -> str:
    """One table cell: what running the example did on one version."""
    if outcome is None:
        return "not recorded"
    if outcome["status"] == "passed":
        return HELD
    failure = outcome["failure"]
    if name := missing_api(failure):
        return f"API not in this version: {name}"
    if outcome["status"] == "timeout":
        return f"timed out: {failure['first_line']}"
    if _NOT_ON_THIS_PYTHON.search(failure["first_line"]):
        return f"{NOT_ON_THIS_PYTHON}: {failure['type']}: {failure['first_line']}"
    message = _IN_FILE.sub("", failure["first_line"])
    if not failure.get("line"):
        return f"failed: {failure['type']}: {message}"
    where = f"line {failure['line']}"
    if source := _source_line(outcome, failure["line"]):
        where += f", {source}"
    if reworded(outcome):
        return (f"{WORDED_OTHERWISE} ({where}; the example stops there): "
                f"{failure['type']}: {message}")
    return f"failed ({where}): {failure['type']}" + (f": {message}" if message else "")


WORDED_OTHERWISE = "the expected error, worded otherwise"


def reworded(outcome: dict) -> bool:
    """Whether the example stopped because an expected error was raised with another
    message: the page's check of the message failed, and the behaviour is the same."""
    failure, checks = outcome["failure"], outcome.get("expect_error") or []
    return bool(checks) and checks[-1]["shown"] is None and checks[-1]["raised"] == failure[
        "text"]


# torch 2.0's torch.compile refuses Python 3.11: the environment, not a behaviour.
_NOT_ON_THIS_PYTHON = re.compile(r"^Python \d+\.\d+\+? not yet supported\b")
NOT_ON_THIS_PYTHON = "not available with this torch on Python 3.11"
_IN_FILE = re.compile(r" \(/[^)]*\)$")  # where the installed torch lies: " (/tmp/.../x.py)"


def _source_line(outcome: dict, line: int) -> str | None:
    """The failing line, read from the example when it is the version that was recorded."""
    scripts = sorted(EXAMPLES.glob(f"*/{outcome.get('script', '')}"))  # in a sub-gallery
    script = scripts[0] if len(scripts) == 1 else EXAMPLES
    if not script.is_file() or hashlib.sha256(script.read_bytes()).hexdigest() != outcome.get(
        "example_sha256"
    ):
        return None
    lines = script.read_text(encoding="utf-8").splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else None


def examples(data: dict) -> list[str]:
    return sorted({name for column in data["columns"].values() for name in column["examples"]})


def example_table(data: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the example x version table."""
    header = ["example", *(f"torch {v}" for v in data["versions"])]
    rows = [
        [name, *(outcome_text(data["columns"][v]["examples"].get(name)) for v in data["versions"])]
        for name in examples(data)
    ]
    return header, rows


HELD = "ran, every assertion held"
EXPECTED_CRASH = "ended in the crash its page shows"


def example_notes(data: dict, crashes: dict[str, tuple[str, str]]) -> tuple[
        list[str], list[list[str]], list[str]]:
    """The example x version table, compact: a cell says "held", or names the note that
    gives its cause; each cause is written once, in ``notes``. ``crashes``: script name ->
    (exception type, message pattern) of the examples whose page ends in a crash: such a
    crash is what the page shows, not a failure."""
    header, rows = example_table(data)
    notes: list[str] = []
    compact = []
    for name, *cells in rows:
        row = [name]
        for v, cell in zip(data["versions"], cells, strict=True):
            if cell == HELD:
                row.append("held")
                continue
            outcome = data["columns"][v]["examples"].get(name)
            if _is_expected_crash(outcome, crashes.get(name)):
                cell = EXPECTED_CRASH + cell.removeprefix("failed")
            if cell not in notes:
                notes.append(cell)
            row.append(f"note {notes.index(cell) + 1}")
        compact.append(row)
    return header, compact, notes


def _is_expected_crash(outcome: dict | None, crash: tuple[str, str] | None) -> bool:
    """Whether the recorded failure is the crash ``expected_crash`` checks in the build."""
    if not outcome or not crash or outcome["status"] != "failed":
        return False
    return expected_crash.matches(outcome["failure"]["text"], *crash)


def environment_table(data: dict) -> tuple[list[str], list[list[str]]]:
    header = ["torch", "Python", "NumPy", "Matplotlib", "recorded"]
    rows = [
        [c["torch"], c["python"], c["numpy"], c["matplotlib"], c["date"]]
        for c in (data["columns"][v] for v in data["versions"])
    ]
    return header, rows


def myths_table(data: dict) -> tuple[list[str], list[list[str]]]:
    """The myths page's verdict ("backward succeeds, gradients equal") on each version."""
    header = ["torch", "backward succeeds, gradients equal"]
    rows = []
    for v in data["versions"]:
        outcome = data["columns"][v]["examples"].get(MYTHS)
        if outcome and outcome["status"] == "passed":
            verdict = "yes: every assertion held"
        else:
            verdict = f"not established: {outcome_text(outcome)}"
        rows.append([v, verdict])
    return header, rows


def ledger_verdicts(data: dict) -> dict[str, dict[str, str]]:
    """claim quote -> version -> verdict, for every version whose ledger got that far."""
    verdicts: dict[str, dict[str, str]] = {}
    for v in data["versions"]:
        for claim in data["columns"][v].get("ledger") or []:
            verdicts.setdefault(claim["quote"], {})[v] = claim["verdict"]
    return verdicts


def ledger_changes(data: dict) -> tuple[list[str], list[list[str]]]:
    """Every claim whose verdict is not the same on every recorded version."""
    header = ["claim", *(f"torch {v}" for v in data["versions"])]
    rows = [
        [quote, *(by_version.get(v, "no verdict") for v in data["versions"])]
        for quote, by_version in ledger_verdicts(data).items()
        if len(set(by_version.values())) > 1 or len(by_version) < len(data["versions"])
    ]
    return header, rows


def _error_calls(outcome: dict) -> dict[int, str]:
    """n (the example's n-th expected error, from 1) -> the text raised there."""
    calls = outcome.get("expect_error", [])
    return {n: call["raised"] for n, call in enumerate(calls, 1) if call.get("raised")}


def wordings(data: dict) -> list[dict]:
    """Every expected error, with the versions that raised each of its wordings."""
    found = []
    for name in examples(data):
        keyed: dict[int, dict[str, list[str]]] = {}
        for v in data["versions"]:
            outcome = data["columns"][v]["examples"].get(name)
            for nth, text in _error_calls(outcome or {}).items():
                keyed.setdefault(nth, {}).setdefault(text, []).append(v)
        for nth, texts in sorted(keyed.items()):
            found.append({"example": name, "nth": nth, "texts": texts})
    return found


def wording_changes(data: dict) -> tuple[list[str], list[list[str]]]:
    header = ["example", "torch", "the error, as that version words it"]
    rows = []
    for error in wordings(data):
        if len(error["texts"]) > 1:
            for text, versions in error["texts"].items():
                rows.append([error["example"], ", ".join(versions), text])
    return header, rows


def older_wordings(path: Path = DATA) -> list[dict]:
    """Wordings of an expected error that differ from the pinned torch's, for the error index.

    Each item: ``message`` (as Python prints the exception's last line), ``versions``
    (the torch versions that word it so) and ``example`` (the script's file name).
    """
    return older_wordings_in(load(path)) if path.exists() else []


def older_wordings_in(data: dict) -> list[dict]:
    pinned = data["pinned"]
    older = []
    for error in wordings(data):
        if not any(pinned in versions for versions in error["texts"].values()):
            continue  # the pinned torch did not reach this error: nothing to compare with
        for text, versions in error["texts"].items():
            if pinned not in versions:
                older.append({"message": text, "versions": versions, "example": error["example"]})
    return older


# ----------------------------------------------------------------------------------
# The pinned column against this build
# ----------------------------------------------------------------------------------

_SCRIPT_PATH = re.compile(r'File "(?:[^"]*[/\\])?(plot_\w+\.py)"')


def normalise(text: str) -> str:
    """An error's text as a page shows it, without where the tree lies.

    TorchScript quotes the file's path; the error index records what the page shows, with
    tabs expanded and no trailing spaces, while the recorder keeps the raw text.
    """
    text = _SCRIPT_PATH.sub(r'File "\1"', text)
    return "\n".join(line.expandtabs().rstrip() for line in text.splitlines()).strip()


def check_pinned_column(data: dict, torch_version: str, scripts: list[str],
                        shown: dict[str, list[str]]) -> list[str]:
    """Why the pinned column does not describe this build (empty when it does).

    ``scripts``: the examples in the tree. ``shown``: script -> the errors it showed in
    this build, for the examples that ran in this build.
    """
    pinned = data["pinned"]
    column = data["columns"].get(pinned)
    rerun = RERUN.format(version=pinned)
    if column is None:
        return [f"no column for the pinned torch {pinned}; {rerun}"]
    problems = []
    if column["torch"].split("+")[0] != torch_version.split("+")[0]:
        problems.append(f"the column for {pinned} was recorded with torch {column['torch']}, "
                        f"this build runs torch {torch_version}")
    recorded = column["examples"]
    for name in sorted(set(scripts) - set(recorded)):
        problems.append(f"{name} is not in the column for torch {pinned}")
    for name in sorted(set(recorded) - set(scripts)):
        problems.append(f"{name} is in the column for torch {pinned} but not in examples/")
    for name, errors in sorted(shown.items()):
        if name not in recorded:
            continue
        outcome = recorded[name]
        crashed_as_shown = outcome["failure"] and normalise(outcome["failure"]["text"]) in [
            normalise(e) for e in errors]  # an expected crash: the page shows that error
        if outcome["status"] != "passed" and not crashed_as_shown:
            problems.append(f"{name} failed when recorded ({outcome_text(outcome)}) "
                            "but ran in this build")
            continue
        before = [normalise(e) for e in outcome["errors_shown"]]
        if crashed_as_shown:
            before.append(normalise(outcome["failure"]["text"]))
        now = [normalise(e) for e in errors]
        if before != now:
            problems.append(f"{name} showed {now!r} in this build; the column records {before!r}")
    return [f"{problem}; {rerun}" for problem in problems]


# The seam: the error index (docs/_ext/error_index.py) owns the list of errors a build
# showed. Until it is there, this module records them itself.
def shown_errors(app) -> dict[str, list[str]]:
    """Script file name or page -> the errors it showed in this build (docs/_ext/error_index.py)."""
    import error_index  # noqa: PLC0415 - registered before this extension (conf.py)

    return error_index.shown_errors(app)


def _check(app, env) -> None:
    if not DATA.exists():  # a project without the record (the tests' one-page projects);
        return  # tests/test_torch_matrix.py requires it of this one
    conf = app.config.sphinx_gallery_conf
    examples_dir = Path(app.srcdir, conf["examples_dirs"]).resolve()
    scripts = sorted(p.name for p in examples_dir.glob("*/plot_*.py"))
    for problem in check_pinned_column(load(DATA), version("torch"), scripts, shown_errors(app)):
        logger.warning("torch-matrix: %s", problem)


# ----------------------------------------------------------------------------------
# The directive
# ----------------------------------------------------------------------------------

def summary(data: dict) -> list[str]:
    """Sentences that state what the record shows, computed from it."""
    versions = data["versions"]
    myths = {v: data["columns"][v]["examples"].get(MYTHS) for v in versions}
    held = [v for v in versions if myths[v] and myths[v]["status"] == "passed"]
    sentences = []
    if held:
        sentences.append(
            f"The article's \"incorrect\" Example 3 ran backward, with gradients equal to "
            f"its \"correct\" Example 1's, on torch {', '.join(held)}.")
    for v in versions:
        if v not in held:
            sentences.append(f"On torch {v} the myths page did not establish it: "
                             f"{outcome_text(myths[v])}.")
    names = examples(data)
    everywhere = [n for n in names if all(
        (data["columns"][v]["examples"].get(n) or {}).get("status") == "passed" for v in versions)]
    sentences.append(f"{len(everywhere)} of the {len(names)} examples ran with every assertion "
                     f"holding on each of the {len(versions)} versions.")
    return sentences


PARTS = {  # "examples" and "summary" have their own renderers (TorchMatrix)
    "environments": environment_table,
    "myths": myths_table,
    "ledger": ledger_changes,
    "errors": wording_changes,
}
NONE_CHANGE = {
    "ledger": "Every claim of the ledger gets the same verdict on every recorded version.",
    "errors": "Every expected error is worded the same on every recorded version.",
}


def _cell(text: str, titles: bool = False) -> nodes.Element:
    """A cell's content: an example's name links to its page (named by the page's title
    with ``titles``), an error keeps its lines."""
    scripts = list(EXAMPLES.glob(f"*/{text}")) if re.fullmatch(r"plot_\w+\.py", text) else []
    if scripts:  # an example of this tree: a link to its page, in its sub-gallery
        (script,) = scripts
        ref = addnodes.pending_xref("", refdomain="std", reftype="ref", reftarget=(
            f"sphx_glr_auto_examples_{script.parent.name}_{text}".lower()),
            refexplicit=not titles, refwarn=True)
        ref += nodes.inline(text, text) if titles else nodes.literal(text, text)
        return nodes.paragraph("", "", ref)
    if "\n" in text:
        return nodes.literal_block(text, text)
    return nodes.paragraph(text=text)


def table(header: list[str], rows: list[list[str]], titles: bool = False) -> nodes.table:
    tgroup = nodes.tgroup(cols=len(header))
    tgroup += [nodes.colspec(colwidth=1) for _ in header]

    def row(cells):
        tr = nodes.row()
        for cell in cells:
            tr += nodes.entry("", _cell(cell, titles))
        return tr

    tgroup += nodes.thead("", row(header))
    tgroup += nodes.tbody("", *(row(r) for r in rows))
    result = nodes.table(classes=["torch-matrix"])
    result += tgroup
    return result


class TorchMatrix(SphinxDirective):
    """``torch-matrix PART``: one part of the recorded matrix, as a table."""

    required_arguments = 1

    def run(self):
        part = self.arguments[0]
        if part not in {*PARTS, "examples", "summary"}:
            raise self.error(
                f"unknown part {part!r}; one of {sorted([*PARTS, 'examples', 'summary'])}")
        self.env.note_dependency(str(DATA))
        if part == "summary":
            return [nodes.paragraph(text=" ".join(summary(load(DATA))))]
        if part == "examples":
            return self.examples()
        header, rows = PARTS[part](load(DATA))
        if not rows:
            return [nodes.paragraph(text=NONE_CHANGE[part])]
        return [table(header, rows)]

    def examples(self) -> list[nodes.Node]:
        """One row per example, named by its title; each cause once, in a note below."""
        crashes = {Path(path).name: crash for path, crash in self.config.expected_crashes.items()}
        header, rows, notes = example_notes(load(DATA), crashes)
        header = [header[0], *(v.removeprefix("torch ") for v in header[1:])]
        listed = nodes.enumerated_list(classes=["torch-matrix-notes"])
        for note in notes:
            listed += nodes.list_item("", _cell(note))
        return [table(header, rows, titles=True), listed]


def _share_older_wordings(app, env, docnames) -> None:
    """The error index lists them (it reads ``env.guide_older_wordings``)."""
    env.guide_older_wordings = older_wordings()


def setup(app):
    app.add_directive("torch-matrix", TorchMatrix)
    app.connect("env-before-read-docs", _share_older_wordings)
    app.connect("env-check-consistency", _check)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
