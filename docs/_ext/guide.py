"""What the site's extensions share, each done once, and the example pages' stamp.

* :func:`galleries`, :func:`examples`: the galleries, every example and its page.
* :func:`label`, :func:`title`: an example page's label, and its title.
* :func:`shown_errors`: the errors an output shows, as Python printed them.
* :func:`test_kind`: which of ``sphinx.ext.doctest``'s blocks a code block is.
* :func:`write_zip`: a zip with fixed times, the same bytes at every build.
* **No stale outputs.** sphinx-gallery runs an example again when its source changes.
  What else shapes the outputs (torch, Python, ``requirements.txt``, ``conf.py``) is the
  config value ``guide_environment``: when it changes, Sphinx reads every page again,
  and every example runs again (its ``.md5`` is deleted).
* **The stamp.** A page with executed code says under its title which torch and Python
  produced its outputs (an example's download buttons follow).
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import re
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

# --- Examples ------------------------------------------------------------------------


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def galleries(app) -> list[tuple[Path, Path]]:
    """(examples folder, gallery folder) pairs: ``examples/`` and ``docs/auto_examples/``."""
    conf = app.config.sphinx_gallery_conf
    pairs = zip(_as_list(conf["examples_dirs"]), _as_list(conf["gallery_dirs"]))
    return [(Path(app.srcdir, src).resolve(), Path(app.srcdir, out)) for src, out in pairs]


def examples(app) -> list[tuple[Path, Path]]:
    """(source, page) of every example: ``examples/<sub>/plot_x.py`` and the reST page
    sphinx-gallery writes for it, ``docs/auto_examples/<sub>/plot_x.rst``."""
    found = []
    for src, out in galleries(app):
        for script in sorted(src.rglob("plot_*.py")):
            found.append((script, (out / script.relative_to(src)).with_suffix(".rst")))
    return found


def example_of(app, docname: str) -> Path | None:
    """The source of the example whose page is ``docname`` (None: not an example)."""
    page = Path(app.srcdir, docname + ".rst")
    return next((src for src, rst in examples(app) if rst == page), None)


def label(app, page: Path) -> str:
    """The label sphinx-gallery gives an example's page: ``sphx_glr_<path with _>.py``."""
    path = page.relative_to(app.srcdir).with_suffix(".py").as_posix()
    return "sphx_glr_" + path.replace("/", "_")


TITLE = re.compile(r"^\.\. _sphx_glr_.+?:\n\n+(.+)\n=+\n", re.MULTILINE)


def title(page_text: str) -> str:
    """The title of an example, from the reST page sphinx-gallery wrote."""
    match = TITLE.search(page_text)
    if match is None:
        raise ValueError("no example title on this page")
    return match.group(1).strip()


# --- Errors as the site shows them -------------------------------------------------------

# The line that names an exception, as Python prints it: a builtin ``...Error`` or
# ``...Exception``, or a dotted name (``torch._dynamo.exc.Unsupported``).
EXCEPTION = re.compile(r"^((?:[A-Za-z_]\w*\.)+[A-Z]\w*|[A-Z]\w*(?:Error|Exception))(?::|$)")


def shown_errors(text: str) -> list[str]:
    """Each error an output shows: from the line that names it to a blank line or the next.

    The examples print an error as Python prints a traceback's last part, followed by a
    blank line (``print("".join(traceback.format_exception_only(error)))``)."""
    errors, lines = [], [line.expandtabs().rstrip() for line in text.splitlines()]
    for n, line in enumerate(lines):
        if EXCEPTION.match(line):
            after = range(n + 1, len(lines))
            end = next((i for i in after if not lines[i] or EXCEPTION.match(lines[i])), len(lines))
            errors.append("\n".join(lines[n:end]))
    return errors


def test_kind(node) -> str | None:
    """``doctest``, ``testcode`` or ``testoutput`` for the blocks ``make doctest`` runs."""
    kind = node.get("testnodetype")
    return kind if kind in ("doctest", "testcode", "testoutput") else None


# --- Reproducible files ----------------------------------------------------------------

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold


def write_zip(archive: Path, entries: list[tuple[str, bytes]]) -> None:
    """Write ``entries`` (name, data) with one fixed time; unchanged bytes stay untouched."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = 0o644 << 16
            new.writestr(info, data, zipfile.ZIP_DEFLATED)
    if not archive.is_file() or archive.read_bytes() != buffer.getvalue():
        archive.write_bytes(buffer.getvalue())


def pages_using(env, directive: str) -> list[str]:
    """The pages that use ``directive``: each lists what the whole build showed, so it is
    written again at every build (an ``env-updated`` handler returns them)."""
    return [d for d in env.found_docs if f"{{{directive}}}" in Path(env.doc2path(d)).read_text()]


# --- No stale outputs ------------------------------------------------------------------


def environment() -> dict[str, str]:
    """The versions that produce the site's outputs (read without importing torch)."""
    return {"torch": version("torch"), "python": platform.python_version()}


def fingerprint(confdir: Path) -> dict[str, str]:
    """What the examples' outputs depend on besides their own source."""
    files = {
        name: hashlib.sha256(Path(confdir, name).read_bytes()).hexdigest()
        for name in ("requirements.txt", "conf.py")
        if Path(confdir, name).is_file()
    }
    return {**environment(), "python_build": sys.version, **files}


def invalidate_stale_outputs(app, config) -> None:
    """Record the fingerprint; when it changed, every example runs again."""
    config.guide_environment = fingerprint(Path(app.confdir))
    record = galleries(app)[0][1] / ".environment.json"  # beside the outputs it vouches for
    if record.is_file() and json.loads(record.read_text()) == config.guide_environment:
        return
    print("guide: environment changed; re-executing every example")
    for _, page in examples(app):
        page.with_suffix(".py.md5").unlink(missing_ok=True)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(config.guide_environment, sort_keys=True))


# --- The stamp -------------------------------------------------------------------------

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


def move_downloads(app, docname: str, source: list[str]) -> None:
    """Open every example page with its title, then (the stamp and) the download buttons."""
    if example_of(app, docname) is None:
        return
    text = DOWNLOAD_NOTE.sub("", source[0], count=1)
    downloads = DOWNLOADS.search(text)
    if downloads is None:
        raise ValueError(f"{docname}: no download buttons to move under the stamp")
    text = text[: downloads.start()] + text[downloads.end() :]
    buttons = downloads.group(0).replace(
        "sphx-glr-footer-example", "sphx-glr-footer-example guide-downloads"
    )
    for long, short in BUTTON_LABELS:
        buttons = re.sub(rf"`{long}: [^<`]+ <", f"`{short} <", buttons)
    end = TITLE.search(text).end()
    source[0] = text[:end] + "\n" + buttons + "\n" + text[end:]


def stamp():
    """Which torch and Python produced a page's outputs, read from the installed ones."""
    from docutils import nodes

    torch, python = (nodes.literal(text=v) for v in environment().values())
    text = nodes.Text
    words = [text("Output produced at build time by torch "), torch, text(" on Python ")]
    words += [python, text(", CPU.")]
    return nodes.paragraph("", "", *words, classes=["guide-stamp"])


def mark_executed(app, doctree) -> None:
    """Class the blocks ``make doctest`` runs (``guide-executed``, ``guide-<kind>``); a
    page with executed code (an example, a doctest) gets the stamp under its title."""
    from docutils import nodes

    executed = example_of(app, app.env.docname) is not None
    for block in doctree.findall(nodes.literal_block):
        if kind := test_kind(block):
            block["classes"] += ["guide-executed", f"guide-{kind}"]
            executed = True
    paragraphs = doctree.findall(nodes.paragraph)
    if executed and not any("guide-stamp" in p["classes"] for p in paragraphs):
        next(doctree.findall(nodes.section)).insert(1, stamp())  # under the title


def stop_example_workers(app, exception) -> None:
    """sphinx-gallery ran the examples in joblib's workers: stop them once the build is
    done, rather than wait at exit for each to wind torch down."""
    if app.config.sphinx_gallery_conf.get("parallel"):
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=False, kill_workers=True)


def setup(app):
    app.add_config_value("guide_environment", {}, "env")
    app.connect("config-inited", invalidate_stale_outputs)
    app.connect("doctree-read", mark_executed)
    app.connect("source-read", move_downloads)
    app.connect("build-finished", stop_example_workers)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
