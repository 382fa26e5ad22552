"""The build's machinery: requirements by purpose, the venv rules, the CI, the lints."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from helpers import PROJECT_FILES, ROOT, copy_project

def pins(lock: Path) -> dict[str, str]:
    lines = lock.read_text().splitlines()
    return dict(
        re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
        for line in lines
        if re.match(r"[A-Za-z0-9]", line)
    )


def test_every_pin_is_generated_and_says_why():
    for lock in ("requirements.txt", "tests/requirements.txt"):
        text = (ROOT / lock).read_text()
        # written by pip-compile, through make lock
        assert "#    make lock\n" in text, lock
        pinned = text.split("#    make lock\n#\n", 1)[1].strip()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", pinned)
        unexplained = [b.split()[0] for b in blocks if "# via" not in b]
        assert not unexplained, (lock, unexplained)


def test_the_build_installs_no_test_tool_and_the_tests_reuse_the_build_pins():
    build, dev = pins(ROOT / "requirements.txt"), pins(ROOT / "tests/requirements.txt")
    for tool in ("pytest", "playwright", "ruff", "codespell", "pip-tools"):
        assert tool not in {name.lower() for name in build} and tool in dev, tool
    shared = set(build) & set(dev)
    assert [n for n in shared if dev[n] != build[n]] == []


def test_the_installed_torch_is_the_pinned_one():
    pinned = pins(ROOT / "requirements.txt")["torch"]
    assert torch.__version__.split("+")[0] == pinned
    assert "+" not in pinned  # one pin for every platform: macOS has no +cpu build


def test_read_the_docs_installs_only_the_build_requirements():
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert config["python"]["install"] == [{"requirements": "requirements.txt"}]
    (torch_install,) = config["build"]["jobs"]["pre_install"]
    makefile_index = re.search(
        r"^TORCH_INDEX \?= (\S+)", (ROOT / "Makefile").read_text(), re.M
    )[1]
    assert f"--index-url {makefile_index} " in torch_install  # the Makefile's CPU index
    assert "requirements.txt" in torch_install  # the pin comes from the lock


# Without what a calling ``make`` passes down (``make PYTHON=… test`` exports PYTHON to
# every command below it, which would skip the .venv rules).
OUTSIDE_MAKE = {
    k: v
    for k, v in os.environ.items()
    if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON")
}


def dry_run(project: Path, *args: str) -> str:
    """What ``make -n`` would run in ``project`` (no PYTHON=: the .venv rules apply)."""
    command = ["make", "-n", "--no-print-directory", "-C", str(project), *args]
    result = subprocess.run(command, capture_output=True, text=True, env=OUTSIDE_MAKE)
    assert result.returncode == 0, result.stderr
    return result.stdout


def made_venv(tmp_path, fresh=False) -> Path:
    """A project copy whose .venv is up to date with all its requirements (stamps only),
    or, ``fresh``, has none."""
    files = ("Makefile", "requirements.txt", "tests/requirements.txt")
    project = copy_project(tmp_path / "p", files)
    if not fresh:
        (project / ".venv").mkdir()
        for lock, stamp in zip(
            files[1:], (".requirements.txt", ".dev-requirements.txt")
        ):
            shutil.copy(project / lock, project / ".venv" / stamp)
    return project


def test_a_fresh_clone_makes_html_with_the_build_set_and_torch_from_the_cpu_index(
    tmp_path,
):
    """On Linux x86_64 torch comes from the CPU index unless TORCH_INDEX= says otherwise."""
    project = made_venv(tmp_path, fresh=True)
    commands = dry_run(project, "html")
    assert "-m venv .venv" in commands and "-r requirements.txt" in commands
    assert "tests/requirements.txt" not in commands
    assert "tests/requirements.txt" in dry_run(project, "test")
    x86 = os.uname().machine == "x86_64"
    assert ("download.pytorch.org/whl/cpu" in commands) == x86
    assert "download.pytorch.org" not in dry_run(project, "html", "TORCH_INDEX=")


def test_a_new_test_tool_pin_updates_venv_in_place(tmp_path):
    project = made_venv(tmp_path)
    assert "pip install" not in dry_run(project, "test")
    # newer than .venv's copy
    os.utime(project / "tests/requirements.txt", (1e10, 1e10))
    commands = dry_run(project, "test")
    assert "-r tests/requirements.txt" in commands
    assert "rm -rf .venv" not in commands and "-m venv" not in commands
    os.utime(project / "requirements.txt", (1e10, 1e10))
    assert "rm -rf .venv" in dry_run(project, "html")


def test_an_old_python_is_refused_before_anything_is_installed(tmp_path):
    project, old = made_venv(tmp_path, fresh=True), tmp_path / "python3.10"
    old.write_text(
        "#!/bin/sh\n# Answers as Python 3.10 would to the Makefile's question.\n"
        f"exec {sys.executable} -c 'import sys; sys.version_info = (3, 10, 14); "
        'exec(sys.argv[1])\' "$2"\n'
    )
    old.chmod(0o755)
    command = ["make", "-C", str(project), "html", f"BOOTSTRAP={old}"]
    result = subprocess.run(command, capture_output=True, text=True, env=OUTSIDE_MAKE)
    assert result.returncode != 0
    assert "is Python 3.10; this project needs Python 3.11 or newer" in result.stderr
    assert not (project / ".venv").exists()


def test_the_workflow_runs_only_what_ci_runs_in_parallel_with_pip_cached_by_the_locks():
    jobs = yaml.safe_load((ROOT / ".github/workflows/docs.yml").read_text())["jobs"]
    lines = lambda t: [s for s in map(str.strip, t.splitlines()) if s[:1] not in "#"]  # noqa: E731
    ci = lines((ROOT / ".ci/run").read_text())
    steps = [step for job in jobs.values() for step in job["steps"]]
    commands = [c for step in steps for c in lines(step.get("run", ""))]
    assert {"make html", "make doctest", "make test"} <= set(commands)
    assert [c for c in commands if c not in ci] == []
    checks = {name: job for name, job in jobs.items() if "needs" not in job}
    assert len(checks) >= 2, "the build and the tests start together"
    for name, job in checks.items():
        action = "actions/cache@"
        (cache,) = [s for s in job["steps"] if s.get("uses", "").startswith(action)]
        assert "hashFiles('requirements.txt'" in cache["with"]["key"], name
    assert set(jobs["deploy"]["needs"]) == set(checks)


# pytest-socket's warning, expected
@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_a_test_that_connects_off_the_machine_fails_at_once():
    """pytest-socket (tests/pytest.ini) refuses any host but 127.0.0.1, before a packet."""
    from pytest_socket import SocketConnectBlockedError  # noqa: PLC0415

    # A name under .invalid never resolves; pytest-socket refuses it before resolving.
    with socket.socket() as client, pytest.raises(SocketConnectBlockedError):
        client.connect(("moduledict.invalid", 80))
    # this machine stays reachable
    with socket.create_server(("127.0.0.1", 0)) as server:
        socket.create_connection(server.getsockname(), timeout=1).close()


def test_a_checkout_with_no_shared_folder_beside_it_passes_under_ci(tmp_path):
    """The rehearsal of a hosted runner (the repository alone, CI=true) on the test files
    that take the ``article`` fixture without a site build: the comparisons with the
    article's source skip, and the quotes are checked against their recorded digests."""
    clone = copy_project(tmp_path / "clone", (*PROJECT_FILES, "tests", ".ci"))
    assert not (clone.parent / "shared").exists()
    files = "tests/test_article_quote.py tests/test_ledger_rules.py"
    command = [
        sys.executable,
        *f"-m pytest -c tests/pytest.ini -p no:xdist -rs {files}".split(),
    ]
    env = {**os.environ, "CI": "true"}
    result = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    skip = r"^SKIPPED .*no \.\./shared/source-article\.md"
    # the comparison with the source was skipped
    assert re.search(skip, result.stdout, re.M), result.stdout[-3000:]
    assert re.search(r"\b(\d{2,}) passed", result.stdout), result.stdout[-500:]


@pytest.mark.parametrize("url, prefix", [("https://x.invalid/a/", "/a/"), ("", "/")])
def test_a_site_hosted_under_a_sub_path_gets_a_404_page_linking_under_it(url, prefix):
    """With SITE_URL (set by the workflow for GitHub Pages), the 404 page's absolute links
    start with that URL's path; unset, with "/"."""
    unset = ("SITE_URL", "READTHEDOCS_CANONICAL_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {"SITE_URL": url} if url else {}
    script = "import runpy; print(runpy.run_path('conf.py')['notfound_urls_prefix'])"
    command = [sys.executable, "-c", script]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.stdout.strip() == prefix, run.stderr


def test_the_readme_layout_names_every_extension_script_and_test_helper():
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    files = [
        *(ROOT / "docs" / "_ext").glob("*.py"),
        *(ROOT / ".ci").iterdir(),
        *(p for p in (ROOT / "tests").glob("*.py") if not p.name.startswith("test_")),
    ]
    names = [p.name for p in files if p.name != "__pycache__"]
    assert len(names) >= 20
    named = [n for n in names if f"`{n.removesuffix('.py')}" in layout]
    assert [n for n in names if n not in named] == []
