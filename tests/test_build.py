"""The site builds with zero warnings, runs its examples and says what produced them."""

import platform
import re

import torch
from helpers import EXAMPLES, ROOT, example_page, examples_executed, output_of, soup

def example_pages(site):
    return sorted(site.html.glob("auto_examples/*/plot_*.html"))


def test_build_has_no_warnings(site):
    assert "WARNING" not in site.log
    assert "build succeeded" in site.log


def test_every_source_has_a_page(site):
    docs = ROOT / "docs"
    sources = [source for source in docs.rglob("*.md")
               if not any(part.startswith("_") for part in source.relative_to(docs).parts)]
    assert len(sources) >= 20, len(sources)
    for source in sources:
        assert (site.html / source.relative_to(docs).with_suffix(".html")).is_file(), source
    for example in EXAMPLES:
        assert example_page(site.html, example).is_file(), example
    assert (site.html / "auto_examples" / "index.html").is_file()


def test_every_example_was_executed_in_this_build(site):
    assert examples_executed(site.log) == len(EXAMPLES)


def test_example1_output_is_on_its_page(site):
    doc = soup(site.html / "auto_examples/article/plot_article_example1_item_access_works.html")
    outputs = "\n".join(block.get_text() for block in doc.select("div.sphx-glr-script-out"))
    for name, shape in [("layers.layer1.weight", "(5, 10)"), ("layers.layer1.bias", "(5,)"),
                        ("layers.layer2.weight", "(2, 5)"), ("layers.layer2.bias", "(2,)")]:
        pattern = rf"{re.escape(name)}\s+grad {re.escape(shape)}\s+sum [+-]\d"
        assert re.search(pattern, outputs), outputs


def test_every_example_page_is_stamped_with_the_versions_that_ran_it(site):
    pages = example_pages(site)
    assert pages
    for html in pages:
        stamp = soup(html).select_one("p.guide-stamp")
        assert stamp is not None, html.name
        versions = [code.get_text() for code in stamp.select("code")]
        assert versions == [torch.__version__, platform.python_version()], html.name


def test_doctests_pass(site, doctest_run):
    result = doctest_run
    assert result.returncode == 0, output_of(result)[-5000:]
    summary = (site.root / "build" / "doctest" / "output.txt").read_text()
    tests = int(re.search(r"(\d+) tests", summary).group(1))
    assert tests > 0 and "0 failures in tests" in summary, summary
