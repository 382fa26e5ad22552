"""The build fails loudly when an example or a doctest goes wrong, and never keeps stale outputs."""

import json
import re

from conftest import MINIMAL_EXAMPLE, make, output_of

BOOM = '''"""
An example that fails
=====================

It raises where nobody expects it.
"""

x = 1
raise ValueError("nobody expected this")
'''

NOT_RAISING = '''"""
An expected error that is not raised
====================================

The code under ``expect_error`` no longer raises.
"""

from _guide import expect_error

with expect_error(KeyError, "missing"):
    {"missing": 1}["missing"]
'''


def test_an_unexpected_exception_fails_the_build_naming_file_and_line(mini_project):
    (mini_project / "examples" / "plot_boom.py").write_text(BOOM)
    result = make(mini_project, "html")
    log = output_of(result)
    assert result.returncode != 0
    assert re.search(r'File ".*plot_boom\.py", line 9', log), log[-3000:]
    assert "ValueError: nobody expected this" in log


def test_an_expected_error_that_is_not_raised_fails_the_build(mini_project):
    (mini_project / "examples" / "plot_not_raising.py").write_text(NOT_RAISING)
    result = make(mini_project, "html")
    log = output_of(result)
    assert result.returncode != 0
    assert re.search(r'File ".*plot_not_raising\.py", line 10', log), log[-3000:]
    assert "AssertionError: expected KeyError matching 'missing'; nothing was raised" in log


def test_a_wrong_doctest_fails_make_doctest(mini_project):
    index = mini_project / "docs" / "index.md"
    index.write_text(index.read_text() + '\n```{doctest}\n>>> len(nn.ModuleDict({"a": nn.ReLU()}))\n2\n```\n')
    result = make(mini_project, "doctest")
    assert result.returncode != 0
    report = (mini_project / "build" / "doctest" / "output.txt").read_text()
    assert "File \"index.md\"" in report or "index.md" in report, report
    assert "1 failure" in report and "Expected:\n    2\nGot:\n    1" in report, report


def executed_count(log: str) -> int:
    match = re.search(r"excluding (\d+) files? that had previously been run", log)
    assert match, log[-3000:]
    return 1 - int(match.group(1))  # the minimal project has one example


def test_a_changed_environment_fingerprint_reexecutes_the_examples(mini_project):
    first = make(mini_project, "html")
    assert first.returncode == 0, output_of(first)[-3000:]
    assert executed_count(output_of(first)) == 1

    unchanged = make(mini_project, "html")
    assert executed_count(output_of(unchanged)) == 0  # sphinx-gallery's own cache works

    # Pretend the cached outputs were made by another torch.
    record = mini_project / "docs" / "auto_examples" / ".environment.json"
    fingerprint = json.loads(record.read_text())
    record.write_text(json.dumps({**fingerprint, "torch": "2.12.0"}))
    after_torch = make(mini_project, "html")
    assert "environment changed; re-executing" in output_of(after_torch)
    assert executed_count(output_of(after_torch)) == 1

    for changed in ("requirements.txt", "conf.py"):
        path = mini_project / changed
        path.write_text(path.read_text() + "\n# changed\n")
        rebuilt = make(mini_project, "html")
        assert rebuilt.returncode == 0, output_of(rebuilt)[-3000:]
        assert executed_count(output_of(rebuilt)) == 1, changed

    page = mini_project / "build" / "html" / "auto_examples" / MINIMAL_EXAMPLE.replace(".py", ".html")
    assert "layers.layer1.weight" in page.read_text()
