"""Every Python block on the site is executed, and every error shown is the one the build raised."""

from __future__ import annotations

import re
import sys
import xml.dom.minidom
import zipfile

from bs4 import BeautifulSoup
from helpers import (
    ERROR_INDEX_PAGE,
    EXAMPLES,
    MYTHS_PAGE,
    ROOT,
    example_path,
    examples_executed,
    page_texts,
    rendered,
    shown_errors,
    soup,
)

sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import _article  # noqa: E402
from ledger.claims import CLAIMS  # noqa: E402
from ledger.labels import LABELS  # noqa: E402

ARTICLE_CODE = {f"EXAMPLE_{n}": getattr(_article, f"EXAMPLE_{n}") for n in (1, 2, 3)}

PYTHON = {"python", "python3", "py", "pycon", "ipython", "ipython3", "default"}


def code_blocks(html: BeautifulSoup):
    for block in html.select('div[class*="highlight-"]'):
        language = next(
            c for c in block["class"] if c.startswith("highlight-")
        ).removeprefix("highlight-")
        yield block, language


def test_no_python_block_on_the_site_goes_unexecuted(site):
    examples = {p.stem for p in EXAMPLES}
    unexecuted = []
    for html in site.html.rglob("*.html"):
        relative = html.relative_to(site.html).as_posix()
        is_example = relative.startswith("auto_examples/") and html.stem in examples
        for block, language in code_blocks(soup(html)):
            if "guide-executed" in block["class"]:  # run by make doctest
                continue
            if is_example and language == "Python":  # a code cell sphinx-gallery ran
                continue
            if is_example and block.find_parent("div", class_="guide-article-quote"):
                # The article's code, quoted from _article.md: the page must exec that text.
                name = quoted_example(block)
                script = example_path(f"{html.stem}.py").read_text(encoding="utf-8")
                assert re.search(rf"(run|exec)\({name}\b", script), (relative, name)
                continue
            if language.lower() in PYTHON:
                unexecuted.append(f"{relative}: {block.get_text()[:80]!r}")
    assert not unexecuted
    # The gallery's cells are only exempt because every example ran in this build.
    assert examples_executed(site.log) == len(examples)


def quoted_example(block) -> str:
    """Which of the article's examples a quoted block shows, character for character."""
    text = block.get_text()
    names = [n for n, code in ARTICLE_CODE.items() if rendered(code) == rendered(text)]
    assert len(names) == 1, text[:200]
    return names[0]


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


def test_each_article_page_shows_its_example_quoted_from_the_one_module(site):
    for page, name in ((EXAMPLE1, "EXAMPLE_1"), (EXAMPLE2, "EXAMPLE_2"), (MYTHS, "EXAMPLE_3")):
        quoted = soup(site.html / page).select("div.guide-article-quote div[class*=highlight-]")
        assert [quoted_example(q) for q in quoted] == [name], page
        # Shown by the article-code directive (docs/_ext/article_quote.py): from _article.
        script = example_path(page.split("/")[-1].removesuffix(".html") + ".py").read_text("utf-8")
        assert re.findall(r"^#\s+\.\. article-code:: (\w+)$", script, re.M) == [name], page
    # On the myths page the quoted Example 3 comes first, before any code cell or output.
    body = soup(site.html / MYTHS).select_one("section")
    first = body.select_one("div[class*=highlight-], div.sphx-glr-script-out")
    assert first.find_parent("div", class_="guide-article-quote"), first


def test_the_myths_page_shows_backward_succeeding_with_bit_equal_everything(site):
    text = "\n".join(outputs(site, MYTHS))
    assert "printed by Example 3: '' | raised: None" in text  # the except branch never ran
    for name in (
        "layers.layer1.weight",
        "layers.layer1.bias",
        "layers.layer2.weight",
        "layers.layer2.bias",
    ):
        grad_sum = re.search(rf"^{re.escape(name)}\s+grad \(.*\|grad\| sum (\S+)$", text, re.M)
        assert grad_sum and float(grad_sum.group(1)) > 0, name
        for row in (name, name + ".grad"):  # initial weights and gradients, three variants
            assert re.search(rf"^{re.escape(row)}\s+True\s+True$", text, re.M), row
    assert "equal to the functional reference: [True, True, True, True]" in text
    assert "gradcheck of Example 3 in float64: True" in text
    assert len(re.findall(r"parameters equal to Example 3's after 50 steps: 4/4", text)) == 3
    assert not re.search(r"\bFalse\b", text)
    images = soup(site.html / MYTHS).select("img.sphx-glr-single-img")
    assert [i["alt"] for i in images] == ["Autograd graph of Examples 1 and 3 (identical)"]


def test_example2_page_shows_its_real_error_then_a_working_model(site):
    first, *rest = outputs(site, EXAMPLE2)
    assert first.strip() == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x5 and 10x5)"
    grads = re.findall(r"(\d+) layers: .*, (\d+)/(\d+) parameters have a gradient", "\n".join(rest))
    assert [g[0] for g in grads] == ["1", "3", "6"] and all(g[1] == g[2] for g in grads)


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
    assert table.caption.select_one(".caption-text").get_text() == (
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
