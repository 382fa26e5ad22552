"""A link to any page previews well where it is shared, and every page has a description.

sphinxext-opengraph writes each page's Open Graph tags (conf.py, ``ogp_*``). The description
(docs/_ext/reader_pages.py) is the page's ``<meta name="description">``: the start of its
first paragraph of prose, not the stamp or the download buttons that open an example page.
Where the site's URL is known (SITE_URL), the preview's URLs are absolute.
"""

from __future__ import annotations

from helpers import make, output_of, soup
from reader_pages import SITE_DESCRIPTION

REQUIRED = ("og:title", "og:type", "og:description", "og:image", "og:image:alt")
# Pages Sphinx writes without a document: sphinxext-opengraph writes nothing for them.
WITHOUT_A_DOCUMENT = {"404.html", "genindex.html", "search.html"}
CARD = "_static/link-preview.png"
# Pages with no paragraph of prose of 40 characters or more: described as the site is.
SITE_DESCRIBED = {"explanation/index.html"}
NOT_PROSE = "p.guide-stamp; .sphx-glr-footer p; .admonition p; li p; .sphx-glr-script-out p"


def open_graph(page) -> dict[str, str]:
    return {m["property"]: m["content"] for m in page.select('meta[property^="og:"]')}


def prose(page) -> list[str]:
    """The text of each paragraph of the page's article that is prose."""
    not_prose = ", ".join(f"article {s}" for s in NOT_PROSE.split("; "))
    skipped = {id(p) for p in page.select(not_prose)}
    paragraphs = [p for p in page.select("article p") if id(p) not in skipped]
    return [" ".join(p.get_text().split()) for p in paragraphs]


def begins_a_paragraph(description: str, paragraphs: list[str]) -> bool:
    """The description is the start of one paragraph (shortened, it ends in "…")."""
    start = description.removesuffix("…")
    return len(start) >= 40 and any(p.startswith(start) for p in paragraphs)


def preview_problems(rel: str, page) -> list[str]:
    tags = open_graph(page)
    meta = [m["content"] for m in page.select('meta[name="description"]')]
    if len(meta) != 1 or len(meta[0]) < 40:
        return [f"description: {meta}"]
    if rel in WITHOUT_A_DOCUMENT:
        return [f"Open Graph tags: {tags}"] * bool(tags)
    found = [f"no {name}" for name in REQUIRED if not tags.get(name, "").strip()]
    if tags.get("og:description") != meta[0] or tags.get("og:image") != CARD:
        found.append(f"{tags} for the description {meta[0]!r}")
    if rel in SITE_DESCRIBED:
        if meta[0] != SITE_DESCRIPTION or max(map(len, prose(page)), default=0) >= 40:
            found.append(f"has prose of 40 characters; described as {meta[0]!r}")
    elif not begins_a_paragraph(meta[0], prose(page)):
        found.append(f"not the start of a paragraph of prose: {meta[0]!r}")
    return found


def test_every_page_has_a_description_and_a_link_preview_of_its_prose(site):
    pages = {p.relative_to(site.html).as_posix(): soup(p) for p in site.html.rglob("*.html")}
    assert len(pages) >= 40 and WITHOUT_A_DOCUMENT | SITE_DESCRIBED <= set(pages)
    assert (site.html / CARD).is_file()
    problems = {rel: preview_problems(rel, page) for rel, page in pages.items()}
    assert not {rel: found for rel, found in problems.items() if found}


def test_the_prose_check_refuses_the_stamp_the_buttons_and_text_across_paragraphs(site):
    """What sphinxext-opengraph's own description would be: an example page's stamp or
    buttons, or elsewhere the page's text across paragraphs."""
    example = soup(site.html / "auto_examples/article/plot_indexing_cost.html")
    access = soup(site.html / "reference/access.html")
    first, second = prose(access)[:2]
    assert begins_a_paragraph(first[:150] + "…", prose(access))
    for spoiled in (
        example.select_one("p.guide-stamp"),
        example.select_one(".guide-downloads"),
        f"{first} {second}"[: len(first) + 20] + "…",
    ):
        text = spoiled if isinstance(spoiled, str) else " ".join(spoiled.get_text().split())
        assert not begins_a_paragraph(text, prose(example) + prose(access)), text


def test_with_a_site_url_link_previews_name_absolute_urls(mini_project):
    url = "https://moduledict.invalid/corrected/"
    # Read the Docs' URL, where set, would come first (conf.py).
    env = {"SITE_URL": url, "READTHEDOCS_CANONICAL_URL": ""}
    result = make(mini_project, "html", "PROSE=1", env=env)  # previews need no outputs
    assert result.returncode == 0, output_of(result)[-5000:]
    html = mini_project / "build" / "html"
    rels = [p.relative_to(html).as_posix() for p in sorted(html.rglob("*.html"))]
    previewed = [rel for rel in rels if rel not in WITHOUT_A_DOCUMENT]
    assert len(previewed) == 3  # the index, the gallery and its example
    tags = {rel: open_graph(soup(html / rel)) for rel in previewed}
    absolute = {r: {"og:url": url + r, "og:image": url + CARD} for r in previewed}
    assert tags == {rel: tags[rel] | absolute[rel] for rel in previewed}
