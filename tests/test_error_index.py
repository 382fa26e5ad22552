"""The error index: every error the site shows, read from the pages, linked to the block
that shows it; a pasted error finds that page; older torch versions' wordings too."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from urllib.parse import unquote, urljoin, urlparse

import guide
import helpers as h
import pytest
import torch_matrix
from browser import ranked_links
from helpers import ERROR_INDEX_PAGE as INDEX
from helpers import rendered, shown_errors, soup

INSTALLED = version("torch").split("+")[0]
# An example's outputs and its crash; a page's doctests.
OUTPUTS = "div.sphx-glr-script-out, div.highlight-pytb"
DOCTESTS = "div.guide-doctest, div.guide-testoutput"
# A doctest's traceback ends in the line that names the exception.
TRACEBACK = re.compile(r"^Traceback \(most recent call last\):\n(?:[ .].*\n)*(\S.*)$", re.M)


def blocks_showing_errors(site) -> list[tuple]:
    """(source, page, errors, block) of each block of the built pages that shows errors,
    read without the index: an example's output, a doctest's traceback (its last line)."""
    found = []
    for html in sorted(site.html.rglob("*.html")):
        page = html.relative_to(site.html).as_posix()
        example = page.startswith("auto_examples/") and html.stem.startswith("plot_")
        find = guide.shown_errors if example else lambda t: TRACEBACK.findall(t + "\n")
        for block in soup(html).select(OUTPUTS if example else DOCTESTS):
            shown = find(rendered(block.get_text()))
            source = html.stem + ".py" if example else page.removesuffix(".html")
            found += [(source, page, shown, block)] if shown else []
    return found


def index_links(site) -> dict[str, list[tuple[str, str]]]:
    """{message: [(page, anchor), ...]} of the index page, older wordings aside."""
    links = {}
    for entry in soup(site.html / INDEX).select("section section ul.error-index > li"):
        if not entry.find_parent(id="errors-older-torch"):
            hrefs = [unquote(urljoin(INDEX, a["href"])) for a in entry.select("p a")]
            links[rendered(entry.pre.get_text())] = [tuple(h.split("#")) for h in hrefs]
    return links


def test_every_error_shown_is_indexed_linked_and_its_code_captioned(site):
    """The code that raised (a doctest, or the code just before an output: an example's
    cell, a ``{testcode}``) has the caption "raises <type>"; no other block has one."""
    indexed, links = h.shown_errors_by_source(site), index_links(site)
    by_example, checked, pages, captioned = {}, 0, {}, set()
    for source, page, errors, block in blocks_showing_errors(site):
        code = block
        if "guide-doctest" not in block["class"]:
            code = block.find_previous("div", class_=re.compile("^highlight-"))
        caption = code.parent.select_one("div.code-block-caption > span.caption-text")
        kinds = {guide.EXCEPTION.match(e).group(1) for e in errors}
        assert caption, (page, errors)
        assert kinds <= set(caption.get_text()[7:].split(", ")), (page, errors)
        captioned.add((page, code.parent["id"]))
        if source.endswith(".py"):
            by_example.setdefault(source, []).extend(errors)
        else:  # a doctest's: the whole message is indexed, its first line ends the traceback
            first = set(errors)
            errors = {e for e in indexed.get(source, []) if e.split("\n")[0] in first}
            assert {e.split("\n")[0] for e in errors} == first, (page, first)
        for error in errors:
            anchors = [a for p, a in links.get(error, []) if p == page]
            assert len(anchors) == 1, (page, error, links.get(error))
            pages[page] = pages.get(page) or soup(site.html / page)
            block = pages[page].find(id=anchors[0])  # the link lands on a block
            assert block and error in rendered(block.get_text()), (page, anchors)
            checked += 1
    assert {s: e for s, e in indexed.items() if s.endswith(".py")} == by_example
    assert sorted(links) == shown_errors(site)  # the page lists what the JSON holds
    every = {(p, w["id"]) for p in pages for w in pages[p].select("div.guide-raises")}
    assert captioned == every, every ^ captioned
    print(f"\n{checked} (block, error) pairs, {len(pages)} pages, {len(links)} errors")
    print(f"{len(every)} blocks captioned with what they raise")
    assert min(checked, len(links)) >= 40 and len(indexed) >= 15, (checked, len(links))


SHOWN = {
    "a key": ("ModuleDict(\nKeyError: 'x'\n\nafter", ["KeyError: 'x'"]),
    "a dotted type": (
        "torch._dynamo.exc.Unsupported: call\n  Explanation: a lookup\n\nloss 0.1",
        ["torch._dynamo.exc.Unsupported: call\n  Explanation: a lookup"],
    ),
    "lines to the blank line": (
        "RuntimeError: bad state_dict:\n\tMissing key(s).\n\nValueError\n",
        ["RuntimeError: bad state_dict:\n        Missing key(s).", "ValueError"],
    ),
    "ordinary output (a control)": (
        "tensor([0.5000])\nError rate: 0.1\ntorch.Size([2, 3])\nkeys: ['KeyError']\n"
        "  (a): Linear(in_features=2)\n    raise KeyError(key)\nTraceback (most recent",
        [],
    ),
}


@pytest.mark.parametrize("case", SHOWN)
def test_an_error_is_the_line_naming_its_exception_to_the_next_blank_line(case):
    text, errors = SHOWN[case]
    assert guide.shown_errors(text) == errors


def test_a_pasted_or_retyped_error_finds_a_page_showing_it_in_the_first_3(site, chromium):
    texts = h.page_texts(site)
    del texts[INDEX]  # it quotes every error; the explaining page must be found
    errors, pages = shown_errors(site), {}
    for error in errors:  # a retyped error may be answered by any error of its shape
        shown = {page for page, text in texts.items() if rendered(error) in text}
        assert shown, error
        pages.setdefault(h.error_shape(error), set()).update(shown)
    ways = (h.as_pasted, h.retyped)
    typed = [(way(e), h.error_shape(e)) for way in ways for e in errors]
    base = site.html.as_uri() + "/"
    queries = [q for q, _ in typed] + ["KeyError: 'layer3'"]  # a key of one's own
    (*found, missing_key), visit = ranked_links(chromium, base + "search.html", queries)
    lost, root = [], unquote(urlparse(base).path)
    for (query, shape), hrefs in zip(typed, found, strict=True):
        top = [unquote(urlparse(href).path).removeprefix(root) for href in hrefs[:3]]
        if not pages[shape] & set(top) or not urlparse(hrefs[0]).fragment:
            lost.append((query, top))
    print(f"\n{len(typed)} queries in one search page")
    assert len(found) == len(typed) == 2 * len(errors) >= 80
    assert not lost, lost
    # the block that shows a missing key under item access
    first, access = urlparse(missing_key[0]), "reference/access.html"
    assert unquote(first.path).removeprefix(root) == access, missing_key[:3]
    assert 'md["nope"]' in soup(site.html / access).find(id=first.fragment).get_text()
    assert not visit.console and not visit.outside(site.html), visit.console


def test_an_older_wording_is_one_the_installed_torch_words_otherwise():
    def column(*shown):
        return {"examples": {"plot_a.py": {"errors_shown": list(shown)}}}

    path = 'File "{}plot_a.py", line 3'  # a path is no difference
    m = {"examples": ["plot_a.py", "plot_b.py"], "versions": ["1", "2", "3"]}
    m["columns"] = {  # the n-th error is compared with the n-th
        "1": column("E: old", path.format("/x/")),
        "2": column("E: old", path.format(""), "E: not shown by the installed torch"),
        "3": column("E: new", path.format("/site/")),
    }
    older = [{"message": "E: old", "versions": ["1", "2"], "example": "plot_a.py"}]
    assert torch_matrix.older_wordings(m, "3") == older


def test_the_older_wordings_of_the_record_are_listed_with_their_versions(site):
    record = json.loads(torch_matrix.DATA.read_text(encoding="utf-8"))["columns"]
    worded = set()
    for v, column in record.items():
        shown = [e for o in column["examples"].values() for e in o["errors_shown"]]
        worded |= {(v, torch_matrix.normalise(e)) for e in shown}
    section = soup(site.html / INDEX).select_one("section#errors-older-torch")
    entries = section.select("ul.error-index > li") if section else []
    for entry in entries:
        message, where = rendered(entry.pre.get_text()).strip(), entry.p.get_text()
        versions = re.match(r"torch (.*?)\. Explained on: ", where).group(1).split(", ")
        assert INSTALLED not in versions and entry.p.a, (message, versions)
        assert all((v, message) in worded for v in versions), (message, versions)
    assert len(entries) >= 1
