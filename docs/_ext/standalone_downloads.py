"""Downloads that run on their own, and a thumbnail of its own for every example.

* **Standalone downloads.** The examples import small helper modules that live next
  to them (``examples/_*.py``, which may import each other). The page shows that
  import, but a reader who downloads the script or the notebook has no helper next to
  it. After sphinx-gallery has written an example's ``.py``, ``.ipynb`` and zips, the
  downloadable copies get the source of every helper they need (recursively) inlined
  in a clearly delimited block, registered as the module it replaces, so the
  unchanged ``from _helper import ...`` lines work in an empty folder.
  A helper that reads files beside it (``_article.py`` reads ``_article.md``) names
  them in a module-level tuple of string literals, ``DATA_FILES = ("_article.md",)``,
  and reads each through its ``__loader__`` (the PEP 302 resource protocol:
  ``__loader__.get_data(path)``). On the site that is the import system's loader,
  which reads the disk; in a download, the inlined helper's ``__loader__`` returns the
  files embedded next to its source, by file name. A named file that is missing, or a
  ``DATA_FILES`` that is not such a tuple, fails the build.
* **Verdict cards.** An example that draws no figure would get sphinx-gallery's
  placeholder thumbnail. It gets a card showing its title instead (the title states
  the finding), drawn with matplotlib, with fixed metadata so two builds give the
  same bytes.

Both run on every build (sphinx-gallery regenerates only the files of examples it
re-runs; the rewriting starts from what it wrote and is idempotent) and before
``guide.normalize_zips``.
"""

from __future__ import annotations

import ast
import io
import json
import re
import textwrap
import zipfile
from pathlib import Path

from guide import ZIP_TIME, gallery_dirs

HELPER_IMPORT = re.compile(r"^\s*(?:from|import)\s+(_\w+)\b", re.MULTILINE)
BEGIN = "# ---- Helpers from the site (inlined) " + "-" * 50
END = "# ---- End of the inlined helpers " + "-" * 56
NOTEBOOK_TITLE = "## Helpers from the site (inlined)"
INTRO = """\
# On the site this example imports small helper modules that sit next to it
# (examples/{names}).
# So that this download runs on its own, they are inlined here, each module
# registered under the name it imports.
import linecache
import os
import sys
import types


class _EmbeddedFiles:  # an inlined helper's __loader__: the files it reads, by name
    def __init__(self, files):
        self.files = files

    def get_data(self, path):
        return self.files[os.path.basename(path)].encode("utf-8")


def _inline_module(name, source, files=None):
    module = types.ModuleType(name)
    module.__file__ = f"<inlined {{name}}.py>"
    module.__loader__ = _EmbeddedFiles(files or {{}})
    sys.modules[name] = module
    linecache.cache[module.__file__] = (len(source), None, source.splitlines(True), module.__file__)
    exec(compile(source, module.__file__, "exec"), module.__dict__)
"""


def _literal(source: str) -> str:
    """``source`` as a Python string literal, verbatim when possible."""
    if "'''" not in source and not source.endswith("\\"):
        return "r'''" + source + "'''"
    return repr(source)


def helpers_needed(source: str, folder: Path, examples_root: Path) -> list[Path]:
    """The helper modules ``source`` imports, dependencies first, recursively."""
    order: list[Path] = []

    def find(name: str, start: Path) -> Path | None:
        for directory in [start, *start.parents]:
            candidate = directory / f"{name}.py"
            if candidate.is_file():
                return candidate
            if directory == examples_root:
                break
        return None

    def visit(text: str, start: Path, seen: tuple[str, ...]) -> None:
        for name in dict.fromkeys(HELPER_IMPORT.findall(text)):
            path = find(name, start)
            if path is None or path in order:
                continue
            if name in seen:
                raise ValueError(f"helper modules import each other in a cycle: {seen + (name,)}")
            visit(path.read_text(encoding="utf-8"), path.parent, seen + (name,))
            order.append(path)

    visit(source, folder, ())
    return order


def data_files(helper: Path) -> list[Path]:
    """The files beside ``helper`` that it reads: its module-level ``DATA_FILES``."""
    for statement in ast.parse(helper.read_text(encoding="utf-8")).body:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "DATA_FILES" for t in targets):
            names = ast.literal_eval(statement.value)
            if not (isinstance(names, tuple) and all(isinstance(n, str) for n in names)):
                raise ValueError(f"{helper}: DATA_FILES is not a tuple of file names")
            files = [helper.with_name(n) for n in names]
            missing = [f.name for f in files if not f.is_file()]
            if missing:
                raise ValueError(f"{helper}: DATA_FILES names missing files {missing}")
            return files
    return []


def inlined_block(helpers: list[Path]) -> str:
    files = {path: data_files(path) for path in helpers}
    names = ", ".join(p.name for p in helpers) + "".join(
        f"; {path.name} reads {', '.join(p.name for p in files[path])}"
        for path in helpers
        if files[path]
    )
    parts = [BEGIN, INTRO.format(names=names)]
    for path in helpers:
        source = _literal(path.read_text(encoding="utf-8"))
        if not files[path]:
            parts.append(f"\n# examples/{path.name}, registered as the module {path.stem}:")
            parts.append(f"_inline_module({path.stem!r}, {source})")
            continue
        texts = {p.name: p.read_text(encoding="utf-8") for p in files[path]}
        data = ", ".join(f"{name!r}: {_literal(text)}" for name, text in texts.items())
        read = ", ".join(texts)
        parts.append(
            f"\n# examples/{path.name}, registered as the module {path.stem}, with the files"
            f" it reads ({read}):"
        )
        parts.append(f"_inline_module(\n    {path.stem!r},\n    {source},\n    {{{data}}},\n)")
    parts.append(END)
    return "\n".join(parts) + "\n"


def _header_end(source: str) -> int:
    """Line number after the module docstring and ``from __future__`` imports."""
    end = 0
    for statement in ast.parse(source).body:
        is_docstring = (
            end == 0
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
        is_future = isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
        if not (is_docstring or is_future):
            break
        end = statement.end_lineno
    return end


def standalone_script(source: str, helpers: list[Path]) -> str:
    """The example's script with its helpers inlined after its docstring."""
    if not helpers:
        return source
    lines = source.splitlines(keepends=True)
    end = _header_end(source)
    return "".join(lines[:end]) + "\n" + inlined_block(helpers) + "\n" + "".join(lines[end:])


def standalone_notebook(notebook: dict, helpers: list[Path]) -> dict:
    """The notebook with a titled cell of inlined helpers after its first (title) cell."""
    cells = [c for c in notebook["cells"] if "guide-inlined-helpers" not in c.get("metadata", {})]
    if helpers:
        block = inlined_block(helpers).rstrip("\n")
        marker = {"guide-inlined-helpers": True}
        new = [
            {
                "cell_type": "markdown",
                "metadata": dict(marker),
                "source": NOTEBOOK_TITLE + "\n\n"
                "The example imports helper modules of the site; their source follows, so that "
                "this notebook runs on its own.",
            },
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": dict(marker),
                "outputs": [],
                "source": block,
            },
        ]
        at = 1 if cells and cells[0]["cell_type"] == "markdown" else 0
        cells = cells[:at] + new + cells[at:]
    return {**notebook, "cells": cells}


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def rebuild_zip(archive: Path) -> None:
    """Rewrite a gallery zip from the current files, with fixed times and order."""
    with zipfile.ZipFile(archive) as old:
        entries = []
        for info in old.infolist():
            current = archive.parent / info.filename
            data = current.read_bytes() if current.is_file() else old.read(info)
            entries.append((info.filename, info.external_attr, data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as new:
        for name, attributes, data in entries:
            fixed = zipfile.ZipInfo(name, ZIP_TIME)
            fixed.external_attr = attributes
            new.writestr(fixed, data, zipfile.ZIP_DEFLATED)
    _write_if_changed(archive, buffer.getvalue())


def _pairs(app):
    """(examples folder, gallery folder) for every gallery of the configuration."""
    conf = app.config.sphinx_gallery_conf
    examples = conf["examples_dirs"]
    examples = [examples] if isinstance(examples, str) else list(examples)
    return [(Path(app.srcdir, e).resolve(), g) for e, g in zip(examples, gallery_dirs(app))]


def make_downloads_standalone(app) -> None:
    for examples_root, gallery in _pairs(app):
        if not gallery.is_dir():
            continue
        for script in sorted(gallery.rglob("*.py")):
            source_file = examples_root / script.relative_to(gallery)
            if not source_file.is_file():
                continue
            source = source_file.read_text(encoding="utf-8")
            helpers = helpers_needed(source, source_file.parent, examples_root)
            text = standalone_script(source, helpers)
            _write_if_changed(script, text.encode("utf-8"))
            notebook_file = script.with_suffix(".ipynb")
            if notebook_file.is_file():
                notebook = json.loads(notebook_file.read_text(encoding="utf-8"))
                text = json.dumps(
                    standalone_notebook(notebook, helpers), indent=1, ensure_ascii=False
                )
                _write_if_changed(notebook_file, (text + "\n").encode("utf-8"))
        for archive in sorted(gallery.rglob("*.zip")):
            rebuild_zip(archive)


# ---- Verdict cards ----------------------------------------------------------------

CARD_SIZE = (400, 280)  # sphinx-gallery's default thumbnail_size
TITLE = re.compile(r"^\.\. _sphx_glr_.+?:\n\n+(.+)\n=+\n", re.MULTILINE)


def draw_card(title: str) -> bytes:
    """A PNG card stating the example's finding (its title), identical on every build."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    width, height = CARD_SIZE
    figure = Figure(figsize=(width / 100, height / 100), dpi=100)
    figure.patch.set_facecolor("#f6f8fa")
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(0, width)
    axes.set_ylim(0, height)
    axes.add_patch(
        FancyBboxPatch(
            (6, 6),
            width - 12,
            height - 12,
            boxstyle="round,pad=0,rounding_size=14",
            facecolor="#ffffff",
            edgecolor="#8c959f",
            linewidth=2,
        )
    )
    axes.add_patch(
        FancyBboxPatch(
            (6, height - 22),
            width - 12,
            16,
            boxstyle="square,pad=0",
            facecolor="#2962ff",
            edgecolor="none",
        )
    )
    text = title.replace("``", "")
    for size, chars in ((30, 20), (27, 23), (24, 26), (21, 30), (19, 34), (17, 38)):
        lines = textwrap.wrap(text, chars)
        if len(lines) * size * 1.35 <= height - 60:
            break
    axes.text(
        24,
        (height - 22) / 2,
        "\n".join(lines),
        fontsize=size * 0.72,
        fontweight="bold",
        color="#1f2328",
        va="center",
        ha="left",
        linespacing=1.3,
        family="DejaVu Sans",
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def install_verdict_cards(app) -> None:
    """Give every example without a figure of its own a card as its thumbnail."""
    for _, gallery in _pairs(app):
        for page in sorted(gallery.rglob("*.rst")):
            if page.name in ("index.rst",) or not page.with_suffix(".py").is_file():
                continue
            rst = page.read_text(encoding="utf-8")
            name = page.stem
            if re.search(rf"images/sphx_glr_{re.escape(name)}_\d+\.png", rst):
                continue  # a figure of its own: sphinx-gallery made its thumbnail
            title = TITLE.search(rst)
            if title is None:
                raise ValueError(f"{page}: no example title for its verdict card")
            thumb = page.parent / "images" / "thumb" / f"sphx_glr_{name}_thumb.png"
            thumb.parent.mkdir(parents=True, exist_ok=True)
            _write_if_changed(thumb, draw_card(title.group(1).strip()))


def setup(app):
    # After sphinx-gallery writes the gallery (priority 500), before guide.normalize_zips (900).
    app.connect("builder-inited", make_downloads_standalone, priority=800)
    app.connect("builder-inited", install_verdict_cards, priority=800)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
