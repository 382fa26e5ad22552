"""What the tests share besides fixtures (those are in conftest.py): copy the project,
run its Makefile, read its pages. A plain module: the tests import it as ``helpers``."""

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
GENERATED = shutil.ignore_patterns("auto_examples", "__pycache__", "sg_execution_*")


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
    make = ["make", "--no-print-directory", "-C", str(project), target]
    return [*make, f"PYTHON={sys.executable}", *args]


def make(project: Path, target: str, *args: str, env: dict | None = None):
    """Run a Makefile target of ``project`` with this test run's Python."""
    command, env = make_command(project, target, *args), {**os.environ, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, env=env)


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
SITE_ENV = {"SOURCE_DATE_EPOCH": "1767225600"}


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
    """How many examples a build ran, crashes included: M of sphinx-gallery's
    "successfully executed N out of M" (N counts those without an exception)."""
    ran = re.search(r"successfully executed \d+ out of (\d+) file", log)
    assert ran, log[-3000:]
    return int(ran.group(1))


ERROR_INDEX_PAGE = "reference/errors.html"


def shown_errors_by_source(site) -> dict[str, list[str]]:
    """Every error the site shows, by example or page (docs/_ext/error_index.py)."""
    return json.loads((site.html / "_static/error-index.json").read_text("utf-8"))


def shown_errors(site) -> list[str]:
    """Every distinct error the site shows."""
    return sorted({e for each in shown_errors_by_source(site).values() for e in each})


def rendered(text: str) -> str:
    """Text as HTML shows it in a code block: tabs expanded, no trailing spaces."""
    return "\n".join(line.expandtabs().rstrip() for line in text.splitlines())


def page_texts(site) -> dict[str, str]:
    """The text of every code block and output of every page, by page."""
    return {
        html.relative_to(site.html).as_posix(): rendered(
            "\n".join(b.get_text() for b in soup(html).find_all("pre"))
        )
        for html in site.html.rglob("*.html")
    }


# The examples, in the sub-galleries of examples/ (the article on trial; what really goes
# wrong); helper modules stay at the top, beside GALLERY_HEADER.rst.
EXAMPLES = sorted(ROOT.glob("examples/*/plot_*.py"))


def example_path(name: str) -> Path:
    """The source of the example named ``name``, whichever sub-gallery holds it."""
    (path,) = [p for p in EXAMPLES if p.name == name]
    return path


def copy_mini_project(dst: Path) -> Path:
    """The real configuration with one example and a one-page docs/, in ``dst``."""
    # Not the torch matrix: it lists every example.
    files = "conf.py Makefile requirements.txt docs/_ext docs/_static docs/_data/article.json"
    root = copy_project(dst, files.split())
    (root / "examples").mkdir()
    example = example_path("plot_article_example1_item_access_works.py")
    for src in [ROOT / "examples" / "GALLERY_HEADER.rst", example]:
        shutil.copy2(src, root / "examples" / src.name)
    index = "# Minimal\n\n```{toctree}\nauto_examples/index\n```\n"
    (root / "docs" / "index.md").write_text(index)
    return root


MYTHS_PAGE = "auto_examples/article/plot_article_example3_backward_succeeds.html"
# furo scrolls smoothly: a scrollTo() would take 0.7 s to end, and no check needs that.
CHROMIUM_ARGS = """--no-sandbox --disable-gpu --disable-background-networking
--disable-component-update --disable-sync --no-first-run --disable-smooth-scrolling""".split()


def require(what: str, available: bool, install: str):
    """A missing test dependency fails the run in CI and is a visible skip elsewhere."""
    if available:
        return
    message = f"{what} is missing ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(f"SKIPPED: {message}")


@functools.cache
def _unshare() -> tuple[str, ...] | None:
    for unshare in (("unshare", "-n"), ("unshare", "-rn")):  # as root, or not
        up = [*unshare, "ip", "link", "set", "lo", "up"]
        with contextlib.suppress(FileNotFoundError):  # no unshare or no ip: None
            if subprocess.run(up, capture_output=True).returncode == 0:
                return unshare
    return None


def offline() -> list[str]:
    """A command prefix: a new network namespace, with loopback up (``unshare -n``)."""
    unshare = _unshare()
    require("A network namespace (unshare -n)", bool(unshare), "util-linux, iproute2")
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
    """Serve ``folder`` with :class:`StaticHost` on 127.0.0.1 (a free port) while the
    block runs; yields the base URL, without a trailing slash."""
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
    """An error retyped with names of one's own: the last quoted name's last dotted part
    renamed (or a number, if none), then every quote and backslash dropped."""
    if names := list(QUOTED_NAME.finditer(error)):
        name = names[-1]
        parts = name.group(2).split(".")
        parts[-1] = "renamed" if parts[-1] != "renamed" else "other"
        error = error[: name.start(2)] + ".".join(parts) + error[name.end(2) :]
    else:
        error = STANDALONE_NUMBER.sub(lambda n: str(int(n.group()) + 7), error, count=1)
    return re.sub(r"""['"\\]""", "", as_pasted(error))


def error_shape(error: str) -> str:
    """What stays of an error when its names in quotes and its numbers change."""
    return re.sub(r"\d+", "0", QUOTED_NAME.sub("'_'", error))
