"""The fault matrix: each mistake fails the build, naming its file (and line); no output goes stale.

Each case is written into a temporary copy of the project (a "mini project": the real
configuration, one example, a one-page docs/). The cases that only need "the build fails
and its log names the mistake" share a build: one mini project holds every such mistake at
once and is built once, with the Makefile's flags (``-W --keep-going -n``: Sphinx goes on
after a warning, sphinx-gallery after a failing example, and both report every one). The
two doctest mistakes share one ``make doctest`` the same way. Each test then finds its own
mistake in that one log, and a control checks that the log reports the planted mistakes and
nothing else; ``test_a_changed_environment_fingerprint_reexecutes_the_examples`` builds the
mini project without mistakes, with exit status 0.

These shared builds, and the two-rank builds, which mostly wait for their deadlines, start in
the background at the first test of this file (once per session, as tests/shared_builds.py
does for the site), so the other cases run meanwhile.
"""

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import (
    MINIMAL_EXAMPLE,
    MINIMAL_INDEX,
    copy_mini_project,
    example_path,
    examples_executed,
    make,
    make_command,
    output_of,
)
from shared_builds import result, shared_folder, start

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

The code under ``raises`` no longer raises.
"""

import re
import traceback
from contextlib import contextmanager


@contextmanager
def raises(expected, match):
    try:
        yield
    except expected as error:
        if not re.search(match, str(error)):
            raise
        print("".join(traceback.format_exception_only(error)), end="")
    else:
        raise AssertionError(f"{expected.__name__} was not raised")


with raises(KeyError, "missing"):
    {"missing": 1}["missing"]
'''


BAD_REST = '"""\nA title\n=====\n\nText.\n"""\n\nx = 1\n'

# The mistakes of the shared `make html`: examples, and blocks added to the page (each
# with the warning that names it, after "index.md:<its first line>: ").
FAULTY_EXAMPLES = {"plot_boom.py": BOOM, "plot_not_raising.py": NOT_RAISING,
                   "plot_bad_rest.py": BAD_REST}
PAGE_FAULTS = {
    "See {doc}`/no-such-page`.\n": "WARNING: unknown document: '/no-such-page'",
    "```{toctree}\nno-such-page\n```\n":
        "WARNING: toctree contains reference to nonexisting document 'no-such-page'",
    "```{no-such-directive}\nbody\n```\n": "WARNING: Unknown directive type: 'no-such-directive'",
}
FAULTY_INDEX = MINIMAL_INDEX + "".join("\n" + block for block in PAGE_FAULTS)

# The mistakes of the shared `make doctest`: a wrong output, and a traceback whose message
# differs (Sphinx's default flags would compare the exception type alone; conf.py drops that).
WRONG_DOCTEST = (
    '```{doctest}\n>>> from torch import nn\n>>> len(nn.ModuleDict({"a": nn.ReLU()}))\n2\n```\n'
)
WRONG_TRACEBACK = (
    '```{doctest}\n>>> from torch import nn\n>>> nn.ModuleDict()["layer3"]\n'
    "Traceback (most recent call last):\n    ...\nKeyError: 'layer4'\n```\n"
)
DOCTEST_INDEX = MINIMAL_INDEX + "\n" + WRONG_DOCTEST + "\n" + WRONG_TRACEBACK


def line_of(text: str, block: str) -> int:
    """The line of ``text`` on which ``block`` starts."""
    return text[: text.index(block)].count("\n") + 1


def plant_faults(project: Path):
    for name, source in FAULTY_EXAMPLES.items():
        add_example(project, name, source)
    (project / "docs" / "index.md").write_text(FAULTY_INDEX)


def plant_wrong_doctests(project: Path):
    (project / "docs" / "index.md").write_text(DOCTEST_INDEX)


def plant_hung_rank(project: Path):
    two_rank_example(project, "plot_hung_rank", TWO_RANKS, what="hangs",
                     wrong="time.sleep(3600)")


def plant_crashed_and_stuck_ranks(project: Path):
    two_rank_example(project, "plot_crashed_rank", TWO_RANKS, what="raises",
                     wrong='raise ValueError("rank 1 gives up")')
    two_rank_example(project, "plot_stuck_ranks", STUCK)


# The builds the tests share (each its own mini project): the fixture's name, and the
# Makefile target and the mistakes it builds with.
SHARED = {
    "faulty_build": ("html", plant_faults),
    "faulty_doctests": ("doctest", plant_wrong_doctests),
    "hung_rank_build": ("html", plant_hung_rank),
    "crashed_and_stuck_build": ("html", plant_crashed_and_stuck_ranks),
}


@dataclass
class Build:
    folder: Path  # the mini project is its "project"; a two-rank example's marker is beside it
    target: str
    result: subprocess.CompletedProcess  # log: stdout (stdout and stderr, interleaved)
    ended: float  # when make exited (time.time())

    @property
    def project(self) -> Path:
        return self.folder / "project"

    @property
    def log(self) -> str:
        return output_of(self.result)


@pytest.fixture(scope="module", autouse=True)
def shared_fault_builds(request, tmp_path_factory) -> Path:
    """Start the shared builds that this run's tests need, each once per session."""
    needed = set().union(*(item.fixturenames for item in request.session.items))
    folder = shared_folder(tmp_path_factory) / "fault-matrix"
    for name, (target, plant) in SHARED.items():
        if name in needed:
            project = folder / name / "project"
            start(folder / name, {target: make_command(project, target)}, {},
                  prepare=lambda _, project=project, plant=plant: plant(copy_mini_project(project)))
    return folder


def shared_build(folder: Path, name: str) -> Build:
    target, _ = SHARED[name]
    built = result(folder / name, target, timeout=900)
    ended = (folder / name / f"{target}.rc").stat().st_mtime
    return Build(folder / name, target, built, ended)


@pytest.fixture(scope="module")
def faulty_build(shared_fault_builds) -> Build:
    return shared_build(shared_fault_builds, "faulty_build")


@pytest.fixture(scope="module")
def faulty_doctests(shared_fault_builds) -> Build:
    return shared_build(shared_fault_builds, "faulty_doctests")


@pytest.fixture(scope="module")
def hung_rank_build(shared_fault_builds) -> Build:
    return shared_build(shared_fault_builds, "hung_rank_build")


@pytest.fixture(scope="module")
def crashed_and_stuck_build(shared_fault_builds) -> Build:
    return shared_build(shared_fault_builds, "crashed_and_stuck_build")


def progress_and_summary(build: Build) -> tuple[str, str]:
    """The log as the build went, and sphinx-gallery's summary of the failing examples.

    The summary is the error that ends the build; Sphinx prints it under "Extension
    error!", with the last messages of the log again.
    """
    progress, found, summary = build.log.partition("\nExtension error!\n")
    assert found, build.log[-3000:]
    assert build.result.returncode != 0
    return progress, summary


def example_failure(build: Build, name: str) -> list[str]:
    """The traceback of example ``name`` as it failed, and in the summary at the end."""
    progress, summary = progress_and_summary(build)
    example = re.escape(f"../examples/{name}")
    ran = re.findall(rf"^{example} unexpectedly failed to execute correctly:\n\n((?: {{4}}.*\n)+)",
                     progress, re.MULTILINE)
    summed_up = re.findall(rf"^ +{example} failed leaving traceback:\n *\n((?: {{8}}.*\n)+)",
                           summary, re.MULTILINE)
    assert len(ran) == 1 and len(summed_up) == 1, build.log[-5000:]
    return [*ran, *summed_up]


def assert_reported_once(build: Build, pattern: str):
    progress, _ = progress_and_summary(build)
    assert len(re.findall(pattern, progress)) == 1, progress[-5000:]


def test_an_unexpected_exception_fails_the_build_naming_file_and_line(faulty_build):
    for traceback in example_failure(faulty_build, "plot_boom.py"):
        assert re.search(r'File ".*plot_boom\.py", line 9', traceback), traceback
        assert "ValueError: nobody expected this" in traceback


def test_an_expected_error_that_is_not_raised_fails_the_build(faulty_build):
    for traceback in example_failure(faulty_build, "plot_not_raising.py"):
        assert re.search(r'File ".*plot_not_raising\.py", line 25', traceback), traceback
        assert "AssertionError: KeyError was not raised" in traceback


def test_malformed_rest_in_an_example_fails_the_build(faulty_build):
    assert_reported_once(
        faulty_build, r"plot_bad_rest\.rst:\d+: WARNING: Title underline too short"
    )


def assert_page_fault_reported(build: Build, block: str):
    where = rf"/docs/index\.md:{line_of(FAULTY_INDEX, block)}: "
    assert_reported_once(build, where + re.escape(PAGE_FAULTS[block]))


def test_a_broken_cross_reference_fails_the_build(faulty_build):
    assert_page_fault_reported(faulty_build, "See {doc}`/no-such-page`.\n")


def test_a_missing_page_in_a_toctree_fails_the_build(faulty_build):
    assert_page_fault_reported(faulty_build, "```{toctree}\nno-such-page\n```\n")


def test_malformed_myst_fails_the_build(faulty_build):
    assert_page_fault_reported(faulty_build, "```{no-such-directive}\nbody\n```\n")


def test_the_shared_build_reports_each_planted_mistake_and_nothing_else(faulty_build):
    """Control: the tests above cannot pass on a log that misses their mistake or holds others."""
    progress, summary = progress_and_summary(faulty_build)
    # One warning per mistake: two failing examples, one bad title, three page mistakes.
    assert progress.count("WARNING:") == 6, progress[-5000:]
    assert "Unexpected failing examples (2):" in summary
    # The clean example and the one with the bad title ran to their end.
    assert "successfully executed 2 out of 4 files" in progress


def doctest_failure(build: Build, block: str) -> str:
    """The report of ``make doctest`` on the doctest that starts ``block`` (one, exactly)."""
    report = (build.project / "build" / "doctest" / "output.txt").read_text()
    first = line_of(DOCTEST_INDEX, block)
    lines = range(first, first + block.count("\n"))
    failures = [
        failure for failure in report.split("*" * 70 + "\n")
        if (where := re.match(r'File "index\.md", line (\d+), ', failure))
        and int(where.group(1)) in lines
    ]
    assert len(failures) == 1, report
    return failures[0]


def test_a_wrong_doctest_fails_make_doctest(faulty_doctests):
    assert faulty_doctests.result.returncode != 0
    failure = doctest_failure(faulty_doctests, WRONG_DOCTEST)
    assert "Expected:\n    2\nGot:\n    1\n" in failure, failure


def test_a_doctest_traceback_with_another_message_fails_make_doctest(faulty_doctests):
    """Sphinx's default flags would compare the exception type alone; conf.py drops that."""
    assert faulty_doctests.result.returncode != 0
    failure = doctest_failure(faulty_doctests, WRONG_TRACEBACK)
    expected, _, got = failure.partition("\nGot:\n")
    assert "KeyError: 'layer4'" in expected and "KeyError: 'layer3'" in got, failure


def test_the_shared_doctest_run_reports_both_mistakes_and_nothing_else(faulty_doctests):
    """Control: the minimal page's doctests are the two wrong ones, and only they fail."""
    report = (faulty_doctests.project / "build" / "doctest" / "output.txt").read_text()
    assert "    4 tests\n    2 failures in tests\n" in report, report



def test_a_changed_environment_fingerprint_reexecutes_the_examples(mini_project):
    first = make(mini_project, "html")
    assert first.returncode == 0, output_of(first)[-3000:]
    assert examples_executed(output_of(first)) == 1

    unchanged = make(mini_project, "html")
    assert examples_executed(output_of(unchanged)) == 0  # sphinx-gallery's own cache works

    # Pretend the cached outputs were made by another torch.
    record = mini_project / "docs" / "auto_examples" / ".environment.json"
    fingerprint = json.loads(record.read_text())
    record.write_text(json.dumps({**fingerprint, "torch": "2.12.0"}))
    after_torch = make(mini_project, "html")
    assert "environment changed; re-executing" in output_of(after_torch)
    assert examples_executed(output_of(after_torch)) == 1

    for changed in ("requirements.txt", "conf.py"):
        path = mini_project / changed
        path.write_text(path.read_text() + "\n# changed\n")
        rebuilt = make(mini_project, "html")
        assert rebuilt.returncode == 0, output_of(rebuilt)[-3000:]
        assert examples_executed(output_of(rebuilt)) == 1, changed

    page = (
        mini_project / "build" / "html" / "auto_examples" / MINIMAL_EXAMPLE.replace(".py", ".html")
    )
    assert "layers.layer1.weight" in page.read_text()


def add_example(project, name: str, source: str | None = None):
    path = project / "examples" / name
    path.write_text(source if source is not None else example_path(name).read_text())
    return path


def append_to_index(project, text: str):
    index = project / "docs" / "index.md"
    index.write_text(index.read_text() + text)


def assert_fails_naming(result, pattern: str):
    log = output_of(result)
    assert result.returncode != 0
    assert re.search(pattern, log), log[-3000:]


def test_a_claim_whose_evidence_flips_fails_the_build(mini_project):
    """The ledger judged against a patched torch in which item access copies the module."""
    append_to_index(mini_project, "\n```{claims-ledger} table\n```\n")
    # The evidence runs the article's code, which the article's pages hold: the mini
    # project has none of them, so its conf.py hands the ledger the code, read here.
    from ledger.article import article_code

    code = {n: article_code(n) for n in (1, 2, 3)}
    (mini_project / "article-code.json").write_text(json.dumps(code))
    conf = mini_project / "conf.py"
    patch = (
        "\nimport json\nimport article_quote\n"
        "CODE = json.loads(Path(__file__).with_name('article-code.json').read_text())\n"
        "article_quote.article_code = lambda n, *where: CODE[str(n)]\n"
        "import copy\nimport torch.nn as nn\n"
        "nn.ModuleDict.__getitem__ = lambda self, key: copy.deepcopy(self._modules[key])\n"
    )
    conf.write_text(conf.read_text() + patch)
    result = make(mini_project, "html")
    assert_fails_naming(result, r"Claims ledger: a verdict changed")
    assert (
        "claim 3 ('meaning it participates in the PyTorch computation graph'): "
        "the evidence now gives 'false', the site says 'misleading'; evidence: {"
    ) in output_of(result)
    assert "'moduledict_parameters': 4, 'moduledict_parameters_that_are_leaves': 0" in output_of(
        result)


SLOW = '''"""
An example that is running when the build is killed
===================================================

Text.
"""

import os
import time
from pathlib import Path

if os.environ.get("GUIDE_TEST_HANG"):
    Path(os.environ["GUIDE_TEST_HANG"]).write_text("running")
    time.sleep(600)
print("{name} finished")
'''


def test_a_build_killed_while_running_examples_recovers_on_the_next_build(mini_project, tmp_path):
    for name in ("plot_zz_b", "plot_zz_c"):
        add_example(mini_project, f"{name}.py", SLOW.replace("{name}", name))
    marker = tmp_path / "running"
    build = subprocess.Popen(
        make_command(mini_project, "html"),
        env={**os.environ, "GUIDE_TEST_HANG": str(marker)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert build.poll() is None and time.monotonic() < deadline, (
            "the build never reached plot_zz_b"
        )
        time.sleep(0.2)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()

    rerun = make(mini_project, "html")
    assert rerun.returncode == 0, output_of(rerun)[-3000:]
    # Example 1 had finished before the kill and stays cached; the other two run again.
    assert "after excluding 1 file that had previously been run" in output_of(rerun)
    pages = mini_project / "build" / "html" / "auto_examples"
    assert "layers.layer1.weight" in (pages / MINIMAL_EXAMPLE.replace(".py", ".html")).read_text()
    for name in ("plot_zz_b", "plot_zz_c"):
        assert f"{name} finished" in (pages / f"{name}.html").read_text()
        assert (mini_project / "docs" / "auto_examples" / f"{name}.py.md5").exists()


# Two-rank examples: a rank that hangs or crashes fails the build, naming the example,
# within 60 s of going wrong. Each example carries the launcher of the distributed pages
# (their cell that defines run_on_ranks, the same on both). Each rank that goes wrong
# first writes the time (time.time()) into a marker file.
DISTRIBUTED_PAGE = "plot_ddp_unused_entry_fails_next_step.py"
TWO_RANKS = '''"""
An example whose rank {what}
==========================================

Rank 1 goes wrong; rank 0 waits for it in a collective.
"""

{launcher}

# %%
def all_reduce_on_rank(rank):
    from pathlib import Path

    if rank == 1:
        Path({marker!r}).write_text(repr(time.time()))
        {wrong}
    dist.all_reduce(torch.ones(1))


run_on_ranks(all_reduce_on_rank)
'''
STUCK = '''"""
An example whose every rank is stuck
====================================

No rank reaches a collective, so no timeout of the process group can fire.
"""

{launcher}

# %%
def sleep_on_rank(rank):
    from pathlib import Path

    Path({marker!r}).write_text(repr(time.time()))
    time.sleep(3600)


run_on_ranks(sleep_on_rank)
'''


def launcher() -> str:
    """The cell of the distributed pages that defines run_on_ranks."""
    source = example_path(DISTRIBUTED_PAGE).read_text()
    (cell,) = [cell for cell in source.split("\n# %%\n") if "\ndef run_on_ranks(" in cell]
    return "# %%\n" + cell


def two_rank_example(project, name: str, template: str, **fields):
    """Write the example; its marker file is beside the project (see ``marker``)."""
    # The launcher's f-strings hold braces: it goes in after format().
    source = template.format(marker=str(marker(project, name)), launcher="LAUNCHER", **fields)
    add_example(project, f"{name}.py", source.replace("LAUNCHER", launcher()))


def marker(project: Path, name: str) -> Path:
    return project.parent / f"{name}.wrong"


def run_line(project: Path, name: str) -> int:
    """The line of example ``name`` that calls run_on_ranks."""
    source = (project / "examples" / f"{name}.py").read_text()
    (line,) = [n for n, text in enumerate(source.splitlines(), 1) if text.startswith("run_on_")]
    return line


def seconds_before_end(build: Build, name: str) -> float:
    """How long before the build ended the rank of example ``name`` went wrong."""
    wrong = marker(build.project, name)
    assert wrong.exists(), "the rank never got to the point where it goes wrong"
    return build.ended - float(wrong.read_text())


def test_a_hung_rank_fails_the_build_within_60_s_naming_the_example(hung_rank_build):
    assert seconds_before_end(hung_rank_build, "plot_hung_rank") < 60
    line = run_line(hung_rank_build.project, "plot_hung_rank")
    assert_fails_naming(hung_rank_build.result, rf'File ".*plot_hung_rank\.py", line {line}')
    # Rank 0 gives up waiting for rank 1 (the process group's timeout); rank 1 is killed.
    assert_fails_naming(
        hung_rank_build.result, r"Error: .*Timed out waiting 20000ms.*\n\s*\(raised on rank 0\)"
    )


def test_a_crashed_rank_and_stuck_ranks_fail_the_build_within_60_s(crashed_and_stuck_build):
    build = crashed_and_stuck_build
    # The examples run one after the other: the crashed one had failed before the ranks
    # of the stuck one started.
    crashed = seconds_before_end(build, "plot_crashed_rank")
    stuck = seconds_before_end(build, "plot_stuck_ranks")
    assert crashed - stuck < 60
    assert stuck < 60
    line = run_line(build.project, "plot_crashed_rank")
    assert_fails_naming(build.result, rf'File ".*plot_crashed_rank\.py", line {line}')
    assert_fails_naming(build.result, r"ValueError: rank 1 gives up\n\s*\(raised on rank 1\)")
    # No collective, so only the deadline of run_on_ranks (45 s) ends it.
    assert_fails_naming(
        build.result,
        r'File ".*plot_stuck_ranks\.py", line \d+(.|\n)*'
        r"TimeoutError: the ranks were still running after 45 s",
    )
