"""The article's code is quoted once, on its three example pages, exactly as published.

Quotes match the article (where there is one) and their recorded digests; no other file
repeats them; an edited quote fails the build; Example 2's crash is checked and portable."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import article_quote
import expected_crash
import markup_fixes
import pytest
from article_quote import altered_quotes, article_code, check_quotes, metadata
from helpers import ROOT
from sphinx.errors import ExtensionError

NAMES = "item_access_works crashes_as_written backward_succeeds".split()
PAGES = {n: f"plot_article_example{n}_{name}.py" for n, name in enumerate(NAMES, 1)}
GALLERY = {"examples_dirs": "../examples", "gallery_dirs": "auto_examples"}
SKIPPED_DIRS = set(".git .venv build auto_examples __pycache__ node_modules".split())


def test_each_quote_is_the_articles_code_block_character_for_character(article):
    blocks = re.findall(r"^```python\n(.*?)^```$", article, re.M | re.S)
    assert len(blocks) == 3 == article.count("```python")
    assert [article_code(n) for n in PAGES] == blocks
    front = dict(re.findall(r'^(\w+): "(.*)"$', article.split("---")[1], re.M))
    assert {k: metadata()[k] for k in ("title", "date", "id")} == front
    # The home page says the copy names no author, site or address: nor does its text.
    assert not re.search(r"https?://|www\.|\bauthor\b|\bsite\b|\burl\b", article, re.I)


def test_the_home_page_says_why_it_does_not_link_the_article():
    home = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert metadata()["site"] is None
    assert "names no author, site or address, so there\nis no link to give" in home


def test_each_quote_has_the_recorded_digest():
    """With or without the article: the quotes are the recorded text."""
    recorded = json.loads(article_quote.DATA.read_text(encoding="utf-8"))["sha256"]
    assert recorded == {str(n): article_quote.digest(article_code(n)) for n in PAGES}
    assert altered_quotes() == []


@pytest.mark.parametrize("n", PAGES)
def test_each_quote_is_on_its_own_page_alone_in_the_cell_after_its_heading(n):
    path = article_quote.quoting_example(n)
    assert path == ROOT / "examples" / "article" / PAGES[n]
    source, code = path.read_text(encoding="utf-8"), article_code(n)
    heading = f"# The article's Example {n}, as published\n# " + "-" * 37 + "\n"
    assert source.count(heading) == 1 and source.count(code) == 1
    after = source.split(heading)[1]
    cell = after[len(re.match(r"(?:#.*\n)*", after).group()) :]  # after its prose
    assert cell.startswith(code) and re.match(r"\n*(# %%|$)", cell[len(code) :])


def test_there_is_no_example_4():
    with pytest.raises(ValueError, match="Examples 1 to 3"):
        article_code(4)


def repeats(code: str, text: str) -> bool:
    """Five lines in a row of ``code`` (not all blank) are in ``text``."""
    lines = code.splitlines()
    runs = ("\n".join(lines[i : i + 5]) for i in range(len(lines) - 4))
    return any(run.strip() and run in text for run in runs)


def repeated_quotes(root: Path, examples: Path) -> tuple[list[Path], list]:
    """The text files under ``root`` (generated folders aside), and (file, example) where
    one repeats five lines of a quote (a quoting page's own quotes removed)."""
    files, found = [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        parts = path.relative_to(root).parts[:-1]
        if SKIPPED_DIRS & set(parts) or any(part.endswith("_cache") for part in parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images, icons
            continue
        files.append(path)
        for n in [n for n in PAGES if path == examples / PAGES[n]]:  # its own quote
            text = text.replace(article_code(n), "")
        found += [(path.name, n) for n in PAGES if repeats(article_code(n), text)]
    return files, found


def test_the_articles_code_is_in_no_other_file():
    files, found = repeated_quotes(ROOT, ROOT / "examples" / "article")
    scanned = {ROOT / "conf.py", ROOT / "tests/conftest.py"}
    assert len(files) >= 100 and scanned <= set(files)
    assert found == []


def test_the_scan_finds_a_copied_quote(tmp_path):
    lines = article_code(2).splitlines()
    (tmp_path / "notes.md").write_text("Notes\n\n" + "\n".join(lines[3:9]) + "\n")
    (tmp_path / "other.md").write_text("\n".join(lines[3:7]) + "\n")  # four: allowed
    files = [tmp_path / "notes.md", tmp_path / "other.md"]
    assert repeated_quotes(tmp_path, tmp_path) == (files, [("notes.md", 2)])


@pytest.fixture
def examples(tmp_path) -> Path:
    shutil.copytree(ROOT / "examples" / "article", tmp_path / "examples" / "article")
    return tmp_path / "examples"


def test_an_altered_quote_is_detected_and_fails_the_build(examples):
    page = examples / "article" / PAGES[2]
    source = page.read_text(encoding="utf-8")
    assert source.count("nn.Linear(10, 5) # Dynamic creation") == 1
    page.write_text(source.replace("(10, 5) # Dynamic", "(10, 10) # Dynamic"))
    assert altered_quotes(examples) == [f"Example 2 ({PAGES[2]})"]
    config = SimpleNamespace(sphinx_gallery_conf=GALLERY)
    app = SimpleNamespace(srcdir=str(examples.parent / "docs"), config=config)
    with pytest.raises(ExtensionError, match=r"changed where it is quoted: Example 2 "):
        check_quotes(app)
    page.write_text(source)
    check_quotes(app)  # the unaltered copy passes


def test_a_page_without_the_heading_has_no_quote(examples):
    page = examples / "article" / PAGES[1]
    page.write_text(page.read_text().replace("Example 1, as published", "Example 1"))
    with pytest.raises(ValueError, match="in 0 examples, not one"):
        article_code(1, examples)
    assert article_quote.quoted(examples) == [2, 3]


# --- The error that ends Example 2's page (docs/_ext/expected_crash.py) -------------

EXAMPLE2 = "article/" + PAGES[2]
STDLIB = "/somewhere/lib/python3.11"
SITE_PACKAGES = STDLIB + "/site-packages"
SHAPES = "mat1 and mat2 shapes cannot be multiplied (1x5 and 10x5)"


def traceback_text(example: Path, message: str) -> str:
    return (
        f'Traceback (most recent call last):\n  File "{example}", line 33, in <module>\n'
        "    output = model(torch.randn(1,10))\n"
        f'  File "{SITE_PACKAGES}/torch/nn/modules/linear.py", line 134, in forward\n'
        "    return F.linear(input, self.weight, self.bias)\n"
        f'  File "{STDLIB}/contextlib.py", line 81, in inner\n'
        f"    return func(*args, **kwds)\nRuntimeError: {message}\n"
    )


def crash_app(examples: Path, formatted: str) -> SimpleNamespace:
    """A Sphinx app, as the extensions see it, after sphinx-gallery ran Example 2."""
    failing = {str((examples / EXAMPLE2).resolve()): formatted}
    conf = GALLERY | {"expected_failing_examples": set(), "failing_examples": failing}
    messages = {EXAMPLE2: r"^RuntimeError: mat1 and mat2 shapes"}
    config = SimpleNamespace(expected_crash_messages=messages, sphinx_gallery_conf=conf)
    return SimpleNamespace(srcdir=str(examples.parent / "docs"), config=config)


def test_the_expected_crash_is_declared_to_sphinx_gallery(examples):
    """sphinx-gallery then fails the build if the example runs to its end."""
    app = crash_app(examples, "")
    expected_crash.declare(app, app.config)
    declared = app.config.sphinx_gallery_conf["expected_failing_examples"]
    assert declared == {"../examples/" + EXAMPLE2}


@pytest.mark.parametrize("message", [SHAPES, "the input and mat2 shapes", ""])
def test_the_build_fails_when_the_crash_is_another(examples, message):
    app = crash_app(examples, traceback_text(examples / EXAMPLE2, message))
    if message == SHAPES:
        expected_crash.check(app)
    else:
        with pytest.raises(ExtensionError, match="not '"):
            expected_crash.check(app)


def test_a_traceback_on_a_page_names_files_as_a_readers_run_does(examples, monkeypatch):
    paths = {"purelib": SITE_PACKAGES, "platlib": SITE_PACKAGES, "stdlib": STDLIB}
    monkeypatch.setattr(markup_fixes.sysconfig, "get_paths", lambda: paths)
    example = (examples / EXAMPLE2).resolve()
    shown = markup_fixes.portable(traceback_text(example, SHAPES), example)
    frames = re.findall(r'File "(.*)", line (\d+)', shown)
    linear = ("torch/nn/modules/linear.py", "134")
    assert frames == [(PAGES[2], "33"), linear, ("contextlib.py", "81")]
