"""The site as its three readers meet it, in real Chromium, from disk, on every page.

Readers: the one who only wants the answer (the home page's first screen states the
verdict), the one debugging an error (no output or error line is cut off; the copied
code has no prompts), the one learning ModuleDict (example pages open with title,
stamp and downloads; every example has a thumbnail of its own). Every page is checked
at 1280×900 and 390×844, light and dark, with no request leaving the disk, and by
axe-core (accessibility) at 1280×900, light and dark, in the same page load.
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
MAX_PAGE_BYTES = 300_000  # without its images
# Pages allowed more, with the reason. The claims ledger shows the code of every
# verdict's evidence (folded), highlighted: about 26 KB of code in 130 KB of markup.
# The search page loads the whole site's index (70 KB) and every error's data (28 KB),
# which grow with the site.
HEAVIER_PAGES = {"explanation/claims-ledger.html": 380_000, "search.html": 360_000}

# Every code or output block (<pre>) of a page: those wider than their column (they
# scroll sideways), and those whose white-space wraps their lines.
CODE_BLOCKS = """() => {
  const blocks = [...document.querySelectorAll("article pre")];
  const longest = pre => pre.textContent.split("\\n")
    .reduce((a, b) => (b.length > a.length ? b : a)).slice(0, 80);
  const wraps = ["normal", "pre-wrap", "pre-line", "break-spaces"];
  return {
    count: blocks.length,
    scrolling: blocks.filter(pre => pre.scrollWidth > pre.clientWidth + 1).map(longest),
    // A wrap that indents its wrapped parts deeper than any line (a hanging indent)
    // keeps the indentation readable: the error index wraps its messages so.
    wrapping: blocks.filter(pre => wraps.includes(getComputedStyle(pre).whiteSpace)
      && !(pre.closest("ul.error-index") && getComputedStyle(pre).textIndent.includes("hanging")))
      .map(longest),
  };
}"""


def code_block_problems(blocks: dict, width: str) -> list[str]:
    """At 1280 px no code or output block scrolls sideways; on a phone a block may
    scroll, but never wraps (a wrapped line changes the indentation a reader sees)."""
    if width == "desktop":
        return [f"scrolls sideways: {line!r}" for line in blocks["scrolling"]]
    return [f"wraps: {line!r}" for line in blocks["wrapping"]]


BACK_TO_TOP_OVER_CODE = """() => {
  const pill = document.querySelector(".back-to-top");
  const shown = document.documentElement.classList.contains("show-back-to-top")
    && pill && getComputedStyle(pill).display !== "none" && getComputedStyle(pill).visibility !== "hidden";
  if (!shown) return {shown: false, covers: []};
  const p = pill.getBoundingClientRect();
  const covers = [...document.querySelectorAll("article pre, article table, article img")].filter(el => {
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight && p.left < r.right && p.right > r.left
      && p.top < r.bottom && p.bottom > r.top;
  }).map(el => el.tagName + ": " + el.textContent.slice(0, 40));
  return {shown: true, covers};
}"""


def relative(site, html: Path) -> str:
    return html.relative_to(site.html).as_posix()


def is_example(rel: str) -> bool:
    return rel.startswith("auto_examples/") and not rel.endswith("index.html")


@pytest.fixture(scope="module")
def pages(site):
    found = html_pages(site.html)
    assert len(found) > 10
    return found


def accessibility_problems(axe, page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in axe.run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", VIEWPORTS)
def test_every_page_offline_light_wrapped_light_weight_described_accessible_and_dark(
    site, chromium, pages, width
):
    """No outside request, no console error, no code or output block scrolling sideways
    at 1280 px nor wrapping on a phone, under 300 KB without images, and a description;
    then, switched to a dark color scheme, a dark page on which no figure is a white box.
    At 1280 px, axe-core finds no serious or critical violation, light and then dark
    (axe checks the page as laid out: the phone's layout is furo's same markup)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe() if width == "desktop" else None
    problems, heaviest, outputs, images = {}, (0, ""), 0, 0
    scrolling, wrapping, audited = 0, 0, 0
    for html in pages:
        rel = relative(site, html)
        result, page = visit(
            chromium, html.as_uri(), viewport=VIEWPORTS[width], color_scheme="light"
        )
        found = result.outside(site.html) + result.failed + result.console
        blocks = page.evaluate(CODE_BLOCKS)
        outputs += blocks["count"]
        scrolling += len(blocks["scrolling"])
        wrapping += len(blocks["wrapping"])
        found += code_block_problems(blocks, width)
        files = {
            u for u in result.requests if u.startswith("file://") and not u.lower().endswith(IMAGES)
        }
        weight = sum(Path(re.sub(r"^file://", "", u.split("?")[0])).stat().st_size for u in files)
        heaviest = max(heaviest, (weight, rel))
        if weight > HEAVIER_PAGES.get(rel, MAX_PAGE_BYTES):
            found.append(f"{weight} bytes without images")
        description = page.eval_on_selector_all(
            'meta[name="description"]', "m => m.map(e => e.content)"
        )
        if len(description) != 1 or len(description[0]) < 40:
            found.append(f"description: {description}")
        if axe is not None:
            found += [f"light: {problem}" for problem in accessibility_problems(axe, page)]
        page.emulate_media(color_scheme="dark")
        dark = page.evaluate(DARK)
        images += dark["images"]
        found += dark_problems(dark)
        if axe is not None:
            found += [f"dark: {problem}" for problem in accessibility_problems(axe, page)]
            audited += 1
        if found:
            problems[rel] = found
        page.context.close()
    print(
        f"\n{width}: {len(pages)} pages, {outputs} code/output blocks, {scrolling} scroll "
        f"sideways, {wrapping} wrap; heaviest {heaviest[1]}: {heaviest[0]} bytes without images;"
        f" axe ran on {audited} pages, light and dark"
    )
    assert outputs > 300
    assert audited == (len(pages) if width == "desktop" else 0)
    assert images >= 12  # the gallery's thumbnails at least
    assert set(HEAVIER_PAGES) <= {relative(site, html) for html in pages}
    assert not problems


# A line too long for the column (as a block that does not wrap shows it), and a block
# that wraps its lines.
SPOIL = {
    "desktop": "pre => { pre.style.whiteSpace = 'pre'; pre.textContent += '#'.repeat(200); }",
    "phone": "pre => { pre.style.whiteSpace = 'pre-wrap'; }",
}


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_code_block_check_finds_a_block_that_scrolls_or_wraps(site, chromium, width):
    _, page = visit(chromium, (site.html / "reference" / "keys.html").as_uri(),
                    viewport=VIEWPORTS[width])
    before = code_block_problems(page.evaluate(CODE_BLOCKS), width)
    page.eval_on_selector("article pre", SPOIL[width])
    after = code_block_problems(page.evaluate(CODE_BLOCKS), width)
    page.context.close()
    assert len(after) == len(before) + 1, (before, after)


# The longest pages, and the widest tables (furo shows its pill once a reader scrolls up).
# The control: furo's pill, shown over a block in view.
FORCE_PILL = """() => {
  const inView = [...document.querySelectorAll("article pre")].filter(el => {
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.bottom > 0 && r.top < innerHeight;
  });
  const r = inView[0].getBoundingClientRect();
  const pill = document.querySelector(".back-to-top");
  pill.style.setProperty("display", "flex", "important");
  pill.style.setProperty("position", "fixed");
  pill.style.setProperty("top", Math.max(r.top, 0) + "px");
  pill.style.setProperty("left", r.left + "px");
}"""
LONG_PAGES = ("reference/errors.html", "reference/parameterdict.html", MYTHS_PAGE)


@pytest.mark.parametrize("width", VIEWPORTS)
def test_scrolling_up_shows_no_back_to_top_pill_over_the_text(site, chromium, width):
    for name in LONG_PAGES:
        _, page = visit(chromium, (site.html / name).as_uri(), viewport=VIEWPORTS[width])
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
        page.wait_for_timeout(100)
        page.mouse.wheel(0, -300)
        page.wait_for_function("() => document.documentElement.classList.contains("
                               "'show-back-to-top')")  # furo saw the reader scroll up
        pill = page.evaluate(BACK_TO_TOP_OVER_CODE)
        # The control: furo's pill shown over text is seen by the check.
        page.evaluate(FORCE_PILL)
        forced = page.evaluate(BACK_TO_TOP_OVER_CODE)
        page.context.close()
        assert pill["covers"] == [], (name, pill)
        assert forced["shown"] and forced["covers"], (name, forced)


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_first_screen_states_the_verdict_with_links_to_the_proof(site, chromium, width):
    result, page = visit(chromium, (site.html / "index.html").as_uri(), viewport=VIEWPORTS[width])
    verdict = page.locator("article p", has_text="Verdict").first
    box = verdict.bounding_box()
    assert box and box["y"] + box["height"] <= VIEWPORTS[width]["height"], box
    text = verdict.inner_text()
    assert "returns the registered module itself" in text
    assert "bit-for-bit equal" in text and "crashes" in text
    proofs = verdict.locator("a").evaluate_all("links => links.map(a => a.href)")
    for example in (
        "example1_item_access_works",
        "example3_backward_succeeds",
        "example2_crashes_as_written",
    ):
        assert any(example in href for href in proofs), proofs
    page.context.close()


def test_the_home_page_cites_the_article_and_links_the_official_api(site):
    page = soup(site.html / "index.html")
    text = " ".join(page.select_one("article").get_text().split())
    assert "How to correctly index a PyTorch nn.ModuleDict?" in text and "2025-01-30" in text
    hrefs = {a.get("href") for a in page.select("article a")}
    # The official API page (a link the reader may follow; the test loads nothing).
    assert any(h and h.endswith("/docs/stable/generated/torch.nn.ModuleDict.html") for h in hrefs)


EXAMPLE_TOP = """() => {
  const h1 = document.querySelector("article h1");
  const range = document.createRange();
  const lines = new Set();
  for (const node of h1.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE) continue;
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) lines.add(Math.round(rect.top));
  }
  const after = [];
  let el = h1.nextElementSibling;
  while (el && after.length < 2) { after.push(el.className); el = el.nextElementSibling; }
  const downloads = document.querySelector("div.guide-downloads");
  const first = [...document.querySelector("article").querySelectorAll("h1, p, div.admonition, div.sphx-glr-download-link-note")][0];
  return {
    title: h1.textContent.replace("¶", "").trim(),
    lines: lines.size,
    after,
    firstIsTitle: first === h1,
    note: !!document.querySelector(".sphx-glr-download-link-note"),
    downloadsBottom: downloads ? downloads.getBoundingClientRect().bottom : null,
    stamp: (document.querySelector("p.guide-stamp") || {}).textContent || "",
  };
}"""


@pytest.mark.parametrize("width", VIEWPORTS)
def test_example_pages_open_with_title_stamp_and_downloads(site, chromium, pages, width):
    problems, long_titles = {}, []
    torch = version("torch")
    examples = [h for h in pages if is_example(relative(site, h))]
    assert len(examples) >= 10
    for html in examples:
        rel = relative(site, html)
        _, page = visit(chromium, html.as_uri(), viewport=VIEWPORTS[width])
        top = page.evaluate(EXAMPLE_TOP)
        page.context.close()
        found = []
        if not top["firstIsTitle"] or top["note"]:
            found.append("the page does not start with its title")
        if top["after"] != [
            "guide-stamp",
            "sphx-glr-footer sphx-glr-footer-example guide-downloads docutils container",
        ]:
            found.append(f"under the title: {top['after']}")
        if f"torch {torch} on Python" not in " ".join(top["stamp"].split()):
            found.append(f"stamp: {top['stamp']!r}")
        if top["downloadsBottom"] is None or top["downloadsBottom"] > VIEWPORTS[width]["height"]:
            found.append(f"downloads end at {top['downloadsBottom']} px, below the first screen")
        if top["lines"] > 3:
            long_titles.append(f"{top['title']} ({top['lines']} lines)")
        if found:
            problems[rel] = found
    print(f"\n{width}: titles over 3 lines: {long_titles or 'none'}")
    assert not problems
    assert not long_titles


DARK = """() => ({
  background: getComputedStyle(document.body).backgroundColor,
  bare: [...document.querySelectorAll("article img")].filter(img => {
    const s = getComputedStyle(img);
    return !(s.filter.includes("brightness") && parseFloat(s.paddingTop) > 0 && s.borderTopStyle !== "none");
  }).map(img => img.getAttribute("src")),
  images: document.querySelectorAll("article img").length,
})"""


def dark_problems(dark: dict) -> list[str]:
    red, green, blue = map(int, re.findall(r"\d+", dark["background"])[:3])
    found = [f"bright background {dark['background']}"] if red + green + blue > 3 * 80 else []
    return found + [f"figure without a dark-mode card: {src}" for src in dark["bare"]]


def test_a_page_switched_to_dark_is_what_a_page_opened_dark_is(site, chromium):
    """The every-page test switches each open page to dark; this page, opened in dark,
    reads the same, and in light it fails the dark check (the check can fail)."""
    url = (site.html / MYTHS_PAGE).as_uri()
    _, opened = visit(chromium, url, color_scheme="dark")
    _, switched = visit(chromium, url, color_scheme="light")
    light = switched.evaluate(DARK)
    switched.emulate_media(color_scheme="dark")
    assert switched.evaluate(DARK) == opened.evaluate(DARK)
    assert dark_problems(opened.evaluate(DARK)) == [] and dark_problems(light) != []
    opened.context.close()
    switched.context.close()


def copied_lines(text: str) -> list[str]:
    """What a reader must get from a doctest block: the code after the prompts."""
    lines = []
    for example in doctest.DocTestParser().get_examples(text):
        lines += example.source.splitlines()
    return [line for line in lines if line.strip()]


def test_copy_buttons_copy_the_code_without_prompts_or_output(site, chromium, pages):
    checked = 0
    for html in pages:
        blocks = soup(html).select("div.guide-doctest pre")
        if not blocks:
            continue
        _, page = visit(chromium, html.as_uri())
        # sphinx-copybutton copies through clipboard.js: a hidden textarea, then
        # execCommand("copy"). Record what would have reached the clipboard.
        page.evaluate("""() => {
          window.__copied = [];
          document.execCommand = (command) => {
            const area = [...document.querySelectorAll("textarea")].pop();
            window.__copied.push(area ? area.value : String(document.getSelection()));
            return true;
          };
          if (navigator.clipboard) {
            navigator.clipboard.writeText = async (text) => { window.__copied.push(text); };
          }
        }""")
        buttons = page.locator("div.guide-doctest button.copybtn")
        assert buttons.count() == len(blocks), relative(site, html)
        for index, block in enumerate(blocks):
            buttons.nth(index).click(force=True)
            page.wait_for_function("n => window.__copied.length > n", arg=index)
            copied = page.evaluate("i => window.__copied[i]", index)
            got = [line for line in copied.splitlines() if line.strip()]
            assert got == copied_lines(block.get_text()), (relative(site, html), copied)
            checked += 1
        page.context.close()
    print(f"\n{checked} doctest blocks copied without prompts")
    assert checked >= 20


def placeholder_thumbnail(tmp_path: Path) -> bytes:
    """sphinx-gallery's placeholder, scaled as it scales it into a thumbnail."""
    from sphinx_gallery import glr_path_static
    from sphinx_gallery.utils import scale_image

    out = tmp_path / "placeholder.png"
    scale_image(str(Path(glr_path_static()) / "no_image.png"), str(out), 400, 280)
    return out.read_bytes()


def test_every_example_has_a_thumbnail_of_its_own(site, tmp_path):
    gallery = soup(site.html / "auto_examples" / "index.html")
    thumbs = [
        (site.html / "auto_examples" / img["src"]).resolve()
        for img in gallery.select("div.sphx-glr-thumbcontainer img")
    ]
    examples = list((site.root / "examples").rglob("plot_*.py"))
    assert len(thumbs) == len(examples) > 0
    digests = [hashlib.sha256(t.read_bytes()).hexdigest() for t in thumbs]
    assert len(set(digests)) == len(digests), "two examples share a thumbnail"
    placeholder = hashlib.sha256(placeholder_thumbnail(tmp_path)).hexdigest()
    assert placeholder not in digests


def test_every_thumbnail_says_in_words_what_its_card_shows(site):
    """A thumbnail is a card stating its example's finding: its alt text is that title."""
    cards = soup(site.html / "auto_examples" / "index.html").select("div.sphx-glr-thumbcontainer")
    assert len(cards) == len(list((site.root / "examples").rglob("plot_*.py")))
    for card in cards:
        title = card.select_one("div.sphx-glr-thumbnail-title").get_text()
        assert card.img["alt"] == title


def test_the_indexing_cost_figure_states_its_result_and_is_legible_on_a_phone(site, chromium):
    """Its alt text is the asserted result; its 11-point text, as a 390 px phone shows the
    figure, is at least 9 px tall."""
    html = site.html / "auto_examples" / "article" / "plot_indexing_cost.html"
    (figure,) = soup(html).select("img.sphx-glr-single-img")
    assert figure["alt"] == "Each lookup takes under half the time of a Linear(16, 16) forward"
    _, page = visit(chromium, html.as_uri(), viewport=VIEWPORTS["phone"])
    scale = page.eval_on_selector(
        "img.sphx-glr-single-img", "img => img.getBoundingClientRect().width / img.naturalWidth"
    )
    page.context.close()
    points, dpi = 11, 100  # the example's font.size; sphinx-gallery saves at the figure's dpi
    assert points * dpi / 72 * scale >= 9, scale
