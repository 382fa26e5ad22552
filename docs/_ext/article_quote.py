"""The ``article-code`` directive: one of the article's code examples, from its one quote.

The article's code is quoted once, in ``examples/_article.md``, which ``_article.py``
reads into ``EXAMPLE_1`` to ``EXAMPLE_3``. An example page shows one of them with::

    .. article-code:: EXAMPLE_1

a Python literal block of that text, character for character (``literalinclude`` cannot
cut a fenced block out of Markdown: ``:end-before:`` would stop at the opening fence).
The page is rebuilt when the quote changes.
"""

from __future__ import annotations

from pathlib import Path

import _article
from docutils import nodes
from sphinx.util.docutils import SphinxDirective

NAMES = ("EXAMPLE_1", "EXAMPLE_2", "EXAMPLE_3")


class ArticleCode(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        if name not in NAMES:
            raise self.error(f"article-code: {name!r} is none of {', '.join(NAMES)}")
        for data_file in _article.DATA_FILES:
            self.env.note_dependency(str(Path(_article.__file__).with_name(data_file)))
        code = getattr(_article, name)
        block = nodes.literal_block(code, code, language="python")
        self.set_source_info(block)
        return [block]


def setup(app):
    app.add_directive("article-code", ArticleCode)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
