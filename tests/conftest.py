"""Fixtures only (helpers are in helpers.py): the site is built once per test session,
from a copy of the project; a test that changes a build makes its own copy.

The session's shared builds (shared_builds.py) start at the first test of a run that needs
them: the site (then ``make doctest`` and ``make dist`` on it), and a second clean build in
another folder with no network, side by side."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import (
    CHROMIUM_ARGS,
    ISOLATED_INTERFACES,
    SHARED_ARTICLE,
    SITE_ENV,
    Site,
    copy_mini_project,
    copy_project,
    isolated,
    make_command,
    network_namespace,
    output_of,
    require,
)
from shared_builds import result, shared_folder, start

SITE_FIXTURES = {"site", "doctest_run", "dist"}


@pytest.fixture(scope="session", autouse=True)
def shared_builds(request, tmp_path_factory) -> Path:
    """Start the builds this run's tests need (once, whichever worker gets here first)."""
    needed = set().union(*(item.fixturenames for item in request.session.items))
    folder = shared_folder(tmp_path_factory)
    if needed & SITE_FIXTURES:
        root = folder / "site" / "project"
        steps = {target: make_command(root, target) for target in ("html", "doctest", "dist")}
        start(folder / "site", steps, SITE_ENV, prepare=lambda _, root=root: copy_project(root))
    if "offline_build" in needed and network_namespace() is not None:
        root = folder / "offline" / "another-folder-name"
        command = isolated(network_namespace(), make_command(root, "html"),
                           root.parent / ISOLATED_INTERFACES)
        start(root.parent, {"html": command}, SITE_ENV,
              prepare=lambda _, root=root: copy_project(root))
    return folder


@pytest.fixture(scope="session")
def site(shared_builds) -> Site:
    """The whole site, built once with the README's command, warnings as errors.

    Shared by the whole session: tests read it and never change its sources or caches.
    Ready once ``make doctest`` and ``make dist`` have run on it too: ``make dist`` runs
    ``make html`` again, which must not rewrite a file while a test reads it."""
    built = result(shared_builds / "site", "html")
    assert built.returncode == 0, output_of(built)[-20000:]
    for step in ("doctest", "dist"):
        result(shared_builds / "site", step)
    return Site(shared_builds / "site" / "project", output_of(built))


@pytest.fixture(scope="session")
def doctest_run(site, shared_builds):
    """``make doctest`` on the built site (its examples are cached, so it runs only doctests)."""
    return result(shared_builds / "site", "doctest")


@pytest.fixture(scope="session")
def offline_build(shared_builds) -> tuple:
    """A clean build of its own copy of the project, in a folder unlike the site's, run in a
    new network namespace: (its result, the interfaces the namespace had, its project root)."""
    require("A network namespace (unshare -n as root, unshare -rn otherwise; ip)",
            network_namespace() is not None, "util-linux and iproute2, user namespaces enabled")
    folder = shared_builds / "offline"
    built = result(folder, "html")
    interfaces = folder / ISOLATED_INTERFACES
    listed = interfaces.read_text() if interfaces.exists() else ""
    return built, listed, folder / "another-folder-name"


@pytest.fixture
def mini_project(tmp_path) -> Path:
    """The real configuration with one example and a one-page docs/: fast to build."""
    return copy_mini_project(tmp_path / "mini")


@pytest.fixture(scope="session")
def article() -> str:
    """The article on trial, from shared/ beside the checkout, where there is one.

    A checkout of the repository alone has no copy of the article: the tests that
    compare with it are skipped there (CI included), and the quotes are still checked
    against their recorded sha256 (tests/test_article_quote.py)."""
    if not SHARED_ARTICLE.is_file():
        pytest.skip("SKIPPED: no ../shared/source-article.md beside this checkout; "
                    "the quotes are checked against their recorded digests instead")
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
def dist(site, shared_builds) -> Path:
    """The offline formats (zip, EPUB, single page) made by ``make dist`` from the built site."""
    made = result(shared_builds / "site", "dist")
    assert made.returncode == 0, output_of(made)[-5000:]
    return site.root / "build" / "dist"
