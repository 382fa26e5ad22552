"""Local Sphinx extension of *ModuleDict, corrected*.

* **No stale outputs.** sphinx-gallery re-executes an example only when the example's
  own source changes (it keeps an ``.md5`` of it). We also fingerprint what produces
  the outputs: torch and Python versions, ``requirements.txt`` and ``conf.py``. When
  the fingerprint differs from the one the cached outputs were
  made with, every cached ``.md5`` is deleted, so every example runs again.
* **Executed code is marked.** Blocks that ``make doctest`` runs get the class
  ``guide-executed``, so the tests can prove no Python block on the site goes unrun.
* **Environment stamp.** Every example page states the torch and Python versions
  that produced its output, right under its title, followed by its download buttons.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from importlib.metadata import version
from pathlib import Path

from docutils import nodes

FINGERPRINT_FILE = ".environment.json"
# Files whose content shapes the examples' outputs, relative to the config directory:
# the build's requirements (requirements.txt; not the tests' or the bench's tools, which
# change no output) and the configuration. Each example imports only installed packages.
FINGERPRINTED_FILES = ("requirements.txt", "conf.py")


def environment() -> dict[str, str]:
    """The versions that produce the site's outputs (read without importing torch)."""
    return {"torch": version("torch"), "python": platform.python_version()}


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
        if Path(docname).is_relative_to(gallery) and Path(docname).name.startswith("plot_"):
            relative = Path(docname).relative_to(gallery)
            return Path(app.srcdir, examples, relative).with_suffix(".py").resolve()
    raise ValueError(f"{docname} is not an example page")


def invalidate_stale_outputs(app, config) -> None:
    """Delete sphinx-gallery's cache when the environment's fingerprint has changed."""
    current = fingerprint(Path(app.confdir))
    for gallery in gallery_dirs(app):
        record = gallery / FINGERPRINT_FILE
        if record.exists() and json.loads(record.read_text()) == current:
            continue
        stale = sorted(gallery.rglob("*.md5"))  # sub-galleries included
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
# The title: a line of text underlined with = right after the page label.
TITLE = re.compile(r"^\.\. _sphx_glr_.+?:\n\n+.+\n=+\n", re.MULTILINE)
# sphinx-gallery's "Go to the end to download" note, the first thing on the page.
DOWNLOAD_NOTE = re.compile(
    r"^\.\. only:: html\n\n    \.\. note::\n"
    r"        :class: sphx-glr-download-link-note\n(?:\n|        .*\n)*",
    re.MULTILINE,
)
# The download buttons at the end of the page, with the label the note linked to.
DOWNLOADS = re.compile(
    r"^\.\. _sphx_glr_download_.+?:\n\n\.\. only:: html\n\n"
    r"  \.\. container:: sphx-glr-footer sphx-glr-footer-example\n(?:\n|    .*\n)*",
    re.MULTILINE,
)

# sphinx-gallery's button labels repeat the file name; small buttons say what they give.
BUTTON_LABELS = (
    ("Download Jupyter notebook", "Download notebook (.ipynb)"),
    ("Download Python source code", "Download script (.py)"),
    ("Download zipped", "Download both (.zip)"),
)


def add_stamp(app, docname: str, source: list[str]) -> None:
    """Open every example page with its title, the environment stamp and the downloads.

    sphinx-gallery starts the page with a note pointing to the download buttons at its
    end; the note goes, and the buttons move under the stamp (styled in guide.css).
    """
    in_gallery = any(gallery in Path(app.srcdir, docname).parents for gallery in gallery_dirs(app))
    if not in_gallery or docname.endswith("/index"):
        return
    text = DOWNLOAD_NOTE.sub("", source[0], count=1)
    downloads = DOWNLOADS.search(text)
    if downloads is None:
        raise ValueError(f"{docname}: no download buttons found to move under the stamp")
    text = text[: downloads.start()] + text[downloads.end() :]
    title = TITLE.search(text)
    if title is None:
        raise ValueError(f"{docname}: no example title found to put the stamp under")
    stamp = STAMP.format(**environment())
    buttons = downloads.group(0).replace(
        "sphx-glr-footer sphx-glr-footer-example",
        "sphx-glr-footer sphx-glr-footer-example guide-downloads",
    )
    for long, short in BUTTON_LABELS:
        buttons = re.sub(rf"`{long}: [^<`]+ <", f"`{short} <", buttons)
    top = stamp + "\n" + buttons
    source[0] = text[: title.end()] + top + "\n" + text[title.end() :]


def mark_doctest_blocks(app, doctree) -> None:
    """Class the blocks of sphinx.ext.doctest's directives, which ``make doctest`` runs."""
    for block in doctree.findall(nodes.literal_block):
        if block.get("testnodetype") in ("doctest", "testcode", "testoutput"):
            block["classes"].append("guide-executed")


def setup(app):
    app.connect("config-inited", invalidate_stale_outputs)
    app.connect("doctree-read", mark_doctest_blocks)
    app.connect("source-read", add_stamp)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
