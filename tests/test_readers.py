"""The site as its three readers meet it, in real Chromium, from disk, on every page.

The one who wants the answer (the first screen states the verdict), the one debugging an
error (no code or output line is cut off; copied code has no prompts), the one learning
(example pages open with title, stamp and downloads; each example has its own thumbnail).
Every page is loaded once per width, 1280×900 and 390×844, and checked light and dark;
axe-core audits it at 1280×900, light and dark, in the same load.
"""

from __future__ import annotations

import doctest
import hashlib
import re
from importlib.metadata import version
from pathlib import Path

import pytest
from browser import html_pages, visit
from helpers import MYTHS_PAGE, soup

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
IMAGES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp", ".ico")
# Bytes a page loads without its images, with the pages allowed more: the claims ledger
# shows every verdict's evidence, highlighted; the search page loads the whole site's
# index and every error's data, which grow with the site.
HEAVIER_PAGES = {"explanation/claims-ledger.html": 380_000, "search.html": 360_000}
MAX_PAGE_BYTES, MAX_BYTES_IN_ALL = 300_000, 3_000_000

# Every code or output block: those wider than their column (they scroll sideways), those
# whose lines wrap (a hanging indent, as the error index's, keeps the indentation readable).
CODE_BLOCKS = """() => {
  const blocks = [...document.querySelectorAll("article pre")];
  const longest = pre => pre.textContent.split("\\n")
    .reduce((a, b) => (b.length > a.length ? b : a)).slice(0, 80);
  const wraps = ["normal", "pre-wrap", "pre-line", "break-spaces"];
  return {
    count: blocks.length,
    desktop: blocks.filter(pre => pre.scrollWidth > pre.clientWidth + 1).map(longest),
    phone: blocks.filter(pre => wraps.includes(getComputedStyle(pre).whiteSpace)
      && !(pre.closest("ul.error-index") && getComputedStyle(pre).textIndent.includes("hanging")))
      .map(longest),
  };
}"""
# A dark page, on which every figure sits on a dimmed, padded card (no white box).
DARK = """() => ({
  background: getComputedStyle(document.body).backgroundColor,
  bare: [...document.querySelectorAll("article img")].filter(img => {
    const s = getComputedStyle(img);
    return !(s.filter.includes("brightness") && parseFloat(s.paddingTop) > 0
      && s.borderTopStyle !== "none");
  }).map(img => img.getAttribute("src")),
  images: document.querySelectorAll("article img").length,
})"""
EXAMPLE_TOP = """() => {
  const h1 = document.querySelector("article h1");
  const range = document.createRange(), lines = new Set();
  for (const node of h1.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE) continue;
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) lines.add(Math.round(rect.top));
  }
  const first = document.querySelector("article").querySelector(
    "h1, p, div.admonition, div.sphx-glr-download-link-note");
  const downloads = document.querySelector("div.guide-downloads");
  return {
    lines: lines.size, firstIsTitle: first === h1,
    after: [h1.nextElementSibling, h1.nextElementSibling?.nextElementSibling]
      .map(el => el && el.className),
    downloadsBottom: downloads ? downloads.getBoundingClientRect().bottom : null,
    stamp: (document.querySelector("p.guide-stamp") || {}).textContent || "",
  };
}"""
UNDER_THE_TITLE = [
    "guide-stamp", "sphx-glr-footer sphx-glr-footer-example guide-downloads docutils container"]
# sphinx-copybutton copies through clipboard.js (a hidden textarea, then execCommand): record
# what would have reached the clipboard.
RECORD_COPIES = """() => {
  window.__copied = [];
  document.execCommand = () => {
    const area = [...document.querySelectorAll("textarea")].pop();
    window.__copied.push(area ? area.value : String(document.getSelection()));
    return true;
  };
}"""


def axe_problems(axe, page) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:5]}"
            for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]


def dark_problems(dark: dict) -> list[str]:
    bright = sum(map(int, re.findall(r"\d+", dark["background"])[:3])) > 3 * 80
    return [f"bright background {dark['background']}"] * bright + [
        f"figure without a dark-mode card: {src}" for src in dark["bare"]]


def copies(page, count: int) -> list[str]:
    page.evaluate(RECORD_COPIES)
    buttons = page.locator("div.guide-doctest button.copybtn")
    assert buttons.count() == count
    for index in range(count):
        buttons.nth(index).click(force=True)
        page.wait_for_function("n => window.__copied.length > n", arg=index)
    return page.evaluate("() => window.__copied")


def code_lines(text: str) -> list[str]:
    """What a copy of a doctest block holds: the code after the prompts, blank lines aside."""
    return [line for example in doctest.DocTestParser().get_examples(text)
            for line in example.source.splitlines() if line.strip()]


def example_top_problems(top: dict, width: str) -> list[str]:
    torch = f"torch {version('torch')} on Python"
    return [name for name, bad in {
        "not opened by its title": not top["firstIsTitle"],
        f"under the title: {top['after']}": top["after"] != UNDER_THE_TITLE,
        f"stamp: {top['stamp']!r}": torch not in " ".join(top["stamp"].split()),
        "downloads below the first screen": not 0 < (top["downloadsBottom"] or 0)
        <= VIEWPORTS[width]["height"],
        f"a title of {top['lines']} lines": top["lines"] > 3,
    }.items() if bad]


@pytest.mark.parametrize("width", VIEWPORTS)
def test_every_page_works_offline_unclipped_light_dark_accessible_and_copyable(
    site, chromium, width
):
    """Each page, loaded once: no outside request, failure or console error; no code block
    scrolling sideways at 1280 px nor wrapping on a phone; under 300 KB without images and
    3 MB in all; example pages open with title, stamp and downloads on the first screen;
    switched to dark, a dark page with no white figure. At 1280 px: axe-core finds no
    serious violation, light or dark, and copy buttons copy the code without prompts."""
    from axe_playwright_python.sync_playwright import Axe

    axe, problems, counts = Axe(), {}, dict.fromkeys(["pages", "blocks", "images", "examples",
                                                       "copies", "audits"], 0)
    for html in html_pages(site.html):
        rel, found = html.relative_to(site.html).as_posix(), []
        result, page = visit(chromium, html.as_uri(), viewport=VIEWPORTS[width])
        # (before axe, which fetches the stylesheets again, which a page from disk cannot)
        found += result.failed + result.console + result.outside(site.html)
        weight = (result.bytes_from_disk(skip=IMAGES), result.bytes_from_disk())
        if weight[0] > HEAVIER_PAGES.get(rel, MAX_PAGE_BYTES) or weight[1] > MAX_BYTES_IN_ALL:
            found.append(f"{weight} bytes without images and in all")
        blocks = page.evaluate(CODE_BLOCKS)
        found += [f"{width} code block: {line}" for line in blocks[width]]
        if "auto_examples/" in rel and not rel.endswith("index.html"):
            found += example_top_problems(page.evaluate(EXAMPLE_TOP), width)
            counts["examples"] += 1
        light = [] if width == "phone" else axe_problems(axe, page)
        page.emulate_media(color_scheme="dark")
        dark = page.evaluate(DARK)
        found += dark_problems(dark) + light
        if width == "desktop":
            found += [f"dark: {problem}" for problem in axe_problems(axe, page)]
            counts["audits"] += 1
            doctests = [block.get_text() for block in soup(html).select("div.guide-doctest pre")]
            for copy, block in zip(copies(page, len(doctests)), doctests, strict=True):
                if [line for line in copy.splitlines() if line.strip()] != code_lines(block):
                    found.append(f"copied {copy!r}")
                counts["copies"] += 1
        page.context.close()
        counts["pages"] += 1
        counts["blocks"] += blocks["count"]
        counts["images"] += dark["images"]
        if found:
            problems[rel] = found
    print(f"\n{width}: {counts}")
    assert counts["pages"] >= 40 and counts["blocks"] > 300 and counts["examples"] >= 10
    assert counts["images"] >= 12  # the gallery's thumbnails at least
    assert (counts["audits"], counts["copies"] >= 20) == (
        (counts["pages"], True) if width == "desktop" else (0, False))
    assert all((site.html / rel).is_file() for rel in HEAVIER_PAGES)
    assert not problems


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_code_block_check_finds_a_block_that_scrolls_or_wraps(site, chromium, width):
    spoil = {"desktop": "pre => { pre.style.whiteSpace = 'pre'; pre.textContent += '#'.repeat(200) }",
             "phone": "pre => { pre.style.whiteSpace = 'pre-wrap' }"}[width]
    _, page = visit(chromium, (site.html / "reference/keys.html").as_uri(), viewport=VIEWPORTS[width])
    before = page.evaluate(CODE_BLOCKS)[width]
    page.eval_on_selector("article pre", spoil)
    assert len(page.evaluate(CODE_BLOCKS)[width]) == len(before) + 1
    page.context.close()


def test_a_page_switched_to_dark_is_what_a_page_opened_dark_is(site, chromium):
    """The pages are switched to dark once loaded: so is this one, which in light fails."""
    url = (site.html / MYTHS_PAGE).as_uri()
    _, opened = visit(chromium, url, color_scheme="dark")
    _, switched = visit(chromium, url, color_scheme="light")
    light = switched.evaluate(DARK)
    switched.emulate_media(color_scheme="dark")
    assert switched.evaluate(DARK) == opened.evaluate(DARK)
    assert dark_problems(opened.evaluate(DARK)) == [] and dark_problems(light) != []
    opened.context.close()
    switched.context.close()


PILL_OVER = """() => {
  const pill = document.querySelector(".back-to-top"), p = pill.getBoundingClientRect();
  if (getComputedStyle(pill).display === "none" || getComputedStyle(pill).visibility === "hidden")
    return [];
  return [...document.querySelectorAll("article pre, article table, article img")].filter(el => {
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight && p.left < r.right && p.right > r.left
      && p.top < r.bottom && p.bottom > r.top;
  }).map(el => el.tagName + ": " + el.textContent.slice(0, 40));
}"""
# The control: furo's pill, forced over the first block in view.
FORCE_PILL = """() => {
  const r = [...document.querySelectorAll("article pre")].find(el => {
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.bottom > 0 && r.top < innerHeight;
  }).getBoundingClientRect();
  const pill = document.querySelector(".back-to-top");
  pill.style.setProperty("display", "flex", "important");
  pill.style.setProperty("position", "fixed");
  pill.style.setProperty("top", Math.max(r.top, 0) + "px");
  pill.style.setProperty("left", r.left + "px");
}"""


@pytest.mark.parametrize("width", VIEWPORTS)
@pytest.mark.parametrize("name", ["reference/errors.html", "reference/parameterdict.html",
                                  MYTHS_PAGE])
def test_scrolling_up_shows_no_back_to_top_pill_over_the_text(site, chromium, width, name):
    _, page = visit(chromium, (site.html / name).as_uri(), viewport=VIEWPORTS[width])
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    page.wait_for_timeout(100)
    page.mouse.wheel(0, -300)  # furo shows its pill once a reader scrolls up
    page.wait_for_function("() => document.documentElement.classList"
                           ".contains('show-back-to-top')")
    covered = page.evaluate(PILL_OVER)
    page.evaluate(FORCE_PILL)
    assert covered == [] and page.evaluate(PILL_OVER) != []
    page.context.close()


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_first_screen_states_the_verdict_with_links_to_the_proof(site, chromium, width):
    _, page = visit(chromium, (site.html / "index.html").as_uri(), viewport=VIEWPORTS[width])
    verdict = page.locator("article p", has_text="Verdict").first
    box = verdict.bounding_box()
    assert box and box["y"] + box["height"] <= VIEWPORTS[width]["height"], box
    text = verdict.inner_text()
    assert "returns the registered module itself" in text
    assert "bit-for-bit equal" in text and "crashes" in text
    proofs = " ".join(verdict.locator("a").evaluate_all("links => links.map(a => a.href)"))
    assert all(example in proofs for example in ("example1_item_access_works",
               "example3_backward_succeeds", "example2_crashes_as_written")), proofs
    page.context.close()


def test_the_home_page_cites_the_article_and_links_the_official_api(site):
    page = soup(site.html / "index.html")
    text = " ".join(page.select_one("article").get_text().split())
    assert "How to correctly index a PyTorch nn.ModuleDict?" in text and "2025-01-30" in text
    assert any(a["href"].endswith("/docs/stable/generated/torch.nn.ModuleDict.html")
               for a in page.select("article a[href]"))


def test_every_example_has_a_thumbnail_of_its_own_titled_in_words(site, tmp_path):
    """Each card states its example's finding: its thumbnail's alt text is that title."""
    from sphinx_gallery import glr_path_static
    from sphinx_gallery.utils import scale_image

    cards = soup(site.html / "auto_examples/index.html").select("div.sphx-glr-thumbcontainer")
    assert len(cards) == len(list((site.root / "examples").rglob("plot_*.py"))) >= 10
    assert [c.img["alt"] for c in cards] == [
        c.select_one("div.sphx-glr-thumbnail-title").get_text() for c in cards]
    digests = [hashlib.sha256((site.html / "auto_examples" / c.img["src"]).read_bytes()).digest()
               for c in cards]
    assert len(set(digests)) == len(digests), "two examples share a thumbnail"
    # sphinx-gallery's placeholder, scaled as it scales it into a thumbnail
    scale_image(str(Path(glr_path_static()) / "no_image.png"), str(tmp_path / "p.png"), 400, 280)
    assert hashlib.sha256((tmp_path / "p.png").read_bytes()).digest() not in digests


def test_the_indexing_cost_figure_states_its_result_and_is_legible_on_a_phone(site, chromium):
    """Its alt text is the asserted result; its 11-point text is 9 px tall or more at 390 px."""
    html = site.html / "auto_examples/article/plot_indexing_cost.html"
    (figure,) = soup(html).select("img.sphx-glr-single-img")
    assert figure["alt"] == "Each lookup takes under half the time of a Linear(16, 16) forward"
    _, page = visit(chromium, html.as_uri(), viewport=VIEWPORTS["phone"])
    scale = page.eval_on_selector(
        "img.sphx-glr-single-img", "img => img.getBoundingClientRect().width / img.naturalWidth")
    page.context.close()
    assert 11 * 100 / 72 * scale >= 9, scale  # 11 points; saved at the figure's 100 dpi
