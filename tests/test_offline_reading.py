"""Opened from disk in a real browser, every page works with no network at all.

(That every page loads from disk with no outside request and no console error, at both
widths, light and dark, and that axe-core finds no serious violation on it:
tests/test_readers.py.)"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from browser import html_pages, search, visit
from helpers import (
    MYTHS_PAGE,
    serve,
    soup,
)

def local_targets(html: Path):
    """Every local file a page links to, shows or loads."""
    for tag, attribute in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")):
        for element in soup(html).find_all(tag):
            target = element.get(attribute)
            if not target or target.startswith("#") or urlparse(target).scheme:
                continue
            yield target, (html.parent / unquote(urlparse(target).path)).resolve()


def test_every_local_link_image_and_download_resolves(site):
    pages = html_pages(site.html)
    targets = [(html, target, path) for html in pages for target, path in local_targets(html)]
    missing = [f"{html.relative_to(site.html)} -> {target}"
               for html, target, path in targets if not path.exists()]
    assert len(pages) >= 40 and len(targets) >= 1000, (len(pages), len(targets))
    assert not missing


def test_search_from_disk_finds_ordinary_words(site, chromium):
    hits, result = search(chromium, site.html, "ModuleDict backward")
    assert MYTHS_PAGE in hits
    assert not result.console and not result.outside(site.html)


EVERY_RESULT_HAS_AN_EXCERPT = """() => [...document.querySelectorAll(
  "#search-results ul.search li")].every(li => li.querySelector("p.context"))"""


def search_excerpts(chromium, url: str) -> tuple[list[str], list[str], object]:
    """The links and the excerpts (p.context) a search page shows once it has finished."""
    result, page = visit(chromium, url)
    page.wait_for_selector("#search-results p.search-summary", timeout=15000)
    if url.startswith("http"):  # each excerpt comes from a fetch of its page, after the summary
        page.wait_for_function(EVERY_RESULT_HAS_AN_EXCERPT, timeout=15000)
    links = page.eval_on_selector_all(
        "#search-results ul.search li > a", "as => as.map(a => a.href)"
    )
    excerpts = page.eval_on_selector_all("#search-results li p.context",
                                         "ps => ps.map(p => p.textContent.trim())")
    page.context.close()
    return links, excerpts, result


def test_search_results_show_excerpts_when_served_and_titles_alone_from_disk(
    site, hosted, chromium
):
    links, excerpts, result = search_excerpts(
        chromium, hosted + "/search.html?q=ModuleDict+backward"
    )
    assert hosted + "/" + MYTHS_PAGE in links
    assert len(excerpts) == len(links) and all(excerpts), excerpts[:3]
    assert not result.console and not result.failed
    assert all(u.startswith(hosted + "/") for u in result.requests)
    # From disk fetch() cannot read another page: search-summary.js turns excerpts off there.
    query = site.html.joinpath("search.html").as_uri() + "?q=ModuleDict+backward"
    links, excerpts, result = search_excerpts(chromium, query)
    assert links and excerpts == []
    assert not result.console and not result.outside(site.html)


def test_search_from_disk_finds_a_pasted_error_message(site, chromium):
    page = soup(site.html / "auto_examples/article/plot_article_example2_crashes_as_written.html")
    outputs = [o.get_text() for o in page.select("div.sphx-glr-script-out")]
    error = next(
        line for out in outputs for line in out.splitlines() if line.startswith("RuntimeError:")
    )
    hits, result = search(chromium, site.html, error)
    # (every shown error, as printed and retyped, served and from disk, among the first 3:
    # tests/test_error_index.py)
    assert "auto_examples/article/plot_article_example2_crashes_as_written.html" in hits[:3], (
        error, hits[:3])
    assert not result.console


@pytest.fixture
def hosted(site):
    with serve(site.html) as base:
        yield base


@pytest.mark.parametrize("missing", ["/nope.html", "/auto_examples/nope.html", "/a/b/c/d/nope"])
def test_404_page_works_at_any_depth(hosted, chromium, missing):
    result, page = visit(chromium, hosted + missing)
    assert page.title().startswith("Page not found")
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    # The page itself answers 404 (Chromium reports that once on the console); nothing else
    # may fail.
    error_statuses = {url: status for url, status in result.statuses.items() if status >= 400}
    assert error_statuses == {hosted + missing: 404}
    assert result.console == [
        "error: Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    assert not result.failed and all(u.startswith(hosted) for u in result.requests)
    home = page.eval_on_selector("a.sidebar-brand", "a => a.href")
    assert page.context.request.get(home).status == 200
    page.context.close()


def test_404_page_opened_from_disk_finds_its_styles_and_links(site, chromium):
    """notfound_from_disk.py: the page's absolute URLs point into the site on disk."""
    _, page = visit(chromium, (site.html / "404.html").as_uri())
    assert page.title().startswith("Page not found")
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    # furo's stylesheet defines its colours (a page without it has none)
    brand = page.evaluate(
        "getComputedStyle(document.body).getPropertyValue('--color-brand-primary')")
    links = page.eval_on_selector_all("a[href^='file:']", "links => links.map(a => a.href)")
    page.context.close()
    assert font != "Times New Roman" and brand.strip(), (font, brand)
    targets = {unquote(urlparse(link).path) for link in links}
    assert len(targets) >= 20
    assert all(Path(target).is_file() for target in targets), sorted(targets)[:5]
    assert all(Path(target).is_relative_to(site.html) for target in targets)


@pytest.mark.parametrize("relative", ["index.html", MYTHS_PAGE])
def test_bytes_loaded_from_disk(site, chromium, relative):
    result, page = visit(chromium, (site.html / relative).as_uri())
    page.context.close()
    loaded = result.bytes_from_disk()
    print(f"\n{relative}: {loaded} bytes loaded from disk in {len(set(result.requests))} files")
    assert 0 < loaded < 3_000_000
