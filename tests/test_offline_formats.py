"""Nothing is loaded from another origin, and every offline format and download works."""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

from browser import search
from docutils import nodes
from helpers import MYTHS_PAGE, soup

# Attributes through which a browser loads something by itself (a plain <a href> is a
# link the reader may click, which is fine).
LOADING = {
    "script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src",
    "video": "src", "embed": "src", "object": "data", "input": "src",
}
# <link rel=...> values for which a browser loads the href by itself.
LOADING_RELS = {
    "stylesheet", "preload", "modulepreload", "icon", "prefetch", "preconnect", "dns-prefetch",
}
# res:/// names a font built into the e-book reader (Sphinx's epub.css): no network.
REMOTE = re.compile(r"^(?!res:///)(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_LOAD = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")
# JavaScript that would fetch, import or inject something from an absolute address.
JS_LOAD = re.compile(
    r"""(?:fetch|import|importScripts|\.src\s*=|loadScript)\s*\(?\s*['"`](?:https?:)?//"""
)


def remote_loads(root: Path) -> list[str]:
    found = []
    for html in root.rglob("*.html"):
        page = soup(html)
        for tag, attribute in LOADING.items():
            found += [
                f"{html.name}: <{tag} {attribute}={e[attribute]}>"
                for e in page.find_all(tag)
                if REMOTE.match(e.get(attribute, ""))
            ]
        for link in page.find_all("link", href=True):
            if REMOTE.match(link["href"]) and set(link.get("rel", [])) & LOADING_RELS:
                found.append(f"{html.name}: <link rel={link['rel']} href={link['href']}>")
        for style in page.find_all("style"):
            found += [
                f"{html.name}: inline style loads {u}"
                for u in CSS_LOAD.findall(style.get_text())
                if REMOTE.match(u)
            ]
    for css in root.rglob("*.css"):
        found += [
            f"{css.name}: loads {u}"
            for u in CSS_LOAD.findall(css.read_text(encoding="utf-8"))
            if REMOTE.match(u)
        ]
    for js in root.rglob("*.js"):
        found += [
            f"{js.name}: {m.group(0)}" for m in JS_LOAD.finditer(js.read_text(encoding="utf-8"))
        ]
    return found


def test_the_scan_catches_cdn_loads(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/f.css">'
    )
    (tmp_path / "b.css").write_text("@font-face { src: url('https://fonts.example/f.woff2') }")
    (tmp_path / "c.js").write_text('fetch("https://api.example/data")')
    assert len(remote_loads(tmp_path)) == 4


def test_nothing_is_loaded_from_another_origin(site, dist):
    for root in (
        site.html,
        dist / "moduledict-corrected-single-page",
        site.root / "build" / "epub",
    ):
        assert remote_loads(root) == [], root


def test_the_zip_unpacked_elsewhere_browses_with_working_search(dist, tmp_path, chromium):
    with zipfile.ZipFile(dist / "moduledict-corrected-html.zip") as archive:
        archive.extractall(tmp_path)
    hits, result = search(chromium, tmp_path / "html", "ModuleDict")
    assert MYTHS_PAGE in hits
    assert not result.console and not result.outside(tmp_path / "html")


def test_the_epub_is_a_valid_epub_container(dist):
    (epub,) = dist.glob("*.epub")
    with zipfile.ZipFile(epub) as book:
        first = book.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert book.read("mimetype") == b"application/epub+zip"
        container = ElementTree.fromstring(book.read("META-INF/container.xml"))
        opf_path = container.find(".//{*}rootfile").get("full-path")
        opf = ElementTree.fromstring(book.read(opf_path))
        manifest = {
            item.get("id"): item.get("href") for item in opf.iterfind(".//{*}manifest/{*}item")
        }
        base = Path(opf_path).parent
        names = set(book.namelist())
        assert manifest and all(
            unquote((base / href).as_posix()).removeprefix("./") in names
            for href in manifest.values()
        )
        spine = [manifest[ref.get("idref")] for ref in opf.iterfind(".//{*}spine/{*}itemref")]
        assert any("plot_article_example3_backward_succeeds" in href for href in spine)
        assert book.testzip() is None


def test_the_single_page_contains_the_myths_content(dist, site):
    single = soup(dist / "moduledict-corrected-single-page" / "index.html")
    title = soup(site.html / MYTHS_PAGE).find("h1").get_text().rstrip("¶#")
    assert title in single.get_text()
    assert "torch.equal" in str(single)


def example_downloads(site) -> dict[str, list[Path]]:
    """For each example page: the files it offers for download."""
    offered = {}
    for html in sorted(site.html.glob("auto_examples/*/plot_*.html")):
        links = [a["href"] for a in soup(html).select("a.reference.download")]
        offered[html.stem] = [(html.parent / unquote(link)).resolve() for link in links]
    return offered


def test_every_example_page_offers_its_script_and_notebook_and_a_zip_of_both(site):
    # That each runs alone in an empty folder, and is the page: tests/test_downloads.py.
    offered = example_downloads(site)
    assert len(offered) == len(list(site.root.glob("examples/*/plot_*.py"))) > 0
    for stem, files in offered.items():
        names = sorted(f.name for f in files)
        assert names == sorted(f"{stem}{suffix}" for suffix in (".py", ".ipynb", ".zip")), names
        assert all(f.is_file() for f in files), stem
        by_name = {f.name: f for f in files}
        with zipfile.ZipFile(by_name[f"{stem}.zip"]) as archive:
            zipped = {info.filename: archive.read(info) for info in archive.infolist()}
        assert sorted(zipped) == [f"{stem}.ipynb", f"{stem}.py"], stem
        assert zipped == {name: by_name[name].read_bytes() for name in zipped}, stem


# A raw HTML link to a page names its .html file, which the single page does not have and
# the EPUB names .xhtml: Sphinx links only the nodes it generates for each builder.
RAW_PAGE_LINK = re.compile(r"""href=["'][^"'#:]*\.html""")


def raw_html(doctrees: Path) -> list[tuple[str, str]]:
    """(page, text) of every raw HTML node of the site's pages."""
    found = []
    for doctree in sorted(doctrees.rglob("*.doctree")):
        tree = pickle.loads(doctree.read_bytes())
        page = doctree.relative_to(doctrees).with_suffix("").as_posix()
        found += [(page, raw.astext()) for raw in tree.findall(nodes.raw)
                  if "html" in raw.get("format", "").split()]
    return found


def test_no_raw_html_links_to_a_page_that_the_single_page_and_the_epub_lack(site):
    doctrees = site.root / "build" / "doctrees"
    pages = len(list(doctrees.rglob("*.doctree")))
    raws = raw_html(doctrees)
    links = [(page, link) for page, text in raws for link in RAW_PAGE_LINK.findall(text)]
    print(f"\n{pages} pages, {len(raws)} raw HTML nodes, {len(links)} links to a page")
    assert pages >= 40 and len(raws) >= 3  # sphinx-gallery's tag lists at least
    assert not links, links
    assert RAW_PAGE_LINK.findall('<a href="../reference/keys.html#k">')  # the scan can find one
