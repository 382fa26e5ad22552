"""The site as its three readers meet it, in real Chromium, from disk, on every page.

The one who wants the answer (the first screen states the verdict), the one debugging an error (no
code line or output is cut off; copied code has no prompts), the one learning (every page with
executed code names the torch that ran it; example pages open with title, stamp and downloads; each
example has its own thumbnail; the tutorial, copied block by block, runs). Every page is loaded once
at 1280×900, then narrowed to 390×844, light then dark at each width; at 1280 axe-core audits it
light and dark.
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import pytest
from browser import html_pages, visit
from helpers import MYTHS_PAGE, offline, soup

VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
IMAGES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp", ".ico")
# Bytes a page loads without its images (3 MB in all), and the pages allowed more: the
# ledger shows every verdict's evidence, highlighted; the search page loads the site's
# index and every error's data, which grow with the site; the checkup holds its program.
MAX_BYTES = {"explanation/claims-ledger.html": 380_000, "search.html": 360_000}
MAX_BYTES["auto_examples/pitfalls/plot_check_model_finds_every_pitfall.html"] = 420_000
# The code blocks cut off: at 1280 px any block wider than its column; at every width an
# output (what code printed, a doctest) that scrolls sideways or wraps without a hanging
# indent, a table that scrolls out of a keyboard's reach, a date broken over two lines. A
# page with executed code names the torch that ran it; an example page opens with its title
# (3 lines at most), the stamp, and the downloads on the first screen.
OUTPUTS = """div.sphx-glr-script-out pre, div.highlight-pytb pre, div.guide-doctest pre,
  div.guide-testoutput pre, div.guide-typecheck-output pre, table.torch-matrix pre, ul.error-index pre"""
LIGHT = """([width, height, example, torch, outputs]) => {
  const found = [], pres = [...document.querySelectorAll("article pre")], range = document.createRange();
  const scrolls = el => el.scrollWidth > el.clientWidth + 1, out = pres.filter(pre => pre.matches(outputs));
  const hanging = pre => getComputedStyle(pre).textIndent.includes("hanging");
  for (const pre of pres.filter(pre => scrolls(pre) && (width > 1000 || out.includes(pre)) || out.includes(pre) && !hanging(pre)))
    found.push("cut off: " + pre.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a)));
  const lines = node => (range.selectNodeContents(node), new Set([...range.getClientRects()].map(r => Math.round(r.top))).size);
  for (const table of [...document.querySelectorAll("article div.table-wrapper")].filter(scrolls))
    if (table.tabIndex !== 0 || !table.getAttribute("aria-label")) found.push("a table out of the keyboard's reach");
  const dates = [...document.querySelectorAll("article td")].filter(td => /^\\d{4}-\\d\\d-\\d\\d$/.test(td.textContent.trim()));
  found.push(...dates.filter(td => lines(td.firstChild) > 1).map(td => "a date broken: " + td.textContent));
  const stamps = [...document.querySelectorAll("article p.guide-stamp")].map(p => p.textContent.replace(/\\s+/g, " "));
  const executed = document.querySelector("article :is(div.guide-executed, div.sphx-glr-script-out)") !== null;
  if (executed && !stamps.some(stamp => stamp.includes(torch))) found.push("no stamp names the torch that ran its code");
  const counts = {found, blocks: pres.length, outputs: out.length, dates: dates.length, executed};
  if (!example) return counts;
  const h1 = document.querySelector("article h1"), title = new Set();
  for (const node of [...h1.childNodes].filter(node => node.nodeType === Node.TEXT_NODE)) {
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) title.add(Math.round(rect.top));
  }
  const first = document.querySelector("article :is(h1, p, div.admonition, div.sphx-glr-download-link-note)");
  const [stamp, downloads] = [h1.nextElementSibling, h1.nextElementSibling?.nextElementSibling];
  if (first !== h1 || title.size > 3) found.push(`the title: first ${first === h1}, ${title.size} lines`);
  if (!stamp?.matches("p.guide-stamp")) found.push("no stamp under the title");
  if (!downloads?.matches("div.guide-downloads") || downloads.getBoundingClientRect().bottom > height)
    found.push("the downloads are not under the stamp on the first screen");
  return counts;
}"""
# A dark page, on which every figure sits on a dimmed, padded card (no white box).
DARK = """() => ({
  background: getComputedStyle(document.body).backgroundColor,
  bare: [...document.querySelectorAll("article img")].map(img => [img, getComputedStyle(img)])
    .filter(([, s]) => !(s.filter.includes("brightness") && parseFloat(s.paddingTop) > 0
      && s.borderTopStyle !== "none")).map(([img]) => img.getAttribute("src")),
  images: document.querySelectorAll("article img").length,
})"""
# sphinx-copybutton copies through clipboard.js (a hidden textarea, then execCommand):
# click each button, and return what would have reached the clipboard.
COPY = """async (selector) => {
  const copied = [];
  document.execCommand = () => {
    const area = [...document.querySelectorAll("textarea")].pop();
    return copied.push(area ? area.value : String(document.getSelection()));
  };
  for (const button of document.querySelectorAll(selector)) {
    const before = copied.length;
    button.click();
    for (let i = 0; i < 300 && copied.length === before; i++) await new Promise(r => setTimeout(r, 10));
    if (copied.length === before) copied.push("(nothing copied)");
  }
  return copied;
}"""


def open_page(chromium, site, rel: str, width="desktop", **context):
    return visit(chromium, (site.html / rel).as_uri(), viewport=size(width), **context)


def size(width: str) -> dict[str, int]:
    return dict(zip(("width", "height"), VIEWPORTS[width]))


# axe-core's contrast check of every highlighted token is most of its time: it leaves out a
# code block all of whose text has a colour, font and background (its own and its
# ancestors') that it audited already, on this page or an earlier one.
AUDITED = """(known) => {
  document.querySelectorAll("[data-audited]").forEach(pre => pre.removeAttribute("data-audited"));
  const style = new Map(), fresh = new Set();
  const look = el => style.get(el) ?? style.set(el, (s => [s.color, s.backgroundColor, s.opacity,
    s.fontSize, s.fontWeight, s.textShadow, s.textDecoration].join())(getComputedStyle(el))).get(el);
  const key = el => el ? look(el) + "|" + key(el.parentElement) : "";
  for (const pre of document.querySelectorAll("article pre")) {
    const keys = [pre, ...pre.querySelectorAll("*")].map(key).filter(k => !known.includes(k));
    keys.length ? keys.forEach(k => fresh.add(k)) : pre.setAttribute("data-audited", "");
  }
  return [...fresh];
}"""


def axe_problems(page, options: dict, context: dict | None = None) -> list[str]:
    """axe-core's serious and critical violations, run with ``options`` on ``context``."""
    run = "([c, o]) => axe.run(c ?? document, {...o, resultTypes: ['violations'], reporter: 'no-passes'})"
    violations = page.evaluate(run + ".then(r => r.violations)", [context, options])
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:5]}"
            for v in violations if v["impact"] in ("serious", "critical")]


def colour_problems(page, known: list) -> list[str]:
    """axe-core's colour rules, on all but the code blocks ``known`` covers; what they
    audited is added to ``known``."""
    known.extend(page.evaluate(AUDITED, known))
    return axe_problems(page, {"runOnly": COLOURS}, {"exclude": [["[data-audited]"]]})


# Dark mode changes colours alone: the dark audit runs axe-core's colour rules; on a phone,
# what scrolls is audited.
COLOURS = ["color-contrast", "link-in-text-block"]
NOT_COLOURS = {"rules": {rule: {"enabled": False} for rule in COLOURS}}
PHONE = {"runOnly": ["scrollable-region-focusable"]}
# The pages are split in parts, which pytest-xdist's workers share.
PARTS = 4


def dark_problems(dark: dict) -> list[str]:
    bright = sum(map(int, re.findall(r"\d+", dark["background"])[:3])) > 3 * 80
    bare = [f"figure without a dark-mode card: {src}" for src in dark["bare"]]
    return [f"bright background {dark['background']}"] * bright + bare


def copy_problems(page, html: Path) -> tuple[int, list[str]]:
    """What each copy button copied that is not its doctest block's code (no prompt)."""
    blocks = [pre.get_text() for pre in soup(html).select("div.guide-doctest pre")]
    copies = page.evaluate(COPY, "div.guide-doctest button.copybtn")
    parse = doctest.DocTestParser().get_examples
    code = ["\n".join(e.source for e in parse(b)) for b in blocks]
    lines = lambda text: [line for line in text.splitlines() if line.strip()]  # noqa: E731
    wrong = [f"copied {c}" for c, b in zip(copies, code) if lines(c) != lines(b)]
    return len(copies), wrong


@pytest.mark.parametrize("part", range(PARTS))
def test_every_page_offline_uncut_light_dark_accessible(site, chromium, part):
    """Each page, loaded once at 1280 px, then narrowed to 390 px: no outside request, failure or
    console error; under 300 KB without images and 3 MB in all; at each width, no code block cut
    off, a page with executed code stamped, an example page opening as it should, and switched to
    dark, a dark page with no white figure. At 1280 px: axe-core finds no serious violation light
    or dark, and each copy button copies its block's code; at 390 px, every block that scrolls is
    reached by keyboard."""
    from axe_playwright_python.sync_playwright import Axe

    axe, problems, seen, known = Axe().axe_script, {}, Counter(), []
    torch = f"torch {version('torch')} on"
    torch += f" Python {sys.version.split()[0]},"  # the stamp names both versions
    every = html_pages(site.html)
    for html in every[part::PARTS]:
        rel = html.relative_to(site.html).as_posix()
        result, page = open_page(chromium, site, rel)
        # Before axe, which fetches the stylesheets again (which a page from disk cannot).
        found = result.failed + result.console + result.outside(site.html)
        weight = result.bytes_from_disk(skip=IMAGES), result.bytes_from_disk()
        if weight[0] > MAX_BYTES.get(rel, 300_000) or weight[1] > 3_000_000:
            found.append(f"{weight} bytes without images and in all")
        example = re.match(r"auto_examples/.*/plot_", rel) is not None
        page.evaluate(axe)  # axe-core itself, once per page
        for width in VIEWPORTS:
            page.set_viewport_size(size(width))
            page.emulate_media(color_scheme="light")
            light = page.evaluate(LIGHT, [*VIEWPORTS[width], example, torch, OUTPUTS])
            desktop = width == "desktop"
            at_width = light["found"] + axe_problems(page, NOT_COLOURS if desktop else PHONE)
            at_width += colour_problems(page, known) if desktop else []
            page.emulate_media(color_scheme="dark")
            dark = page.evaluate(DARK)
            at_width += dark_problems(dark)
            if desktop:
                copies, wrong = copy_problems(page, html)
                at_width += [f"dark: {p}" for p in colour_problems(page, known)] + wrong
                seen.update(copies=copies, images=dark["images"], examples=example)
                seen.update({k: light[k] for k in ("blocks", "outputs", "executed")})
            found += [f"{width}: {problem}" for problem in at_width]
        page.context.close()
        seen.update(pages=1, dates=light["dates"])  # dates, counted on a phone
        problems |= {rel: found} if found else {}
    print(f"\npart {part}: {dict(seen)}")
    assert len(every) >= 40 and seen["pages"] == len(every[part::PARTS])
    assert seen["blocks"] > 300 // PARTS and seen["examples"] >= 10 // PARTS
    assert seen["outputs"] > 180 // PARTS and seen["executed"] >= 28 // PARTS
    figures = sum(len(soup(html).select("article img")) for html in every[part::PARTS])
    assert seen["copies"] >= 20 // PARTS and seen["images"] == figures
    versions = site.html / "explanation/across-torch-versions.html"
    assert seen["dates"] >= 4 * (versions in every[part::PARTS])
    assert all((site.html / rel).is_file() for rel in MAX_BYTES)
    assert not problems


SPOIL = "pre => { pre.style.whiteSpace = 'pre'; pre.textContent += '#'.repeat(200) }"


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_check_finds_an_output_cut_off(site, chromium, width):
    _, page = open_page(chromium, site, "reference/keys.html", width)
    check = [*VIEWPORTS[width], False, "", OUTPUTS]
    before = page.evaluate(LIGHT, check)["found"]
    page.eval_on_selector("article div.guide-doctest pre", SPOIL)
    assert len(page.evaluate(LIGHT, check)["found"]) == len(before) + 1
    page.context.close()


TOKEN = """() => [...document.querySelectorAll("article div.guide-doctest pre span")]
  .findLast(span => span.textContent.trim()).style.color = '#eee'"""


def test_the_contrast_check_skips_code_audited_before_and_finds_a_new_colour(site, chromium):
    from axe_playwright_python.sync_playwright import Axe

    known, found = [], []
    for spoil in (False, False, True):  # audited, left out, a token made pale
        _, page = open_page(chromium, site, "reference/keys.html")
        page.evaluate(Axe().axe_script)
        if spoil:
            page.evaluate(TOKEN)
        problems = colour_problems(page, known)
        left_out = page.eval_on_selector_all("[data-audited]", "pres => pres.length")
        found.append((left_out > 0, [p.split(":")[0] for p in problems]))
        page.context.close()
    assert found == [(False, []), (True, []), (True, ["color-contrast"])]


FOCUSABLE = "() => document.querySelectorAll('article [tabindex=\"0\"]').length"


def test_a_page_narrowed_to_a_phone_is_what_a_page_opened_there_is(site, chromium):
    """The pages are narrowed to 390 px once audited at 1280: so is this one, whose tables
    scroll only on a phone (guide.js makes them reachable by keyboard as the window narrows)."""
    from axe_playwright_python.sync_playwright import Axe

    rel, phone = "explanation/across-torch-versions.html", VIEWPORTS["phone"]
    pages = [open_page(chromium, site, rel, width)[1] for width in ("phone", "desktop")]
    wide = pages[1].evaluate(FOCUSABLE)
    pages[1].set_viewport_size(size("phone"))
    seen = []
    for page in pages:
        page.evaluate(Axe().axe_script)
        light = page.evaluate(LIGHT, [*phone, False, "", OUTPUTS])
        seen.append((light, page.evaluate(FOCUSABLE), axe_problems(page, PHONE)))
        page.context.close()
    assert seen[0] == seen[1] and seen[0][1] > wide, (seen, wide)


def test_a_page_switched_to_dark_is_what_a_page_opened_dark_is(site, chromium):
    """The pages are switched to dark once loaded: so is this one, which in light fails."""
    _, opened = open_page(chromium, site, MYTHS_PAGE, color_scheme="dark")
    _, switched = open_page(chromium, site, MYTHS_PAGE, color_scheme="light")
    light = switched.evaluate(DARK)
    switched.emulate_media(color_scheme="dark")
    assert switched.evaluate(DARK) == opened.evaluate(DARK)
    assert dark_problems(opened.evaluate(DARK)) == [] and dark_problems(light) != []
    opened.context.close()
    switched.context.close()


# What furo's back-to-top pill covers; with ``force``, the control: the pill put over the
# first block in view.
PILL_OVER = """(force) => {
  const pill = document.querySelector(".back-to-top"), inView = r => r.bottom > 0 && r.top < innerHeight;
  const blocks = [...document.querySelectorAll("article :is(pre, table, img)")];
  if (force) {
    const r = blocks.map(el => el.getBoundingClientRect()).find(r => r.height > 0 && inView(r));
    pill.style.cssText = `display: flex !important; position: fixed; top: ${Math.max(r.top, 0)}px; left: ${r.left}px`;
  }
  const p = pill.getBoundingClientRect(), s = getComputedStyle(pill);
  if (s.display === "none" || s.visibility === "hidden") return [];
  return blocks.map(el => [el, el.getBoundingClientRect()]).filter(([, r]) => inView(r)
    && p.left < r.right && p.right > r.left && p.top < r.bottom && p.bottom > r.top)
    .map(([el]) => el.tagName + ": " + el.textContent.slice(0, 40));
}"""
PILL_SHOWN = "() => document.documentElement.classList.contains('show-back-to-top')"
LONG_PAGES = ["reference/errors.html", "reference/parameterdict.html", MYTHS_PAGE]


@pytest.mark.parametrize("width", VIEWPORTS)
@pytest.mark.parametrize("rel", LONG_PAGES)
def test_scrolling_up_shows_no_back_to_top_pill_over_the_text(
    site, chromium, width, rel
):
    _, page = open_page(chromium, site, rel, width)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    page.wait_for_timeout(100)
    page.mouse.wheel(0, -300)  # furo shows its pill once a reader scrolls up
    page.wait_for_function(PILL_SHOWN)
    assert page.evaluate(PILL_OVER, False) == [] and page.evaluate(PILL_OVER, True)
    page.context.close()


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_first_screen_states_the_verdict_with_links_to_the_proof(
    site, chromium, width
):
    _, page = open_page(chromium, site, "index.html", width)
    verdict = page.locator("article p", has_text="Verdict").first
    box, text = verdict.bounding_box(), verdict.inner_text()
    assert box and box["y"] + box["height"] <= VIEWPORTS[width][1], box
    assert "returns the registered module itself" in text
    assert "bit-for-bit equal" in text and "crashes" in text
    proofs = " ".join(verdict.locator("a").evaluate_all("a => a.map(a => a.href)"))
    for example in ("example1_item_access", "example3_backward", "example2_crashes"):
        assert example in proofs, proofs
    page.context.close()


def test_the_home_page_cites_the_article_and_links_the_official_api(site):
    page = soup(site.html / "index.html")
    text = " ".join(page.select_one("article").get_text().split())
    assert "How to correctly index a PyTorch nn.ModuleDict?" in text
    assert "2025-01-30" in text
    api = "/docs/stable/generated/torch.nn.ModuleDict.html"
    assert any(a["href"].endswith(api) for a in page.select("article a[href]"))


def test_every_example_has_a_thumbnail_of_its_own_titled_in_words(site, tmp_path):
    """Each card states its example's finding: its thumbnail's alt text is that title."""
    from sphinx_gallery import glr_path_static
    from sphinx_gallery.utils import scale_image

    gallery = site.html / "auto_examples"
    cards = soup(gallery / "index.html").select("div.sphx-glr-thumbcontainer")
    assert len(cards) == len(list((site.root / "examples").rglob("plot_*.py"))) >= 10
    titles = [c.select_one("div.sphx-glr-thumbnail-title").get_text() for c in cards]
    assert [c.img["alt"] for c in cards] == titles
    thumbs = {(gallery / c.img["src"]).read_bytes() for c in cards}
    assert len(thumbs) == len(cards), "two examples share a thumbnail"
    # sphinx-gallery's placeholder, scaled as it scales it into a thumbnail
    placeholder = str(Path(glr_path_static()) / "no_image.png")
    scale_image(placeholder, str(tmp_path / "p.png"), 400, 280)
    assert (tmp_path / "p.png").read_bytes() not in thumbs


def test_the_cost_figure_reads_on_a_phone_uncut_at_two_densities(site, chromium):
    """Its alt text is its title; its 11-point text is 9 px tall or more at 390 px; it is drawn
    at twice its density too; nothing drawn touches an edge (a title cut off would)."""
    from PIL import Image, ImageOps

    rel = "auto_examples/article/plot_indexing_cost.html"
    (figure,) = soup(site.html / rel).select("img.sphx-glr-single-img")
    assert figure["alt"].startswith("Four lookups and a Linear(16, 16) forward")
    sources = figure["srcset"].split(", ")
    assert len(sources) == 2 and sources[1].endswith(" 2.00x"), sources
    for source in sources:
        image = Image.open((site.html / rel).parent / source.split()[0]).convert("L")
        left, top, right, bottom = ImageOps.invert(image).getbbox()  # what is drawn
        assert min(left, top) > 0 and right < image.width and bottom < image.height, source
    _, page = open_page(chromium, site, rel, "phone")
    ratio = "img => img.getBoundingClientRect().width / img.naturalWidth"
    scale = page.eval_on_selector("img.sphx-glr-single-img", ratio)
    page.context.close()
    assert 11 * 200 / 72 * scale >= 9, scale  # 11 points; saved at the figure's 200 dpi


UNMARKED = "div.guide-executed:not(.guide-raises *) button.copybtn"


def test_the_tutorial_copied_block_by_block_runs_to_its_end(site, chromium, tmp_path):
    """Each copy button of the tutorial's pages, in order, but those of the blocks captioned
    "raises": what they copied runs in a fresh Python, with no network."""
    tutorial = site.html / "tutorial"
    pages = sorted(p.name for p in tutorial.glob("*.html") if p.stem != "index")
    copied, marked = [], 0
    for name in pages:  # in the order of the section's index (a :glob: toctree)
        _, page = open_page(chromium, site, "tutorial/" + name)
        copied += page.evaluate(COPY, UNMARKED)
        marked += page.eval_on_selector_all("div.guide-raises .copybtn", "b => b.length")
        page.context.close()
    program = [*offline(), sys.executable, "-c", "\n".join(copied)]
    run = subprocess.run(program, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert len(pages) >= 2 and len(copied) >= 8 and marked >= 1, (len(copied), marked)
