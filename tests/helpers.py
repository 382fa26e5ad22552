"""What the tests share besides fixtures: copy the project, run its Makefile, read its pages.

A plain module (the tests import it as ``helpers``); the fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
SHARED_ARTICLE = ROOT.parent / "shared" / "source-article.md"
# What a build needs; generated files (docs/auto_examples, build/) stay behind.
PROJECT_FILES = ("conf.py", "Makefile", "requirements.txt", "docs", "examples")
GENERATED = shutil.ignore_patterns("auto_examples", "__pycache__", "sg_execution_times.rst")


def copy_project(dst: Path, files=PROJECT_FILES) -> Path:
    """Copy the sources of the project (not its generated files) into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in files:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=GENERATED)
        else:
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    return dst


def make_command(project: Path, target: str, *args: str) -> list[str]:
    """A Makefile target of ``project``, run with this test run's Python."""
    return ["make", "--no-print-directory", "-C", str(project), target,
            f"PYTHON={sys.executable}", *args]


def make(project: Path, target: str, *args: str, env: dict | None = None):
    """Run a Makefile target of ``project`` with this test run's Python."""
    return subprocess.run(make_command(project, target, *args), capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


# Sphinx colours its log where CI is true (sphinx.util.console.terminal_supports_colour),
# as on GitHub and in .ci/run: the tests read the words.
COLOUR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain(text: str) -> str:
    """``text`` without terminal colour codes."""
    return COLOUR.sub("", text)


def output_of(result) -> str:
    """What a command printed, stdout then stderr, without terminal colour codes."""
    return plain(result.stdout + result.stderr)


# Every build of the site in the tests claims the same date (2026-01-01: Sphinx puts
# this year into the copyright line).
SOURCE_DATE_EPOCH = "1767225600"
SITE_ENV = {"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}


@dataclass
class Site:
    root: Path  # the project copy it was built from
    log: str  # what make html printed

    @property
    def html(self) -> Path:
        return self.root / "build" / "html"



def soup(html: Path) -> BeautifulSoup:
    """A built HTML page, parsed."""
    return BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")


def examples_executed(log: str) -> int:
    """How many examples a build ran, an expected crash included (not the cached ones).

    sphinx-gallery reports "successfully executed N out of M": M counts every example
    it ran, N only those that ended without an exception.
    """
    ran = re.search(r"successfully executed \d+ out of (\d+) file", log)
    assert ran, log[-3000:]
    return int(ran.group(1))


ERROR_INDEX_PAGE = "reference/errors.html"


def shown_errors_by_source(site) -> dict[str, list[str]]:
    """Every error the site shows, by example or page (docs/_ext/error_index.py wrote it)."""
    return json.loads((site.html / "_static/error-index.json").read_text(encoding="utf-8"))


def shown_errors(site) -> list[str]:
    """Every distinct error the site shows."""
    return sorted({error for errors in shown_errors_by_source(site).values() for error in errors})


def rendered(text: str) -> str:
    """Text as HTML shows it in a code block: tabs expanded, no trailing spaces."""
    return "\n".join(line.expandtabs().rstrip() for line in text.splitlines())


def page_texts(site) -> dict[str, str]:
    """The text of every code block and output of every page, by page."""
    texts = {}
    for html in site.html.rglob("*.html"):
        blocks = soup(html).find_all("pre")
        text = rendered("\n".join(b.get_text() for b in blocks))
        texts[html.relative_to(site.html).as_posix()] = text
    return texts


MINIMAL_INDEX = """\
# Minimal

```{toctree}
auto_examples/index
```
"""
MINIMAL_EXAMPLE = "plot_article_example1_item_access_works.py"
# The examples, in the sub-galleries of examples/ (the article on trial; what really goes
# wrong); helper modules stay at the top, beside GALLERY_HEADER.rst.
EXAMPLES = sorted(ROOT.glob("examples/*/plot_*.py"))


def example_path(name: str) -> Path:
    """The source of the example whose file name is ``name``, whichever sub-gallery holds it."""
    (path,) = [p for p in EXAMPLES if p.name == name]
    return path


def copy_mini_project(dst: Path) -> Path:
    """The real configuration with one example and a one-page docs/, in ``dst``."""
    files = ("conf.py", "Makefile", "requirements.txt", "docs/_ext", "docs/_static",
             "docs/_data/article.json")  # not the torch matrix: it lists every example
    root = copy_project(dst, files)
    examples = root / "examples"
    examples.mkdir()
    header = ROOT / "examples" / "GALLERY_HEADER.rst"
    for src in [header, example_path(MINIMAL_EXAMPLE)]:
        shutil.copy2(src, examples / src.name)
    (root / "docs" / "index.md").write_text(MINIMAL_INDEX)
    return root


MYTHS_PAGE = "auto_examples/article/plot_article_example3_backward_succeeds.html"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # furo scrolls smoothly: a scrollTo() would take 0.7 s to end, and no check needs that.
    "--disable-smooth-scrolling",
]


def require(what: str, available: bool, install: str):
    """A missing test dependency fails the run in CI and is a visible skip elsewhere."""
    if available:
        return
    message = f"{what} is missing ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(f"SKIPPED: {message}")


@functools.cache
def _unshare() -> list[str] | None:
    for unshare in (["unshare", "-n"], ["unshare", "-rn"]):  # as root, or not
        try:
            ran = subprocess.run([*unshare, "ip", "link", "set", "lo", "up"], capture_output=True)
        except FileNotFoundError:  # no unshare or no ip
            return None
        if ran.returncode == 0:
            return unshare
    return None


def offline() -> list[str]:
    """A command prefix: a new network namespace, with loopback up (``unshare -n``)."""
    unshare = _unshare()
    require("A network namespace (unshare -n; ip)", unshare is not None, "util-linux, iproute2")
    return [*unshare, "sh", "-c", 'ip link set lo up && exec "$0" "$@"']


class StaticHost(http.server.SimpleHTTPRequestHandler):
    """Serves a folder like a static host: unknown paths get 404.html with status 404."""

    def send_error(self, code, message=None, explain=None):
        if code != 404:
            return super().send_error(code, message, explain)
        body = Path(self.directory, "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` with :class:`StaticHost` on 127.0.0.1 (a free port) while the block
    runs; yields the base URL, without a trailing slash."""
    handler = functools.partial(StaticHost, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- Errors as readers paste them -------------------------------------------------------

# A name in quotes, without spaces: a key, an attribute, a type ('layer1', "enc.weight").
QUOTED_NAME = re.compile(r"""(['"])([^'"\s\\]{0,29}\w[^'"\s\\]{0,30})\1""")
STANDALONE_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")


def as_pasted(error: str) -> str:
    """An error as a search box receives it, pasted: its lines joined by spaces."""
    return " ".join(line.strip() for line in error.splitlines())


def retyped(error: str) -> str:
    """An error as a reader retypes it or meets it with names of their own: the last name
    in quotes renamed (its last dotted part; a number instead when there is no quoted
    name), then every quote and backslash dropped."""
    names = list(QUOTED_NAME.finditer(error))
    if names:
        name = names[-1]
        parts = name.group(2).split(".")
        renamed = ".".join([*parts[:-1], "renamed" if parts[-1] != "renamed" else "other"])
        error = error[: name.start(2)] + renamed + error[name.end(2):]
    else:
        error = STANDALONE_NUMBER.sub(lambda n: str(int(n.group()) + 7), error, count=1)
    return re.sub(r"""['"\\]""", "", as_pasted(error))


def error_shape(error: str) -> str:
    """What stays of an error when its names in quotes and its numbers change."""
    return re.sub(r"\d+", "0", QUOTED_NAME.sub("'_'", error))
