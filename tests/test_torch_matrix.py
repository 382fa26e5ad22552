"""The record of every example on each torch version (make matrix) and its page."""

from __future__ import annotations

import ast
import copy
import datetime
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import torch_matrix

ROOT = Path(__file__).resolve().parents[1]
RECORDER = ROOT / ".ci" / "matrix.py"

DATA = torch_matrix.load()
RERUN = "re-run make matrix"


def expected_crashes() -> dict[str, tuple[str, str]]:
    """conf.py's ``expected_crashes``, by script name: the examples whose page ends in
    the crash it shows (read from the file; importing conf.py would set up Sphinx's)."""
    tree = ast.parse((ROOT / "conf.py").read_text(encoding="utf-8"))
    (value,) = [node.value for node in tree.body if isinstance(node, ast.Assign)
                and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["expected_crashes"]]
    return {Path(path).name: crash for path, crash in ast.literal_eval(value).items()}


def recorder():
    spec = importlib.util.spec_from_file_location("matrix", RECORDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree_examples() -> list[str]:
    return sorted(p.name for p in (ROOT / "examples").glob("*/plot_*.py"))


def test_every_listed_version_is_recorded_by_the_script_in_the_tree():
    matrix = recorder()
    sha = hashlib.sha256(RECORDER.read_bytes()).hexdigest()
    assert DATA["schema"] == matrix.SCHEMA
    assert DATA["pinned"] == matrix.PINNED
    assert DATA["versions"] == matrix.VERSIONS, f"versions missing from the record; {RERUN}"
    assert {"2.0.1", "2.3.1", "2.5.1", "2.6.0"} <= set(DATA["versions"])
    for v, column in DATA["columns"].items():
        assert column["recorder_sha256"] == sha, (
            f"the column for torch {v} was recorded by another .ci/matrix.py; {RERUN}"
        )
        assert column["torch"].split("+")[0] == v
        assert column["python"].startswith("3.11.")
        datetime.date.fromisoformat(column["date"])
        assert column["peak_disk_bytes"] > 0 and column["install_s"] > 0 and column["run_s"] > 0
        for outcome in column["examples"].values():
            assert outcome["status"] in {"passed", "failed", "timeout"}
            assert (outcome["failure"] is None) == (outcome["status"] == "passed")
            assert len(outcome["example_sha256"]) == 64


def test_the_pinned_torch_is_the_one_the_site_pins():
    pins = (ROOT / "requirements.txt").read_text().splitlines()
    assert f"torch=={DATA['pinned']}" in pins


def test_every_version_ran_every_example_in_the_tree():
    for v, column in DATA["columns"].items():
        assert sorted(column["examples"]) == tree_examples(), f"torch {v}: {RERUN}"


def test_the_example_table_has_a_cell_for_every_example_and_version():
    header, rows = torch_matrix.example_table(DATA)
    assert header == ["example", *(f"torch {v}" for v in DATA["versions"])]
    assert [row[0] for row in rows] == tree_examples()
    for row in rows:
        assert len(row) == len(header)
        for cell in row[1:]:
            assert cell == "ran, every assertion held" or cell.startswith(
                ("API not in this version: torch", "failed", "timed out",
                 torch_matrix.WORDED_OTHERWISE, torch_matrix.NOT_ON_THIS_PYTHON)
            ), cell
    # the pinned column is the site: every example ran there, and an example whose page
    # ends in a crash ended in that crash
    pinned = header.index(f"torch {DATA['pinned']}")
    crashes = expected_crashes()
    assert crashes
    for row in rows:
        if row[0] in crashes:
            exc_type, message = crashes[row[0]]
            assert re.match(rf"failed \(line \d+.*\): {exc_type}: ", row[pinned]), row
            assert re.search(message.removeprefix("^"), row[pinned]), row
        else:
            assert row[pinned] == "ran, every assertion held", row


def test_the_myths_verdict_is_shown_for_every_version():
    header, rows = torch_matrix.myths_table(DATA)
    assert [row[0] for row in rows] == DATA["versions"]
    for v, verdict in rows:
        passed = DATA["columns"][v]["examples"][torch_matrix.MYTHS]["status"] == "passed"
        assert verdict.startswith("yes") == passed


def test_the_directive_renders_a_table_row_per_example():
    table = torch_matrix.table(*torch_matrix.example_table(DATA))
    body = [node for node in table.findall() if node.tagname == "tbody"]
    assert len(body) == 1 and len(body[0].children) == len(tree_examples())


def test_a_missing_torch_api_is_named():
    cases = {
        ("ImportError", "cannot import name 'fully_shard' from 'torch.distributed.fsdp' (/x)"):
            "torch.distributed.fsdp.fully_shard",
        ("ModuleNotFoundError", "No module named 'torch.distributed.tensor'"):
            "torch.distributed.tensor",
        ("AttributeError", "module 'torch._dynamo.config' has no attribute 'recompile_limit'"):
            "torch._dynamo.config.recompile_limit",
        ("AttributeError", "torch._dynamo.config.recompile_limit does not exist"):
            "torch._dynamo.config.recompile_limit",
        ("ModuleNotFoundError", "No module named 'scipy'"): None,
        ("AttributeError", "'Linear' object has no attribute 'foo'"): None,
        ("RuntimeError", "No module named 'torch.x'"): None,
    }
    for (kind, line), name in cases.items():
        assert torch_matrix.missing_api({"type": kind, "first_line": line}) == name
    line = "cannot import name 'a' from 'torch.b' (/venv/torch/b.py)"
    failure = {"type": "ImportError", "first_line": line, "line": 3}
    cell = torch_matrix.outcome_text({"status": "failed", "failure": failure})
    assert cell == "API not in this version: torch.b.a"


def pinned_inputs(data):
    """What a build on the pinned torch passes to the check: the page of an expected
    crash shows that crash after its other errors."""
    column = data["columns"][data["pinned"]]
    shown = {name: list(o["errors_shown"]) for name, o in column["examples"].items()}
    for name in expected_crashes():
        shown[name].append(column["examples"][name]["failure"]["text"])
    return column["torch"], sorted(column["examples"]), shown


def test_the_pinned_column_agrees_with_what_it_records():
    assert torch_matrix.check_pinned_column(DATA, *pinned_inputs(DATA)) == []


def test_a_doctored_pinned_column_fails_the_check():
    torch_version, scripts, shown = pinned_inputs(DATA)
    column = DATA["columns"][DATA["pinned"]]["examples"]
    name = next(n for n in scripts if column[n]["errors_shown"])

    doctored = copy.deepcopy(DATA)
    doctored["columns"][DATA["pinned"]]["examples"][name]["errors_shown"][0] += " (doctored)"
    problems = torch_matrix.check_pinned_column(doctored, torch_version, scripts, shown)
    assert len(problems) == 1 and name in problems[0]
    assert f"make matrix VERSIONS={DATA['pinned']}" in problems[0]

    # another torch, an example that was never recorded, a recorded failure
    assert torch_matrix.check_pinned_column(DATA, "2.12.0", scripts, shown)
    assert torch_matrix.check_pinned_column(DATA, torch_version, [*scripts, "plot_new.py"], shown)
    failed = copy.deepcopy(DATA)
    failed["columns"][DATA["pinned"]]["examples"][name].update(
        status="failed",
        failure={"type": "RuntimeError", "first_line": "boom", "text": "RuntimeError: boom",
                 "line": 1},
    )
    assert torch_matrix.check_pinned_column(failed, torch_version, scripts, shown)


def test_a_path_in_an_error_does_not_count_as_a_difference():
    text = 'RuntimeError: x\n  File "{}plot_a.py", line 3'
    assert torch_matrix.normalise(text.format("/tmp/site/examples/")) == torch_matrix.normalise(
        text.format("")
    )


def test_older_wordings_name_their_versions_and_example():
    older = torch_matrix.older_wordings()
    for item in older:
        assert set(item) == {"message", "versions", "example"}
        assert item["versions"] and DATA["pinned"] not in item["versions"]
        assert set(item["versions"]) <= set(DATA["versions"])
        assert item["example"] in tree_examples()


RAISES = (
    "import re, traceback\n"
    "from contextlib import contextmanager\n"
    "@contextmanager\n"
    "def raises(expected, match):\n"
    "    try:\n"
    "        yield\n"
    "    except expected as error:\n"
    "        if not re.search(match, str(error)):\n"
    "            raise\n"
    "        print(''.join(traceback.format_exception_only(error)), end='')\n"
    "    else:\n"
    "        raise AssertionError(f'{expected.__name__} was not raised')\n"
)


def test_the_runner_records_shown_errors_and_a_changed_wording(tmp_path):
    """The recorder's runner, on a small example, with this Python (no new environment)."""
    script = tmp_path / "plot_tiny.py"
    script.write_text(
        RAISES
        + "with raises(KeyError, 'missing'):\n"
        "    {}['missing']\n"
        "with raises(ValueError, 'other words'):\n"
        "    raise ValueError('the words of this version')\n"
    )
    result = tmp_path / "result.json"
    command = [sys.executable, str(RECORDER), "--run-one", str(script), str(result)]
    subprocess.run(command, check=True)
    outcome = json.loads(result.read_text())
    assert outcome["status"] == "failed"
    assert outcome["failure"]["type"] == "ValueError" and outcome["failure"]["line"] == 16
    first, second = outcome["expect_error"]
    assert first == {"shown": "KeyError: 'missing'", "raised": "KeyError: 'missing'"}
    assert second == {"shown": None, "raised": "ValueError: the words of this version"}


def test_the_runner_judges_every_claim_of_the_ledger_with_its_torch(tmp_path):
    """With the site's torch, the runner gives every claim the verdict the site shows."""
    from ledger.claims import CLAIMS  # noqa: PLC0415

    result = tmp_path / "ledger.json"
    command = [sys.executable, str(RECORDER), "--run-ledger", str(result)]
    subprocess.run(command, check=True, cwd=tmp_path)
    claims = json.loads(result.read_text())
    assert claims == [{"quote": c.quote, "verdict": c.expected} for c in CLAIMS]
    assert len(claims) >= 27


def test_an_older_wording_is_found_with_its_versions():
    def column(*raised):
        calls = [{"raised": text, "shown": text} for text in raised]
        return {"examples": {"plot_a.py": {"expect_error": calls}}}

    data = {"pinned": "3", "versions": ["1", "2", "3"], "columns": {
        "1": column("RuntimeError: m (old)"),
        "2": column("RuntimeError: m (old)", "RuntimeError: x"),
        "3": column("RuntimeError: m (new)"),
    }}
    # the n-th expected error of an example is compared with the n-th;
    # an error that the pinned torch does not reach has no wording to differ from
    assert torch_matrix.older_wordings_in(data) == [
        {"message": "RuntimeError: m (old)", "versions": ["1", "2"], "example": "plot_a.py"}
    ]
    header, rows = torch_matrix.wording_changes(data)
    assert rows == [
        ["plot_a.py", "1, 2", "RuntimeError: m (old)"],
        ["plot_a.py", "3", "RuntimeError: m (new)"],
    ]


def test_an_expected_error_worded_otherwise_is_not_called_a_failure():
    failure = {"type": "RuntimeError", "first_line": "old words", "text": "RuntimeError: old words",
               "line": 7, "module": "builtins", "missing_name": None}
    reworded = {"status": "failed", "failure": failure,
                "expect_error": [{"shown": None, "raised": "RuntimeError: old words"}]}
    assert torch_matrix.outcome_text(reworded).startswith(torch_matrix.WORDED_OTHERWISE)
    # the same failure outside an expected-error check is a failure
    unexpected = {**reworded, "expect_error": [{"shown": "RuntimeError: x", "raised": None}]}
    assert torch_matrix.outcome_text(unexpected).startswith("failed (line 7)")


def test_the_page_names_each_cause_once_and_an_expected_crash_as_such():
    header, rows, notes = torch_matrix.example_notes(DATA, expected_crashes())
    assert len(notes) == len(set(notes)) > 0
    cited = {cell for row in rows for cell in row[1:] if cell != "held"}
    assert cited == {f"note {n}" for n in range(1, len(notes) + 1)}
    crashed = [note for note in notes if note.startswith(torch_matrix.EXPECTED_CRASH)]
    assert len(crashed) == 1 and "mat1 and mat2 shapes cannot be multiplied" in crashed[0]
    assert not any(note.startswith("failed") and "mat1 and mat2" in note for note in notes)
    # without the expected crash, the same cells are failures
    _, _, plain = torch_matrix.example_notes(DATA, {})
    assert not any(note.startswith(torch_matrix.EXPECTED_CRASH) for note in plain)


def test_torch_compile_refusing_this_python_is_named_as_such():
    failure = {"type": "RuntimeError", "line": 5, "module": "builtins", "missing_name": None,
               "first_line": "Python 3.11+ not yet supported for torch.compile",
               "text": "RuntimeError: Python 3.11+ not yet supported for torch.compile"}
    outcome = {"status": "failed", "failure": failure}
    assert torch_matrix.outcome_text(outcome).startswith(torch_matrix.NOT_ON_THIS_PYTHON)
    other = {**failure, "first_line": "torch.compile is not supported here"}
    assert torch_matrix.outcome_text({**outcome, "failure": other}).startswith("failed")
