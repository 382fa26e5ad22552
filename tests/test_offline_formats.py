"""Nothing is loaded from another origin, and every offline format and download works."""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from browser import search
from docutils import nodes
from helpers import MYTHS_PAGE, soup

# Where a browser loads something by itself (a plain <a href> is a link a reader may click).
TAGS = "script img iframe source audio video embed input".split()
RELS = "stylesheet preload modulepreload icon prefetch preconnect dns-prefetch".split()
LOADING = ", ".join([f"{t}[src]" for t in TAGS] + [f"link[rel~={r}]" for r in RELS])
# res:/// names a font built into the e-book reader (Sphinx's epub.css): no network.
REMOTE = re.compile(r"^(?!res:///)(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_LOAD = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")
# JavaScript that would fetch, import or inject something from an absolute address.
JS_LOAD = (
    r"""(?:fetch|import|importScripts|\.src\s*=|loadScript)\s*\(?\s*['"`](https?:)?//"""
)


def remote_loads(root: Path) -> tuple[int, list[str]]:
    """How many pages, stylesheets and scripts were scanned; what they load from afar."""
    files = [
        p for p in root.rglob("*") if p.suffix in (".html", ".xhtml", ".css", ".js")
    ]
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".css", ".js"):
            urls = CSS_LOAD.findall(text) if path.suffix == ".css" else []
            found += [f"{path.name}: {m[0]}" for m in re.finditer(JS_LOAD, text)]
        else:
            page = soup(path)
            urls = [e.get("src") or e.get("href", "") for e in page.select(LOADING)]
            urls += [page.find("object", data=True)["data"]] if page.object else []
            urls += CSS_LOAD.findall(" ".join(style.text for style in page("style")))
        found += [f"{path.name}: loads {url}" for url in urls if REMOTE.match(url)]
    return len(files), found


def test_the_scan_catches_cdn_loads(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/f.css">'
        '<style>@import "https://fonts.example/g.css";</style>'
    )
    (tmp_path / "b.css").write_text(
        "@font-face { src: url('https://x.example/f.woff2') }"
    )
    (tmp_path / "c.js").write_text('fetch("https://api.example/data")')
    assert remote_loads(tmp_path)[0] == 3 and len(remote_loads(tmp_path)[1]) == 5


SINGLE_PAGE = "build/dist/moduledict-corrected-single-page"


@pytest.mark.parametrize(
    "copy, files", [("build/html", 60), (SINGLE_PAGE, 5), ("build/epub", 40)]
)
def test_nothing_is_loaded_from_another_origin(site, dist, copy, files):
    scanned, found = remote_loads(site.root / copy)
    assert scanned >= files and found == []


def test_the_zip_unpacked_elsewhere_browses_with_search(dist, tmp_path, chromium):
    zipfile.ZipFile(dist / "moduledict-corrected-html.zip").extractall(tmp_path)
    url = (tmp_path / "html/search.html").as_uri()
    hits, _, result = search(chromium, url, "ModuleDict")
    assert MYTHS_PAGE in hits
    assert not result.console and not result.outside(tmp_path / "html")


def test_the_epub_is_a_container_whose_spine_holds_the_examples(site, dist):
    """(Its manifest, markup and the rest: EPUBCheck, tests/test_validators.py.)"""
    (epub,) = dist.glob("*.epub")
    with zipfile.ZipFile(epub) as book:
        first = book.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert book.read("mimetype") == b"application/epub+zip" and not book.testzip()
        container = ElementTree.fromstring(book.read("META-INF/container.xml"))
        opf = container.find(".//{*}rootfile").get("full-path")
        opf = ElementTree.fromstring(book.read(opf))
    items = {i.get("id"): i.get("href") for i in opf.iterfind(".//{*}manifest/{*}item")}
    spine = {Path(items[i.get("idref")]).stem for i in opf.iterfind(".//{*}itemref")}
    examples = {p.stem for p in site.root.glob("examples/*/plot_*.py")}
    assert len(examples) >= 10 and examples <= spine, examples - spine


def test_the_single_page_contains_the_myths_content(dist, site):
    single = soup(dist / "moduledict-corrected-single-page/index.html")
    assert soup(site.html / MYTHS_PAGE).h1.get_text().rstrip("¶#") in single.get_text()
    assert "torch.equal" in str(single)


def test_every_example_page_offers_its_script_and_notebook_and_a_zip_of_both(site):
    """(That each runs alone in an empty folder, and is the page: tests/test_downloads.py.)"""
    pages = sorted(site.html.glob("auto_examples/*/plot_*.html"))
    assert len(pages) == len(list(site.root.glob("examples/*/plot_*.py"))) >= 10
    for html in pages:
        hrefs = [unquote(a["href"]) for a in soup(html).select("a.reference.download")]
        files = {Path(h).name: (html.parent / h).resolve() for h in hrefs}
        names = [html.stem + suffix for suffix in (".ipynb", ".py")]
        assert sorted(files) == [*names, html.stem + ".zip"], files
        with zipfile.ZipFile(files[html.stem + ".zip"]) as archive:
            zipped = {info.filename: archive.read(info) for info in archive.infolist()}
        assert zipped == {name: files[name].read_bytes() for name in names}, html.stem


# A raw HTML link to a page names its .html file, which the single page does not have and
# the EPUB names .xhtml: Sphinx links only the nodes it generates for each builder.
RAW_PAGE_LINK = re.compile(r"""href=["'][^"'#:]*\.html""")


def test_no_raw_html_links_to_a_page_that_the_single_page_and_the_epub_lack(site):
    doctrees = sorted((site.root / "build/doctrees").rglob("*.doctree"))
    raws = [
        (tree.stem, raw.astext())
        for tree in doctrees
        for raw in pickle.loads(tree.read_bytes()).findall(nodes.raw)
        if "html" in raw.get("format", "").split()
    ]
    assert len(doctrees) >= 40 and len(raws) >= 3  # sphinx-gallery's tag lists at least
    assert [(page, text) for page, text in raws if RAW_PAGE_LINK.search(text)] == []
    assert RAW_PAGE_LINK.findall(
        '<a href="../reference/keys.html">'
    )  # the scan finds one
