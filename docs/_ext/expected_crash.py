"""Examples that end in an error on purpose: the error is checked, and shown portably.

An example whose last cell shows code that crashes (the article's Example 2) cannot
catch its own error: a reader who copies the code must see it fail as it does on the
page. Such an example is declared in ``conf.py``, in ``expected_crashes``: its path
under the examples folder, mapped to the error's type, as Python prints it, and a
regular expression its message must match (``re.search``)::

    expected_crashes = {
        "article/plot_article_example2_crashes_as_written.py": (
            "RuntimeError", r"mat1 and mat2 shapes cannot be multiplied"),
    }

This extension

* adds each such example to sphinx-gallery's ``expected_failing_examples``, so
  sphinx-gallery renders the traceback under the cell that raised and fails the build
  if the example runs to its end;
* checks, after the examples ran, that each one failed with exactly that type and a
  matching message, and fails the build otherwise (another error is a different
  page);
* makes the traceback sphinx-gallery rendered the same on every machine: the path of
  a file of the installed packages or of the standard library becomes its path inside
  them (``torch/nn/modules/linear.py``), the example's own path its file name, so
  that no page holds the folder it was built in;
* gives :func:`expected_failures`: each declared example's error as its page shows it;
* caches a checked crash as sphinx-gallery caches an example that ran to its end (see
  below), so that a build with nothing changed runs no example.

**The cache.** sphinx-gallery (0.22.1) writes ``<example>.py.md5`` beside its copy of
an example only when the example ran to its end (``gen_rst.execute_script``); an
example that raised has none, so sphinx-gallery runs it again at every build, and the
pages it rewrites are read and written again. Once the crash has matched its
declaration, this extension writes that file itself, with sphinx-gallery's own digest
(``utils.get_md5sum``). The example then runs again exactly when sphinx-gallery runs
a cached example again: when its source changes, or when ``guide`` deletes every
``.md5`` because the environment changed (torch, Python, ``requirements.txt``,
``conf.py``, where ``expected_crashes`` is declared). A build that reuses the crash
checks the error its page shows against the declaration again, and leaves the example
out of sphinx-gallery's ``expected_failing_examples`` for that build: it did not run,
so sphinx-gallery would otherwise report it as "expected to fail, but not failing".
``tests/test_upstream_canaries.py`` fails when sphinx-gallery caches a failed example
itself; this cache can then go.
"""

from __future__ import annotations

import os
import re
import sysconfig
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx_gallery.utils import get_md5sum

# A frame line of a traceback, as traceback.format_list writes it.
FRAME = re.compile(r'^ *File "([^"]+)", line \d+', re.MULTILINE)
# The traceback block sphinx-gallery writes into an example's page.
PYTB = re.compile(r"^\.\. code-block:: pytb\n\n((?:    .*\n|\n)+)", re.MULTILINE)


def _examples_dirs(app) -> list[Path]:
    dirs = app.config.sphinx_gallery_conf["examples_dirs"]
    return [Path(app.srcdir, d) for d in ([dirs] if isinstance(dirs, str) else dirs)]


def _gallery_dirs(app) -> list[Path]:
    dirs = app.config.sphinx_gallery_conf["gallery_dirs"]
    return [Path(app.srcdir, d) for d in ([dirs] if isinstance(dirs, str) else dirs)]


def _source(app, relative: str) -> Path | None:
    """The example ``relative`` names, in whichever examples folder holds it.

    None in a project without it (the tests build smaller copies of the site): an
    example missing by mistake cannot pass unnoticed, since then nothing expects its
    error and sphinx-gallery fails the build when it raises.
    """
    for examples in _examples_dirs(app):
        if (examples / relative).is_file():
            return (examples / relative).resolve()
    return None


def _page(app, relative: str) -> Path | None:
    """The reST page sphinx-gallery writes for the example ``relative`` (None: no example)."""
    for examples, gallery in zip(_examples_dirs(app), _gallery_dirs(app)):
        if (examples / relative).is_file():
            return (gallery / relative).with_suffix(".rst")
    return None


def declare(app, config) -> None:
    """Add every declared example to sphinx-gallery's expected failures."""
    gallery_conf = config.sphinx_gallery_conf
    expected = set(gallery_conf["expected_failing_examples"])
    for relative, declared in config.expected_crashes.items():
        if not (isinstance(declared, tuple) and len(declared) == 2):
            raise ExtensionError(f"expected_crashes[{relative!r}]: not (type, regex)")
        re.compile(declared[1])  # a bad expression fails here, with its own message
        source = _source(app, relative)
        if source is not None:
            expected.add(os.path.relpath(source, app.srcdir))
    gallery_conf["expected_failing_examples"] = expected


def exception_part(formatted: str) -> str:
    """The error as ``traceback.format_exception_only`` wrote it, after the frames."""
    lines = formatted.rstrip("\n").splitlines()
    start = next((i for i, line in enumerate(lines[1:], 1) if not line.startswith(" ")), None)
    if start is None:
        raise ValueError(f"no error after the frames of:\n{formatted}")
    return "\n".join(lines[start:])


def matches(shown: str, type_name: str, pattern: str) -> bool:
    """Whether the error ``shown`` is a ``type_name`` whose message matches ``pattern``."""
    name, _, message = shown.partition(": ")
    return name == type_name and re.search(pattern, message) is not None


def portable(formatted: str, example: Path) -> str:
    """The traceback with every file named as it is on any machine (see the module)."""
    roots = sorted(
        {Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib", "stdlib")},
        key=lambda p: len(p.parts),
        reverse=True,
    )

    def short(path: str) -> str:
        if Path(path) == example:
            return example.name
        for root in roots:
            if Path(path).is_relative_to(root):
                return Path(path).relative_to(root).as_posix()
        return path

    for path in sorted(set(FRAME.findall(formatted))):
        formatted = formatted.replace(f'File "{path}"', f'File "{short(path)}"')
    return formatted


def check_and_rewrite(app) -> None:
    """After the examples ran: the declared error, or a failed build; portable pages;
    the checked crash cached, a cached one checked on its page (see the module)."""
    gallery_conf = app.config.sphinx_gallery_conf
    failing = {Path(p).resolve(): p for p in gallery_conf["failing_examples"]}
    passing = {Path(p).resolve() for p in gallery_conf["passing_examples"]}
    # sphinx-gallery's copies of the examples it did not run, its .md5 being current
    # (a gallery_conf without the list ran none from its cache).
    cached = {Path(p).resolve() for p in gallery_conf.get("stale_examples", ())}
    for relative, (type_name, pattern) in app.config.expected_crashes.items():
        source = _source(app, relative)
        if source is None:
            continue
        if source in passing:
            raise ExtensionError(
                f"{relative} was expected to raise {type_name}, and ran to its end"
            )
        page = _page(app, relative)
        if page.with_suffix(".py").resolve() in cached:
            _reuse(app, relative, source, page)
            continue
        if source not in failing:
            continue  # not executed in this build (not selected by filename_pattern)
        key = failing[source]
        formatted = gallery_conf["failing_examples"][key]
        shown = exception_part(formatted)
        if not matches(shown, type_name, pattern):
            raise ExtensionError(
                f"{relative} was expected to raise {type_name} matching {pattern!r}; "
                f"it raised:\n{shown}"
            )
        fixed = portable(formatted, source)
        gallery_conf["failing_examples"][key] = fixed
        text = page.read_text(encoding="utf-8")
        new = portable(text, source)
        if new != text:
            page.write_text(new, encoding="utf-8")
        _md5_file(page).write_text(get_md5sum(source, mode="t"))


def _md5_file(page: Path) -> Path:
    """sphinx-gallery's cache file for the example of ``page``: ``<example>.py.md5``
    beside its copy of the example (whose digest, in text mode, is the source's)."""
    return page.with_suffix(".py.md5")


def _reuse(app, relative: str, source: Path, page: Path) -> None:
    """A crash that sphinx-gallery did not run again: its page must still show the
    declared error; the example is not expected to fail in a build where it did not run."""
    type_name, pattern = app.config.expected_crashes[relative]
    shown = _shown(page)
    if shown is None or not matches(shown, type_name, pattern):
        _md5_file(page).unlink(missing_ok=True)  # it runs again at the next build
        raise ExtensionError(
            f"{relative}: its cached page shows {shown!r}, not {type_name} matching "
            f"{pattern!r}; run the build again to run the example again"
        )
    gallery_conf = app.config.sphinx_gallery_conf
    src_dir = Path(gallery_conf.get("src_dir", app.srcdir))
    gallery_conf["expected_failing_examples"] = {
        path for path in gallery_conf["expected_failing_examples"]
        if (src_dir / path).resolve() != source
    }


def _shown(page: Path) -> str | None:
    """The error that ends the traceback on ``page`` (None: no traceback there)."""
    if not page.is_file():
        return None
    blocks = PYTB.findall(page.read_text(encoding="utf-8"))
    if not blocks:
        return None
    traceback = "\n".join(line[4:] for line in blocks[-1].rstrip("\n").splitlines())
    return exception_part(traceback)


def expected_failures(app) -> dict[str, str]:
    """Each declared example (its path under the examples folder) and its error.

    The error as Python prints it under a traceback ("RuntimeError: mat1 and ..."),
    read from the traceback on the example's page; an example whose page does not
    exist yet is left out.
    """
    errors = {}
    for relative in app.config.expected_crashes:
        page = _page(app, relative)
        if page is None or not page.is_file():
            continue
        shown = _shown(page)
        if shown is None:
            raise ExtensionError(f"{page}: no traceback on the page of an expected crash")
        errors[relative] = shown
    return errors


def setup(app):
    app.add_config_value("expected_crashes", {}, "env", types=[dict])
    # After sphinx-gallery fills its defaults (config-inited, priority 10).
    app.connect("config-inited", declare, priority=20)
    # After sphinx-gallery ran the examples (builder-inited, priority 500), before the
    # verdict-card thumbnails are drawn (verdict_cards, priority 800).
    app.connect("builder-inited", check_and_rewrite, priority=600)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
