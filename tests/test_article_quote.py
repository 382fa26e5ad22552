"""The article's code is quoted once, on its three example pages, exactly as published.

``docs/_ext/article_quote.py`` reads each quote from its page; the build compares it
with the sha256 recorded in ``docs/_data/article.json``. Here each quote is compared
with the article itself where it is available (``../shared/source-article.md``), and
always with the digest; no other file repeats the article's code; an edited quote is
caught. ``docs/_ext/expected_crash.py``, which checks the error that ends Example 2's
page, is tested on its own at the end.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import article_quote
import expected_crash
import pytest
from article_quote import (
    altered_quotes,
    article_code,
    check_quotes,
    digest,
    metadata,
    quoting_example,
)
from helpers import ROOT
from sphinx.errors import ExtensionError

PAGES = {
    1: "plot_article_example1_item_access_works.py",
    2: "plot_article_example2_crashes_as_written.py",
    3: "plot_article_example3_backward_succeeds.py",
}


def test_each_quote_is_the_articles_code_block_character_for_character(article):
    blocks = re.findall(r"^```python\n(.*?)^```$", article, re.M | re.S)
    assert len(blocks) == 3 == article.count("```python")
    assert [article_code(n) for n in (1, 2, 3)] == blocks
    front = dict(re.findall(r'^(\w+): "(.*)"$', article.split("---")[1], re.M))
    data = metadata()
    assert {k: data[k] for k in ("title", "date", "id")} == front
    # The home page says the copy names no author, site or address: nor does its text.
    assert data["site"] is None
    assert not re.search(r"https?://|www\.|\bauthor\b|\bsite\b|\burl\b", article, re.I)


def test_the_home_page_says_why_it_does_not_link_the_article():
    home = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert metadata()["site"] is None
    assert "names no author, site or address, so there\nis no link to give" in home


def test_each_quote_has_the_recorded_digest():
    """Runs everywhere, with or without the article: the quotes are the recorded text."""
    recorded = json.loads(article_quote.DATA.read_text(encoding="utf-8"))["sha256"]
    assert sorted(recorded) == ["1", "2", "3"]
    assert {str(n): digest(article_code(n)) for n in (1, 2, 3)} == recorded
    assert altered_quotes() == []


def test_each_quote_is_on_its_own_page_after_its_heading():
    for n, page in PAGES.items():
        assert quoting_example(n).relative_to(ROOT).as_posix() == f"examples/article/{page}"
        source = quoting_example(n).read_text(encoding="utf-8")
        heading = f"# The article's Example {n}, as published\n# " + "-" * 37 + "\n"
        assert source.count(heading) == 1, page
        # After the heading's prose, the quote is the next cell, whole and alone.
        after = source.split(heading)[1]
        prose = re.match(r"(?:#.*\n)*", after).group()
        cell = after[len(prose):]
        assert cell.startswith(article_code(n)), page
        assert re.match(r"\n*(# %%|$)", cell[len(article_code(n)):]), page
        assert source.count(article_code(n)) == 1, page
    with pytest.raises(ValueError, match="Examples 1 to 3"):
        article_code(4)


SKIPPED_DIRS = {".git", ".venv", "build", "auto_examples", "__pycache__", ".pytest_cache",
                ".ruff_cache", ".mypy_cache", "node_modules"}


def text_files(root: Path) -> list[Path]:
    """Every file of the tree that decodes as UTF-8 text, generated folders left out."""
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or SKIPPED_DIRS & set(path.relative_to(root).parts[:-1]):
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images, icons
            continue
        found.append(path)
    return found


def repeats(code: str, text: str) -> list[str]:
    """Runs of five lines of ``code`` found in ``text`` (blank runs aside)."""
    lines = code.splitlines()
    runs = ["\n".join(lines[i : i + 5]) for i in range(len(lines) - 4)]
    return [r for r in runs if r.strip() and r in text]


def test_the_articles_code_is_in_no_other_file():
    """No five lines in a row of a quote outside its own page (a page's own quotes
    removed first: Examples 1 and 3 share the article's class, written twice there)."""
    files = text_files(ROOT)
    relative = {p.relative_to(ROOT).as_posix() for p in files}
    assert len(files) >= 100, len(files)
    assert {"conf.py", "docs/_ext/article_quote.py", "tests/conftest.py",
            *(f"examples/article/{page}" for page in PAGES.values())} <= relative
    quotes = {n: article_code(n) for n in PAGES}
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        own = [n for n, page in PAGES.items() if path == ROOT / "examples" / "article" / page]
        for n in own:
            text = text.replace(quotes[n], "")
        found += [(path.name, n) for n, code in quotes.items() if repeats(code, text)]
    assert not found


def test_the_scan_finds_a_copied_quote(tmp_path):
    """The scan above can fail: five lines of Example 2 pasted into another file."""
    lines = article_code(2).splitlines()
    (tmp_path / "notes.md").write_text("Notes\n\n" + "\n".join(lines[3:9]) + "\n")
    (tmp_path / "other.md").write_text("\n".join(lines[3:7]) + "\n")  # four lines: allowed
    files = text_files(tmp_path)
    assert [p.name for p in files] == ["notes.md", "other.md"]
    assert [bool(repeats(article_code(2), p.read_text())) for p in files] == [True, False]


def copied_examples(tmp_path: Path) -> Path:
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples" / "article", examples / "article")
    return examples


def test_an_altered_quote_is_detected_and_fails_the_build(tmp_path):
    examples = copied_examples(tmp_path)
    page = examples / "article" / PAGES[2]
    source = page.read_text(encoding="utf-8")
    assert source.count("nn.Linear(10, 5) # Dynamic creation") == 1
    page.write_text(source.replace("nn.Linear(10, 5) # Dynamic", "nn.Linear(10, 10) # Dynamic"))
    assert article_code(2, examples) != article_code(2)
    assert altered_quotes(examples) == [f"Example 2 ({PAGES[2]})"]
    app = SimpleNamespace(
        srcdir=str(tmp_path / "docs"),
        config=SimpleNamespace(sphinx_gallery_conf={"examples_dirs": "../examples"}),
    )
    with pytest.raises(ExtensionError, match=r"changed where it is quoted: Example 2 "):
        check_quotes(app)
    page.write_text(source)
    check_quotes(app)  # the unaltered copy passes


def test_a_page_without_the_heading_has_no_quote(tmp_path):
    examples = copied_examples(tmp_path)
    page = examples / "article" / PAGES[1]
    page.write_text(page.read_text().replace("Example 1, as published", "Example 1"))
    with pytest.raises(ValueError, match="in 0 examples, not one"):
        article_code(1, examples)
    assert article_quote.quoted(examples) == [2, 3]


# --- The error that ends Example 2's page (docs/_ext/expected_crash.py) -------------

EXAMPLE2 = "article/" + PAGES[2]
SITE_PACKAGES = "/somewhere/venv/lib/python3.11/site-packages"
STDLIB = "/somewhere/python/lib/python3.11"


def traceback_text(example: Path, message: str) -> str:
    return (
        "Traceback (most recent call last):\n"
        f'  File "{example}", line 33, in <module>\n'
        "    output = model(torch.randn(1,10))\n"
        f'  File "{SITE_PACKAGES}/torch/nn/modules/linear.py", line 134, in forward\n'
        "    return F.linear(input, self.weight, self.bias)\n"
        f'  File "{STDLIB}/contextlib.py", line 81, in inner\n'
        "    return func(*args, **kwds)\n"
        f"RuntimeError: {message}\n"
    )


def crash_project(tmp_path: Path, outcome: str, message: str):
    """A fake Sphinx app after sphinx-gallery ran Example 2 with ``outcome``."""
    examples = copied_examples(tmp_path)
    source = (examples / EXAMPLE2).resolve()
    page = tmp_path / "docs" / "auto_examples" / EXAMPLE2.replace(".py", ".rst")
    page.parent.mkdir(parents=True)
    formatted = traceback_text(source, message)
    block = "".join(f"    {line}\n" if line else "\n" for line in formatted.splitlines())
    page.write_text(f"Title\n=====\n\n.. code-block:: pytb\n\n{block}\n\nAfter.\n")
    gallery_conf = {
        "examples_dirs": "../examples",
        "gallery_dirs": "auto_examples",
        "expected_failing_examples": set(),
        "failing_examples": {str(source): formatted} if outcome == "failed" else {},
        "passing_examples": [str(source)] if outcome == "passed" else [],
    }
    config = SimpleNamespace(
        sphinx_gallery_conf=gallery_conf,
        expected_crashes={EXAMPLE2: ("RuntimeError", r"^mat1 and mat2 shapes cannot be")},
    )
    return SimpleNamespace(srcdir=str(tmp_path / "docs"), config=config), page


def test_the_expected_crash_is_declared_checked_and_shown_without_the_machines_paths(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(expected_crash.sysconfig, "get_paths", lambda: {
        "purelib": SITE_PACKAGES, "platlib": SITE_PACKAGES, "stdlib": STDLIB})
    message = "mat1 and mat2 shapes cannot be multiplied (1x5 and 10x5)"
    app, page = crash_project(tmp_path, "failed", message)
    expected_crash.declare(app, app.config)
    assert app.config.sphinx_gallery_conf["expected_failing_examples"] == {
        "../examples/" + EXAMPLE2}
    expected_crash.check_and_rewrite(app)
    shown = page.read_text()
    assert str(tmp_path) not in shown and "/somewhere" not in shown
    assert f'File "{PAGES[2]}", line 33' in shown
    assert 'File "torch/nn/modules/linear.py", line 134' in shown
    assert 'File "contextlib.py", line 81' in shown
    assert expected_crash.expected_failures(app) == {EXAMPLE2: f"RuntimeError: {message}"}


@pytest.mark.parametrize("outcome, message", [
    ("failed", "mat1 and mat2 shapes cannot be multiplied (1x10 and 10x5)".replace(
        "mat1", "the input")),
    ("passed", ""),
])
def test_the_build_fails_when_the_crash_changes_or_stops(tmp_path, outcome, message):
    app, _ = crash_project(tmp_path, outcome, message)
    expected = "it raised:\nRuntimeError: the input" if outcome == "failed" else "ran to its end"
    with pytest.raises(ExtensionError, match=re.escape(expected)):
        expected_crash.check_and_rewrite(app)


def test_an_error_of_another_type_does_not_match():
    shown = "ValueError: mat1 and mat2 shapes cannot be multiplied (1x5 and 10x5)"
    assert not expected_crash.matches(shown, "RuntimeError", "mat1 and mat2")
    assert expected_crash.matches(shown, "ValueError", "mat1 and mat2")
    assert expected_crash.exception_part(traceback_text(Path("/x.py"), "boom")) == (
        "RuntimeError: boom")
