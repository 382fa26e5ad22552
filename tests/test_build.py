"""The site builds with zero warnings, runs its examples and says what produced them."""

import json
import platform
import re
import shutil
import subprocess
import sys
import time
from types import SimpleNamespace

import api_coverage
import claims_ledger
import expected_crash
import guide
import pytest
import torch
from helpers import (
    EXAMPLES,
    ROOT,
    SITE_ENV,
    example_page,
    examples_executed,
    make,
    output_of,
    plain,
    soup,
)
from sphinx.errors import ExtensionError

def example_pages(site):
    return sorted(site.html.glob("auto_examples/*/plot_*.html"))


def test_build_has_no_warnings(site):
    assert "WARNING" not in site.log
    assert "build succeeded" in site.log


def test_every_source_has_a_page(site):
    docs = ROOT / "docs"
    sources = [source for source in docs.rglob("*.md")
               if not any(part.startswith("_") for part in source.relative_to(docs).parts)]
    assert len(sources) >= 20, len(sources)
    for source in sources:
        assert (site.html / source.relative_to(docs).with_suffix(".html")).is_file(), source
    for example in EXAMPLES:
        assert example_page(site.html, example).is_file(), example
    assert (site.html / "auto_examples" / "index.html").is_file()


def test_every_example_was_executed_in_this_build(site):
    assert examples_executed(site.log) == len(EXAMPLES)


def test_example1_output_is_on_its_page(site):
    doc = soup(site.html / "auto_examples/article/plot_article_example1_item_access_works.html")
    outputs = "\n".join(block.get_text() for block in doc.select("div.sphx-glr-script-out"))
    for name, shape in [("layers.layer1.weight", "(5, 10)"), ("layers.layer1.bias", "(5,)"),
                        ("layers.layer2.weight", "(2, 5)"), ("layers.layer2.bias", "(2,)")]:
        pattern = rf"{re.escape(name)}\s+grad {re.escape(shape)}\s+sum [+-]\d"
        assert re.search(pattern, outputs), outputs


def test_every_example_page_is_stamped_with_the_versions_that_ran_it(site):
    pages = example_pages(site)
    assert pages
    for html in pages:
        stamp = soup(html).select_one("p.guide-stamp")
        assert stamp is not None, html.name
        versions = [code.get_text() for code in stamp.select("code")]
        assert versions == [torch.__version__, platform.python_version()], html.name


def test_doctests_pass(site, doctest_run):
    result = doctest_run
    assert result.returncode == 0, output_of(result)[-5000:]
    summary = (site.root / "build" / "doctest" / "output.txt").read_text()
    tests = int(re.search(r"(\d+) tests", summary).group(1))
    assert tests > 0 and "0 failures in tests" in summary, summary


# --- A build with nothing changed ----------------------------------------------------

# Sphinx's report of what it reads ("[new config] " and the like say why it reads it all).
UPDATING = re.compile(r"^updating environment: (?:\[[^\]]*\] )?(\d+) added, (\d+) changed, "
                      r"(\d+) removed$", re.MULTILINE)
# What PYTHONPROFILEIMPORTTIME=1 (python -X importtime) writes for each module imported.
IMPORT_LINE = re.compile(r"^import time: +\d+ \| +\d+ \| +(\S+)$", re.MULTILINE)


def work_done(log: str) -> dict[str, int]:
    """What a make html did: the sources Sphinx found outdated (added, changed or removed)
    and those it read, the pages it wrote, the examples it ran."""
    updating = UPDATING.search(log)
    assert updating, log[-3000:]
    return {
        "outdated": sum(map(int, updating.groups())),
        "read": len(re.findall(r"^reading sources\.\.\. \[", log, re.MULTILINE)),
        "written": len(re.findall(r"^writing output\.\.\. \[", log, re.MULTILINE)),
        "executed": examples_executed(log),
    }


def imported(stderr: str) -> set[str]:
    """The modules a process imported, from what PYTHONPROFILEIMPORTTIME=1 wrote."""
    return set(IMPORT_LINE.findall(stderr))


def test_the_import_report_names_torch_when_torch_is_imported():
    """The control of the check below: the report it reads names torch when imported."""
    run = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True,
                         env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "torch" in imported(run.stderr)


def test_a_second_make_html_with_nothing_changed_reads_writes_and_runs_nothing(site, tmp_path):
    """make html again with nothing changed: no source read, no page written, no example
    run, and torch not imported (the claims ledger, the API reference's check and the
    expected crash reuse what the last build computed with this torch).

    The site's build folder is copied (times kept) and built into, so that the site the
    other tests read stays as it is; its sources are the site's, which a build that does
    nothing leaves as they are."""
    clean = work_done(site.log)  # the control: the first build did all three
    assert clean["read"] >= 20 and clean["written"] >= 20, clean
    assert clean["executed"] == len(EXAMPLES), clean
    build = tmp_path / "build"
    for folder in ("doctrees", "html"):
        shutil.copytree(site.root / "build" / folder, build / folder, symlinks=True)
    started = time.monotonic()
    again = make(site.root, "html", f"BUILDDIR={build}",
                 env={**SITE_ENV, "PYTHONPROFILEIMPORTTIME": "1"})
    seconds = time.monotonic() - started
    assert again.returncode == 0, output_of(again)[-5000:]
    assert "no targets are out of date." in plain(again.stdout), output_of(again)[-3000:]
    nothing = {"outdated": 0, "read": 0, "written": 0, "executed": 0}
    assert work_done(plain(again.stdout)) == nothing, f"{seconds:.1f} s"
    modules = imported(again.stderr)
    assert len(modules) > 500 and "sphinx" in modules, again.stderr[-3000:]  # it reported
    assert not {m for m in modules if m == "torch" or m.startswith("torch.")}, f"{seconds:.1f} s"


LEDGER_PAGE = "explanation/claims-ledger"


def test_the_ledger_is_read_again_when_what_its_verdicts_depend_on_changes(tmp_path, monkeypatch):
    """Its verdicts depend on the environment (guide's fingerprint), the ledger's code and
    the article's code: a change to any of them reads its page again, and nothing else does."""
    app = SimpleNamespace(confdir=str(ROOT))
    env = SimpleNamespace(claims_ledger_docs={LEDGER_PAGE},
                          claims_ledger_inputs=claims_ledger.inputs(ROOT))
    assert claims_ledger.read_again(app, env, set(), set(), set()) == []
    assert claims_ledger.read_again(app, env, set(), set(), {LEDGER_PAGE}) == []

    code = [tmp_path / path.name for path in claims_ledger.CODE]
    for copy, path in zip(code, claims_ledger.CODE, strict=True):
        copy.write_bytes(path.read_bytes())
    monkeypatch.setattr(claims_ledger, "CODE", tuple(code))
    assert claims_ledger.read_again(app, env, set(), set(), set()) == []  # the same bytes
    changes = {
        "environment": lambda: monkeypatch.setattr(
            guide, "environment", lambda: {"torch": "2.12.0", "python": "3.11.0"}),
        "ledger code": lambda: code[1].write_text(code[1].read_text() + "\n# changed\n"),
        "article code": lambda: monkeypatch.setattr(
            claims_ledger.article_quote, "article_code", lambda n: f"print({n})\n"),
    }
    for name, change in changes.items():
        change()
        assert claims_ledger.read_again(app, env, set(), set(), set()) == [LEDGER_PAGE], name
        claims_ledger.remember_inputs(app, env)
        assert claims_ledger.read_again(app, env, set(), set(), set()) == [], name


def test_the_api_check_stands_for_the_torch_and_the_code_it_was_made_with(monkeypatch):
    """docs/_ext/api_coverage.py enumerates the API (importing torch) again only when torch
    or its own code is not the one of its last clean check."""
    env = SimpleNamespace(found_docs=set(api_coverage.PAGES),
                          api_coverage_checked={docname: {} for docname in api_coverage.PAGES},
                          api_coverage_basis=api_coverage.basis())
    assert api_coverage.reread_when_api_changed(None, env, set(), set(), set()) == []
    monkeypatch.setattr(api_coverage, "environment", lambda: {"torch": "2.12.0", "python": "3"})
    assert sorted(api_coverage.reread_when_api_changed(None, env, set(), set(), set())) == sorted(
        api_coverage.PAGES)  # another torch: the labels (not these) are compared
    env.api_coverage_checked = None  # the last check failed: it runs again
    monkeypatch.undo()
    assert sorted(api_coverage.reread_when_api_changed(None, env, set(), set(), set())) == sorted(
        api_coverage.PAGES)


# --- An example that ends in its error: checked once, then reused ---------------------

CRASH = '''"""
An example that ends in its error
=================================

Its last line raises, as its page shows.
"""

settings = {}
settings["missing"]
'''
CRASH_PAGE = "docs/auto_examples/plot_crash.rst"
CRASH_MD5 = "docs/auto_examples/plot_crash.py.md5"


def test_a_checked_crash_is_reused_until_its_example_or_its_environment_changes(mini_project):
    """docs/_ext/expected_crash.py caches an expected crash once it matched: a build with
    nothing changed runs no example, and another torch or an edited example runs it, and
    checks it, again."""
    (mini_project / "examples" / "plot_crash.py").write_text(CRASH)
    conf = mini_project / "conf.py"
    conf.write_text(conf.read_text() + '\nexpected_crashes["plot_crash.py"] = ('
                    '"KeyError", r"^\'missing\'$")\n')
    first = make(mini_project, "html")
    assert first.returncode == 0, output_of(first)[-5000:]
    assert work_done(output_of(first))["executed"] == 2
    assert "KeyError: 'missing'" in (mini_project / CRASH_PAGE).read_text()
    assert (mini_project / CRASH_MD5).is_file()

    unchanged = make(mini_project, "html", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert unchanged.returncode == 0, output_of(unchanged)[-5000:]
    nothing = {"outdated": 0, "read": 0, "written": 0, "executed": 0}
    assert work_done(plain(unchanged.stdout)) == nothing
    modules = imported(unchanged.stderr)
    assert len(modules) > 500 and "torch" not in modules

    record = mini_project / "docs" / "auto_examples" / ".environment.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "torch": "2.12.0"}))
    other_torch = make(mini_project, "html")
    assert other_torch.returncode == 0, output_of(other_torch)[-5000:]
    assert work_done(output_of(other_torch))["executed"] == 2

    example = mini_project / "examples" / "plot_crash.py"
    example.write_text(CRASH.replace('settings["missing"]', 'settings["other"]'))
    edited = make(mini_project, "html")
    assert edited.returncode != 0
    assert "plot_crash.py was expected to raise KeyError" in output_of(edited)
    assert re.search(r"it raised:\n *KeyError: 'other'", output_of(edited)), output_of(edited)


def cached_crash(tmp_path, shown: str):
    """A fake Sphinx app after sphinx-gallery skipped a cached crash whose page shows ``shown``."""
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "plot_crash.py").write_text(CRASH)
    gallery = tmp_path / "docs" / "auto_examples"
    gallery.mkdir(parents=True)
    page = gallery / "plot_crash.rst"
    page.write_text("Title\n=====\n\n.. code-block:: pytb\n\n    Traceback (most recent call "
                    f"last):\n      File \"plot_crash.py\", line 9, in <module>\n    {shown}\n")
    (gallery / "plot_crash.py").write_text(CRASH)
    (gallery / "plot_crash.py.md5").write_text("cached")
    declared = "../examples/plot_crash.py"
    gallery_conf = {"examples_dirs": "../examples", "gallery_dirs": "auto_examples",
                    "src_dir": str(tmp_path / "docs"), "expected_failing_examples": {declared},
                    "failing_examples": {}, "passing_examples": [],
                    "stale_examples": [str(gallery / "plot_crash.py")]}
    config = SimpleNamespace(sphinx_gallery_conf=gallery_conf,
                             expected_crashes={"plot_crash.py": ("KeyError", r"^'missing'$")})
    return SimpleNamespace(srcdir=str(tmp_path / "docs"), config=config), gallery


def test_a_reused_crash_is_checked_on_its_page_and_not_reported_as_not_failing(tmp_path):
    app, gallery = cached_crash(tmp_path, "KeyError: 'missing'")
    expected_crash.check_and_rewrite(app)
    assert app.config.sphinx_gallery_conf["expected_failing_examples"] == set()
    assert (gallery / "plot_crash.py.md5").is_file()


def test_a_cached_page_that_shows_another_error_fails_the_build_and_runs_again(tmp_path):
    app, gallery = cached_crash(tmp_path, "KeyError: 'other'")
    with pytest.raises(ExtensionError, match="its cached page shows \"KeyError: 'other'\""):
        expected_crash.check_and_rewrite(app)
    assert not (gallery / "plot_crash.py.md5").exists()


def test_a_log_coloured_as_under_ci_is_read_as_its_words(monkeypatch):
    """Where CI is true (GitHub, .ci/run) Sphinx colours its log; the tests read it plain."""
    from sphinx.util import console

    monkeypatch.setenv("CI", "true")
    for name in ("NO_COLOR", "NO_COLOUR"):
        monkeypatch.delenv(name, raising=False)
    assert console.terminal_supports_colour()  # the control: Sphinx colours under CI
    log = ("\x1b[2K\x1b[01mreading sources... \x1b[39;49;00m\n"
           "\x1b[01mbuild succeeded.\x1b[39;49;00m\n")
    result = subprocess.CompletedProcess("make", 0, stdout=log, stderr="")
    assert output_of(result) == "reading sources... \nbuild succeeded.\n"
