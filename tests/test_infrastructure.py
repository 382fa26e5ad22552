"""The build's machinery: requirements by purpose, the venv rules, the CI commands, the lints."""

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
        assert "#    make lock\n" in text, lock  # written by pip-compile, through make lock
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("#    make lock\n#\n", 1)[1].strip())
        unexplained = [b.split("\n")[0] for b in blocks if b[0].isalnum() and "# via" not in b]
        assert not unexplained, (lock, unexplained)


def test_the_build_installs_no_test_tool_and_the_tests_reuse_the_build_pins():
    build, dev = pins(ROOT / "requirements.txt"), pins(ROOT / "tests/requirements.txt")
    for tool in ("pytest", "playwright", "ruff", "codespell", "pip-tools"):
        assert tool not in {name.lower() for name in build} and tool in dev, tool
    shared = set(build) & set(dev)
    assert {name: dev[name] for name in shared} == {name: build[name] for name in shared}


def test_the_installed_torch_is_the_pinned_one():
    pinned = pins(ROOT / "requirements.txt")["torch"]
    assert torch.__version__.split("+")[0] == pinned
    assert "+" not in pinned  # one pin for every platform: macOS has no +cpu build


def test_read_the_docs_installs_only_the_build_requirements():
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert config["python"]["install"] == [{"requirements": "requirements.txt"}]
    (torch_install,) = config["build"]["jobs"]["pre_install"]
    makefile_index = re.search(r"^TORCH_INDEX \?= (\S+)", (ROOT / "Makefile").read_text(), re.M)[1]
    assert f"--index-url {makefile_index} " in torch_install  # the Makefile's CPU index
    assert "requirements.txt" in torch_install  # the pin comes from the lock


def outside_make() -> dict[str, str]:
    """This environment without what a calling ``make`` passes down (``make PYTHON=… test``
    exports PYTHON to every command below it, which would skip the .venv rules)."""
    passed_down = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON")
    return {k: v for k, v in os.environ.items() if k not in passed_down}


def dry_run(project: Path, *args: str) -> str:
    """What ``make -n`` would run in ``project`` (no PYTHON=: the .venv rules apply)."""
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(project), *args],
        capture_output=True,
        text=True,
        env=outside_make(),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def made_venv(tmp_path) -> Path:
    """A project copy whose .venv is up to date with all its requirements (stamps only)."""
    files = ("Makefile", "requirements.txt", "tests/requirements.txt")
    project = copy_project(tmp_path / "p", files)
    (project / ".venv").mkdir()
    for lock, stamp in zip(files[1:], (".requirements.txt", ".dev-requirements.txt")):
        shutil.copy(project / lock, project / ".venv" / stamp)
    return project


def test_a_fresh_clone_makes_html_with_the_build_set_alone(tmp_path):
    project = made_venv(tmp_path)
    shutil.rmtree(project / ".venv")
    commands = dry_run(project, "html")
    assert "-m venv .venv" in commands and "-r requirements.txt" in commands
    assert "tests/requirements.txt" not in commands
    assert "tests/requirements.txt" in dry_run(project, "test")


def test_a_new_test_tool_pin_updates_venv_in_place(tmp_path):
    project = made_venv(tmp_path)
    assert "pip install" not in dry_run(project, "test")
    os.utime(project / "tests/requirements.txt", (1e10, 1e10))  # newer than .venv's copy
    commands = dry_run(project, "test")
    assert "-r tests/requirements.txt" in commands
    assert "rm -rf .venv" not in commands and "-m venv" not in commands
    os.utime(project / "requirements.txt", (1e10, 1e10))
    assert "rm -rf .venv" in dry_run(project, "html")


def test_torch_comes_from_the_cpu_index_on_linux_unless_told_otherwise(tmp_path):
    project = made_venv(tmp_path)
    shutil.rmtree(project / ".venv")
    default = dry_run(project, "html")
    assert ("download.pytorch.org/whl/cpu" in default) == (os.uname().machine == "x86_64")
    assert "download.pytorch.org" not in dry_run(project, "html", "TORCH_INDEX=")


def test_an_old_python_is_refused_before_anything_is_installed(tmp_path):
    project = made_venv(tmp_path)
    shutil.rmtree(project / ".venv")
    old = tmp_path / "python3.10"
    old.write_text(
        "#!/bin/sh\n# Answers as Python 3.10 would to the Makefile's question.\n"
        f"exec {sys.executable} -c 'import sys; sys.version_info = (3, 10, 14); "
        'exec(sys.argv[1])\' "$2"\n'
    )
    old.chmod(0o755)
    result = subprocess.run(
        ["make", "-C", str(project), "html", f"BOOTSTRAP={old}"],
        capture_output=True,
        text=True,
        env=outside_make(),
    )
    assert result.returncode != 0
    assert "is Python 3.10; this project needs Python 3.11 or newer" in result.stderr
    assert not (project / ".venv").exists()


def run_commands(text: str) -> list[str]:
    """The commands of a shell script, one a line, comments and blank lines left out."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def test_the_workflow_runs_only_what_ci_runs():
    workflow = yaml.safe_load((ROOT / ".github/workflows/docs.yml").read_text())
    ci = run_commands((ROOT / ".ci/run").read_text())
    commands = [
        command
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "run" in step
        for command in run_commands(step["run"])
    ]
    assert {"make html", "make doctest", "make test"} <= set(commands)
    assert [c for c in commands if c not in ci] == []


def test_the_workflow_runs_its_checks_in_parallel_with_pip_cached_by_the_lock_files():
    jobs = yaml.safe_load((ROOT / ".github/workflows/docs.yml").read_text())["jobs"]
    checks = {name: job for name, job in jobs.items() if "needs" not in job}
    assert len(checks) >= 2, "the build and the tests start together"
    for name, job in checks.items():
        (cache,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@")]
        assert "hashFiles('requirements.txt'" in cache["with"]["key"], name
    assert set(jobs["deploy"]["needs"]) == set(checks)


@pytest.mark.filterwarnings("ignore:A test tried to use socket")  # pytest-socket's, expected
def test_a_test_that_connects_off_the_machine_fails_at_once():
    """pytest-socket (tests/pytest.ini) refuses any host but 127.0.0.1, before a packet."""
    from pytest_socket import SocketConnectBlockedError  # noqa: PLC0415

    # A name under .invalid never resolves; pytest-socket refuses it before resolving.
    with socket.socket() as client, pytest.raises(SocketConnectBlockedError):
        client.connect(("moduledict.invalid", 80))
    with socket.create_server(("127.0.0.1", 0)) as server:  # this machine stays reachable
        socket.create_connection(server.getsockname(), timeout=1).close()


def test_a_checkout_with_no_shared_folder_beside_it_passes_under_ci(tmp_path):
    """The rehearsal of a hosted runner: the repository alone, CI=true. The tests that
    read the article's source text skip (it is not the project's), and the quotes are
    checked against their recorded digests. Run here: the test files whose tests take the
    ``article`` fixture and need no site build (test_claims.py's take it through the same
    fixture, with a build)."""
    clone = copy_project(tmp_path / "clone", (*PROJECT_FILES, "tests", ".ci"))
    assert not (clone.parent / "shared").exists()
    env = {**os.environ, "CI": "true"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        "tests/pytest.ini",
        "-p",
        "no:xdist",
        "-rs",
        "tests/test_article_quote.py",
        "tests/test_ledger_rules.py",
    ]
    result = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    skipped = re.findall(r"^SKIPPED .*no \.\./shared/source-article\.md", result.stdout, re.M)
    assert skipped, result.stdout[-3000:]  # the comparison with the source was skipped
    assert re.search(r"\b(\d{2,}) passed", result.stdout), result.stdout[-500:]


def test_a_site_hosted_under_a_sub_path_gets_a_404_page_linking_under_it():
    """With SITE_URL (the workflow sets it for GitHub Pages), the 404 page's absolute links
    start with that URL's path; unset, with "/"."""
    script = "import runpy; print(runpy.run_path('conf.py')['notfound_urls_prefix'])"

    def prefix(**env):
        environ = {
            k: v
            for k, v in os.environ.items()
            if k not in ("SITE_URL", "READTHEDOCS_CANONICAL_URL")
        }
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    assert prefix(SITE_URL="https://moduledict.invalid/corrected/") == "/corrected/"
    assert prefix() == "/"


def test_the_readme_layout_names_every_extension_script_and_test_helper():
    layout = (ROOT / "README.md").read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    files = [
        *(ROOT / "docs" / "_ext").glob("*.py"),
        *(ROOT / ".ci").iterdir(),
        *(p for p in (ROOT / "tests").glob("*.py") if not p.name.startswith("test_")),
    ]
    names = [p.name for p in files if p.name != "__pycache__"]
    assert len(names) >= 20
    assert [
        n for n in names if f"`{n}`" not in layout and f"`{n.removesuffix('.py')}" not in layout
    ] == []
