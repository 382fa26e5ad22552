"""Fixtures only (helpers are in helpers.py): the site is built once per test session,
from a copy of the project; a test that changes a build makes its own copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import (
    CHROMIUM_ARGS,
    MINIMAL_EXAMPLE,
    MINIMAL_INDEX,
    ROOT,
    SHARED_ARTICLE,
    SITE_ENV,
    Site,
    build_site,
    copy_project,
    example_path,
    make,
    output_of,
    require,
)

@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """The whole site, built once with the README's command, warnings as errors.

    Shared by the whole session: tests read it and never change its sources or caches."""
    return build_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def doctest_run(site):
    """``make doctest`` on the built site (its examples are cached, so it runs only doctests)."""
    return make(site.root, "doctest", env=SITE_ENV)


@pytest.fixture
def mini_project(tmp_path) -> Path:
    """The real configuration with one example and a one-page docs/: fast to build."""
    files = ("conf.py", "Makefile", "requirements.txt", "docs/_ext", "docs/_static")
    root = copy_project(tmp_path / "mini", files)
    examples = root / "examples"
    examples.mkdir()
    header = ROOT / "examples" / "GALLERY_HEADER.rst"
    helpers = [*ROOT.glob("examples/_*.py"), *ROOT.glob("examples/_*.md")]
    for src in [*helpers, header, example_path(MINIMAL_EXAMPLE)]:
        shutil.copy2(src, examples / src.name)
    (root / "docs" / "index.md").write_text(MINIMAL_INDEX)
    return root


@pytest.fixture(scope="session")
def article() -> str:
    """The article on trial (shared/ beside the checkout; CI always has it)."""
    require("The article ../shared/source-article.md", SHARED_ARTICLE.is_file(),
            "check out beside shared/")
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
