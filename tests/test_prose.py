"""The prose of the built pages: each opens with a clean paragraph, and a reader page
names none of the build's own files, helpers or commands (allowed in code and outputs,
which may show what a reader types, and on the contributors' page)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

# Each rule: what it finds in the text of a paragraph whose inline code is set aside.
GLUED = {
    "leading or trailing space": r"^\s|\s$",
    "punctuation glued to the next word": r"[A-Za-z)][:;,][A-Za-z(]",
    "sentence glued to the next": r"[a-z)]{2,}[.!?][A-Z][a-z]+\s",
    "space before punctuation": r"\w\s+[:;,.!?](\s|$)",
    "doubled space": r"\S {2,}\S",
}
BUILD_NAMES = ["_article", "_guide", "_rules", "_ledger", "_evidence", "expect_error"]
BUILD_NAMES += ["tests/", ".ci/", "make matrix", "make test"]
NOT_READER_PAGES = {"search.html", "genindex.html", "404.html", "contributing.html"}
NOT_PROSE = "pre, div.highlight, div.sphx-glr-script-out, div[class*='highlight-']"


def glued(text: str) -> list[str]:
    return [name for name, rule in GLUED.items() if re.search(rule, text)]


def first_paragraph(page: BeautifulSoup) -> str | None:
    """The first paragraph of a page's main content, its inline code set aside."""
    paragraph = page.select_one('article[role="main"] p')
    for code in paragraph.find_all("code") if paragraph else []:
        code.replace_with("CODE")
    return paragraph and " ".join(paragraph.get_text().split("\n"))


def build_names(html: str) -> list[str]:
    """The build's names that start a word ("_article" in "plot_article_x.py" does not) in
    the text of the page's main content without code or outputs."""
    page = BeautifulSoup(html, "html.parser")
    main = page.select_one('article[role="main"]') or page
    for block in main.select(NOT_PROSE):
        block.decompose()
    text = " ".join(main.get_text(" ").split())
    return [n for n in BUILD_NAMES if re.search(r"(?<!\w)" + re.escape(n), text)]


@pytest.fixture(scope="module")
def pages(site) -> dict[str, str]:
    files = sorted(site.html.rglob("*.html"))
    pages = {p.relative_to(site.html).as_posix(): p.read_text("utf-8") for p in files}
    assert len(pages) >= 40 and NOT_READER_PAGES <= set(pages)
    return pages


ONCE = " behaviours and errors:What ModuleDict does."  # once on the reference index
CASES = [
    (ONCE, ["leading or trailing space", "punctuation glued to the next word"]),
    ("An intro.Next sentence", ["sentence glued to the next"]),
    ("It is , said so", ["space before punctuation"]),
    ("Two  spaces", ["doubled space"]),
    ("A PyTorch nn.ModuleDict? It is.", []),
]


@pytest.mark.parametrize("text, found", CASES)
def test_the_rules_find_glued_and_spaced_text(text, found):
    assert glued(text) == found


def test_every_page_opens_with_a_clean_paragraph(pages):
    parsed = {rel: BeautifulSoup(html, "html.parser") for rel, html in pages.items()}
    firsts = {rel: first_paragraph(page) for rel, page in parsed.items()}
    checked = {rel: text for rel, text in firsts.items() if text is not None}
    assert len(checked) >= 20
    assert {rel: (glued(t), t) for rel, t in checked.items() if glued(t)} == {}


def test_the_build_names_check_finds_a_name_in_prose_and_not_in_code():
    page = """<article role="main"><p>A wrong message stops the build (see
      <code>tests/test_x.py</code>); run make matrix.</p>
      <div class="highlight-python"><pre>from _guide import expect_error</pre></div>
      <div class="sphx-glr-script-out"><pre>run make test</pre></div></article>"""
    assert build_names(page) == ["tests/", "make matrix"]
    assert build_names(page.replace("<p>", "<pre>").replace("</p>", "</pre>")) == []
    assert build_names("plot_article_example1.py and plot_claims_ledger.py ran") == []


def test_reader_pages_name_none_of_the_builds_own_files_or_commands(pages):
    readers = {rel: html for rel, html in pages.items() if rel not in NOT_READER_PAGES}
    assert len(readers) >= 37
    found = {rel: build_names(html) for rel, html in readers.items()}
    assert {rel: names for rel, names in found.items() if names} == {}


def test_each_scripting_doctest_follows_the_note_that_it_needs_a_file(pages):
    note, checked = re.compile(r"not\s+pasted\s+into\s+Python.s\s+interactive"), 0
    for page in pages.values():  # torch.jit.script( or a helper's script(
        for block in BeautifulSoup(page, "html.parser").select("div.guide-doctest"):
            if re.search(r"\bscript\(", block.get_text()):
                p = block.find_previous(lambda t: t.name == "p" and note.search(t.text))
                assert p and p.find_parent("section") in block.parents, block.text
                checked += 1
    assert checked > 0
