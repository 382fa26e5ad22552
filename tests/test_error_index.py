"""The error index: every error the site shows, read from the pages, linked to the block that
shows it; a pasted error finds that page; older torch versions' wordings are listed too."""

from __future__ import annotations

import json
import posixpath
import re
from importlib.metadata import version
from urllib.parse import unquote, urlparse

import guide
import pytest
import torch_matrix
from browser import ranked_links
from helpers import (
    ERROR_INDEX_PAGE,
    as_pasted,
    error_shape,
    page_texts,
    rendered,
    retyped,
    shown_errors,
    shown_errors_by_source,
    soup,
)

INSTALLED = version("torch").split("+")[0]

# --- What the pages show, read independently of the index ------------------------------

EXAMPLE_OUTPUTS = "div.sphx-glr-script-out, div.highlight-pytb"  # its outputs, its crash
DOCTESTS = "div.guide-doctest, div.guide-testoutput"
# A doctest's traceback ends in the line that names the exception.
TRACEBACK = re.compile(r"^Traceback \(most recent call last\):\n(?:[ .].*\n)*(\S.*)$", re.M)


def blocks_showing_errors(site) -> list[tuple[str, str, list[str]]]:
    """(source, page, errors) for each block of the built pages that shows errors: an
    example's output (each error whole), a doctest's traceback (the line naming it)."""
    found = []
    for html in sorted(site.html.rglob("*.html")):
        page = html.relative_to(site.html).as_posix()
        example = page.startswith("auto_examples/") and html.stem.startswith("plot_")
        for block in soup(html).select(EXAMPLE_OUTPUTS if example else DOCTESTS):
            text = rendered(block.get_text())
            errors = guide.shown_errors(text) if example else TRACEBACK.findall(text + "\n")
            source = html.stem + ".py" if example else page.removesuffix(".html")
            found += [(source, page, errors)] if errors else []
    return found


def index_links(site) -> dict[str, list[tuple[str, str]]]:
    """{message: [(page, anchor), ...]} of the index page, older wordings aside."""
    links = {}
    for section in soup(site.html / ERROR_INDEX_PAGE).select("section section"):
        if section.get("id") == "errors-older-torch":
            continue
        for entry in section.select("ul.error-index > li"):
            hrefs = [urlparse(a["href"]) for a in entry.select("p.error-index-where a")]
            links[rendered(entry.pre.get_text())] = [
                (posixpath.normpath(posixpath.join("reference", unquote(h.path))), h.fragment)
                for h in hrefs
            ]
    return links


def test_every_error_a_page_shows_is_indexed_and_linked_to_the_block_that_shows_it(site):
    indexed, links = shown_errors_by_source(site), index_links(site)
    by_example, checked, pages = {}, 0, {}
    for source, page, errors in blocks_showing_errors(site):
        if source.endswith(".py"):
            by_example.setdefault(source, []).extend(errors)
        else:  # the whole message is indexed; the traceback's last line starts it
            errors = [next((e for e in indexed.get(source, []) if e.split("\n")[0] == line),
                           line) for line in errors]
            assert set(errors) <= set(indexed.get(source, [])), (source, errors)
        for error in errors:
            assert error in links, (page, error)
            anchors = [a for p, a in links[error] if p == page]
            assert len(anchors) == 1, (page, error, links[error])
            if page not in pages:
                pages[page] = soup(site.html / page)
            block = pages[page].find(id=anchors[0])  # the link lands on a block that shows it
            assert block is not None and error in rendered(block.get_text()), (page, anchors)
            checked += 1
    assert {s: e for s, e in indexed.items() if s.endswith(".py")} == by_example
    assert sorted(links) == shown_errors(site)  # the page lists what the JSON holds
    print(f"\n{checked} errors shown in {len(pages)} pages, {len(links)} distinct")
    assert checked >= 40 and len(links) >= 40 and len(indexed) >= 15 and len(by_example) >= 8


# --- What counts as an error in an output ---------------------------------------------

SHOWN = {
    "a key": ("ModuleDict(\nKeyError: 'x'\n\nafter", ["KeyError: 'x'"]),
    "a dotted type": (
        "torch._dynamo.exc.Unsupported: call_method\n  Explanation: a lookup\n\nloss 0.1",
        ["torch._dynamo.exc.Unsupported: call_method\n  Explanation: a lookup"],
    ),
    "several lines to the blank line": (
        "RuntimeError: Error(s) in loading state_dict for Net:\n\tMissing key(s): \"a\".\n\n"
        "ValueError\n",
        ['RuntimeError: Error(s) in loading state_dict for Net:\n        Missing key(s): "a".',
         "ValueError"],
    ),
    "ordinary output (a control)": (
        "tensor([0.5000, 1.0000])\nError rate: 0.1\ntorch.Size([2, 3])\n"
        "keys: ['KeyError']\n  (a): Linear(in_features=2, out_features=3, bias=True)\n"
        "    raise KeyError(key)\nTraceback (most recent call last):\n",
        [],
    ),
}


@pytest.mark.parametrize("case", SHOWN)
def test_an_error_is_the_line_naming_its_exception_to_the_next_blank_line(case):
    text, errors = SHOWN[case]
    assert guide.shown_errors(text) == errors


# --- Search ---------------------------------------------------------------------------


def test_a_pasted_or_retyped_error_finds_a_page_that_shows_it_among_the_first_3(site, chromium):
    texts = page_texts(site)
    del texts[ERROR_INDEX_PAGE]  # it quotes every error; the explaining page must be found
    errors, pages = shown_errors(site), {}
    for error in errors:  # a retyped error may be answered by any error of its shape
        shown = {page for page, text in texts.items() if rendered(error) in text}
        assert shown, error
        pages.setdefault(error_shape(error), set()).update(shown)
    queries = [(typed(e), error_shape(e)) for typed in (as_pasted, retyped) for e in errors]
    base = site.html.as_uri() + "/"
    found, visit = ranked_links(chromium, base + "search.html", [q for q, _ in queries])
    lost = []
    for (query, shape), hrefs in zip(queries, found, strict=True):
        top = [unquote(urlparse(h).path).removeprefix(unquote(urlparse(base).path))
               for h in hrefs[:3]]
        if not pages[shape] & set(top) or not urlparse(hrefs[0]).fragment:
            lost.append((query, top))
    print(f"\n{len(queries)} queries in one search page")
    assert len(found) == len(queries) == 2 * len(errors) >= 80
    assert not lost, lost
    assert not visit.console and not visit.outside(site.html), visit.console


# --- Older wordings ---------------------------------------------------------------------


def test_an_older_wording_is_one_the_installed_torch_words_otherwise():
    def column(*shown):
        return {"examples": {"plot_a.py": {"errors_shown": list(shown)}}}

    m = {"examples": ["plot_a.py", "plot_b.py"], "versions": ["1", "2", "3"], "columns": {
        "1": column("RuntimeError: m (old)", 'File "/tmp/x/plot_a.py", line 3'),
        "2": column("RuntimeError: m (old)", 'File "plot_a.py", line 3', "KeyError: 'x'"),
        "3": column("RuntimeError: m (new)", 'File "/site/plot_a.py", line 3'),
    }}
    # the n-th error is compared with the n-th; a path is no difference; an error the
    # installed torch does not show has no wording to differ from
    assert torch_matrix.older_wordings(m, "3") == [
        {"message": "RuntimeError: m (old)", "versions": ["1", "2"], "example": "plot_a.py"}
    ]


def test_the_older_wordings_of_the_record_are_listed_with_their_versions(site):
    record = json.loads(torch_matrix.DATA.read_text(encoding="utf-8"))["columns"]
    worded = {v: {torch_matrix.normalise(e) for o in c["examples"].values()
                  for e in o.get("errors_shown") or []} for v, c in record.items()}
    section = soup(site.html / ERROR_INDEX_PAGE).select_one("section#errors-older-torch")
    entries = section.select("ul.error-index > li") if section else []
    for entry in entries:
        message = rendered(entry.pre.get_text()).strip()
        where = entry.select_one("p.error-index-where")
        versions = re.match(r"torch (.*?)\. Explained on: ", where.get_text()).group(1)
        assert INSTALLED not in versions.split(", ") and where.a, (message, versions)
        assert all(message in worded[v] for v in versions.split(", ")), (message, versions)
    assert len(entries) >= 1
