"""The versions page: the record of older torch versions (make matrix), this build's column
for the installed torch, and the recorder's runner."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import torch_matrix
from helpers import EXAMPLES, ROOT, soup

INSTALLED = version("torch").split("+")[0]
RECORD = json.loads(torch_matrix.DATA.read_text(encoding="utf-8"))["columns"]
CRASH = "plot_article_example2_crashes_as_written.py"
VERSIONS_PAGE = "explanation/across-torch-versions.html"


def recorder():
    """``.ci/matrix.py``, imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("matrix", ROOT / ".ci" / "matrix.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- The record ------------------------------------------------------------------------


def test_the_record_names_each_older_environment_and_the_build_is_the_installed_column():
    assert INSTALLED not in RECORD  # the build is its column, not the record
    assert sorted(RECORD) == sorted(recorder().VERSIONS) and len(RECORD) >= 4
    outcomes = 0
    for v, column in RECORD.items():
        assert column["torch"].split("+")[0] == v
        assert column["python"].startswith("3.") and column["numpy"], v
        assert column["matplotlib"], v
        datetime.date.fromisoformat(column["date"])
        assert column["examples"], v
        for name, outcome in column["examples"].items():
            assert outcome["status"] in {"passed", "failed", "timeout"}, (v, name)
            passed = outcome["status"] == "passed"
            assert (outcome["failure"] is None) == passed, (v, name)
            assert isinstance(outcome["errors_shown"], list), (v, name)
            outcomes += 1
    assert outcomes >= 4 * 10, outcomes


# --- The page --------------------------------------------------------------------------


def test_the_versions_page_has_a_row_per_example_held_on_the_installed_torch(site):
    page = soup(site.html / VERSIONS_PAGE)
    table = page.select_one("section#every-example-on-every-version table.torch-matrix")
    header = [th.get_text().strip() for th in table.select("thead th")]
    older = sorted(RECORD, key=lambda v: tuple(map(int, v.split("."))))
    assert header == ["example", *older, INSTALLED]
    notes = [li.get_text().strip() for li in page.select("ol.torch-matrix-notes > li")]
    rows = {}
    for tr in table.select("tbody tr"):
        link, *cells = tr.find_all("td")
        example = Path(link.a["href"].split("#")[0]).with_suffix(".py").name
        rows[example] = cells[-1].get_text()
    assert sorted(rows) == sorted(p.name for p in EXAMPLES)
    assert len(rows) == len(EXAMPLES) >= 16
    for name, cell in rows.items():
        if name == CRASH:
            note = notes[int(cell.removeprefix("note ")) - 1]
            assert note.startswith(torch_matrix.EXPECTED_CRASH), note
            assert "mat1 and mat2" in note
        else:
            assert cell.strip() == "held", (name, cell)


def test_an_example_a_column_does_not_hold_reads_not_recorded_yet():
    assert torch_matrix.outcome_text(None) == "not recorded yet"
    name = EXAMPLES[0].name
    held = {"status": "passed", "failure": None, "errors_shown": []}
    columns = {"1.0.0": {"examples": {}}, "2.0.0": {"examples": {name: held}}}
    m = {"versions": ["1.0.0", "2.0.0"], "columns": columns}
    m |= {"crashes": set(), "examples": [name], "labels": {}}
    table, notes = torch_matrix.examples(m)
    (row,) = [n for n in table.findall() if n.tagname == "row"][1:]  # after the header
    assert [e.astext() for e in row.children] == [name, "not recorded yet", "held"]
    assert notes.astext() == ""


def failed(kind: str, line: str, at: int | None = 7, status: str = "failed") -> dict:
    return {"status": status, "failure": {"type": kind, "first_line": line, "line": at}}


API, FAILED = "API not in this version: ", "failed: {}"
PYTHON = "not available with this torch on Python 3.11: {}"


CAUSES = [
    ("ImportError", "cannot import name 'f' from 'torch.a' (/x)", API + "torch.a.f"),
    ("AttributeError", "module 'torch.a' has no attribute 'f'", API + "torch.a.f"),
    ("AttributeError", "'Linear' object has no attribute 'f'", FAILED),
    ("RuntimeError", "Python 3.11+ not yet supported for torch.compile", PYTHON),
    ("RuntimeError", "boom", FAILED),
]


@pytest.mark.parametrize(("kind", "line", "cell"), CAUSES)
def test_a_failure_reads_as_its_cause(kind, line, cell):
    expected = cell.format(f"{kind}: {line}")
    assert torch_matrix.outcome_text(failed(kind, line)) == expected


def test_held_the_expected_crash_no_line_and_a_timeout_read_as_such():
    outcome_text, boom = torch_matrix.outcome_text, failed("RuntimeError", "boom")
    assert outcome_text({"status": "passed", "failure": None}) == torch_matrix.HELD
    crash = "ended in the crash its page shows: RuntimeError: boom"
    assert outcome_text(boom, crash=True) == crash
    assert outcome_text(failed("E", "boom", at=None)) == "failed: E: boom"
    late = failed("timeout", "still running after 120 s", status="timeout")
    assert outcome_text(late) == "timed out: still running after 120 s"


# --- The recorder's runner (.ci/matrix.py) -----------------------------------------------

PRINTS = """import traceback
print('ordinary output')
try:
    {}['missing']
except KeyError as error:
    print(''.join(traceback.format_exception_only(error)))
"""


@pytest.mark.parametrize("fails", [False, True], ids=["passing", "failing"])
def test_the_runner_records_the_outcome_and_the_printed_errors(tmp_path, fails):
    script = tmp_path / "plot_tiny.py"
    raises = "raise ValueError('the words\\nof this version')\n"
    script.write_text(PRINTS + raises * fails)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    outcome = recorder().run_example(Path(sys.executable), script, env)
    assert outcome["errors_shown"] == ["KeyError: 'missing'"]
    if not fails:
        assert outcome["status"] == "passed" and outcome["failure"] is None
        return
    assert outcome["status"] == "failed"
    failure = [outcome["failure"][k] for k in ("type", "first_line", "line")]
    assert failure == ["ValueError", "the words", 7]
