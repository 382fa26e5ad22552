"""``make bench``: how fast the site builds and tests, against its floor and a peer.

Every figure is the median of ``--runs`` runs on this machine, in one run of this
script (``make test`` takes minutes and is timed ``--test-runs`` times). Writes
``build/bench/bench.md`` and ``build/bench/bench.json`` and prints the table.

The floor is what no build of this site can avoid: executing every example once, in
one Python process (one ``import torch``), plus rendering the site without executing
anything. The peer is myst-nb (the engine of Jupyter Book) executing the same
examples as notebooks, one kernel per notebook.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
SHARED_ARTICLE = ROOT.parent / "shared" / "source-article.md"
MYTHS_PAGE = "auto_examples/article/plot_article_example3_backward_succeeds.html"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def copy_project(dst: Path) -> Path:
    """Copy what a fresh checkout has: the files git tracks, and new files it does not
    ignore, as they are in the working tree (not .venv, build/ or generated pages)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():  # a tracked file deleted in the working tree is not copied
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    return dst


def make_command(project: Path, target: str, *args: str) -> list[str]:
    """A Makefile target of ``project``, run with this Python."""
    return ["make", "--no-print-directory", "-C", str(project), target,
            f"PYTHON={sys.executable}", *args]


def output_of(result) -> str:
    return result.stdout + result.stderr


def examples_executed(log: str) -> int:
    """How many examples a build ran, an expected crash included (sphinx-gallery's "N out
    of M": M counts every example it ran, not the cached ones; N those that raised nothing)."""
    ran = re.search(r"successfully executed \d+ out of (\d+) file", log)
    if not ran:
        raise SystemExit(f"bench: no count of executed examples in:\n{log[-3000:]}")
    return int(ran.group(1))


EDITED = "article/plot_article_example1_item_access_works.py"
# Runs every example once in this one process, as sphinx-gallery does; the examples
# that end in the crash their page shows (conf.py's expected_crashes, the other
# arguments) may end in an exception.
RUN_EXAMPLES = """
import os, runpy, sys
from pathlib import Path
root, crashing = Path(sys.argv[1]), set(sys.argv[2:])
os.chdir(root); sys.path.insert(0, str(root))
for script in sorted(root.glob("*/plot_*.py")):
    try:
        runpy.run_path(str(script), run_name="__main__")
    except Exception:
        if script.relative_to(root).as_posix() not in crashing:
            raise
"""


def expected_crashes(project: Path) -> list[str]:
    """The examples (paths under examples/) that conf.py says end in a crash."""
    return sorted(runpy.run_path(str(project / "conf.py"))["expected_crashes"])
PEER_CONF = """
extensions = ["myst_nb"]
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
exclude_patterns = ["_build", "*.py"]
"""


def timed(command: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    """Seconds a command takes; a failure stops the bench."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} failed:\n{output_of(result)[-5000:]}")
    return elapsed, result


def timed_make(project: Path, target: str, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    return timed(make_command(project, target, *args))


def new_project(work: Path) -> Path:
    """A fresh copy of the project and its tests, with shared/ beside it as in CI."""
    folder = Path(tempfile.mkdtemp(dir=work))
    if SHARED_ARTICLE.exists():
        (folder / "shared").symlink_to(SHARED_ARTICLE.parent)
    return copy_project(folder / "project")


def measure(runs: int, test_runs: int, work: Path) -> dict:
    figures: dict[str, list[float]] = {}
    notes: dict[str, str] = {}

    def record(name: str, seconds: float):
        figures.setdefault(name, []).append(seconds)

    built = None
    for _ in range(runs):
        project = new_project(work)
        # The floor: every example in one process, then a render that executes nothing.
        seconds, _ = timed([sys.executable, "-c", RUN_EXAMPLES, str(project / "examples"),
                            *expected_crashes(project)],
                           env={**os.environ, "MPLBACKEND": "Agg"})
        record("floor: examples in one process", seconds)
        render = new_project(work)
        seconds, _ = timed_make(render, "html", "SPHINXOPTS=-D plot_gallery=0")
        record("floor: render without executing", seconds)
        in_one_process = figures["floor: examples in one process"][-1]
        figures.setdefault("floor", []).append(in_one_process + seconds)

        seconds, result = timed_make(project, "html")
        record("clean make html", seconds)
        notes["examples executed by a clean build"] = str(examples_executed(output_of(result)))
        seconds, _ = timed_make(project, "html")
        record("no-op rebuild", seconds)
        script = project / "examples" / EDITED
        script.write_text(script.read_text() + f"\n# edited {time.time()}\n")
        seconds, result = timed_make(project, "html")
        record("rebuild after editing one example", seconds)
        notes["examples re-executed after editing one"] = str(examples_executed(output_of(result)))
        seconds, _ = timed_make(project, "doctest")
        record("make doctest", seconds)
        seconds = peer_build(project, work)
        record("peer: myst-nb, one kernel per notebook", seconds)
        built = project

    for _ in range(test_runs):
        tested = new_project(work)
        seconds, result = timed_make(tested, "test")
        record("make test", seconds)
        notes["tests in make test"] = re.findall(r"(\d+ passed.*?) in ", output_of(result))[-1]
        for name, cost in test_costs(tested / "build" / "test-report.xml").items():
            record(f"make test, {name} (its tests' seconds)", cost)

    medians = {name: statistics.median(values) for name, values in figures.items()}
    return {"runs": runs, "test_runs": test_runs, "seconds": medians, "all_seconds": figures,
            "notes": notes, "bytes": page_bytes(built / "build" / "html")}


def test_costs(report: Path) -> dict[str, float]:
    """Seconds spent in each test file (setup, call and teardown of its tests, whichever
    pytest process ran them), from the JUnit report of ``make test``, costliest first."""
    from xml.etree import ElementTree

    costs: dict[str, float] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        name = case.get("classname", "").split(".")[0] + ".py"
        costs[name] = costs.get(name, 0.0) + float(case.get("time", 0))
    if not costs:
        raise SystemExit(f"bench: no test in {report}")
    return dict(sorted(costs.items(), key=lambda item: -item[1]))


def peer_build(project: Path, work: Path) -> float:
    """myst-nb builds the examples' notebooks (written by sphinx-gallery), executing each."""
    peer = Path(tempfile.mkdtemp(dir=work))
    # Each notebook beside its script, as a reader downloads them (the TorchScript
    # example reads its own source).
    for download in (project / "docs" / "auto_examples").glob("*/plot_*.*"):
        if download.suffix in (".ipynb", ".py"):
            shutil.copy(download, peer)
    # A notebook that ends in the crash its page shows may (myst-nb's file-level setting).
    for crashing in expected_crashes(project):
        notebook = peer / Path(crashing).with_suffix(".ipynb").name
        content = json.loads(notebook.read_text(encoding="utf-8"))
        content["metadata"]["mystnb"] = {"execution_allow_errors": True}
        notebook.write_text(json.dumps(content), encoding="utf-8")
    (peer / "conf.py").write_text(PEER_CONF)
    (peer / "index.md").write_text("# Peer\n\n```{toctree}\n:glob:\n\nplot_*\n```\n")
    build = [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(peer), str(peer / "_build")]
    seconds, _ = timed(build,
                       env={**os.environ, "MPLBACKEND": "Agg"})
    return seconds


def page_bytes(html: Path) -> dict[str, int]:
    """Bytes a browser loads from disk for a page: the page and every file it requests."""
    from playwright.sync_api import sync_playwright

    loaded = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_ARGS)
        for page in ("index.html", MYTHS_PAGE):
            tab = browser.new_page()
            requested = []
            tab.on("request", lambda request: requested.append(request.url))
            tab.goto((html / page).as_uri(), wait_until="load")
            tab.close()
            files = {Path(unquote(urlparse(u).path)) for u in requested if u.startswith("file://")}
            loaded[page] = sum(f.stat().st_size for f in files)
        browser.close()
    return loaded


def targets(report: dict) -> dict[str, bool]:
    s = report["seconds"]
    met = {
        "clean build ≤ 1.3 × floor": s["clean make html"] <= 1.3 * s["floor"],
        "no-op rebuild ≤ 2 s": s["no-op rebuild"] <= 2,
        "editing one example re-executes exactly that one":
            report["notes"]["examples re-executed after editing one"] == "1",
    }
    if "make test" in s:
        met["make test ≤ 6 × clean make html"] = s["make test"] <= 6 * s["clean make html"]
    return met


def table(report: dict) -> str:
    s = report["seconds"]
    floor, clean = s["floor"], s["clean make html"]
    rows = [(name, f"{seconds:.2f} s") for name, seconds in s.items()]
    rows += [
        ("clean build / floor", f"{clean / floor:.2f}"),
        ("myst-nb peer / clean build",
         f"{s['peer: myst-nb, one kernel per notebook'] / clean:.2f}"),
    ]
    if "make test" in s:
        rows.append(("make test / clean make html", f"{s['make test'] / clean:.2f}"))
    rows += [(f"load average (1, 5, 15 min) {when}", ", ".join(f"{x:.2f}" for x in load))
             for when, load in report["load"].items()]
    rows += list(report["notes"].items())
    rows += [(f"bytes loaded from disk: {page}", f"{n:,}") for page, n in report["bytes"].items()]
    rows += [(f"target: {name}", "met" if ok else "MISSED") for name, ok in targets(report).items()]
    lines = [f"Median of {report['runs']} runs ({report['test_runs']} for make test), "
             f"{os.cpu_count()} cores.", "", "| figure | value |", "| --- | --- |"]
    return "\n".join(lines + [f"| {name} | {value} |" for name, value in rows]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--test-runs", type=int, default=1)
    args = parser.parse_args()
    out = ROOT / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    load = {"before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        report = measure(args.runs, args.test_runs, Path(work))
    report["load"] = {**load, "after": os.getloadavg()}
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "bench.md").write_text(table(report))
    print(table(report))
    if not all(targets(report).values()):
        raise SystemExit("bench: a target was missed")


if __name__ == "__main__":
    main()
