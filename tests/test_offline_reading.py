"""Read from disk, unpacked from the zip or served: every link resolves, search works, and
the 404 page finds its styles. (Every page from disk, both widths, light and dark, and the
bytes each loads: tests/test_readers.py.)"""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from browser import local_targets, search, visit
from helpers import MYTHS_PAGE, serve

@pytest.fixture
def hosted(site):
    with serve(site.html) as base:
        yield base


COPIES = [("build/html", 40, 1000), ("single page", 1, 20), ("zip", 40, 1000)]
CHECKUP = "auto_examples/pitfalls/plot_check_model_finds_every_pitfall.html"
MISSING = ["/nope.html", "/auto_examples/nope.html", "/a/b/c/d/nope"]
HREFS = "links => links.map(a => a.href)"
FONT = "getComputedStyle(document.body).fontFamily"
NOT_FOUND = "the server responded with a status of 404 (Not Found)"


@pytest.mark.parametrize("copy, pages, targets", COPIES)
def test_every_local_link_image_and_download_resolves(site, dist, tmp_path, copy, pages, targets):
    if copy == "zip":
        with zipfile.ZipFile(dist / "moduledict-corrected-html.zip") as archive:
            archive.extractall(tmp_path)
    single = dist / "moduledict-corrected-single-page"
    root = {"build/html": site.html, "single page": single, "zip": tmp_path / "html"}
    found, linked, missing = local_targets(root[copy])
    assert len(found) >= pages and len(linked) >= targets, (len(found), len(linked))
    assert not missing


def test_search_shows_excerpts_when_served_and_titles_alone_from_disk(site, hosted, chromium):
    query = "ModuleDict backward"
    served = hosted + "/search.html"
    links, excerpts, result = search(chromium, served, query, excerpts=True)
    assert MYTHS_PAGE in links, links
    assert len(excerpts) == len(links) and all(excerpts), excerpts[:3]
    assert not result.console and not result.failed
    assert all(u.startswith(hosted + "/") for u in result.requests)
    # From disk fetch() cannot read another page: search-summary.js turns excerpts off there.
    from_disk = (site.html / "search.html").as_uri()
    links, excerpts, result = search(chromium, from_disk, query)
    assert MYTHS_PAGE in links and excerpts == []
    assert not result.console and not result.outside(site.html)
    for query in ("check my model", "unused parameters", "parameters not registered"):
        assert any(CHECKUP in link for link in search(chromium, from_disk, query)[0][:3])


@pytest.mark.parametrize("missing", MISSING)
def test_404_page_works_at_any_depth(hosted, chromium, missing):
    result, page = visit(chromium, hosted + missing)
    assert page.title().startswith("Page not found")
    assert page.evaluate(FONT) != "Times New Roman"
    # The page itself answers 404 (Chromium says so once on the console); nothing else fails.
    failing = {url: s for url, s in result.statuses.items() if s >= 400}
    assert failing == {hosted + missing: 404}
    assert result.console == [f"error: Failed to load resource: {NOT_FOUND}"]
    assert not result.failed and all(u.startswith(hosted) for u in result.requests)
    brand = page.eval_on_selector("a.sidebar-brand", "a => a.href")
    assert page.context.request.get(brand).ok
    page.context.close()


def test_404_page_opened_from_disk_finds_its_styles_and_links(site, chromium):
    """notfound_from_disk.py: the page's absolute URLs point into the site on disk."""
    _, page = visit(chromium, (site.html / "404.html").as_uri())
    assert page.title().startswith("Page not found")
    font = page.evaluate(FONT)
    # furo's stylesheet defines its colours (a page without it has none)
    colour = "getPropertyValue('--color-brand-primary')"
    brand = page.evaluate(f"getComputedStyle(document.body).{colour}")
    links = page.eval_on_selector_all("a[href^='file:']", HREFS)
    page.context.close()
    assert font != "Times New Roman" and brand.strip(), (font, brand)
    targets = {Path(unquote(urlparse(link).path)) for link in links}
    assert len(targets) >= 20
    outside = [t for t in targets if not (t.is_file() and t.is_relative_to(site.html))]
    assert outside == [], outside[:5]
