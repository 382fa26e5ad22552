"""Record what every example does on each torch version: ``make matrix``.

For each version in ``VERSIONS`` this script makes a throwaway virtual environment,
installs that torch and only what the examples need (numpy, matplotlib), runs every
``examples/*/plot_*.py`` as a plain script (``python plot_x.py`` in its folder,
``MPLBACKEND=Agg``, a deadline per example), removes the environment and goes on
to the next version. The results are merged into ``docs/_data/torch-matrix.json``,
one column per version, with its provenance: torch, numpy, matplotlib and Python
versions, the date, and this script's sha256 (the site's tests refuse a column
recorded by another version of this script). Failures are stored as raised; the
site's extension (docs/_ext/torch_matrix.py) classifies them, so that changing a
classification needs no new recording.

    python .ci/matrix.py                    # every version in VERSIONS
    python .ci/matrix.py 2.13.0 2.5.1       # re-record only these columns

The same file is also the runner that the throwaway environment's Python executes
for one example (``--run-one``): it runs the script in a fresh ``__main__`` module
the way ``python plot_x.py`` does, and records the text of every error that the
example printed through its ``raises`` helper (the helper prints with
``traceback.format_exception_only``, which the runner wraps: calls made by the
example's own ``raises`` are recorded), and the error that such a helper let through when
the message did not match (a re-raise from the helper's frame). Only the standard
library is used, so both sides can run it.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
OUTPUT = ROOT / "docs" / "_data" / "torch-matrix.json"

# The ONE list of versions. 2.5.1 is what most readers ran when the article was
# published (2025-01-30, the day after 2.6.0 came out); 2.13.0 is the site's pin.
PINNED = "2.13.0"
VERSIONS = ["2.0.1", "2.3.1", "2.5.1", "2.6.0", PINNED]

# Only what the examples import besides torch. Wheels of torch before 2.4 were
# built against NumPy 1 and cannot use NumPy 2.
MATPLOTLIB = "matplotlib==3.11.2"
# The claims ledger reads the article's code from its example pages with
# sphinx-gallery's parser (docs/_ext/article_quote.py), as the site does.
SPHINX_GALLERY = "sphinx-gallery==0.22.1"


def numpy_pin(torch_version: str) -> str:
    return "numpy==1.26.4" if _key(torch_version) < (2, 4) else "numpy==2.4.6"


DEADLINE_S = 120  # per example
PYTHON = "python3.11"  # every listed torch has wheels for 3.11; the site builds on it
SCHEMA = 1


def _key(torch_version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", torch_version.split("+")[0])[:3])


def script_sha256() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# The runner: executed by the throwaway environment's Python, one example per process.
# --------------------------------------------------------------------------------------


def _exception_text(error: BaseException) -> str:
    """The last line(s) of a traceback, as Python and the pages' ``raises`` print them.

    A path into examples/ (TorchScript quotes the source) or into the environment does
    not depend on where the tree was checked out (:func:`_portable`).
    """
    return _portable("".join(FORMAT_EXCEPTION_ONLY(type(error), error)))


# Where the throwaway environment installed a package, as an error may quote it.
_SITE_PACKAGES = re.compile(r"[^\s'\"()]*[/\\]site-packages[/\\]")


def _portable(text: str) -> str:
    """``text`` without where the tree or the environment lies on this machine: a path
    into examples/ is made relative to it, one into site-packages starts there."""
    text = text.strip().replace(str(EXAMPLES) + os.sep, "")
    return _SITE_PACKAGES.sub("site-packages/", text)


FORMAT_EXCEPTION_ONLY = traceback.format_exception_only
HELPER = "raises"  # the pages' helper that checks and prints an expected error


def _checked_lines(script: Path) -> set[int]:
    """The lines of the script inside a ``with raises(...)`` block.

    An error raised there whose message does not match is re-raised by the helper, but
    ``contextlib`` gives it back its original traceback, without the helper's frame.
    """
    lines: set[int] = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "id", None) == HELPER
            for item in node.items
        ):
            lines.update(range(node.body[0].lineno, node.body[-1].end_lineno + 1))
    return lines


def run_one(script: Path, result_path: Path) -> None:
    os.chdir(script.parent)
    sys.path[:0] = [str(script.parent)]
    sys.argv = [script.name]
    # Each call: the error the page's raises() printed ("shown"), or the one it let
    # through because its message did not match ("shown" None); "raised" is the text.
    calls: list[dict] = []
    result: dict = {"status": "passed", "failure": None, "expect_error": calls}

    def recording(*args, **kwargs):
        lines = FORMAT_EXCEPTION_ONLY(*args, **kwargs)
        caller = sys._getframe(1).f_code
        if caller.co_name == HELPER and caller.co_filename == str(script):
            text = _portable("".join(lines))
            calls.append({"shown": text, "raised": text})
        return lines

    traceback.format_exception_only = recording
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    main.__builtins__ = __builtins__
    saved_main = sys.modules["__main__"]
    sys.modules["__main__"] = main
    try:
        code = compile(script.read_text(encoding="utf-8"), str(script), "exec")
        exec(code, main.__dict__)
    except BaseException as error:  # noqa: BLE001 - every failure is data here
        frames = traceback.extract_tb(error.__traceback__)
        checked = _checked_lines(script)
        if any(f.filename == str(script) and (f.name == HELPER or f.lineno in checked)
               for f in frames):
            calls.append({"shown": None, "raised": _exception_text(error)})
        result["status"] = "failed"
        result["failure"] = {
            "type": type(error).__name__,
            "module": type(error).__module__,
            "first_line": _portable((str(error).strip().splitlines() or [""])[0]),
            "missing_name": getattr(error, "name", None),
            "text": _exception_text(error),
            "line": max((f.lineno for f in frames if f.filename == str(script)), default=None),
        }
    finally:
        sys.modules["__main__"] = saved_main
        traceback.format_exception_only = FORMAT_EXCEPTION_ONLY
    result_path.write_text(json.dumps(result), encoding="utf-8")


def run_ledger(result_path: Path) -> None:
    """Every claim of the claims ledger (docs/_ext/ledger) judged with this torch: its
    quote and the verdict its rule gives, or why there is none."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    from ledger import evidence, rules  # noqa: PLC0415 - the runner's torch, not ours
    from ledger.claims import CLAIMS  # noqa: PLC0415

    claims = []
    for claim in CLAIMS:
        try:
            verdict = getattr(rules, claim.key)(getattr(evidence, claim.key)())
        except Exception as error:  # noqa: BLE001 - an older torch may lack an API
            verdict = f"no verdict ({type(error).__name__}: {_portable(str(error))[:120]})"
        claims.append({"quote": claim.quote, "verdict": verdict})
    result_path.write_text(json.dumps(claims), encoding="utf-8")


# --------------------------------------------------------------------------------------
# The recorder.
# --------------------------------------------------------------------------------------


def _du(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


class DiskPeak:
    """Samples the size of the folders the recording writes (environment, caches)."""

    def __init__(self, *paths: Path, every_s: float = 5.0):
        self.paths, self.every_s, self.peak = paths, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        self.peak = max(self.peak, sum(_du(p) for p in self.paths if p.exists()))

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def log(message: str) -> None:
    print(f"[matrix {time.strftime('%H:%M:%S')}] {message}", flush=True)


def record_version(version: str, work: Path, cache: Path | None) -> dict:
    env_dir = work / f"torch-{version}"
    tmp = work / "tmp"
    shutil.rmtree(env_dir, ignore_errors=True)
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TMPDIR=str(tmp), MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env.pop("GUIDE_ERROR_LOG", None)
    env.pop("PYTHONPATH", None)
    column: dict = {}
    watched = [env_dir, tmp] + ([cache] if cache else [])
    with DiskPeak(*watched) as disk:
        started = time.monotonic()
        subprocess.run([PYTHON, "-m", "venv", str(env_dir)], check=True)
        python = env_dir / "bin" / "python"
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        pip += ["--cache-dir", str(cache)] if cache else ["--no-cache-dir"]
        requirements = [f"torch=={version}", numpy_pin(version), MATPLOTLIB, SPHINX_GALLERY]
        log(f"{version}: pip install {' '.join(requirements)}")
        subprocess.run(pip + requirements, check=True, env=env)
        column["install_s"] = round(time.monotonic() - started, 1)
        probe = (
            "import json, platform, sys; from importlib.metadata import version as v; "
            "print(json.dumps({'torch': v('torch'), 'numpy': v('numpy'), "
            "'matplotlib': v('matplotlib'), 'python': platform.python_version()}))"
        )
        found = json.loads(subprocess.run([str(python), "-c", probe], check=True, env=env,
                                          capture_output=True, text=True).stdout)
        column.update(found)
        log(f"{version}: installed {found} in {column['install_s']} s")
        started = time.monotonic()
        column["examples"] = {}
        for script in sorted(EXAMPLES.glob("*/plot_*.py"), key=lambda p: p.name):
            column["examples"][script.name] = run_example(python, script, tmp, env)
            outcome = column["examples"][script.name]
            log(f"{version}: {script.name}: {outcome['status']} ({outcome['seconds']} s)"
                + (f" {outcome['failure']['text'][:150]!r}" if outcome["failure"] else ""))
        column["ledger"] = record_ledger(python, tmp, env)
        log(f"{version}: the ledger: {len(column['ledger'])} claims")
        column["run_s"] = round(time.monotonic() - started, 1)
        disk.sample()
    column["peak_disk_bytes"] = disk.peak
    shutil.rmtree(env_dir, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    column["date"] = datetime.date.today().isoformat()
    column["recorder_sha256"] = script_sha256()
    return column


def record_ledger(python: Path, tmp: Path, env: dict) -> list[dict]:
    result_path = tmp / "ledger.json"
    result_path.unlink(missing_ok=True)
    subprocess.run([str(python), str(Path(__file__).resolve()), "--run-ledger",
                    str(result_path)], cwd=tmp, env=env, check=True, timeout=DEADLINE_S)
    return json.loads(result_path.read_text())


def run_example(python: Path, script: Path, tmp: Path, env: dict) -> dict:
    result_path = tmp / f"{script.stem}.json"
    result_path.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [str(python), str(Path(__file__).resolve()), "--run-one", str(script),
             str(result_path)],
            cwd=script.parent, env=env, capture_output=True, text=True, timeout=DEADLINE_S,
            start_new_session=True,
        )
        outcome = json.loads(result_path.read_text()) if result_path.exists() else {
            "status": "failed", "expect_error": [],
            "failure": {"type": "crash", "module": "", "missing_name": None,
                        "first_line": f"the process exited with {proc.returncode}",
                        "text": proc.stderr.strip()[-500:]},
        }
    except subprocess.TimeoutExpired:
        outcome = {"status": "timeout", "expect_error": [],
                   "failure": {"type": "timeout", "module": "", "missing_name": None,
                               "first_line": f"still running after {DEADLINE_S} s",
                               "text": f"still running after {DEADLINE_S} s"}}
    outcome["seconds"] = round(time.monotonic() - started, 1)
    outcome["script"] = script.relative_to(EXAMPLES).as_posix()
    outcome["example_sha256"] = file_sha256(script)
    outcome["errors_shown"] = [c["shown"] for c in outcome["expect_error"] if c.get("shown")]
    return outcome


def load(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"schema": SCHEMA, "pinned": PINNED, "versions": [], "columns": {}}


def save(data: dict, path: Path) -> None:
    data["schema"], data["pinned"] = SCHEMA, PINNED
    data["recorder"] = ".ci/matrix.py"
    data["versions"] = [v for v in VERSIONS if v in data["columns"]]
    data["columns"] = {v: data["columns"][v] for v in data["versions"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=False, ensure_ascii=False) + "\n"
    path.with_suffix(".tmp").write_text(text, encoding="utf-8")
    path.with_suffix(".tmp").replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("versions", nargs="*", help=f"a subset of {VERSIONS}; default: all")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    parser.add_argument("--work", type=Path, default=Path("/tmp/torch-matrix"))
    parser.add_argument("--cache", default="/tmp/torch-matrix-cache",
                        help="pip's download cache, kept between runs; '' for none")
    parser.add_argument("--run-one", nargs=2, metavar=("SCRIPT", "RESULT"), help=argparse.SUPPRESS)
    parser.add_argument("--run-ledger", metavar="RESULT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(Path(args.run_one[0]).resolve(), Path(args.run_one[1]))
        return 0
    if args.run_ledger:
        run_ledger(Path(args.run_ledger))
        return 0
    versions = args.versions or VERSIONS
    unknown = [v for v in versions if v not in VERSIONS]
    if unknown:
        parser.error(f"{unknown} not in VERSIONS (edit the one list in {__file__})")
    cache = Path(args.cache) if args.cache else None
    started = time.monotonic()
    for version in versions:
        data = load(args.out)
        data["columns"][version] = record_version(version, args.work, cache)
        save(data, args.out)
        column = data["columns"][version]
        log(f"{version}: done: install {column['install_s']} s, examples {column['run_s']} s, "
            f"peak disk {column['peak_disk_bytes'] / 2**30:.2f} GiB")
    log(f"all done in {time.monotonic() - started:.0f} s; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
