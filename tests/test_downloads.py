"""What a reader takes away from an example page runs as the page shows.

The page's code blocks (no prompt) are its notebook's cells and its ``.py``'s code; a
notebook holds no raw reST. Each notebook runs offline in an empty folder, in a kernel of
this Python: each cell prints what the page shows (one reading ``__file__``: as a script).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from difflib import unified_diff
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest
from helpers import EXAMPLES, offline, soup

TRACEBACK = "Traceback (most recent call last):"
TIMED = ("plot_indexing_cost.",)  # it prints timings on the machine that runs it
AS_SCRIPT = {p.name for p in EXAMPLES if "__file__" in p.read_text(encoding="utf-8")}
# reST a notebook must not show: a role (:ref:`, :py:class:`), a label, a directive.
RAW = re.compile(
    r":[\w.+-]+(?::[\w.+-]+)*:`|<sphx_glr_[\w.-]+>|^\s*\.\. [\w:-]+::", re.M
)
RUN = """import sys, nbformat, nbclient
nb = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(nb, timeout=900, kernel_name="test", allow_errors=True).execute()
nbformat.write(nb, sys.argv[1])"""


def normalized(text: str, name: str = "") -> str:
    """An output as a page shows it, without blank lines, memory addresses, files' folders
    (a reader's are not the build's), or a timing example's numbers and results."""
    text = re.sub(r"0x[0-9a-f]{6,}", "0x…", text.expandtabs())
    text = re.sub(r'File "[^"]*/([^"/]+)"', r'File "\1"', text)
    if name.startswith(TIMED):
        text = re.sub(r"\d[\d.]*|(?<=: ).*", "N", text)
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def page_cells(page: Path) -> list[list[str]]:
    """[code, the output under it] of every code block of an example page."""
    cells = []
    for pre in soup(page).select("div.highlight pre"):
        box = pre.find_parent(class_=re.compile("^highlight-"))["class"]
        if "sphx-glr-script-out" in box:
            cells[-1][1] = pre.get_text()
        elif "highlight-Python" in box:
            cells.append([pre.get_text().removesuffix("\n"), ""])
    return cells


def shown(cells: list[list[str]], name: str) -> str:
    """What the page shows a run print, cell by cell (of a traceback, the error)."""
    out = [
        f"{i}:\n{o[: o.find(TRACEBACK)] + o.splitlines()[-1] if TRACEBACK in o else o}"
        for i, (_, o) in enumerate(cells, 1)
    ]
    return normalized("\n".join(out), name)


def ran(notebook, name: str) -> str:
    """What the code cells of an executed notebook printed (of an error, its message)."""
    out = []
    for i, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), 1):
        out.append(f"{i}:")
        for o in cell.outputs:
            if o.output_type == "stream" and o.name == "stdout":
                out.append(o.text)
            elif o.output_type in ("execute_result", "error"):
                error = f"{o.get('ename')}: {o.get('evalue')}"
                out.append(o.data["text/plain"] if "data" in o else error)
    return normalized("\n".join(out), name)


@pytest.fixture(scope="module")
def examples(site) -> list[tuple[Path, list[list[str]], Path, Path]]:
    """(page, its cells, notebook, script) of every example, as the site offers them."""
    found = []
    for page in sorted((site.html / "auto_examples").rglob("plot_*.html")):
        links = soup(page).select("div.sphx-glr-download a.download")
        offered = {
            p.suffix: p.resolve()
            for p in (page.parent / unquote(urlparse(a["href"]).path) for a in links)
        }
        found.append((page, page_cells(page), offered[".ipynb"], offered[".py"]))
    assert sorted(page.stem for page, *_ in found) == sorted(p.stem for p in EXAMPLES)
    return found


def test_an_example_pages_code_is_its_notebooks_and_its_scripts(examples, site):
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    copybutton = (site.html / "_static" / "copybutton.js").read_text(encoding="utf-8")
    call = r"formatCopyText\(text, '([^']*)', true, true, true, true"
    [prompt] = [
        re.compile(p.replace("\\\\", "\\")) for p in re.findall(call, copybutton)
    ]
    problems, blocks = [], 0
    for page, cells, notebook, script in examples:
        nb = nbformat.read(notebook, as_version=4)
        code = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
        blocks += len(code)
        if [c.strip() for c, _ in cells] != code:
            problems.append(
                f"{page.name}: its code blocks are not its notebook's cells"
            )
        if any(prompt.match(line) for c, _ in cells for line in c.splitlines()):
            problems.append(
                f"{page.name}: a prompt (the copy button copies those lines)"
            )
        _, parts = split_code_and_text_blocks(str(script))
        # configuration comments, out of the page
        config = re.compile(r"(?m)^# sphinx_gallery_.*\n?")
        lines = [config.sub("", b.content) for b in parts if b.type == "code"]
        if [c.strip() for c in lines] != code:
            problems.append(f"{script.name}: its code is not its page's")
        raws = [r for c in nb.cells for r in RAW.findall(c.source)]
        problems += [f"{page.name}: raw {r!r}" for r in raws]
    assert not problems, "\n".join(problems)
    assert blocks >= 97  # the examples' code blocks before issue 19


def test_the_checks_find_raw_rest_and_outputs_unlike_the_page():
    text = "See :ref:`x`, :py:class:`y`, `the ledger\n<sphx_glr_a_b.py>`.\n.. note::\n"
    assert RAW.findall(text) == [
        ":ref:`",
        ":py:class:`",
        "<sphx_glr_a_b.py>",
        ".. note::",
    ]
    assert not RAW.findall("a dict {'a': 1}, at 10:30, ``.. note::`` as text")
    cells = [["x", "1\n"], ["f()", f"0\n{TRACEBACK}\n  File ...\nE: no\n"]]
    out = nbformat.v4.new_output
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell() for _ in cells]
    )
    notebook.cells[0].outputs = [out("stream", text="1\n")]
    error = out("error", ename="E", evalue="no", traceback=[])
    notebook.cells[1].outputs = [out("stream", text="0\n"), error]
    assert ran(notebook, "x") == shown(cells, "x") == "1:\n1\n2:\n0\nE: no"
    assert shown(cells[:1], "x") != shown([["x", "2"]], "x")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> Path:
    """A Jupyter path whose kernel "test" runs this Python."""
    root = tmp_path_factory.mktemp("jupyter")
    (root / "kernels" / "test").mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "test", "language": "python"}
    (root / "kernels" / "test" / "kernel.json").write_text(json.dumps(spec))
    return root


def test_every_example_runs_offline_as_its_page_shows(examples, kernel, tmp_path):
    env = dict(PATH=os.environ["PATH"], HOME=str(tmp_path), MPLBACKEND="Agg")
    env |= {"JUPYTER_PATH": str(kernel), "JUPYTER_PLATFORM_DIRS": "1"}

    def run(example) -> str:
        page, cells, notebook, script = example
        alone = script.name in AS_SCRIPT  # a notebook has no __file__
        (tmp_path / page.stem).mkdir()
        file = Path(shutil.copy2(script if alone else notebook, tmp_path / page.stem))
        command = [file.name] if alone else ["-c", RUN, file.name]  # in its folder
        command = [*offline(), sys.executable, *command]
        kwargs = dict(
            cwd=file.parent, env=env, capture_output=True, text=True, timeout=900
        )
        done = subprocess.run(command, **kwargs)
        if alone:  # it must end well: the page shows no crash
            page_shows = normalized("\n".join(out for _, out in cells))
            printed = normalized(done.stdout) if done.returncode == 0 else done.stderr
        elif done.returncode:
            return f"{file.name} did not run: {done.stderr[-3000:]}"
        else:
            page_shows = shown(cells, file.name)
            printed = ran(nbformat.read(file, 4), file.name)
        lines = page_shows.splitlines(), printed.splitlines()
        diff = unified_diff(*lines, "page", "run", lineterm="")
        return "\n".join([file.name, *diff]) if page_shows != printed else ""

    with ThreadPoolExecutor(2) as pool:  # the machine's two cores are shared
        problems = [found for found in pool.map(run, examples) if found]
    print(f"\n{len(examples)} examples ran without network")
    assert not problems, "\n\n".join(problems)
