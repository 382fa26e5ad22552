"""The article on trial: its code, quoted once, and each of its claims with the verdict we expect.

The article's code and front matter are quoted, character for character, in ``_article.md``
beside this module (the article's own format: Markdown, so the quote can repeat the class
that the article repeats); this module reads it into ``TITLE``, ``DATE``, ``ID`` and
``EXAMPLE_1`` to ``EXAMPLE_3``. Every page that quotes the article takes the words from
here. The claims ledger's records live with its evidence and rules, in
``docs/_ext/ledger``.
"""

from __future__ import annotations

import os
import re

# The files beside this module that it reads. A downloaded example carries them inside its
# inlined copy of this module (docs/_ext/standalone_downloads.py), where ``__loader__``
# gives them by name; on the site, ``__loader__`` reads them from the disk.
DATA_FILES = ("_article.md",)
# Its front matter (key: "value" lines between ---), then each example under its bold heading.
FRONT_MATTER = re.compile(r'\A---\n((?:\w+: ".*"\n)+)---\n')
EXAMPLE = re.compile(r"^\*\*Example (\d): [^\n]*\*\*\n\n```python\n(.*?)^```$", re.M | re.S)


def _read_quote() -> tuple[dict[str, str], list[str]]:
    """The front matter and the three Python blocks of ``_article.md``; anything else raises."""
    path = os.path.join(os.path.dirname(__file__), DATA_FILES[0])
    text = __loader__.get_data(path).decode("utf-8")
    head = FRONT_MATTER.match(text)
    meta = dict(re.findall(r'^(\w+): "(.*)"$', head.group(1), re.M)) if head else {}
    blocks = EXAMPLE.findall(text)
    if sorted(meta) != ["date", "id", "title"] or [n for n, _ in blocks] != ["1", "2", "3"]:
        raise ValueError(f"{path}: not a front matter (title, date, id) and Examples 1 to 3")
    if text.count("```") != 2 * len(blocks):
        raise ValueError(f"{path}: a code block other than the three Python examples")
    return meta, [code for _, code in blocks]


_META, (EXAMPLE_1, EXAMPLE_2, EXAMPLE_3) = _read_quote()
TITLE, DATE = _META["title"], _META["date"]
# Our copy's front matter gives a title, a date and this id, and no site: neither do we.
ID = _META["id"]
PUBLISHED = f'front matter of our copy: title, date {DATE}, id "{ID}"; no site or URL'
