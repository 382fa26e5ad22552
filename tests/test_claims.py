"""Every Python block on the site is executed, every error shown is the one the build
raised, and the claims ledger's page shows every claim judged."""

from __future__ import annotations

import re
import xml.dom.minidom
import zipfile

import helpers
from helpers import rendered, soup
from ledger.claims import CLAIMS

PYTHON = {"python", "python3", "py", "pycon", "ipython", "ipython3", "default"}
LEDGER = "explanation/claims-ledger.html"
PLAIN_QUOTES = str.maketrans("‘’“”", "''\"\"")
FOLDED_CODE = "details.claims-code div.guide-executed"


def test_no_python_block_on_the_site_goes_unexecuted(site):
    examples = {p.stem for p in helpers.EXAMPLES}
    unexecuted, pages, blocks = [], 0, 0
    for html in site.html.rglob("*.html"):
        pages += 1
        relative = html.relative_to(site.html).as_posix()
        is_example = relative.startswith("auto_examples/") and html.stem in examples
        for block in soup(html).select('div[class*="highlight-"]'):
            blocks += 1
            (lang,) = [c[10:] for c in block["class"] if c.startswith("highlight-")]
            # Run by make doctest or the ledger, or a code cell sphinx-gallery ran.
            ran = "guide-executed" in block["class"] or is_example and lang == "Python"
            if not ran and lang.lower() in PYTHON:
                unexecuted.append(f"{relative}: {block.get_text()[:80]!r}")
    assert pages >= 40 and blocks >= 400, (pages, blocks)
    assert not unexecuted
    # The gallery's cells are only exempt because every example ran in this build.
    assert helpers.examples_executed(site.log) == len(examples)


def test_every_error_the_guide_shows_is_verbatim_on_a_page(site, doctest_run):
    assert doctest_run.returncode == 0  # the pages' tracebacks are torch's
    errors, texts = helpers.shown_errors(site), helpers.page_texts(site)
    assert len(errors) >= 20, errors
    del texts[helpers.ERROR_INDEX_PAGE]  # quotes them all; each is shown where it is
    assert not [e for e in errors if not any(rendered(e) in t for t in texts.values())]


def test_the_ledger_table_has_every_claim_with_a_computed_verdict(site):
    page = soup(site.html / LEDGER)
    table = page.select_one("table.claims-ledger")
    rows = [row.find_all("td") for row in table.select("tbody tr")]
    assert len(rows) == len(CLAIMS) == 27
    for (number, claim, verdict, proof), record in zip(rows, CLAIMS, strict=True):
        assert verdict.get_text().strip() == record.expected
        assert f"verdict-{record.expected}" in verdict["class"]
        assert re.match(r"“(.+?)”", claim.get_text().strip())[1] == record.quote
        entry = page.select_one(f"#evidence-{number.get_text().strip()}")
        assert entry.select_one("li") and record.words in entry.get_text()
        # The code that ran, folded: the evidence function and the rule's statement.
        code = [c.get_text() for c in entry.select(FOLDED_CODE)]
        assert f"def {record.key}():" in code[0]
        assert code[1].strip() == record.code.strip()
        shown = entry.select_one("ul").get_text()  # values in words, not Python names
        assert not re.search(r"^\w+_\w+: ", shown, re.M), record.key
        link = proof.find("a")
        if link["href"].startswith("#"):  # the evidence on this page is the whole proof
            assert not record.proven_in and link.get_text() == "evidence below"
        else:  # linked by its title
            target = soup((site.html / LEDGER).parent / link["href"]).select_one("h1")
            title = target.get_text().rstrip("¶#").translate(PLAIN_QUOTES)
            assert link.get_text().translate(PLAIN_QUOTES) == " ".join(title.split())
    verdicts = [r[2].get_text().strip() for r in rows]
    counts = [f"{verdicts.count(v)} {v}" for v in ("false", "misleading", "true")]
    assert all(verdicts.count(v) for v in ("false", "misleading", "true"))
    stamp = table.find_previous("p", class_="guide-stamp")
    assert re.search(r"by torch 2\.\d+\.\d+\S* on Python 3\.\d+", stamp.get_text())
    assert stamp.strong.get_text() == f"{len(rows)} claims: " + ", ".join(counts)
    assert table.find_previous("div", class_=re.compile("highlight")) is None  # no code
    assert len(page.select("div.claims-evidence div.claim-evidence")) == len(CLAIMS)
    assert len(page.select("ul.claims-not-judged li")) == 10


def test_the_ledger_is_well_formed_in_the_epub_and_whole_on_the_single_page(dist):
    (epub,) = dist.glob("*.epub")
    with zipfile.ZipFile(epub) as book:
        (name,) = [n for n in book.namelist() if n.endswith("claims-ledger.xhtml")]
        page = xml.dom.minidom.parseString(book.read(name))  # raises on an unclosed tag
    tables = page.getElementsByTagName("table")
    (table,) = [t for t in tables if "claims-ledger" in t.getAttribute("class")]
    assert len(table.getElementsByTagName("tr")) == 1 + len(CLAIMS)
    assert len(page.getElementsByTagName("details")) == len(CLAIMS) + 1  # and the tools
    single = soup(dist / "moduledict-corrected-single-page" / "index.html")
    ids = {f"{kind}-{n}" for n in range(1, 28) for kind in ("claim", "evidence")}
    assert ids <= {tag["id"] for tag in single.select("[id]")}
    for link in single.select("table.claims-ledger a[href^='#evidence-']"):
        assert single.select_one(link["href"]), link["href"]


def test_the_ledger_table_is_on_the_first_screen_and_cards_on_a_phone(site, chromium):
    first = "document.querySelector('table.claims-ledger{}')"
    style = "getComputedStyle(" + first + ")"
    for width, height in ((1280, 900), (390, 844)):
        page = chromium.new_page(viewport={"width": width, "height": height})
        page.goto((site.html / LEDGER).as_uri())
        assert page.evaluate(first.format("") + ".getBoundingClientRect().top") < height
        assert page.evaluate(style.format(" td") + ".textAlign") in ("left", "start")
        display = page.evaluate(style.format(" tr") + ".display")
        assert display == ("block" if width < 500 else "table-row"), width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.close()
