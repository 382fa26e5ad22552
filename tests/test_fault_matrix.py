"""The fault matrix: each mistake fails the build, naming its file (and line); no output goes stale.

Each case is written into a temporary copy of the project (the ``mini_project`` fixture:
the real configuration, one example, a one-page docs/).
"""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from helpers import (
    MINIMAL_EXAMPLE,
    example_path,
    examples_executed,
    make,
    make_command,
    output_of,
)

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


def test_an_unexpected_exception_fails_the_build_naming_file_and_line(mini_project):
    add_example(mini_project, "plot_boom.py", BOOM)
    result = make(mini_project, "html")
    assert_fails_naming(result, r'File ".*plot_boom\.py", line 9')
    assert "ValueError: nobody expected this" in output_of(result)


def test_an_expected_error_that_is_not_raised_fails_the_build(mini_project):
    add_example(mini_project, "plot_not_raising.py", NOT_RAISING)
    result = make(mini_project, "html")
    assert_fails_naming(result, r'File ".*plot_not_raising\.py", line 25')
    assert "AssertionError: KeyError was not raised" in output_of(result)


def test_a_wrong_doctest_fails_make_doctest(mini_project):
    index = mini_project / "docs" / "index.md"
    doctest = '>>> from torch import nn\n>>> len(nn.ModuleDict({"a": nn.ReLU()}))\n2\n'
    index.write_text(index.read_text() + f"\n```{{doctest}}\n{doctest}```\n")
    result = make(mini_project, "doctest")
    assert result.returncode != 0
    report = (mini_project / "build" / "doctest" / "output.txt").read_text()
    assert re.search(r'File "index.md", line \d+', report), report
    assert "1 failure" in report and "Expected:\n    2\nGot:\n    1" in report, report


def test_a_doctest_traceback_with_another_message_fails_make_doctest(mini_project):
    """Sphinx's default flags would compare the exception type alone; conf.py drops that."""
    index = mini_project / "docs" / "index.md"
    doctest = (
        '>>> from torch import nn\n>>> nn.ModuleDict()["layer3"]\n'
        "Traceback (most recent call last):\n    ...\nKeyError: 'layer4'\n"
    )
    index.write_text(index.read_text() + f"\n```{{doctest}}\n{doctest}```\n")
    result = make(mini_project, "doctest")
    assert result.returncode != 0
    report = (mini_project / "build" / "doctest" / "output.txt").read_text()
    assert "1 failure" in report and "KeyError: 'layer3'" in report, report


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



def test_a_broken_cross_reference_fails_the_build(mini_project):
    append_to_index(mini_project, "\nSee {doc}`/no-such-page`.\n")
    assert_fails_naming(
        make(mini_project, "html"), r"index\.md:\d+: WARNING: unknown document: '/no-such-page'"
    )


def test_a_missing_page_in_a_toctree_fails_the_build(mini_project):
    append_to_index(mini_project, "\n```{toctree}\nno-such-page\n```\n")
    assert_fails_naming(
        make(mini_project, "html"),
        r"index\.md:\d+: WARNING: toctree contains reference to nonexisting document "
        r"'no-such-page'",
    )


def test_malformed_myst_fails_the_build(mini_project):
    append_to_index(mini_project, "\n```{no-such-directive}\nbody\n```\n")
    assert_fails_naming(
        make(mini_project, "html"),
        r"index\.md:\d+: WARNING: Unknown directive type: 'no-such-directive'",
    )


def test_malformed_rest_in_an_example_fails_the_build(mini_project):
    add_example(mini_project, "plot_bad_rest.py", '"""\nA title\n=====\n\nText.\n"""\n\nx = 1\n')
    assert_fails_naming(
        make(mini_project, "html"), r"plot_bad_rest\.rst:\d+: WARNING: Title underline too short"
    )


SLOW = '''"""
An example that is running when the build is killed
===================================================

Text.
"""

import os
import time
from pathlib import Path
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


def two_rank_example(project, tmp_path, name: str, template: str, **fields) -> tuple[Path, int]:
    """The example's marker file, and the line that calls run_on_ranks."""
    marker = tmp_path / f"{name}.wrong"
    # The launcher's f-strings hold braces: it goes in after format().
    source = template.format(marker=str(marker), launcher="LAUNCHER", **fields)
    source = source.replace("LAUNCHER", launcher())
    add_example(project, f"{name}.py", source)
    (line,) = [n for n, text in enumerate(source.splitlines(), 1) if text.startswith("run_on_")]
    return marker, line


def seconds_since(marker) -> float:
    assert marker.exists(), "the rank never got to the point where it goes wrong"
    return time.time() - float(marker.read_text())


def test_a_hung_rank_fails_the_build_within_60_s_naming_the_example(mini_project, tmp_path):
    marker, line = two_rank_example(
        mini_project, tmp_path, "plot_hung_rank", TWO_RANKS, what="hangs", wrong="time.sleep(3600)"
    )
    result = subprocess.run(
        make_command(mini_project, "html"), capture_output=True, text=True, timeout=900
    )
    assert seconds_since(marker) < 60
    assert_fails_naming(result, rf'File ".*plot_hung_rank\.py", line {line}')
    # Rank 0 gives up waiting for rank 1 (the process group's timeout); rank 1 is killed.
    assert_fails_naming(result, r"Error: .*Timed out waiting 20000ms.*\n\s*\(raised on rank 0\)")


def test_a_crashed_rank_and_stuck_ranks_fail_the_build_within_60_s(mini_project, tmp_path):
    crashed, line = two_rank_example(
        mini_project, tmp_path, "plot_crashed_rank", TWO_RANKS,
        what="raises", wrong='raise ValueError("rank 1 gives up")',
    )
    stuck, _ = two_rank_example(mini_project, tmp_path, "plot_stuck_ranks", STUCK)
    result = subprocess.run(
        make_command(mini_project, "html"), capture_output=True, text=True, timeout=900
    )
    # The examples run one after the other: the crashed one had failed before the ranks
    # of the stuck one started.
    assert seconds_since(crashed) - seconds_since(stuck) < 60
    assert seconds_since(stuck) < 60
    assert_fails_naming(result, rf'File ".*plot_crashed_rank\.py", line {line}')
    assert_fails_naming(result, r"ValueError: rank 1 gives up\n\s*\(raised on rank 1\)")
    # No collective, so only the deadline of run_on_ranks (45 s) ends it.
    assert_fails_naming(
        result,
        r'File ".*plot_stuck_ranks\.py", line \d+(.|\n)*'
        r"TimeoutError: the ranks were still running after 45 s",
    )
