"""``make bench``: the machinery's size, and the build and tests against their targets.

Prints, and writes to ``build/bench.json``:

* the machinery's line count: every tracked file that proves the site (outside
  ``examples/``), after ``ruff format --isolated``; target at most 8,000;
* a clean ``make html`` against the sequential floor: every example run one after
  another in one process, plus a render that runs none (``plot_gallery=0``); target
  at most 0.85;
* ``make test`` against the clean build; target at most 8;
* the load average before and after, since other work on the machine slows each figure.

Each build runs in a fresh copy of the tracked files, with this checkout's Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MACHINERY = re.compile(r"\.(py|js|css|sh|ini|toml|cfg|ya?ml|html)$|(^|/)Makefile$|^\.ci/[^./]+$")


def tracked() -> list[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return [f for f in files if (ROOT / f).is_file()]


def copy(dst: Path) -> Path:
    for name in tracked():
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        (dst / name).write_bytes((ROOT / name).read_bytes())
    return dst


def machinery_lines() -> int:
    """Lines of the machinery, formatted by ruff's defaults, as issue 25 counts them."""
    with tempfile.TemporaryDirectory() as tmp:
        names = [f for f in tracked() if MACHINERY.search(f) and not f.startswith("examples/")]
        for name in names:
            (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / name).write_bytes((ROOT / name).read_bytes())
        subprocess.run([sys.executable, "-m", "ruff", "format", "--isolated", "-q", tmp])
        return sum(len((Path(tmp) / n).read_text().splitlines()) for n in names)


def timed(command: list[str], cwd: Path) -> float:
    start = time.monotonic()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def make(target: str, *args: str) -> list[str]:
    return ["make", f"PYTHON={sys.executable}", target, *args]


# Every example, one after another, in one Python process (its own: what the examples
# do to that process, its environment included, stays there).
SEQUENTIAL = """import os, runpy, sys
for script in sys.argv[1:]:
    os.chdir(os.path.dirname(script))
    try:
        runpy.run_path(script, run_name="__main__")
    except RuntimeError:  # the example that ends in the crash its page shows
        pass
"""


def floor(project: Path) -> float:
    """Every example in one process, one after another, then a render that runs none."""
    scripts = [str(p) for p in sorted(project.glob("examples/*/plot_*.py"))]
    examples = timed([sys.executable, "-c", SEQUENTIAL, *scripts], project)
    return examples + timed(make("html", "PROSE=1"), project)


def checkup_ratio() -> float:
    """check_model over one forward and backward of a ModuleDict of 1,000 entries."""
    (script,) = ROOT.glob("examples/*/plot_check_model_*.py")
    page: dict = {}  # check_model's code block, which needs only torch
    exec(script.read_text().split("\n# %%\n")[1], page)
    nn, x = page["nn"], page["torch"].randn(3, 4)
    every = {"forward": lambda self, x: sum(entry(x) for entry in self.values())}
    entries = {str(i): nn.Linear(4, 4) for i in range(1000)}
    model = type("Every", (nn.ModuleDict,), every)(entries)
    runs = [lambda: page["check_model"](model, x), lambda: model(x).sum().backward()]
    check, step = (min(timeit.repeat(run, number=1, repeat=5)) for run in runs)
    return check / step


def main() -> None:
    os.environ.update(MPLBACKEND="Agg", SOURCE_DATE_EPOCH="1767225600")
    results = {"load_before": os.getloadavg(), "machinery_lines": machinery_lines()}
    results["checkup_over_step"] = checkup_ratio()  # best of 5 runs each
    with tempfile.TemporaryDirectory() as tmp:
        results["clean_html_s"] = timed(make("html"), copy(Path(tmp, "clean")))
        results["floor_s"] = floor(copy(Path(tmp, "floor")))
        results["test_s"] = timed(make("test"), copy(Path(tmp, "test")))
    results["load_after"] = os.getloadavg()
    results["html_over_floor"] = results["clean_html_s"] / results["floor_s"]
    results["test_over_html"] = results["test_s"] / results["clean_html_s"]
    out = ROOT / "build" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    print(f"machinery: {results['machinery_lines']} lines (target <= 8000)")
    print(f"clean make html {results['clean_html_s']:.1f} s / floor {results['floor_s']:.1f} s"
          f" = {results['html_over_floor']:.2f} (target <= 0.85)")
    print(f"check_model / one step: {results['checkup_over_step']:.1f} (target <= 10)")
    print(f"make test {results['test_s']:.1f} s / clean make html = "
          f"{results['test_over_html']:.1f} (target <= 8)")


if __name__ == "__main__":
    main()
