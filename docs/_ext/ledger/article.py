"""The article's three code examples, as the example pages quote them.

``article_code(n)`` is the one reader of the quote (``docs/_ext/article_quote.py``).
Until that function exists, this module reads the quote it replaces,
``examples/_article.md`` (TEMPORARY: delete the fallback once ``article_quote``
provides ``article_code``).
"""

from __future__ import annotations

import re
from pathlib import Path

try:
    from article_quote import article_code
except ImportError:  # TEMPORARY fallback, see above
    QUOTE = Path(__file__).resolve().parents[3] / "examples" / "_article.md"
    EXAMPLE = re.compile(
        r"^\*\*Example (\d): [^\n]*\*\*\n\n```python\n(.*?)^```$", re.M | re.S
    )

    def article_code(n: int) -> str:
        """The code of the article's Example ``n``, character for character."""
        blocks = dict(EXAMPLE.findall(QUOTE.read_text(encoding="utf-8")))
        return blocks[str(n)]
