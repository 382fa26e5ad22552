"""Every Python block on the site is executed, and every error shown is the one the build raised."""

from __future__ import annotations

import re
import xml.dom.minidom
import zipfile

from article_quote import article_code
from bs4 import BeautifulSoup
from helpers import (
    ERROR_INDEX_PAGE,
    EXAMPLES,
    MYTHS_PAGE,
    examples_executed,
    page_texts,
    rendered,
    shown_errors,
    soup,
)
from ledger.claims import CLAIMS
from ledger.labels import LABELS
from verdict_cards import draw_card

PYTHON = {"python", "python3", "py", "pycon", "ipython", "ipython3", "default"}


def code_blocks(html: BeautifulSoup):
    for block in html.select('div[class*="highlight-"]'):
        language = next(
            c for c in block["class"] if c.startswith("highlight-")
        ).removeprefix("highlight-")
        yield block, language


def test_no_python_block_on_the_site_goes_unexecuted(site):
    examples = {p.stem for p in EXAMPLES}
    unexecuted, pages, blocks = [], 0, 0
    for html in site.html.rglob("*.html"):
        pages += 1
        relative = html.relative_to(site.html).as_posix()
        is_example = relative.startswith("auto_examples/") and html.stem in examples
        for block, language in code_blocks(soup(html)):
            blocks += 1
            if "guide-executed" in block["class"]:  # run by make doctest
                continue
            if is_example and language == "Python":  # a code cell sphinx-gallery ran
                continue
            if language.lower() in PYTHON:
                unexecuted.append(f"{relative}: {block.get_text()[:80]!r}")
    assert pages >= 40 and blocks >= 400, (pages, blocks)
    assert not unexecuted
    # The gallery's cells are only exempt because every example ran in this build.
    assert examples_executed(site.log) == len(examples)


def test_every_error_the_guide_shows_is_verbatim_on_a_page(site, doctest_run):
    assert doctest_run.returncode == 0  # the pages' tracebacks are the ones torch raises
    errors = shown_errors(site)
    assert len(errors) >= 20, errors
    texts = page_texts(site)
    del texts[ERROR_INDEX_PAGE]  # it quotes every error; each must be shown where it is explained
    missing = [e for e in errors if not any(rendered(e) in text for text in texts.values())]
    assert not missing


# --- The article on trial -------------------------------------------------------------

MYTHS = MYTHS_PAGE
EXAMPLE1 = "auto_examples/article/plot_article_example1_item_access_works.html"
EXAMPLE2 = "auto_examples/article/plot_article_example2_crashes_as_written.html"
LEDGER = "explanation/claims-ledger.html"


def outputs(site, relative: str) -> list[str]:
    return [o.get_text() for o in soup(site.html / relative).select("div.sphx-glr-script-out")]


ARTICLE_PAGES = {1: EXAMPLE1, 2: EXAMPLE2, 3: MYTHS}
SEED_CELL = "import torch\n\n_ = torch.manual_seed(0)"


def code_cells(site, relative: str) -> list[str]:
    """The page's code cells (sphinx-gallery's Python blocks), in order."""
    return [b.get_text() for b in soup(site.html / relative).select("div.highlight-Python pre")]


def test_each_article_page_shows_its_example_quoted_once_as_an_ordinary_cell(site):
    for n, page in ARTICLE_PAGES.items():
        # The section headed "The article's Example n, as published".
        sections = soup(site.html / page).select(f"section#the-article-s-example-{n}-as-published")
        assert len(sections) == 1, page
        first = sections[0].select_one("div.highlight-Python pre")
        assert rendered(first.get_text()) == rendered(article_code(n)), page
        # The quote appears on no other page of the site.
        elsewhere = [
            html.relative_to(site.html).as_posix()
            for html in site.html.rglob("*.html")
            if rendered(article_code(n)) in rendered(html.read_text(encoding="utf-8"))
            and html.relative_to(site.html).as_posix() != page
        ]
        assert not elsewhere, (n, elsewhere)
    # Before the quote, at most the cell that seeds torch, said so in prose.
    for page in (EXAMPLE1, MYTHS):
        cells = code_cells(site, page)
        assert rendered(cells[0]).strip() == SEED_CELL, page
        assert rendered(cells[1]) == rendered(article_code(1 if page == EXAMPLE1 else 3))
    assert [rendered(c) for c in code_cells(site, EXAMPLE2)] == [rendered(article_code(2))]


def test_the_myths_page_shows_backward_succeeding_with_bit_equal_everything(site):
    page = soup(site.html / MYTHS)
    quote = page.select("div.highlight-Python")[1]
    # The article's except branch prints; its cell printed nothing.
    assert quote.find_next_sibling("div", class_="sphx-glr-script-out") is None
    text = "\n".join(outputs(site, MYTHS))
    for name in (
        "layers.layer1.weight",
        "layers.layer1.bias",
        "layers.layer2.weight",
        "layers.layer2.bias",
    ):
        grad_sum = re.search(rf"^{re.escape(name)}\s+grad \(.*\|grad\| sum (\S+)$", text, re.M)
        assert grad_sum and float(grad_sum.group(1)) > 0, name
        for row in (name, name + ".grad"):  # initial weights and gradients, two variants
            assert re.search(rf"^{re.escape(row)}\s+True\s+True$", text, re.M), row
    assert "equal to the functional reference: [True, True, True, True]" in text
    assert "gradcheck of Example 3 in float64: True" in text
    assert len(re.findall(r"parameters equal to Example 3's after 50 steps: 4/4", text)) == 3
    assert not re.search(r"\bFalse\b", text)
    images = page.select("img.sphx-glr-single-img")
    assert [i["alt"] for i in images] == ["Autograd graph of all three versions (identical)"]


FIXED = "auto_examples/article/plot_article_example2_fixed_layers_compose.html"


def test_example2_page_ends_in_its_real_error_and_links_to_a_working_model(site):
    page = soup(site.html / EXAMPLE2)
    (traceback,) = outputs(site, EXAMPLE2)
    lines = traceback.rstrip("\n").splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith('  File "plot_article_example2_crashes_as_written.py", line ')
    assert lines[2] == "    output = model(torch.randn(1,10))"
    assert lines[-1] == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x5 and 10x5)"
    assert all(len(line) <= 79 for line in lines), lines
    # Its thumbnail is a verdict card, not sphinx-gallery's picture of a broken example.
    thumb = site.html / "_images" / "sphx_glr_plot_article_example2_crashes_as_written_thumb.png"
    title = page.select_one("h1").get_text().rstrip("¶#").replace("’", "'")  # Sphinx's quote
    assert thumb.read_bytes() == draw_card(title)
    assert any(a["href"].endswith(FIXED.split("/")[-1]) for a in page.select("a.reference"))
    rest = "\n".join(outputs(site, FIXED))
    grads = re.findall(r"(\d+) layers: .*, (\d+)/(\d+) parameters have a gradient", rest)
    assert [g[0] for g in grads] == ["1", "3", "6"] and all(g[1] == g[2] for g in grads)
    assert "layer2 expects 10 features" in rest


def page_title(site, href: str) -> str:
    """A page's h1, with Sphinx's typographic quotes made plain again."""
    target = soup((site.html / LEDGER).parent / href)
    title = target.select_one("h1").get_text().replace("¶", "").replace("#", "")
    return " ".join(title.translate(str.maketrans("‘’“”", "''\"\"")).split())


def test_the_ledger_table_has_every_claim_with_a_computed_verdict(site, article):
    page = soup(site.html / LEDGER)
    table = page.select_one("table.claims-ledger")
    rows = [row.find_all("td") for row in table.select("tbody tr")]
    assert len(rows) == len(CLAIMS) == 27
    words = re.sub(r"[`*]", "", " ".join(article.split()))
    for (number, claim, verdict, proof), record in zip(rows, CLAIMS, strict=True):
        assert verdict.get_text().strip() == record.expected
        assert f"verdict-{record.expected}" in verdict["class"]
        quote = re.match(r"“(.+?)”", claim.get_text().strip()).group(1)
        assert quote == record.quote and quote in words
        assert page.select_one(f"#evidence-{number.get_text().strip()} li"), "no evidence"
        link = proof.find("a")
        if link["href"].startswith("#"):  # the evidence on this page is the whole proof
            assert not record.proven_in and link.get_text() == "evidence below"
        else:  # linked by its title
            assert ((site.html / LEDGER).parent / link["href"]).is_file(), link["href"]
            shown = link.get_text().translate(str.maketrans("‘’“”", "''\"\""))
            assert shown == page_title(site, link["href"])
    counts = {v: sum(r[2].get_text().strip() == v for r in rows)
              for v in ("false", "misleading", "true")}
    assert table.find_previous("p", class_="guide-stamp").strong.get_text() == (
        f"{len(rows)} claims: {counts['false']} false, "
        f"{counts['misleading']} misleading, {counts['true']} true")
    assert all(counts.values())
    # No code comes before the table; the evidence shows values in words, the code folded.
    assert table.find_previous("div", class_=re.compile("highlight")) is None
    evidence = page.select("div.claims-evidence div.claim-evidence")
    assert len(evidence) == len(CLAIMS)
    for entry in evidence:
        assert entry.select_one("details.claims-code div.guide-executed"), entry["id"]
        shown = entry.select_one("ul").get_text()  # values in words, not Python names
        assert [k for k in LABELS if "_" in k and k in shown] == [], entry["id"]


def test_the_ledger_is_well_formed_xhtml_in_the_epub_and_whole_on_the_single_page(dist):
    (epub,) = dist.glob("*.epub")
    with zipfile.ZipFile(epub) as book:
        (name,) = [n for n in book.namelist() if n.endswith("claims-ledger.xhtml")]
        page = xml.dom.minidom.parseString(book.read(name))  # raises on any unclosed tag
    tables = [t for t in page.getElementsByTagName("table")
              if "claims-ledger" in t.getAttribute("class")]
    assert len(tables) == 1 and len(tables[0].getElementsByTagName("tr")) == 1 + len(CLAIMS)
    assert len(page.getElementsByTagName("details")) == len(CLAIMS) + 1  # and the tools
    single = soup(dist / "moduledict-corrected-single-page" / "index.html")
    ids = {f"claim-{n}" for n in range(1, 28)} | {f"evidence-{n}" for n in range(1, 28)}
    assert ids <= {tag["id"] for tag in single.select("[id]")}
    for link in single.select("table.claims-ledger a[href^='#evidence-']"):
        assert single.select_one(link["href"]), link["href"]


def test_the_ledger_table_is_on_the_first_screen_and_reads_as_cards_on_a_phone(site, chromium):
    for width, height in ((1280, 900), (390, 844)):
        page = chromium.new_page(viewport={"width": width, "height": height})
        page.goto((site.html / LEDGER).as_uri())
        top = page.evaluate(
            "document.querySelector('table.claims-ledger').getBoundingClientRect().top"
        )
        assert top < height, (width, top)
        align = page.evaluate(
            "getComputedStyle(document.querySelector('table.claims-ledger td')).textAlign"
        )
        assert align in ("left", "start")
        display = page.evaluate(
            "getComputedStyle(document.querySelector('table.claims-ledger tr')).display"
        )
        assert display == ("block" if width < 500 else "table-row"), width
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, (width, overflow)
        page.close()
