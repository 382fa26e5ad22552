"""A link to any page previews well where it is shared.

sphinxext-opengraph writes each page's Open Graph tags (conf.py, ``ogp_*``): its title,
type, description and the site's card image with its alt text. The description is the
one docs/_ext/reader_pages.py chooses, the same as the page's ``<meta name="description">``:
the start of the page's first paragraph of prose, not the build stamp or the download
buttons that open an example page. Where the site's URL is known (SITE_URL), the
preview's URLs are absolute.
"""

from __future__ import annotations

from helpers import make, output_of, soup
from reader_pages import SITE_DESCRIPTION

REQUIRED = ("og:title", "og:type", "og:description", "og:image", "og:image:alt")
# Pages Sphinx writes without a document, for which sphinxext-opengraph writes nothing;
# nobody shares them. They still have a <meta name="description"> (tests/test_readers.py).
WITHOUT_A_DOCUMENT = {"404.html", "genindex.html", "search.html"}
CARD = "_static/link-preview.png"
# Pages with no paragraph of prose of 40 characters or more ("Why ModuleDict behaves the
# way it does." and a list of pages): their description is the site's.
SITE_DESCRIBED = {"explanation/index.html"}
# Not prose: the stamp, the download buttons, admonitions, list items, outputs.
NOT_PROSE = (
    "p.guide-stamp", ".sphx-glr-footer p", ".admonition p", "li p", ".sphx-glr-script-out p",
)


def open_graph(page) -> dict[str, str]:
    return {m["property"]: m["content"] for m in page.select('meta[property^="og:"]')}


def prose(page) -> list[str]:
    """The text of each paragraph of the page's article that is prose."""
    skipped = {id(p) for p in page.select(", ".join(f"article {s}" for s in NOT_PROSE))}
    paragraphs = [p for p in page.select("article p") if id(p) not in skipped]
    return [" ".join(p.get_text().split()) for p in paragraphs]


def begins_a_paragraph(description: str, paragraphs: list[str]) -> bool:
    """The description is the start of one paragraph (shortened, it ends in "…")."""
    start = description.removesuffix("…")
    return len(start) >= 40 and any(p.startswith(start) for p in paragraphs)


def test_every_page_has_a_link_preview_with_a_prose_description(site):
    pages = sorted(site.html.rglob("*.html"))
    previewed, problems = [], {}
    for html in pages:
        rel = html.relative_to(site.html).as_posix()
        page = soup(html)
        tags = open_graph(page)
        if rel in WITHOUT_A_DOCUMENT:
            if tags:
                problems[rel] = f"a page without a document has Open Graph tags: {tags}"
            continue
        previewed.append(rel)
        found = [f"no {name}" for name in REQUIRED if not tags.get(name, "").strip()]
        metas = [m["content"] for m in page.select('meta[name="description"]')]
        meta = metas[0] if len(metas) == 1 else metas
        description = tags.get("og:description", "")
        if description != meta:
            found.append(f"og:description {description!r} is not the description {meta!r}")
        if rel in SITE_DESCRIBED:
            if description != SITE_DESCRIPTION or max(map(len, prose(page)), default=0) >= 40:
                found.append(f"has prose of 40 characters; described as {description!r}")
        elif not begins_a_paragraph(description, prose(page)):
            found.append(f"description is not the start of a paragraph of prose: {description!r}")
        if tags.get("og:image") != CARD or not (site.html / CARD).is_file():
            found.append(f"og:image: {tags.get('og:image')!r}")
        if found:
            problems[rel] = found
    print(f"\n{len(previewed)} pages with a link preview")
    assert len(previewed) == len(pages) - len(WITHOUT_A_DOCUMENT) >= 40
    assert not problems, problems


def test_the_prose_check_refuses_the_stamp_the_buttons_and_text_across_paragraphs(site):
    """The control: what sphinxext-opengraph's own description starts with on an example
    page (the stamp, the buttons) and what it is on others (the start of the page's text,
    across paragraphs) is refused."""
    example = soup(site.html / "auto_examples" / "article" / "plot_indexing_cost.html")
    stamp = " ".join(example.select_one("p.guide-stamp").get_text().split())
    buttons = " ".join(example.select_one(".guide-downloads").get_text().split())
    access = soup(site.html / "reference" / "access.html")
    first, second = prose(access)[:2]
    assert begins_a_paragraph(first[:150] + "…", prose(access))
    across = f"{first} {second}"[: len(first) + 20] + "…"
    for spoiled in (stamp, buttons, across):
        assert not begins_a_paragraph(spoiled, prose(example) + prose(access)), spoiled


def test_with_a_site_url_link_previews_name_absolute_urls(mini_project):
    url = "https://moduledict.invalid/corrected/"
    # Read the Docs' URL, where set, would come first (conf.py).
    result = make(mini_project, "html", env={"SITE_URL": url, "READTHEDOCS_CANONICAL_URL": ""})
    assert result.returncode == 0, output_of(result)[-5000:]
    html = mini_project / "build" / "html"
    checked = 0
    for page in sorted(html.rglob("*.html")):
        rel = page.relative_to(html).as_posix()
        if rel in WITHOUT_A_DOCUMENT:
            continue
        tags = open_graph(soup(page))
        assert tags["og:url"] == url + rel, rel
        assert tags["og:image"] == url + CARD, rel
        checked += 1
    assert checked == 3  # the index, the gallery and its example
