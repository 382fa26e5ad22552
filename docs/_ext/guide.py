"""Local Sphinx extension of *ModuleDict, corrected*.

* **No stale outputs.** sphinx-gallery re-executes an example only when the example's
  own source changes (it keeps an ``.md5`` of it). We also fingerprint what produces
  the outputs: torch and Python versions, ``requirements.txt``, ``conf.py`` and the
  helper modules ``examples/_*.py``. When the fingerprint differs from the one the cached outputs were
  made with, every cached ``.md5`` is deleted, so every example runs again.
* **Reproducible downloads.** sphinx-gallery's zips record the files' modification
  times; they are rewritten with one fixed time, so two builds give the same bytes.
* **Executed code is marked.** Blocks that ``make doctest`` runs get the class
  ``guide-executed``, so the tests can prove no Python block on the site goes unrun.
* **Environment stamp.** Every example page states the torch and Python versions
  that produced its output, and offers the helper modules (``examples/_*.py``) the
  example imports, so that its downloaded script and notebook run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import zipfile
from pathlib import Path

from _guide import environment
from docutils import nodes

FINGERPRINT_FILE = ".environment.json"
# Files whose content shapes the examples' outputs, relative to the config directory:
# the build's requirements (requirements.txt; not the tests' or the bench's tools, which
# change no output), the configuration and the helper modules the examples import.
FINGERPRINTED_FILES = ("requirements.txt", "conf.py", "examples/_*.py")


def fingerprint(confdir: Path) -> dict[str, str]:
    """What the examples' outputs depend on besides their own source."""
    files = {
        path.relative_to(confdir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for pattern in FINGERPRINTED_FILES
        for path in sorted(confdir.glob(pattern))
    }
    return {**environment(), "python_build": sys.version, **files}


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def gallery_dirs(app) -> list[Path]:
    return [Path(app.srcdir, d) for d in _as_list(app.config.sphinx_gallery_conf["gallery_dirs"])]


def example_source(app, docname: str) -> Path:
    """The script in examples_dirs that sphinx-gallery turned into ``docname``."""
    conf = app.config.sphinx_gallery_conf
    for examples, gallery in zip(_as_list(conf["examples_dirs"]), _as_list(conf["gallery_dirs"])):
        if Path(docname).parent == Path(gallery):
            return Path(app.srcdir, examples, Path(docname).name + ".py").resolve()
    raise ValueError(f"{docname} is not an example page")


def invalidate_stale_outputs(app, config) -> None:
    """Delete sphinx-gallery's cache when the environment's fingerprint has changed."""
    current = fingerprint(Path(app.confdir))
    for gallery in gallery_dirs(app):
        record = gallery / FINGERPRINT_FILE
        if record.exists() and json.loads(record.read_text()) == current:
            continue
        stale = sorted(gallery.glob("*.md5"))
        for md5 in stale:
            md5.unlink()
        if stale:
            changed = "first build" if not record.exists() else "environment changed"
            print(f"guide: {changed}; re-executing every example of {gallery.name}/")
        gallery.mkdir(parents=True, exist_ok=True)
        # Written before the examples run: an interrupted build leaves examples
        # without an .md5, and sphinx-gallery runs those again next time.
        record.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")


STAMP = """
.. rst-class:: guide-stamp

Output produced at build time by torch ``{torch}`` on Python ``{python}``, CPU.
"""
HELPERS = """
.. rst-class:: guide-helpers

To run the downloaded script or notebook, put {links} next to it.
"""
HELPER_IMPORT = re.compile(r"^\s*(?:from|import)\s+(_\w+)", re.MULTILINE)
# The example's title: a line of text underlined with = right after the page label.
TITLE = re.compile(r"^\.\. _sphx_glr_.+?:\n\n+.+\n=+\n", re.MULTILINE)


def add_stamp(app, docname: str, source: list[str]) -> None:
    """Put the environment stamp under the title of every executed example page."""
    in_gallery = any(
        Path(app.srcdir, docname).parent == gallery for gallery in gallery_dirs(app)
    )
    if not in_gallery or docname.endswith("/index"):
        return
    title = TITLE.search(source[0])
    if title is None:
        raise ValueError(f"{docname}: no example title found to put the stamp under")
    stamp = STAMP.format(**environment())
    script = example_source(app, docname)
    helpers = sorted(set(HELPER_IMPORT.findall(script.read_text(encoding="utf-8"))))
    if helpers:
        srcdir = Path(app.srcdir).resolve()
        links = ", ".join(
            f":download:`{name}.py </{Path(os.path.relpath(script.parent / (name + '.py'), srcdir)).as_posix()}>`"
            for name in helpers
        )
        stamp += HELPERS.format(links=links)
    source[0] = source[0][: title.end()] + stamp + source[0][title.end() :]


ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold


def normalize_zips(app) -> None:
    """Give every entry of the gallery's zips the same time (runs after sphinx-gallery)."""
    for gallery in gallery_dirs(app):
        for archive in gallery.glob("*.zip"):
            with zipfile.ZipFile(archive) as old:
                if all(info.date_time == ZIP_TIME for info in old.infolist()):
                    continue
                entries = [(info, old.read(info)) for info in old.infolist()]
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as new:
                for info, data in entries:
                    fixed = zipfile.ZipInfo(info.filename, ZIP_TIME)
                    fixed.external_attr = info.external_attr
                    new.writestr(fixed, data, zipfile.ZIP_DEFLATED)


def mark_doctest_blocks(app, doctree) -> None:
    """Class the blocks of sphinx.ext.doctest's directives, which ``make doctest`` runs."""
    for block in doctree.findall(nodes.literal_block):
        if block.get("testnodetype") in ("doctest", "testcode", "testoutput"):
            block["classes"].append("guide-executed")


def setup(app):
    app.connect("config-inited", invalidate_stale_outputs)
    app.connect("builder-inited", normalize_zips, priority=900)  # sphinx-gallery's is 500
    app.connect("doctree-read", mark_doctest_blocks)
    app.connect("source-read", add_stamp)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
