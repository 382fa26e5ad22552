"""The article's code, read from the one place it is quoted: its example page.

Each of the article's three code examples is quoted once, character for character,
as the code cell that follows a text block headed "The article's Example N, as
published" in one of the examples (``examples/**/plot_*.py``); the page runs it like
any other cell. :func:`article_code` returns that cell. ``docs/_data/article.json``
holds what we know of the article besides its code (title, date, id, no site) and the
sha256 of each quoted example: every build checks the quotes against those digests
and fails on a quote that was edited, and ``tests/test_article_quote.py`` checks them
against the article itself where it is available.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import guide
from docutils import nodes
from sphinx_gallery.py_source_parser import split_code_and_text_blocks

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DATA = ROOT / "docs" / "_data" / "article.json"
NUMBERS = (1, 2, 3)
HEADING = "The article's Example {n}, as published"


def metadata(data: Path = DATA) -> dict:
    """The article's ``title``, ``date`` and ``id``, and the quotes' ``sha256`` by number."""
    return json.loads(data.read_text(encoding="utf-8"))


def _headed(text: str, heading: str) -> bool:
    """Whether a text block opens a section titled ``heading`` (reST, underlined)."""
    return re.search(rf"^{re.escape(heading)}\n[-=~^]{{{len(heading)}}}$", text, re.M) is not None


def quoting_example(n: int, examples: Path = EXAMPLES) -> Path:
    """The one example that quotes the article's Example ``n``."""
    heading = HEADING.format(n=n)
    found = [
        path
        for path in sorted(examples.rglob("plot_*.py"))
        if heading in path.read_text(encoding="utf-8")
    ]
    if len(found) != 1:
        raise ValueError(f"{heading!r}: in {len(found)} examples, not one: {found}")
    return found[0]


def article_code(n: int, examples: Path = EXAMPLES) -> str:
    """The article's Example ``n`` (1, 2 or 3), as its page quotes it.

    The code cell right after the text block headed "The article's Example n, as
    published", without the blank lines that separate it from the next cell.
    """
    if n not in NUMBERS:
        raise ValueError(f"the article has Examples 1 to 3, not {n!r}")
    path = quoting_example(n, examples)
    _, blocks = split_code_and_text_blocks(path)
    heading = HEADING.format(n=n)
    for block, following in zip(blocks, blocks[1:]):
        if block.type == "text" and _headed(block.content, heading):
            if following.type != "code":
                raise ValueError(f"{path.name}: no code cell after {heading!r}")
            return following.content.strip("\n") + "\n"
    raise ValueError(f"{path.name}: no text block headed {heading!r}")


def digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def quoted(examples: Path = EXAMPLES) -> list[int]:
    """The numbers of the article's examples that a page of ``examples`` quotes.

    All three on the site; a smaller project (the tests build one) may hold fewer.
    """
    return [
        n
        for n in NUMBERS
        if any(HEADING.format(n=n) in p.read_text(encoding="utf-8")
               for p in examples.rglob("plot_*.py"))
    ]


def altered_quotes(examples: Path = EXAMPLES, data: Path = DATA) -> list[str]:
    """The quoted examples whose code differs from its recorded digest (empty when none)."""
    recorded = metadata(data)["sha256"]
    return [
        f"Example {n} ({quoting_example(n, examples).name})"
        for n in quoted(examples)
        if digest(article_code(n, examples)) != recorded[str(n)]
    ]


def check_quotes(app) -> None:
    """Fail the build when a page's quote of the article is not the recorded text."""
    altered = [quote for examples in _examples_dirs(app) for quote in altered_quotes(examples)]
    if altered:
        from sphinx.errors import ExtensionError  # noqa: PLC0415 - make matrix has no Sphinx

        raise ExtensionError(
            "the article's code was changed where it is quoted: "
            + ", ".join(altered)
            + f"; the quotes must stay the article's text (sha256 in {DATA.name})"
        )


def mark_quotes(app, doctree) -> None:
    """The block that shows the article's code gets the class ``guide-article-quote``:
    the article's own lines run to 105 characters, and ``guide.css`` wraps that block
    on a wide screen rather than let it scroll (our own code keeps to 79)."""
    if not app.env.docname.startswith("auto_examples/"):
        return
    quotes = set()
    for examples in _examples_dirs(app):
        quotes |= {article_code(n, examples).strip("\n") for n in quoted(examples)}
    for block in doctree.findall(nodes.literal_block):
        if block.astext().strip("\n") in quotes:
            block["classes"].append("guide-article-quote")


def _examples_dirs(app) -> list[Path]:
    return [examples for examples, _ in guide.galleries(app)]


def setup(app):
    app.connect("builder-inited", check_quotes)
    app.connect("doctree-read", mark_quotes)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
