"""Shared fixtures: the site is built once per test session, from a copy of the project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
SHARED_ARTICLE = ROOT.parent / "shared" / "source-article.md"
# What a build needs; generated files (docs/auto_examples, build/) stay behind.
PROJECT_FILES = ("conf.py", "Makefile", "requirements.txt", "docs", "examples")
GENERATED = shutil.ignore_patterns("auto_examples", "__pycache__", "sg_execution_times.rst")


def copy_project(dst: Path, files=PROJECT_FILES) -> Path:
    """Copy the sources of the project (not its generated files) into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in files:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=GENERATED)
        else:
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    return dst


def make_command(project: Path, target: str, *args: str) -> list[str]:
    """A Makefile target of ``project``, run with this test run's Python."""
    return ["make", "--no-print-directory", "-C", str(project), target, f"PYTHON={sys.executable}", *args]


def make(project: Path, target: str, *args: str, env: dict | None = None):
    """Run a Makefile target of ``project`` with this test run's Python."""
    return subprocess.run(
        make_command(project, target, *args), capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def output_of(result) -> str:
    return result.stdout + result.stderr


# Every build of the site in the tests claims the same date (2026-01-01: Sphinx puts
# this year into the copyright line).
SOURCE_DATE_EPOCH = "1767225600"
SITE_ENV = {"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}


@dataclass
class Site:
    root: Path  # the project copy it was built from
    html: Path
    log: str
    shown_errors: Path  # what docs/_ext/error_index.py wrote: every error the site shows


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """The whole site, built once with the README's command, warnings as errors."""
    root = copy_project(tmp_path_factory.mktemp("site"))
    result = make(root, "html", env=SITE_ENV)
    assert result.returncode == 0, output_of(result)[-20000:]
    html = root / "build" / "html"
    return Site(root, html, output_of(result), html / ERROR_INDEX_JSON)


@pytest.fixture(scope="session")
def doctest_run(site):
    """``make doctest`` on the built site (its examples are cached, so it runs only doctests)."""
    return make(site.root, "doctest", env=SITE_ENV)


def soup(html: Path) -> BeautifulSoup:
    """A built HTML page, parsed."""
    return BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")


def examples_executed(log: str) -> int:
    """How many examples a build ran (sphinx-gallery does not count the cached ones)."""
    ran = re.search(r"successfully executed (\d+) out of \d+ file", log)
    assert ran, log[-3000:]
    return int(ran.group(1))


# Written by docs/_ext/error_index.py: {example script or page docname: [errors it shows]}.
ERROR_INDEX_JSON = "_static/error-index.json"
ERROR_INDEX_PAGE = "reference/errors.html"


def shown_errors_by_source(site) -> dict[str, list[str]]:
    """Every error the site shows (examples: expect_error; pages: doctest tracebacks), by source."""
    return json.loads(site.shown_errors.read_text(encoding="utf-8"))


def shown_errors(site) -> list[str]:
    """Every distinct error the site shows."""
    return sorted({error for errors in shown_errors_by_source(site).values() for error in errors})


def rendered(text: str) -> str:
    """Text as HTML shows it in a code block: tabs expanded, no trailing spaces."""
    return "\n".join(line.expandtabs().rstrip() for line in text.splitlines())


def page_texts(site) -> dict[str, str]:
    """The text of every code block and output of every page, by page."""
    texts = {}
    for html in site.html.rglob("*.html"):
        blocks = soup(html).find_all("pre")
        texts[html.relative_to(site.html).as_posix()] = rendered("\n".join(b.get_text() for b in blocks))
    return texts


MINIMAL_INDEX = """\
# Minimal

```{toctree}
auto_examples/index
```
"""
MINIMAL_EXAMPLE = "plot_article_example1_item_access_works.py"


@pytest.fixture
def mini_project(tmp_path) -> Path:
    """The real configuration with one example and a one-page docs/: fast to build."""
    root = copy_project(tmp_path / "mini", ("conf.py", "Makefile", "requirements.txt", "docs/_ext", "docs/_static"))
    examples = root / "examples"
    examples.mkdir()
    for src in [*ROOT.glob("examples/_*.py"), ROOT / "examples" / "README.rst", ROOT / "examples" / MINIMAL_EXAMPLE]:
        shutil.copy2(src, examples / src.name)
    (root / "docs" / "index.md").write_text(MINIMAL_INDEX)
    return root


MYTHS_PAGE = "auto_examples/plot_article_example3_backward_succeeds.html"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require(what: str, available: bool, install: str):
    """A missing test dependency fails the run in CI and is a visible skip elsewhere."""
    if available:
        return
    message = f"{what} is missing ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(f"SKIPPED: {message}")


@pytest.fixture(scope="session")
def article() -> str:
    """The article on trial (shared/ beside the checkout; CI always has it)."""
    require("The article ../shared/source-article.md", SHARED_ARTICLE.is_file(), "check out beside shared/")
    return SHARED_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium driven by Playwright (Playwright cannot download browsers here)."""
    executable = shutil.which("chromium")
    require("Chromium", executable is not None, "apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def dist(site) -> Path:
    """The offline formats (zip, EPUB, single page) made by ``make dist`` from the built site."""
    result = make(site.root, "dist", env=SITE_ENV)
    assert result.returncode == 0, output_of(result)[-5000:]
    return site.root / "build" / "dist"
