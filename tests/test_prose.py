"""The prose of the built pages: each opens with a clean paragraph, and a reader page
names none of the build's own files, helpers or commands."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup
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


# The build's own names: none belongs in what a reader reads. They are allowed in code
# and outputs (a page may show a path a reader types), and on the contributors' page.
BUILD_NAMES = (
    "_article",
    "_guide",
    "_rules",
    "_ledger",
    "_evidence",
    "expect_error",
    "tests/",
    ".ci/",
    "make matrix",
    "make test",
)
NOT_READER_PAGES = {"search.html", "genindex.html", "404.html", "contributing.html"}
# Code and what it printed: code blocks, sphinx-gallery's outputs, highlighted blocks.
NOT_PROSE = "pre, div.highlight, div.sphx-glr-script-out, div[class*='highlight-']"
READER_PAGES = 37  # the pages of the site when this test was written


def reader_pages(html_root: Path) -> list[Path]:
    return sorted(
        p for p in html_root.rglob("*.html")
        if p.relative_to(html_root).as_posix() not in NOT_READER_PAGES
    )


def prose(html: str) -> str:
    """The text a reader reads on a page: its main content without code or outputs."""
    page = BeautifulSoup(html, "html.parser")
    main = page.select_one('article[role="main"]') or page.body or page
    for block in main.select(NOT_PROSE):
        block.decompose()
    return " ".join(main.get_text(" ").split())


# A name counts where it starts a word: "_article" in "plot_article_example1.py", an
# example's file name, is not the helper module.
NAME_RULES = {name: re.compile(r"(?<!\w)" + re.escape(name)) for name in BUILD_NAMES}


def build_names(text: str) -> list[str]:
    """The build's own names that ``text`` mentions."""
    return [name for name, rule in NAME_RULES.items() if rule.search(text)]


def test_the_build_names_check_finds_a_name_in_prose_and_not_in_code():
    page = """<html><body><article role="main"><h1>Keys</h1>
      <p>A wrong message stops the build (see <code>tests/test_x.py</code>).</p>
      <div class="highlight-python notranslate"><div class="highlight">
        <pre>from _guide import expect_error</pre></div></div>
      <div class="sphx-glr-script-out"><pre>run make test</pre></div>
    </article></body></html>"""
    assert build_names(prose(page)) == ["tests/"]
    assert "from _guide" not in prose(page) and "make test" not in prose(page)
    assert build_names(prose(page.replace("tests/test_x.py", "the_page"))) == []
    assert build_names("Run make matrix, then read _rules.py") == ["_rules", "make matrix"]
    assert build_names("plot_article_example1.py and plot_claims_ledger.py ran") == []


def test_reader_pages_name_none_of_the_builds_own_files_or_commands(site):
    pages = reader_pages(site.html)
    found = {}
    for html in pages:
        names = build_names(prose(html.read_text(encoding="utf-8")))
        if names:
            found[html.relative_to(site.html).as_posix()] = names
    print(f"\n{len(pages)} reader pages scanned for {len(BUILD_NAMES)} build names")
    assert len(pages) >= READER_PAGES, len(pages)
    assert (site.html / "contributing.html").is_file()  # where those names belong
    assert not found, found
