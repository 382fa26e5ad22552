"""The site builds with zero warnings, runs its examples, says what produced them, and
runs them again exactly when what produced their outputs changes."""

import re

import guide
from helpers import EXAMPLES, ROOT, output_of, soup

def test_the_build_has_no_warnings(site):
    assert "WARNING" not in site.log
    assert "build succeeded" in site.log


def test_every_source_has_a_page(site):
    docs = ROOT / "docs"
    sources = [s for s in docs.rglob("*.md") if not any(
        part.startswith("_") for part in s.relative_to(docs).parts)]
    pages = [s.relative_to(docs) for s in sources]
    pages += [e.relative_to(ROOT / "examples") for e in EXAMPLES]
    assert len(sources) >= 20 and len(EXAMPLES) >= 15
    missing = [p for p in pages if not any(
        (site.html / where / p).with_suffix(".html").is_file() for where in ("", "auto_examples"))]
    assert not missing


def test_every_example_ran_in_parallel_in_this_build(site):
    """sphinx-gallery runs them in one process per core; it reports each it ran (an
    expected crash counts in the total, not in the successes)."""
    ran = re.search(r"successfully executed (\d+) out of (\d+) file", site.log)
    assert ran and int(ran.group(2)) == len(EXAMPLES) and int(ran.group(1)) == len(EXAMPLES) - 1
    assert "generating gallery (with parallel=" in site.log


def test_no_output_shows_a_value_its_code_did_not_print(site):
    """The return value of an in-place method (``div_()``) is not shown (issue 26)."""
    page = site.html / "auto_examples/pitfalls/plot_graph_cuts_tensor_operations_not_lookups.html"
    text = soup(page).get_text()
    assert "div_(" in text and "tensor(" not in text


def test_doctests_pass(site, doctest_run):
    assert doctest_run.returncode == 0, output_of(doctest_run)[-5000:]
    summary = (site.root / "build" / "doctest" / "output.txt").read_text()
    assert int(re.search(r"Doctest summary\n=+\n *(\d+) tests", summary).group(1)) >= 100
    assert "0 failures in tests" in summary, summary


def test_the_fingerprint_names_torch_python_and_the_build_files_only(tmp_path):
    (tmp_path / "conf.py").write_text("a")
    (tmp_path / "requirements.txt").write_text("b")
    first = guide.fingerprint(tmp_path)
    assert {"torch", "python", "python_build", "conf.py", "requirements.txt"} == set(first)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "requirements.txt").write_text("pytest")
    assert guide.fingerprint(tmp_path) == first  # a test tool changes no output
    (tmp_path / "requirements.txt").write_text("c")
    assert guide.fingerprint(tmp_path) != first
