"""Run a function on 2 ranks: one process per rank, a gloo process group on 127.0.0.1.

``run(fn, *args)`` returns ``[fn(0, *args), fn(1, *args)]``, each value computed by
its own rank process. A new Python process (the launcher) imports torch once and
forks the ranks (``os.fork``: Linux or macOS); each joins a gloo group on a free port
of 127.0.0.1 and calls ``fn``. ``fn`` travels as source code, so it imports what it
uses and gets its data from ``args``; ``args`` and return values go through pickle.

Nothing can hang: the rendezvous and every collective wait at most ``GROUP_TIMEOUT``
seconds; when a rank fails, the launcher kills the others; ``deadline`` seconds after
the fork (``STARTUP`` seconds are allowed before it, to import torch) every process
is killed. Then ``run`` raises ``RankError``, naming the file of ``fn`` and the rank
that failed first, with the end of its error output.
"""

from __future__ import annotations

import datetime
import inspect
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from pathlib import Path

GROUP_TIMEOUT = 20  # seconds the rendezvous or a collective waits for the other ranks
STARTUP = 120  # seconds the launcher may take to import torch on a busy machine


class RankError(RuntimeError):
    """A rank raised, died, or did not finish before the deadline."""


def run(fn, *args, world_size: int = 2, deadline: float = 45) -> list:
    """``[fn(rank, *args) for rank in range(world_size)]``, one process per rank."""
    lines, first_line = inspect.getsourcelines(fn)
    origin = fn.__code__.co_filename
    # Blank lines in front keep the line numbers of ``origin`` in the ranks' tracebacks.
    source = "\n" * (first_line - 1) + textwrap.dedent("".join(lines))
    where = f"{Path(origin).name}, {fn.__name__}()"
    job = (source, origin, fn.__name__, args, world_size)
    with tempfile.TemporaryDirectory(prefix="ranks-") as tmp:
        folder = Path(tmp)
        (folder / "job.pkl").write_bytes(pickle.dumps(job))
        _launch_and_wait(folder, deadline, where)
        if (folder / "failed.txt").exists():
            rank, how = (folder / "failed.txt").read_text().split(" ", 1)
            report = folder / f"error{rank}.txt"  # the exception, if Python raised one
            if not report.exists():
                report = folder / f"stderr{rank}.txt"
            raise RankError(f"{where}: rank {rank} of {world_size} failed first ({how}):\n"
                            + _tail(report))
        return [pickle.loads((folder / f"result{r}.pkl").read_bytes()) for r in range(world_size)]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that is free now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _launch_and_wait(folder: Path, deadline: float, where: str) -> None:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        # gloo connects the ranks through the loopback interface only.
        "GLOO_SOCKET_IFNAME": "lo0" if sys.platform == "darwin" else "lo",
    }
    # This module's own source runs the launcher (read through inspect, so that a copy
    # inlined into a downloaded script or notebook works too).
    (folder / "launcher.py").write_text(inspect.getsource(sys.modules[__name__]))
    with open(folder / "launcher.txt", "wb") as log:
        launcher = subprocess.Popen(
            [sys.executable, str(folder / "launcher.py"), str(folder)], env=env, stdout=log,
            stderr=log,
            start_new_session=True,  # one process group: the launcher and its ranks
        )
        end = time.monotonic() + STARTUP
        forked = folder / "forked"
        try:
            while launcher.poll() is None:
                if forked.exists() and end > time.monotonic() + deadline:
                    end = time.monotonic() + deadline  # the ranks have started
                if time.monotonic() > end:
                    started = forked.exists()
                    limit = f"{deadline} s after they started" if started else f"{STARTUP} s"
                    raise RankError(f"{where}: the ranks were still running {limit}; killed")
                time.sleep(0.05)
        finally:  # a deadline, or an interrupt: stop the launcher and its ranks
            if launcher.poll() is None:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
    if launcher.returncode != 0:
        raise RankError(f"{where}: the launcher failed:\n{_tail(folder / 'launcher.txt')}")


# torch's own log lines, such as "[W1128 19:10:13.377579151 socket.cpp:207] ...", carry
# the time: the tail leaves them out.
TORCH_LOG_LINE = re.compile(r"^\[[DIWEF]\d{4} \d\d:\d\d:\d\d\.\d+ ")


def _tail(path: Path, lines: int = 12) -> str:
    """The last lines of a rank's error output, without torch's timestamped log lines."""
    text = path.read_text(errors="replace").strip().splitlines()
    return "\n".join([line for line in text if not TORCH_LOG_LINE.match(line)][-lines:])


def _launcher(folder: Path) -> None:
    """Import torch once, fork the ranks, record the first rank that fails."""
    # Imported before the fork, once for all ranks (FSDP2 imports Dynamo on first use).
    import torch._dynamo  # noqa: F401
    import torch.distributed.fsdp  # noqa: F401
    import torch.nn.parallel  # noqa: F401

    source, origin, name, args, world_size = pickle.loads((folder / "job.pkl").read_bytes())
    namespace = {"__name__": "__rank__"}
    exec(compile(source, origin, "exec"), namespace)
    port, pids = free_port(), []  # picked just before rank 0 binds it
    for rank in range(world_size):
        pid = os.fork()
        if pid == 0:
            _rank(folder, rank, world_size, port, namespace[name], args)  # never returns
        pids.append(pid)
    (folder / "forked").touch()
    caller, running, failed = os.getppid(), list(range(world_size)), {}
    while running and not failed:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:  # no rank has ended
            if os.getppid() != caller:  # the process that called run() is gone
                for rank in running:
                    os.kill(pids[rank], signal.SIGKILL)
                sys.exit(1)
            time.sleep(0.01)
            continue
        rank = pids.index(pid)
        running.remove(rank)
        if os.waitstatus_to_exitcode(status) != 0:
            failed[rank] = os.waitstatus_to_exitcode(status)
    for rank in running:  # a rank failed: the others cannot finish without it
        os.kill(pids[rank], signal.SIGKILL)
    for rank in running:
        code = os.waitstatus_to_exitcode(os.waitpid(pids[rank], 0)[1])
        if code not in (0, -signal.SIGKILL):  # it failed before it was killed
            failed[rank] = code
    if failed:
        # Which rank failed first? A rank killed by a signal (an abort, a segfault)
        # did not react to another rank; among the others, the earliest exception.
        signalled = sorted(rank for rank, code in failed.items() if code < 0)
        first = signalled[0] if signalled else min(failed, key=lambda r: _raised_at(folder, r))
        code = failed[first]
        how = f"exit code {code}" if code > 0 else signal.Signals(-code).name
        (folder / "failed.txt").write_text(f"{first} {how}")


def _raised_at(folder: Path, rank: int) -> float:
    raised = folder / f"raised{rank}.txt"
    return float(raised.read_text()) if raised.exists() else float("inf")


def _rank(folder: Path, rank: int, world_size: int, port: int, fn, args) -> None:
    """One rank: join the group, run ``fn``, save its value; exits, never returns."""
    import torch
    import torch.distributed as dist

    code = 1
    try:
        stderr = os.open(folder / f"stderr{rank}.txt", os.O_WRONLY | os.O_CREAT)
        os.dup2(stderr, 2)  # this rank's error output, from Python and C++, to its own file
        torch.set_num_threads(1)
        dist.init_process_group(
            "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size,
            timeout=datetime.timedelta(seconds=GROUP_TIMEOUT),
        )
        value = fn(rank, *args)
        (folder / f"result{rank}.pkl").write_bytes(pickle.dumps(value))
        dist.destroy_process_group()
        code = 0
    except BaseException as error:
        (folder / f"raised{rank}.txt").write_text(repr(time.monotonic()))
        traceback.print_exc()
        (folder / f"error{rank}.txt").write_text("".join(traceback.format_exception_only(error)))
    finally:
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    _launcher(Path(sys.argv[1]))
