"""What a reader takes away runs on its own: downloads, and the code pasted from a page.

* Every example's downloaded script, copied alone into an empty folder, runs with
  this test's Python (only the site's requirements installed).
* Every example's downloaded notebook, alone in an empty folder, runs in a real
  Jupyter kernel of this test's Python.
* Every page's doctest code, pasted in order into one fresh Python session (what the
  copy buttons give: the lines after the prompts), runs, and every expected traceback
  is raised with the documented last line. Files that the page offers for download
  (``_downloads/*.py``) are put next to the session, as a reader who follows the page
  would have them.
"""

from __future__ import annotations

import doctest
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from helpers import soup

WORKERS = 2  # the machine's two cores are shared
TIMEOUT = 900


def clean_env(**extra: str) -> dict[str, str]:
    """This Python's environment without any path that could find the site's helpers."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GUIDE_ERROR_LOG")}
    return {**env, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", **extra}


def downloads(site, suffix: str) -> list[Path]:
    """The files of that kind the example pages offer for download."""
    found = set()
    for page in sorted((site.html / "auto_examples").rglob("*.html")):
        for link in soup(page).select("div.sphx-glr-download a.download"):
            href = unquote(urlparse(link["href"]).path)
            if href.endswith(suffix):
                found.add((page.parent / href).resolve())
    return sorted(found)


def example_count(site) -> int:
    examples = site.root / "examples"
    return len([p for p in examples.rglob("plot_*.py")])


def run_parallel(job, items):
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(job, items))
    return results, time.monotonic() - started


def run_script_alone(script: Path, workdir: Path):
    workdir.mkdir()
    shutil.copy2(script, workdir / script.name)
    result = subprocess.run(
        [sys.executable, script.name],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return (
        script.name,
        result.returncode,
        (result.stdout + result.stderr)[-3000:],
        sorted(p.name for p in workdir.iterdir()),
    )


def test_every_downloaded_script_runs_alone_in_an_empty_folder(site, tmp_path):
    scripts = downloads(site, ".py")
    assert len(scripts) == example_count(site) > 0
    assert all(not s.name.startswith("_") for s in scripts)
    results, elapsed = run_parallel(lambda s: run_script_alone(s, tmp_path / s.stem), scripts)
    print(f"\n{len(scripts)} downloaded scripts ran alone in {elapsed:.0f} s ({WORKERS} at a time)")
    failed = {name: output for name, code, output, _ in results if code != 0}
    assert not failed, "\n\n".join(f"{n}:\n{o}" for n, o in failed.items())
    # Nothing else was there to import: the folder held the script alone when it started.
    for name, _, _, files in results:
        # No helper module and no file a helper reads (_article.md): they travel inside.
        helpers = [f for f in files if f.startswith("_") and f.endswith((".py", ".md"))]
        assert name in files and not helpers, files


RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(
    nb, timeout=900, kernel_name="guide-test", resources={"metadata": {"path": "."}}
).execute()
print("kernel:", nb.cells and "ok")
"""


@pytest.fixture(scope="module")
def kernel_of_this_python(tmp_path_factory) -> Path:
    """A kernelspec that runs this test's Python, whatever other kernels are installed."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "guide-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "test", "language": "python"})
    )
    return root


def run_notebook_alone(notebook: Path, workdir: Path, jupyter_path: Path):
    workdir.mkdir()
    shutil.copy2(notebook, workdir / notebook.name)
    env = clean_env(JUPYTER_PATH=str(jupyter_path), JUPYTER_PLATFORM_DIRS="1")
    result = subprocess.run(
        [sys.executable, "-c", RUN_NOTEBOOK, notebook.name],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return notebook.name, result.returncode, (result.stdout + result.stderr)[-3000:]


def test_every_downloaded_notebook_runs_alone_in_a_jupyter_kernel(
    site, tmp_path, kernel_of_this_python
):
    notebooks = downloads(site, ".ipynb")
    assert len(notebooks) == example_count(site) > 0
    results, elapsed = run_parallel(
        lambda n: run_notebook_alone(n, tmp_path / n.stem, kernel_of_this_python), notebooks
    )
    print(
        f"\n{len(notebooks)} downloaded notebooks ran alone in {elapsed:.0f} s"
        f" ({WORKERS} at a time)"
    )
    failed = {name: output for name, code, output in results if code != 0}
    assert not failed, "\n\n".join(f"{n}:\n{o}" for n, o in failed.items())


def test_downloads_inline_their_helpers_and_the_page_still_shows_the_import(site):
    """The page shows ``from _guide import ...``; the download carries _guide's source."""
    page = soup(site.html / "auto_examples/article/plot_article_example2_crashes_as_written.html")
    assert "from _guide import expect_error" in page.get_text()
    [script] = [
        s for s in downloads(site, ".py") if s.name == "plot_article_example2_crashes_as_written.py"
    ]
    text = script.read_text(encoding="utf-8")
    assert "Helpers from the site (inlined)" in text and "def expect_error(" in text
    [notebook] = [n for n in downloads(site, ".ipynb") if n.stem == script.stem]
    notebook = json.loads(notebook.read_text(encoding="utf-8"))
    assert "Helpers from the site (inlined)" in "".join(notebook["cells"][1]["source"])
    assert "def expect_error(" in "".join(notebook["cells"][2]["source"])
    assert "put _guide.py next to it" not in page.get_text() and "_guide.py" not in {
        a.get_text() for a in page.select("a.download")
    }


# ---- Code pasted from the docs pages ------------------------------------------------

SESSION_PRELUDE = '''
import doctest, itertools, linecache, sys, traceback

_cells = itertools.count()

def _paste(source, raises=None, mode="single"):
    """Run one pasted statement; when the page shows a traceback, check its last line.

    As in IPython and Jupyter, each pasted piece keeps its source (in linecache), so
    that code which reads a class's source (TorchScript) works as it does there.
    """
    name = f"<pasted-{next(_cells)}>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    code = compile(source, name, mode)
    if raises is None:
        exec(code, globals())
        return
    try:
        exec(code, globals())
    except Exception as error:
        shown = traceback.format_exception_only(type(error), error)[-1]
        # compared as doctest compares them: the pages use ... and, in some blocks,
        # NORMALIZE_WHITESPACE; the HTML drops <BLANKLINE> (Sphinx's trim_doctest_flags).
        raises, shown = raises.rstrip() + "\\n", shown.rstrip() + "\\n"
        check = doctest.OutputChecker().check_output
        whitespace = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        if not (check(raises, shown, doctest.ELLIPSIS) or check(raises, shown, whitespace)):
            sys.exit(f"raised {shown!r}, the page shows {raises!r}, for:\\n{source}")
    else:
        sys.exit(f"the page shows {raises!r}, nothing was raised by:\\n{source}")
'''
TRACEBACK = "Traceback (most recent call last):"


def pasted_session(page: Path) -> str:
    """The page's doctest code, in order, as one script that checks the shown tracebacks."""
    parser = doctest.DocTestParser()
    statements = []
    for block in soup(page).select("div.guide-doctest, div.guide-testcode, div.guide-testoutput"):
        kind = next(
            c
            for c in block["class"]
            if c in ("guide-doctest", "guide-testcode", "guide-testoutput")
        )
        text = block.find("pre").get_text()
        if kind == "guide-doctest":
            for example in parser.get_examples(text):
                statements.append(f"_paste({example.source!r}, {example.exc_msg!r})")
        elif kind == "guide-testcode":
            statements.append(f"_paste({text!r}, None, 'exec')")
        elif text.startswith(TRACEBACK) and statements:
            last_line = text.rstrip("\n").splitlines()[-1] + "\n"
            statements[-1] = statements[-1].replace(", None, 'exec')", f", {last_line!r}, 'exec')")
    return SESSION_PRELUDE + "\n".join(statements) + "\n" if statements else ""


def offered_python_files(page: Path) -> list[Path]:
    """The .py files a page offers for download (not the examples' own)."""
    links = soup(page).select("a.download")
    files = [(page.parent / unquote(urlparse(a["href"]).path)).resolve() for a in links]
    return [f for f in files if f.suffix == ".py" and "auto_examples" not in page.parts]


def docs_pages(site) -> list[Path]:
    return sorted(p for p in site.html.rglob("*.html") if pasted_session(p))


def test_every_pages_code_runs_pasted_in_order_into_a_fresh_python(site, tmp_path):
    pages = docs_pages(site)
    assert len(pages) >= 8, [p.name for p in pages]

    def paste(page: Path):
        name = page.relative_to(site.html).with_suffix("").as_posix()
        workdir = tmp_path / name.replace("/", "-")
        workdir.mkdir()
        for offered in offered_python_files(page):
            shutil.copy2(offered, workdir / offered.name)
        (workdir / "session.py").write_text(pasted_session(page), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "session.py"],
            cwd=workdir,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        return name, result.returncode, (result.stdout + result.stderr)[-1500:]

    results, elapsed = run_parallel(paste, pages)
    print(f"\n{len(pages)} pages' code pasted into fresh Python sessions in {elapsed:.0f} s")
    failed = {name: output for name, code, output in results if code != 0}
    assert not failed, "\n\n".join(f"{n}:\n{o}" for n, o in failed.items())


def test_the_paste_check_catches_a_wrong_traceback_and_a_missing_import(tmp_path):
    """The session fails when the shown traceback differs, or when setup was hidden."""
    page = tmp_path / "page.html"
    block = '<div class="guide-executed guide-doctest"><pre>{}</pre></div>'
    for body in (
        ">>> {}['a']\nTraceback (most recent call last):\n  ...\nKeyError: 'b'\n",
        ">>> nn.Linear(1, 1)\n",
    ):
        page.write_text(block.format(body.replace("<", "&lt;")), encoding="utf-8")
        (tmp_path / "session.py").write_text(pasted_session(page), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "session.py"], cwd=tmp_path, capture_output=True, text=True
        )
        assert result.returncode != 0, body
    page.write_text(
        block.format(">>> {}['a']\nTraceback (most recent call last):\n  ...\nKeyError: 'a'\n")
    )
    (tmp_path / "session.py").write_text(pasted_session(page), encoding="utf-8")
    assert subprocess.run([sys.executable, "session.py"], cwd=tmp_path).returncode == 0
