"""What a reader takes away runs on its own: the code copied from a page, and downloads.

Each piece of code runs once, in the runtime a reader gives it; what would only repeat a
run is checked by comparing texts instead.

* **Copied code.** The code blocks of every page of ``docs/``, copied as the copy button
  copies them (prompts and outputs dropped; its settings are read from the built site),
  pasted block by block in page order into one fresh Python per page, in an empty folder
  with only the build's packages, run. A block may raise only the error the page shows
  right after it (a doctest's expected traceback, compared whole).
* **An example's copied code is its notebook.** An example page's code blocks, as the
  copy button copies them, are its notebook's code cells, one for one and in order: the
  notebook's run below is that paste, in a real interactive session (a Jupyter kernel).
* **Downloads run alone.** Every example's ``.py``, alone in an empty folder, runs with
  this Python (a script has ``__file__``; a notebook and a paste do not); every ``.ipynb``
  runs in a Jupyter kernel of this Python. Either may stop only on the error its page
  shows after its last code block.
* **Downloads are the page.** A notebook holds no raw reST directive and no Sphinx label
  (``sphx_glr_...``), and every code line of a download is shown, in order, in the
  page's code. The only lines a page leaves out are sphinx-gallery's configuration
  comments (``# sphinx_gallery_...``), counted here.
* **sphinx-gallery's raw references.** A canary fails once sphinx-gallery stops writing
  ``:ref:`` into notebooks as raw text, the day ``markup_fixes`` can drop its fix.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from helpers import ROOT, soup

WORKERS = 2  # the machine's two cores are shared
TIMEOUT = 900
TRACEBACK = "Traceback (most recent call last):"
# Highlight languages whose blocks are Python a reader pastes into Python.
PYTHON = {"python", "python3", "py", "py3", "pycon", "ipython", "ipython3", "default"}
# Known counts (lower bounds; before issue 19, the pages of docs/ with Python code, their
# code blocks and the examples' code blocks were 13, 116 and 97; on a trial merge of its
# branches, 14, 175 and 113).
DOCS_PAGES_WITH_CODE = 13
DOCS_BLOCKS = 116
EXAMPLE_BLOCKS = 97


def clean_env(**extra: str) -> dict[str, str]:
    """This Python's environment without any path that could find the site's helpers."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GUIDE_ERROR_LOG")}
    return {**env, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", **extra}


def run_parallel(job, items):
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(job, items))
    return results, time.monotonic() - started


def example_count() -> int:
    return len(list((ROOT / "examples").rglob("plot_*.py")))


def matches(expected: str, actual: str) -> bool:
    """Compared as doctest compares outputs: ``...`` and, failing that, any whitespace."""
    expected, actual = expected.rstrip() + "\n", actual.rstrip() + "\n"
    check = doctest.OutputChecker().check_output
    whitespace = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    return check(expected, actual, doctest.ELLIPSIS) or check(expected, actual, whitespace)


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# ---- The copy button ----------------------------------------------------------------


@dataclass(frozen=True)
class CopyButton:
    """sphinx-copybutton as the built site configures it (``_static/copybutton.js``)."""

    selector: str
    prompt: re.Pattern

    def prompted(self, text: str) -> bool:
        return any(self.prompt.match(line) for line in text.split("\n"))

    def copied(self, text: str) -> str:
        """What a click copies: copybutton_funcs.js's formatCopyText, with the site's
        settings (a regexp prompt; only prompt lines, prompts removed; empty lines kept)."""
        lines, prompted = [], False
        for line in text.split("\n"):
            match = self.prompt.match(line)
            if match:
                prompted = True
                lines.append(match[2])
            elif not line.strip():
                lines.append(line)
        if prompted:
            text = "\n".join(lines)
        return text[:-1] if text.endswith("\n") else text


def copy_button(html: Path) -> CopyButton:
    script = (html / "_static" / "copybutton.js").read_text(encoding="utf-8")
    [selector] = re.findall(r"const COPYBUTTON_SELECTOR = '([^']*)'", script)
    [exclude] = re.findall(r"let exclude = '([^']*)'", script)
    # The emulation above holds for these settings only: a change makes this test fail.
    [(prompt, flags)] = re.findall(r"formatCopyText\(text, '([^']*)', (.*)\)", script)
    assert flags == "true, true, true, true, '', ''", flags
    assert exclude == ".linenos", exclude  # the site numbers no lines
    return CopyButton(selector, re.compile("^(" + prompt.replace("\\\\", "\\") + ")(.*)"))


# ---- A page's blocks, and what a reader pastes from them -----------------------------


@dataclass
class Block:
    text: str  # as the page shows it
    language: str  # Pygments' language, from the block's highlight-<language> class
    output: bool  # sphinx-gallery's output of the code before it

    @property
    def python(self) -> bool:
        return self.language.lower() in PYTHON and not self.output


def page_blocks(page: Path, button: CopyButton) -> list[Block]:
    """The blocks a copy button is offered for, in page order."""
    blocks = []
    for pre in soup(page).select(button.selector):
        box = next(
            (d for d in pre.parents if any(c.startswith("highlight-") for c in d.get("class", []))),
            None,
        )
        classes = box.get("class", []) if box else []
        language = next((c[len("highlight-") :] for c in classes if c.startswith("highlight-")), "")
        blocks.append(Block(pre.get_text(), language, "sphx-glr-script-out" in classes))
    return blocks


def shown_error(blocks: list[Block], index: int) -> str | None:
    """The last line of the traceback the page shows right after block ``index``."""
    after = blocks[index + 1] if index + 1 < len(blocks) else None
    if after is not None and not after.python and after.text.startswith(TRACEBACK):
        return last_line(after.text)
    return None


@dataclass
class Piece:
    """What a reader pastes at once: a block, or one statement after a prompt."""

    source: str
    mode: str  # "exec": a block pasted whole; "single": a statement after a prompt
    raises: str | None  # the error the page shows for it
    whole_message: bool  # compare all of the message (a doctest) or the last line
    where: str  # which block, for the failure message


def pasted_pieces(page: Path, button: CopyButton) -> list[Piece]:
    """The page's code as a reader copies it, block by block, in page order."""
    blocks = page_blocks(page, button)
    pieces: list[Piece] = []
    parser = doctest.DocTestParser()
    code = [index for index, block in enumerate(blocks) if block.python]
    for number, index in enumerate(code, 1):
        block = blocks[index]
        copied = button.copied(block.text)
        first = (copied.strip().splitlines() or [""])[0]
        where = f"code block {number} of {len(code)} ({first[:60]!r}...)"
        shown = shown_error(blocks, index)
        if not button.prompted(block.text):
            pieces.append(Piece(copied + "\n", "exec", shown, False, where))
            continue
        # Prompts: each statement is pasted at its prompt, as in an interactive session.
        examples = parser.get_examples(block.text)
        pasted = [line for line in copied.splitlines() if line.strip()]
        parsed = [line for e in examples for line in e.source.splitlines() if line.strip()]
        assert pasted == parsed, f"{page.name}, {where}: the statements are not what is copied"
        for example in examples:
            pieces.append(Piece(example.source, "single", example.exc_msg, True, where))
        if shown is not None:
            pieces[-1].raises, pieces[-1].whole_message = shown, False
    return pieces


# Runs a page's pieces in this Python's __main__, as an interactive session does; as in
# IPython and Jupyter, each pasted piece keeps its source in linecache (TorchScript reads
# a class's source). The only name it adds to __main__ is _paste_session.
SESSION = '''
def _paste_session(path):
    import doctest, json, linecache, sys, traceback

    pieces = json.load(open(path, encoding="utf-8"))
    sys.argv = [""]
    namespace = sys.modules["__main__"].__dict__

    def matches(expected, actual):
        expected, actual = expected.rstrip() + "\\n", actual.rstrip() + "\\n"
        check = doctest.OutputChecker().check_output
        whitespace = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        return check(expected, actual, doctest.ELLIPSIS) or check(expected, actual, whitespace)

    for number, piece in enumerate(pieces):
        name = f"<pasted-{number}>"
        source = piece["source"]
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        try:
            exec(compile(source, name, piece["mode"]), namespace)
        except BaseException as error:
            lines = traceback.format_exception_only(type(error), error)
            raised = lines[-1] if piece["whole_message"] else "".join(lines).splitlines()[-1]
            if piece["raises"] is None:
                traceback.print_exc()
                sys.exit(f"{piece['where']} raised an error the page does not show")
            if not matches(piece["raises"], raised):
                sys.exit(f"{piece['where']} raised {raised!r}, the page shows {piece['raises']!r}")
        else:
            if piece["raises"] is not None:
                sys.exit(f"{piece['where']}: the page shows {piece['raises']!r}, nothing raised")
    print(f"pasted {len(pieces)} pieces")


_paste_session(__import__("sys").argv[1])
'''


def paste_into_fresh_python(pieces: list[Piece], workdir: Path) -> tuple[int, str]:
    """Paste ``pieces`` into a fresh ``python -c`` (no script file: like a REPL) in an
    empty folder; the pieces' file lies outside it."""
    workdir.mkdir(parents=True)
    listing = workdir.with_name(workdir.name + ".json")
    listing.write_text(json.dumps([asdict(p) for p in pieces]), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", SESSION, str(listing)],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return result.returncode, (result.stdout + result.stderr)[-3000:]


def reader_pages(html: Path) -> list[Path]:
    """Every page of the site (not Sphinx's own folders: _static, _sources, ...)."""
    pages = html.rglob("*.html")
    return sorted(p for p in pages if not p.relative_to(html).parts[0].startswith("_"))


def is_example_page(html: Path, page: Path) -> bool:
    return "auto_examples" in page.relative_to(html).parts


def test_every_docs_pages_code_copied_block_by_block_runs_in_a_fresh_python(site, tmp_path):
    button = copy_button(site.html)
    pages = [page for page in reader_pages(site.html) if not is_example_page(site.html, page)]
    code = {page: pasted_pieces(page, button) for page in pages}
    code = {page: pieces for page, pieces in code.items() if pieces}
    blocks = sum(len({p.where for p in pieces}) for pieces in code.values())

    def paste(page: Path):
        name = page.relative_to(site.html).with_suffix("").as_posix().replace("/", "-")
        return (name, *paste_into_fresh_python(code[page], tmp_path / name))

    results, elapsed = run_parallel(paste, list(code))
    print(
        f"\ncopied and pasted the code of {len(code)} of {len(pages)} pages of docs/"
        f" ({blocks} code blocks, {sum(map(len, code.values()))} pastes)"
        f" in {elapsed:.0f} s ({WORKERS} at a time)"
    )
    failed = {name: output for name, returncode, output in results if returncode != 0}
    assert not failed, "\n\n".join(f"{n}:\n{o}" for n, o in failed.items())
    assert len(code) >= DOCS_PAGES_WITH_CODE, [p.name for p in code]
    assert blocks >= DOCS_BLOCKS


def copied_blocks(page: Path, button: CopyButton) -> list[str]:
    """What the copy button copies from each Python block of ``page``, in page order."""
    return [button.copied(block.text) for block in page_blocks(page, button) if block.python]


def notebook_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def cells_unlike_blocks(blocks: list[str], cells: list[str]) -> list[str]:
    """How the notebook's code cells differ from the page's copied blocks (blank lines
    around a block or a cell aside): nothing when a paste of the page runs the notebook."""
    if len(blocks) != len(cells):
        return [f"{len(blocks)} code blocks on the page, {len(cells)} code cells"]
    return [
        f"code block {number}: {block.strip()[:60]!r}... is not the cell {cell.strip()[:60]!r}..."
        for number, (block, cell) in enumerate(zip(blocks, cells), 1)
        if block.strip() != cell.strip()
    ]


def test_an_example_pages_copied_code_is_its_notebooks_code_cells(site):
    """So the notebook's run in a Jupyter kernel (below) is the paste of the page's code."""
    button = copy_button(site.html)
    downloads = example_downloads(site.html)
    problems, blocks = {}, 0
    for page, _, notebook in downloads:
        copied = copied_blocks(page, button)
        blocks += len(copied)
        unlike = cells_unlike_blocks(copied, notebook_cells(notebook))
        if unlike:
            problems[page.name] = unlike
    print(f"\n{len(downloads)} example pages, {blocks} code blocks: their notebooks' cells")
    assert not problems, problems
    assert len(downloads) == example_count() > 0 and blocks >= EXAMPLE_BLOCKS


def test_the_cells_check_finds_a_changed_a_missing_and_an_added_block():
    blocks = ["import torch\n", "x = torch.zeros(1)\nprint(x)"]
    assert cells_unlike_blocks(blocks, ["import torch", "\nx = torch.zeros(1)\nprint(x)\n"]) == []
    assert cells_unlike_blocks(blocks, ["import torch", "x = torch.ones(1)\nprint(x)"])
    assert cells_unlike_blocks(blocks, ["import torch"])
    assert cells_unlike_blocks(blocks, [*blocks, "import _guide"])


PAGE = """<html><body>
<div class="highlight-pycon notranslate"><div class="highlight"><pre>{pycon}</pre></div></div>
<div class="highlight-Python notranslate"><div class="highlight"><pre>{code}</pre></div></div>
<div class="sphx-glr-script-out highlight-none notranslate"><div class="highlight">
<pre>{out}</pre></div></div>
</body></html>"""
COPYBUTTON = (
    "const COPYBUTTON_SELECTOR = 'div.highlight pre';\nlet exclude = '.linenos';\n"
    "return formatCopyText(text, '>>> |\\\\.\\\\.\\\\. |\\\\$ ', true, true, true, true, '', '')\n"
)


@pytest.mark.parametrize(
    ("pycon", "code", "out", "passes"),
    [
        # a doctest's traceback, the right one, then an example that ends in its crash
        (">>> {}['a']\nTraceback (most recent call last):\n  ...\nKeyError: 'a'", "1/0",
         f"{TRACEBACK}\n  File ...\nZeroDivisionError: division by zero", True),
        # code that runs, output that is not a traceback
        (">>> x = 2\n>>> x\n2", "print(x)", "2", True),
        # the doctest shows another error than the one raised
        (">>> {}['a']\nTraceback (most recent call last):\n  ...\nKeyError: 'b'", "1", "", False),
        # setup the page does not show (nn was never imported)
        (">>> nn.Linear(1, 1)", "1", "", False),
        # an error the page does not show, in a gallery block
        (">>> 1", "{}['a']", "printed, not raised", False),
        # the page shows a crash that does not happen
        (">>> 1", "2", f"{TRACEBACK}\nZeroDivisionError: division by zero", False),
        # a function defined in a block is found in __main__ as in a REPL (pickle)
        (">>> import pickle", "def f():\n    pass\n\npickle.dumps(f)", "", True),
    ],
)
def test_the_paste_check_fails_on_an_error_the_page_does_not_show(
    tmp_path, pycon, code, out, passes
):
    """The session fails on a wrong or missing traceback, and on setup a page hides."""
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "copybutton.js").write_text(COPYBUTTON)
    page = tmp_path / "page.html"
    fields = {"pycon": pycon, "code": code, "out": out}
    page.write_text(PAGE.format(**{k: escape(v) for k, v in fields.items()}))
    pieces = pasted_pieces(page, copy_button(tmp_path))
    assert len({p.where for p in pieces}) == 2
    returncode, output = paste_into_fresh_python(pieces, tmp_path / "session")
    assert (returncode == 0) == passes, output


def test_the_copy_button_drops_prompts_and_outputs_as_on_the_site():
    button = CopyButton("div.highlight pre", re.compile(r"^(>>> |\.\.\. |\$ )(.*)"))
    assert button.copied(">>> a = {\n...     1: 2}\n>>> a\n{1: 2}\n\n>>> b\n") == (
        "a = {\n    1: 2}\na\n\nb"
    )
    assert button.copied("x = 1\n\nprint(x)\n") == "x = 1\n\nprint(x)"


# ---- Downloads ----------------------------------------------------------------------


def example_downloads(html: Path) -> list[tuple[Path, Path, Path]]:
    """(page, script, notebook) of every example page."""
    found = []
    for page in sorted((html / "auto_examples").rglob("plot_*.html")):
        offered = {}
        for link in soup(page).select("div.sphx-glr-download a.download"):
            path = (page.parent / unquote(urlparse(link["href"]).path)).resolve()
            offered.setdefault(path.suffix, []).append(path)
        [script], [notebook] = offered.pop(".py"), offered.pop(".ipynb")
        assert set(offered) <= {".zip"}, offered
        found.append((page, script, notebook))
    assert len(found) == example_count() > 0
    return found


def final_error(page: Path, button: CopyButton) -> str | None:
    """The error the page shows after its last code block, if it shows one."""
    blocks = page_blocks(page, button)
    code = [index for index, block in enumerate(blocks) if block.python]
    return shown_error(blocks, code[-1]) if code else None


def run_script_alone(script: Path, workdir: Path) -> tuple[int, str, list[str]]:
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
    return result.returncode, result.stdout + result.stderr, sorted(os.listdir(workdir))


def script_verdict(name: str, returncode: int, output: str, shown: str | None) -> str | None:
    """None if the script ran, or ended in the crash its page shows; else what went wrong."""
    if returncode == 0 and shown is None:
        return None
    if returncode != 0 and shown is not None and matches(shown, last_line(output)):
        return None
    return f"{name} (exit {returncode}; the page shows {shown!r}):\n{output[-3000:]}"


def test_every_downloaded_script_runs_alone_in_an_empty_folder(site, tmp_path):
    button = copy_button(site.html)
    downloads = example_downloads(site.html)

    def run(download):
        page, script, _ = download
        returncode, output, files = run_script_alone(script, tmp_path / script.stem)
        assert script.name in files  # the folder held the script alone when it started
        return script_verdict(script.name, returncode, output, final_error(page, button))

    results, elapsed = run_parallel(run, downloads)
    print(
        f"\n{len(downloads)} downloaded scripts ran alone in {elapsed:.0f} s"
        f" ({WORKERS} at a time)"
    )
    failed = [r for r in results if r]
    assert not failed, "\n\n".join(failed)


RUN_NOTEBOOK = """
import json, sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
nb = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(
    nb, timeout=900, kernel_name="guide-test", resources={"metadata": {"path": "."}}
)
try:
    client.execute()
except CellExecutionError:
    pass
code = [cell for cell in nb.cells if cell.cell_type == "code"]
errors = [
    (index, f"{output.ename}: {output.evalue}")
    for index, cell in enumerate(code)
    for output in cell.get("outputs", [])
    if output.output_type == "error"
]
print(json.dumps({"code_cells": len(code), "errors": errors}))
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


def run_notebook_alone(notebook: Path, workdir: Path, jupyter_path: Path) -> dict | str:
    """The notebook's code cells and the errors they ended in; the output if it did not run."""
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
    if result.returncode != 0:
        return (result.stdout + result.stderr)[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def notebook_verdict(name: str, ran: dict | str, shown: str | None) -> str | None:
    """None if every cell ran, or only the last ended, in the crash its page shows."""
    if isinstance(ran, str):
        return f"{name} did not run:\n{ran}"
    errors = ran["errors"]
    if not errors and shown is None:
        return None
    last_cell = ran["code_cells"] - 1
    if shown is not None and len(errors) == 1 and errors[0][0] == last_cell:
        if matches(shown, last_line(errors[0][1])):
            return None
    return f"{name}: errors (code cell, error) {errors}; the page shows {shown!r}"


def test_a_download_may_end_only_in_the_crash_its_page_shows(tmp_path):
    shown = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x5 and 10x5)"
    crash = tmp_path / "crash.py"
    message = shown.split(": ", 1)[1]
    crash.write_text(f"print('before')\nraise RuntimeError({message!r})\n")
    returncode, output, _ = run_script_alone(crash, tmp_path / "run")
    assert returncode == 1 and last_line(output) == shown, output
    assert script_verdict("crash.py", returncode, output, shown) is None
    assert script_verdict("crash.py", returncode, output, None)  # the page shows no crash
    assert script_verdict("crash.py", returncode, output, "RuntimeError: other")
    assert script_verdict("ok.py", 0, "", shown)  # the page shows a crash that did not happen
    assert script_verdict("ok.py", 0, "", None) is None
    ran = {"code_cells": 3, "errors": [[2, shown]]}
    assert notebook_verdict("x.ipynb", ran, shown) is None
    assert notebook_verdict("x.ipynb", {"code_cells": 4, "errors": [[2, shown]]}, shown)
    assert notebook_verdict("x.ipynb", ran, None)
    assert notebook_verdict("x.ipynb", {"code_cells": 3, "errors": []}, shown)
    assert notebook_verdict("x.ipynb", "kernel died", None)


def test_every_downloaded_notebook_runs_alone_in_a_jupyter_kernel(
    site, tmp_path, kernel_of_this_python
):
    button = copy_button(site.html)
    downloads = example_downloads(site.html)

    def run(download):
        page, _, notebook = download
        ran = run_notebook_alone(notebook, tmp_path / notebook.stem, kernel_of_this_python)
        return notebook_verdict(notebook.name, ran, final_error(page, button))

    results, elapsed = run_parallel(run, downloads)
    print(
        f"\n{len(downloads)} downloaded notebooks ran alone in {elapsed:.0f} s"
        f" ({WORKERS} at a time)"
    )
    failed = [r for r in results if r]
    assert not failed, "\n\n".join(failed)


RAW_DIRECTIVE = re.compile(r"^\s*\.\. [\w:-]+::", re.MULTILINE)
SPHINX_LABEL = "sphx_glr_"


def code_lines(texts) -> list[str]:
    return [line.rstrip() for text in texts for line in text.splitlines() if line.strip()]


def not_shown(download: list[str], page: list[str]) -> list[str]:
    """The lines of ``download`` that are not, in this order, lines of ``page``."""
    missing, position = [], 0
    for line in download:
        try:
            position = page.index(line, position) + 1
        except ValueError:
            missing.append(line)
    return missing


def test_downloads_are_the_page(site):
    """Every code line of a download is shown on its page; a notebook has no raw markup."""
    from sphinx_gallery.py_source_parser import INFILE_CONFIG_PATTERN, split_code_and_text_blocks

    button = copy_button(site.html)
    problems, config_comments, lines = [], [], 0
    for page, script, notebook in example_downloads(site.html):
        shown = code_lines(b.text for b in page_blocks(page, button) if b.python)
        _, blocks = split_code_and_text_blocks(str(script))
        script_code = code_lines(b.content for b in blocks if b.type == "code")
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        sources = ["".join(c["source"]) for c in cells]
        notebook_code = code_lines(s for s, c in zip(sources, cells) if c["cell_type"] == "code")
        for name, code in ((script.name, script_code), (notebook.name, notebook_code)):
            # sphinx-gallery's configuration comments are left out of the page (and kept
            # in the script): the only lines allowed to be missing.
            config = [line for line in code if INFILE_CONFIG_PATTERN.fullmatch(line.strip())]
            config_comments += [f"{name}: {line.strip()}" for line in config]
            code = [line for line in code if line not in config]
            lines += len(code)
            missing = not_shown(code, shown)
            if missing:
                problems.append(f"{name}: {len(missing)} code lines not on its page: {missing[:5]}")
        for source in sources:
            for raw in RAW_DIRECTIVE.findall(source):
                problems.append(f"{notebook.name}: a raw directive {raw.strip()!r}")
            if SPHINX_LABEL in source:
                problems.append(f"{notebook.name}: a Sphinx label ({SPHINX_LABEL}...)")
    print(f"\n{lines} code lines of downloads shown on their pages; left out: {config_comments}")
    assert not problems, "\n".join(problems)
    assert lines > 1000


def test_the_downloads_check_finds_a_hidden_line_and_accepts_reordered_pages():
    page = ["import torch", "x = torch.zeros(1)", "print(x)"]
    assert not_shown(["import torch", "print(x)"], page) == []
    assert not_shown(["import torch", "import _guide", "print(x)"], page) == ["import _guide"]
    assert not_shown(["print(x)", "import torch"], page) == ["import torch"]
    assert RAW_DIRECTIVE.findall("text\n.. container:: quote\n\n   .. article-code:: X\n")
    assert not RAW_DIRECTIVE.findall("see the ``.. note::`` of the docs")


# ---- sphinx-gallery's raw references in notebooks ------------------------------------


def test_sphinx_gallery_still_writes_refs_raw_into_notebooks_and_they_become_text():
    """A canary: when sphinx-gallery converts :ref: itself, markup_fixes' fix can go."""
    from markup_fixes import notebook_text_without_refs
    from sphinx_gallery.notebook import rst2md

    label = "sphx_glr_auto_examples_article_plot_claims_ledger.py"
    text = f"In :ref:`the ledger\n<{label}>`; see :ref:`{label}`."
    converted = rst2md(text, {}, ".", {})
    assert converted == f"In `the ledger\n<{label}>`; see `{label}`.", converted
    titles = {label: "The claims ledger"}
    assert notebook_text_without_refs(converted, titles) == (
        "In the ledger; see *The claims ledger*."
    )
    with pytest.raises(ValueError, match="no example"):
        notebook_text_without_refs(converted, {})
