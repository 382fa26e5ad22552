"""The ``typecheck`` directive: run mypy on a page's snippets at build time.

A page states what a type checker reports; this directive makes mypy say it::

    ```{typecheck}
    md = nn.ModuleDict({"k": nn.Linear(2, 2)})
    md.k(x)  # E: "Tensor" not callable  [operator]
    reveal_type(md["k"])  # N: Revealed type is "torch.nn.modules.module.Module"
    ```

Each snippet is a file of its own (``snippet1.py``, ``snippet2.py``, ... in page order);
all snippets of a page are checked by one mypy run, with fixed flags and no user
configuration. Its cache (``cache_dir()``) outlives the build: on a 2-core machine a
cold run spent 28 s reading torch, a warm one 2 s; mypy checks every entry against its
source, so a clean build reports what a cold one would. Each snippet is also run, so the
code a checker rejects is shown to work (or the build fails). The page shows each
snippet, then mypy's actual output and what the run printed. A ``# E: message`` (error)
or ``# N: message`` (note)
comment states what mypy must report on that line, as in mypy's own test data: the
build fails unless mypy reports exactly the stated diagnostics, no more and no fewer.
Every page is read again when torch, Python or the requirements change (guide.py), so a
change in what mypy reports fails the next build.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

FLAGS = (
    "--no-error-summary",
    "--hide-error-context",
    "--no-color-output",
    "--show-error-codes",
)
# "# E: message" or "# N: message" at the end of a line of code.
EXPECTATION = re.compile(r"#\s*(?P<kind>[EN]):\s*(?P<message>.*?)\s*$")
# One line of mypy's output: "snippet1.py:6: error: message  [code]".
DIAGNOSTIC = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?P<severity>error|note): (?P<message>.*)$"
)
SEVERITY = {"E": "error", "N": "note"}


@dataclass(frozen=True)
class Diagnostic:
    line: int
    severity: str
    message: str


def expected_diagnostics(code: str) -> list[Diagnostic]:
    """The diagnostics the ``# E:``/``# N:`` comments of ``code`` ask for.

    A comment at the end of a line of code is about that line; one on a line of its own
    is about the next line of code (so that a long message keeps the code short).
    """
    found, pending = [], []
    for number, text in enumerate(code.splitlines(), start=1):
        match = EXPECTATION.search(text)
        if match and text.lstrip().startswith("#"):
            pending.append((SEVERITY[match["kind"]], match["message"]))
            continue
        if text.strip():
            found += [Diagnostic(number, severity, message) for severity, message in pending]
            pending = []
        if match:
            found.append(Diagnostic(number, SEVERITY[match["kind"]], match["message"]))
    return found


def cache_dir(build_dir: Path) -> Path:
    """mypy's cache: under the user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``),
    shared by every build with this mypy; inside ``build_dir`` where that cannot be made."""
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    shared = home / "moduledict-corrected" / f"mypy-{version('mypy')}"
    try:
        shared.mkdir(parents=True, exist_ok=True)
    except OSError:
        return build_dir / "mypy_cache"
    return shared


def run_mypy(snippets: list[str], cache_dir: Path) -> tuple[list[str], dict[str, list[Diagnostic]]]:
    """Check ``snippets`` in one mypy run; its output lines and diagnostics per file name.

    The files are named ``snippet1.py``, ``snippet2.py``, ... and checked from their
    folder, so the output names no path.
    """
    names = [f"snippet{i}.py" for i in range(1, len(snippets) + 1)]
    with tempfile.TemporaryDirectory() as folder:
        for name, code in zip(names, snippets):
            Path(folder, name).write_text(code, encoding="utf-8")
        # An empty configuration file: no mypy.ini or pyproject.toml of the user applies.
        Path(folder, "mypy.ini").write_text("[mypy]\n", encoding="utf-8")
        command = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", *FLAGS]
        command += ["--cache-dir", str(cache_dir.resolve()), *names]
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    # mypy exits with 0 (clean) or 1 (errors found); 2 is a crash or a usage error.
    if result.returncode not in (0, 1) or result.stderr.strip():
        raise RuntimeError(f"mypy failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    lines = result.stdout.splitlines()
    by_file: dict[str, list[Diagnostic]] = {name: [] for name in names}
    for line in lines:
        match = DIAGNOSTIC.match(line)
        if not match or match["file"] not in by_file:
            raise RuntimeError(f"unexpected mypy output line: {line!r}")
        by_file[match["file"]].append(
            Diagnostic(int(match["line"]), match["severity"], match["message"])
        )
    return lines, by_file


def run_snippet(name: str, code: str) -> str:
    """Run ``code`` as the script ``name`` would run; what it printed (stdout, stderr)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        exec(compile(code, name, "exec"), {"__name__": "__main__"})
    return printed.getvalue()


def mismatch(expected: list[Diagnostic], reported: list[Diagnostic]) -> str:
    """Empty if mypy reported exactly what was expected, else what differs."""
    missing = [d for d in expected if d not in reported]
    unexpected = [d for d in reported if d not in expected]
    parts = [f"expected, not reported: {d}" for d in missing]
    parts += [f"reported, not expected: {d}" for d in unexpected]
    return "\n".join(parts)


class typecheck_output(nodes.General, nodes.Element):
    """Where mypy's output for one snippet goes, once the page's snippets are checked."""


class TypecheckDirective(SphinxDirective):
    has_content = True

    def run(self):
        code = "\n".join(self.content) + "\n"
        number = self.env.temp_data.setdefault("typecheck_count", 0) + 1
        self.env.temp_data["typecheck_count"] = number
        source = nodes.literal_block(code, code, language="python")
        # Run at build time, like the doctests (the tests require it of Python blocks).
        source["classes"] = ["guide-typecheck", "guide-executed"]
        self.set_source_info(source)
        caption = nodes.paragraph(text=f"snippet{number}.py, checked by mypy {version('mypy')}:")
        output = typecheck_output(code=code, number=number)
        self.set_source_info(output)
        return [caption, source, output]


def check_page(app, doctree) -> None:
    """Run mypy once on every snippet of the page just read, and show its output."""
    placeholders = list(doctree.findall(typecheck_output))
    if not placeholders:
        return
    cache = cache_dir(Path(app.doctreedir).parent)
    lines, by_file = run_mypy([node["code"] for node in placeholders], cache)
    for node in placeholders:
        name = f"snippet{node['number']}.py"
        problem = mismatch(expected_diagnostics(node["code"]), by_file[name])
        if problem:
            logger.warning(f"mypy on {name}:\n{problem}", location=node)
        shown = [line for line in lines if line.startswith(name + ":")]
        printed = run_snippet(name, node["code"]).rstrip("\n")
        text = "\n".join(
            [
                f"$ mypy {name}",
                *(shown or ["(no output)"]),
                f"$ python {name}",
                printed or "(no output)",
            ]
        )
        block = nodes.literal_block(text, text)
        block["classes"] = ["guide-typecheck-output"]
        node.replace_self(block)


def setup(app):
    app.add_node(typecheck_output)
    app.add_directive("typecheck", TypecheckDirective)
    app.connect("doctree-read", check_page)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
