"""Every Python block on the site is executed, and every error shown is the one the build raised."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from helpers import ROOT, examples_executed, page_texts, rendered, shown_errors, soup

PYTHON = {"python", "python3", "py", "pycon", "ipython", "ipython3", "default"}


def code_blocks(html: BeautifulSoup):
    for block in html.select('div[class*="highlight-"]'):
        language = next(c for c in block["class"] if c.startswith("highlight-")).removeprefix("highlight-")
        yield block, language


def test_no_python_block_on_the_site_goes_unexecuted(site):
    examples = {p.stem for p in ROOT.glob("examples/plot_*.py")}
    unexecuted = []
    for html in site.html.rglob("*.html"):
        relative = html.relative_to(site.html).as_posix()
        is_example = relative.startswith("auto_examples/") and html.stem in examples
        for block, language in code_blocks(soup(html)):
            if "guide-executed" in block["class"]:  # run by make doctest
                continue
            if is_example and language == "Python":  # a code cell sphinx-gallery ran
                continue
            if language.lower() in PYTHON:
                unexecuted.append(f"{relative}: {block.get_text()[:80]!r}")
    assert not unexecuted
    # The gallery's cells are only exempt because every example ran in this build.
    assert examples_executed(site.log) == len(examples)


def test_every_error_the_guide_shows_is_verbatim_on_a_page(site, doctest_run):
    _, doctest_errors = doctest_run
    errors = shown_errors(site.shown_errors, doctest_errors)
    assert len(errors) >= 20, errors
    texts = page_texts(site)
    missing = [e for e in errors if not any(rendered(e) in text for text in texts.values())]
    assert not missing


# --- The article on trial -------------------------------------------------------------

MYTHS = "auto_examples/plot_article_example3_backward_succeeds.html"
EXAMPLE2 = "auto_examples/plot_article_example2_crashes_as_written.html"
LEDGER = "auto_examples/plot_claims_ledger.html"


def outputs(site, relative: str) -> list[str]:
    return [o.get_text() for o in soup(site.html / relative).select("div.sphx-glr-script-out")]


def test_the_myths_page_shows_backward_succeeding_with_bit_equal_gradients(site):
    text = "\n".join(outputs(site, MYTHS))
    assert "calls to print during Example 3: 0" in text  # the article's except branch never ran
    for name in ("layers.layer1.weight", "layers.layer1.bias", "layers.layer2.weight", "layers.layer2.bias"):
        assert re.search(rf"^{re.escape(name)}\s+grad \(", text, re.M), name
        assert re.search(rf"^{re.escape(name)}\.grad\s+True$", text, re.M), name
    assert re.search(r"^output\s+True$", text, re.M)
    assert not re.search(r"\s(False)$", text, re.M)
    assert soup(site.html / MYTHS).select("img.sphx-glr-single-img"), "the two autograd graphs are drawn"


def test_example2_page_shows_its_real_error_then_a_working_model(site):
    first, *rest = outputs(site, EXAMPLE2)
    assert first.strip() == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x5 and 10x5)"
    grads = re.findall(r"(\d+) layers: .*, (\d+)/(\d+) parameters have a gradient", "\n".join(rest))
    assert [g[0] for g in grads] == ["1", "3", "6"] and all(g[1] == g[2] for g in grads)


def test_the_ledger_has_every_claim_with_a_computed_verdict(site, article):
    table = soup(site.html / LEDGER).select_one("table.claims-ledger")
    rows = [row.find_all("td") for row in table.find_all("tr") if row.find_all("td")]
    assert len(rows) >= 12
    plain_article = re.sub(r"[`*]", "", " ".join(article.split()))
    for number, claim, verdict, evidence, proof in rows:
        assert verdict.get_text() in ("true", "false", "misleading")
        assert verdict["class"] == [f"verdict-{verdict.get_text()}"]
        quote = re.match(r'"(.+?)"', claim.get_text()).group(1)
        assert " ".join(quote.split()) in plain_article, f"claim {number.get_text()} is not the article's words"
        assert evidence.get_text().strip(), f"claim {number.get_text()} has no evidence"
        link = proof.find("a")
        if link is None:  # the evidence is computed on the ledger page itself
            assert proof.get_text() == "this page"
        else:
            assert (site.html / "auto_examples" / link["href"]).is_file(), link["href"]
    verdicts = {row[2].get_text() for row in rows}
    assert verdicts == {"true", "false", "misleading"}


def article_blocks(article: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", article, re.S)


def test_the_article_code_is_quoted_exactly_where_it_runs(article):
    one, two, three = article_blocks(article)
    source = {p.name: p.read_text(encoding="utf-8") for p in ROOT.glob("examples/plot_*.py")}
    assert one in source["plot_article_example1_item_access_works.py"]
    assert one in source["plot_article_example3_backward_succeeds.py"]
    assert three in source["plot_article_example3_backward_succeeds.py"]
    for block in (one, two, three):
        assert f'"""{block}"""' in source["plot_claims_ledger.py"]
    # Example 2 crashes in its forward: it is quoted up to the crash, the crashing line
    # runs under expect_error, the two lines after it are named in the prose.
    before, crash, *after = two.partition("output = model(torch.randn(1,10))\n")
    example2 = source["plot_article_example2_crashes_as_written.py"]
    assert before in example2 and "\n    " + crash in example2
    for line in after[-1].splitlines():
        assert f"``{line}``" in example2
