"""tests/shared_builds.py: a build the session shares starts once, and its steps report."""

from __future__ import annotations

import sys

from shared_builds import NOT_RUN, result, start

PRINT = [sys.executable, "-c", "import sys; print(sys.argv[1])"]
FAIL = [sys.executable, "-c", "import sys; print('failing'); sys.exit(3)"]


def test_a_build_starts_once_whoever_asks(tmp_path):
    prepared = []
    steps = {"first": [*PRINT, "one"], "second": [*PRINT, "two"]}
    assert start(tmp_path / "b", steps, {}, prepare=prepared.append) is True
    assert start(tmp_path / "b", steps, {}, prepare=prepared.append) is False
    assert prepared == [tmp_path / "b"]
    first, second = result(tmp_path / "b", "first"), result(tmp_path / "b", "second")
    assert (first.returncode, first.stdout) == (0, "one\n")
    assert (second.returncode, second.stdout) == (0, "two\n")


def test_the_steps_after_a_failed_first_step_do_not_run(tmp_path):
    start(tmp_path, {"first": FAIL, "second": [*PRINT, "never"]}, {})
    first = result(tmp_path, "first")
    assert (first.returncode, first.stdout) == (3, "failing\n")
    second = result(tmp_path, "second")
    assert second.returncode == NOT_RUN and "never" not in second.stdout
