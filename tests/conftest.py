"""Fixtures only (helpers are in helpers.py). The site is built once per test session,
from a copy of the project, with pytest-xdist's file-lock recipe: the first worker that
asks builds, the others wait for the lock and read what it left."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from filelock import FileLock
from helpers import (
    CHROMIUM_ARGS,
    SHARED_ARTICLE,
    SITE_ENV,
    Site,
    copy_mini_project,
    copy_project,
    make_command,
    offline,
    output_of,
    require,
)

def pytest_collection_modifyitems(items):
    """The tests that read the site first, then the others from the last file to the first:
    pytest-xdist's worksteal gives each worker half of the list, so one builds the site
    while the other builds small projects (test_fault_matrix.py, ...) that need none."""
    reads = [item for item in items if "site" in item.fixturenames]
    items[:] = reads + [i for i in reversed(items) if "site" not in i.fixturenames]


def folder_of(factory, name: str) -> Path:
    """The folder ``name`` that every pytest-xdist worker of this session shares."""
    base = factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name


def shared(factory, name: str, steps) -> dict[str, subprocess.CompletedProcess]:
    """Run ``steps(folder)`` (name: command, in order, stopping at a failure) once per
    session, in whichever worker gets here first; every worker gets their results."""
    folder = folder_of(factory, name)
    record, env = folder / "results.json", {**os.environ, **SITE_ENV}
    with FileLock(f"{folder}.lock"):
        if not record.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            results = {}
            for step, command in steps(folder).items():
                run = subprocess.run(command, capture_output=True, text=True, env=env)
                results[step] = [run.returncode, output_of(run)]
                if run.returncode:
                    break
            record.write_text(json.dumps(results))
    results = json.loads(record.read_text()).items()
    return {s: subprocess.CompletedProcess(s, rc, log, "") for s, (rc, log) in results}


@pytest.fixture(scope="session")
def site_builds(tmp_path_factory):
    def steps(folder: Path) -> dict[str, list[str]]:
        root = copy_project(folder / "project")
        # dist (whose first step is html) before doctest, after which html rewrites every page
        return {t: make_command(root, t) for t in ("html", "dist", "doctest")}

    return shared(tmp_path_factory, "site", steps)


@pytest.fixture(scope="session")
def site(site_builds, tmp_path_factory) -> Site:
    """The whole site, built once with the README's command (then ``make dist`` and
    ``make doctest``), warnings as errors. Tests read it and never change it."""
    built = site_builds["html"]
    assert built.returncode == 0, built.stdout[-20000:]
    return Site(folder_of(tmp_path_factory, "site/project"), built.stdout)


@pytest.fixture(scope="session")
def doctest_run(site, site_builds):
    return site_builds["doctest"]


@pytest.fixture(scope="session")
def dist(site, site_builds) -> Path:
    """The offline formats (zip, EPUB, single page) made by ``make dist``."""
    assert site_builds["dist"].returncode == 0, site_builds["dist"].stdout[-5000:]
    return site.root / "build" / "dist"


@pytest.fixture(scope="session")
def rebuild(site, tmp_path_factory):
    """The built site copied to a folder of another name, its build/ removed, built again
    in a new network namespace: no example runs again (their outputs are current), every
    page is written anew. (its result, the namespace's interfaces, its project root)"""
    def steps(folder: Path) -> dict[str, list[str]]:
        root = folder / "another-folder-name"
        shutil.copytree(site.root, root, ignore=shutil.ignore_patterns("build"))
        listed = f'ip -o link show > {folder}/interfaces.txt && exec "$0" "$@"'
        return {"html": [*offline(), "sh", "-c", listed, *make_command(root, "html")]}

    results = shared(tmp_path_factory, "rebuild", steps)
    folder = folder_of(tmp_path_factory, "rebuild")
    interfaces = folder / "interfaces.txt"
    listed = interfaces.read_text() if interfaces.exists() else ""
    return results["html"], listed, folder / "another-folder-name"


@pytest.fixture
def mini_project(tmp_path) -> Path:
    """The real configuration with one example and a one-page docs/: fast to build."""
    return copy_mini_project(tmp_path / "mini")


@pytest.fixture(scope="session")
def article() -> str:
    """The article on trial, from shared/ beside the checkout. A checkout alone (CI) has
    none: the tests that compare with it skip, and the quotes are still checked against
    their recorded sha256 (test_article_quote.py)."""
    if not SHARED_ARTICLE.is_file():
        pytest.skip("no ../shared/source-article.md beside this checkout")
    return SHARED_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium driven by Playwright (which cannot download browsers here)."""
    executable = shutil.which("chromium")
    require("Chromium", executable is not None, "apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
