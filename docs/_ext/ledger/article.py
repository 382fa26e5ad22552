"""The article's three code examples, as the example pages quote them.

``article_code(n)`` is the one reader of the quote (``docs/_ext/article_quote.py``).
"""

from article_quote import article_code

__all__ = ["article_code"]
