"""The builds a test session shares, each started once, in the background.

``make test`` runs pytest in several processes (pytest-xdist); every process asks for the
same builds. The first to ask starts a build's steps as one shell script and every process
waits for the files it leaves: each step's log and exit status. So each build runs once per
session, and independent builds run side by side while the tests that need none go on.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

# A step that did not run because the first one failed (make exits with 0 to 2).
NOT_RUN = 99


def shared_folder(tmp_path_factory) -> Path:
    """The session's temporary folder, which every pytest-xdist worker sees."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def start(folder: Path, steps: dict[str, list[str]], env: dict[str, str], prepare=None) -> bool:
    """Start ``steps`` (name: command) one after the other in the background, unless started.

    Each step writes ``<name>.log`` and then ``<name>.rc`` into ``folder``; the steps after
    the first run only if it succeeded. ``prepare(folder)`` runs first, in this process. Returns
    whether this call started them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:  # creating this file is atomic: one process wins
        os.close(os.open(folder / "started", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    if prepare is not None:
        prepare(folder)
    lines, first = [], None
    for name, command in steps.items():
        log, rc = shlex.quote(str(folder / f"{name}.log")), shlex.quote(str(folder / f"{name}.rc"))
        run = f"{shlex.join(command)} > {log} 2>&1; echo $? > {rc}"
        if first is not None:
            skip = f"echo 'not run: the first step failed' > {log}; echo {NOT_RUN} > {rc}"
            run = f'if [ "$(cat {first})" = 0 ]; then {run}; else {skip}; fi'
        lines.append(run)
        first = first or rc
    # In this process group, so that an interrupted test run stops them too.
    subprocess.Popen(["sh", "-c", "\n".join(lines)], env={**os.environ, **env},
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return True


def result(folder: Path, name: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Wait for step ``name`` of the build in ``folder``: its exit status and its log."""
    rc = folder / f"{name}.rc"
    deadline = time.monotonic() + timeout
    while not (rc.exists() and rc.read_text().strip()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{folder.name}: step {name} did not end in {timeout:.0f} s")
        time.sleep(0.5)
    log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
    return subprocess.CompletedProcess(name, int(rc.read_text()), stdout=log, stderr="")
