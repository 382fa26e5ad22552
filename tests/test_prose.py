"""Every built page opens with a clean paragraph: no fragment glued to a sentence."""

from __future__ import annotations

import re

from helpers import soup

# Each rule: what it finds, in the text of a paragraph whose inline code is set aside.
GLUED = {
    "leading or trailing space": re.compile(r"^\s|\s$"),
    "punctuation glued to the next word": re.compile(r"[A-Za-z)][:;,][A-Za-z(]"),
    "sentence glued to the next": re.compile(r"[a-z)]{2,}[.!?][A-Z][a-z]+\s"),
    "space before punctuation": re.compile(r"\w\s+[:;,.!?](\s|$)"),
    "doubled space": re.compile(r"\S {2,}\S"),
}


def problems(text: str) -> list[str]:
    """The rules of GLUED that ``text`` breaks."""
    return [name for name, rule in GLUED.items() if rule.search(text)]


def first_paragraph(html) -> str | None:
    """The text of the first paragraph of a page's main content, inline code set aside."""
    main = soup(html).select_one('article[role="main"]')
    paragraph = main.find("p") if main else None
    if paragraph is None:
        return None
    for code in paragraph.find_all("code"):
        code.replace_with("CODE")
    return " ".join(paragraph.get_text().split("\n"))


def test_the_rules_find_the_fragment_that_was_on_the_reference_index():
    assert problems(" behaviours and errors:What ModuleDict does, and the exact errors.") == [
        "leading or trailing space",
        "punctuation glued to the next word",
    ]
    assert problems("An intro.Next sentence") == ["sentence glued to the next"]
    assert problems("A PyTorch nn.ModuleDict? It is.") == []
    assert problems("What ModuleDict does and the exact errors it raises.") == []


def test_every_page_opens_with_a_clean_paragraph(site):
    checked, broken = 0, []
    for html in sorted(site.html.rglob("*.html")):
        text = first_paragraph(html)
        if text is None:
            continue
        checked += 1
        if problems(text):
            broken.append(f"{html.relative_to(site.html)}: {problems(text)}: {text[:120]!r}")
    assert checked >= 20, checked
    assert not broken, "\n".join(broken)
