"""Record what every example does on older torch versions: ``make matrix``.

For each version, a throwaway virtual environment gets that torch and only what the
examples need; every ``examples/*/plot_*.py`` runs there as a plain script (``python
plot_x.py`` in its folder, ``MPLBACKEND=Agg``, a deadline each), and the claims ledger
is judged. The results go into ``docs/_data/torch-matrix.json``, one column per version.
The errors an example showed are read from what it printed, as the site reads them
(``guide.shown_errors``). The installed torch needs no column: the build is its column.

    python .ci/matrix.py                 # every version in VERSIONS
    python .ci/matrix.py 2.5.1           # only these columns
"""

from __future__ import annotations

import datetime
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import guide  # noqa: E402 - from docs/_ext

OUTPUT = ROOT / "docs" / "_data" / "torch-matrix.json"
# 2.5.1 is what most readers ran when the article was published (2025-01-30, the day
# after 2.6.0 came out).
VERSIONS = ["2.0.1", "2.3.1", "2.5.1", "2.6.0"]
DEADLINE_S = 120  # per example
# What the examples import besides torch (wheels of torch before 2.4 need NumPy 1), and
# sphinx-gallery, with which the ledger reads the article's code from the examples.
EXTRAS = ["matplotlib==3.11.2", "sphinx-gallery==0.22.1"]
FRAME = re.compile(r'File "(?:[^"]*/)?(plot_\w+\.py)", line (\d+)')
LEDGER = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); from ledger import judge_all; "
    "print(json.dumps([{'quote': j['quote'], 'verdict': j['verdict']} for j in judge_all()]))"
)


def run_example(python: Path, script: Path, env: dict) -> dict:
    """What ``python plot_x.py`` did: its status, its failure, the errors it showed."""
    try:
        run = subprocess.run([str(python), script.name], cwd=script.parent, env=env,
                             capture_output=True, text=True, timeout=DEADLINE_S)
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else ""
        failure = {"type": "timeout", "first_line": f"still running after {DEADLINE_S} s"}
        return {"status": "timeout", "failure": failure, "errors_shown": guide.shown_errors(out)}
    outcome = {"status": "passed", "failure": None, "errors_shown": guide.shown_errors(run.stdout)}
    if run.returncode != 0:
        raised = guide.shown_errors(run.stderr) or [f"crash: exit status {run.returncode}"]
        kind, _, message = raised[-1].partition(": ")
        lines = [int(n) for name, n in FRAME.findall(run.stderr) if name == script.name]
        outcome["status"] = "failed"
        outcome["failure"] = {"type": kind, "first_line": message.splitlines()[0] if message
                              else "", "text": raised[-1], "line": lines[-1] if lines else None}
    return outcome


def record(version: str, work: Path) -> dict:
    """One column: install ``version`` in a new environment, run everything, remove it."""
    venv, started = work / "venv", time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    numpy = "numpy==1.26.4" if tuple(map(int, version.split(".")[:2])) < (2, 4) else "numpy==2.4.6"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"torch=={version}",
                    numpy, *EXTRAS], check=True)
    probe = ("import json, platform; from importlib.metadata import version as v; print(json."
             "dumps({k: v(k) for k in ('torch', 'numpy', 'matplotlib')}))")
    column = json.loads(subprocess.run([str(python), "-c", probe], check=True,
                                       capture_output=True, text=True).stdout)
    column.update(python=platform.python_version(), install_s=round(time.monotonic() - started))
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "MPLBACKEND": "Agg", "HOME": str(work)}
    column["examples"] = {}
    for script in sorted(ROOT.glob("examples/*/plot_*.py"), key=lambda p: p.name):
        column["examples"][script.name] = run_example(python, script, env)
        print(f"{version}: {script.name}: {column['examples'][script.name]['status']}", flush=True)
    ledger = subprocess.run([str(python), "-c", LEDGER, str(ROOT / "docs" / "_ext")],
                            capture_output=True, text=True, env=env, timeout=DEADLINE_S)
    column["ledger"] = json.loads(ledger.stdout) if ledger.returncode == 0 else []
    column["date"] = datetime.date.today().isoformat()
    return column


def main(versions: list[str]) -> None:
    data = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {"columns": {}}
    for version in versions or VERSIONS:
        with tempfile.TemporaryDirectory() as work:
            data["columns"][version] = record(version, Path(work))
        key = lambda v: tuple(map(int, v.split(".")))  # noqa: E731
        data["columns"] = dict(sorted(data["columns"].items(), key=lambda item: key(item[0])))
        OUTPUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
