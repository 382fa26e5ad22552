"""The error index lists every error the site shows, links it to where it is shown, and
ranks first in the search for a pasted error message (from disk and over HTTP)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from browser import ranked_links, visit
from helpers import (
    ERROR_INDEX_JSON,
    ERROR_INDEX_PAGE,
    EXAMPLES,
    ROOT,
    as_pasted,
    error_shape,
    examples_executed,
    make,
    output_of,
    page_texts,
    rendered,
    retyped,
    serve,
    shown_errors,
    shown_errors_by_source,
    soup,
)

EXC_TYPE = re.compile(r"((?:[A-Za-z_]\w*\.)*[A-Z]\w*)(?::|$)")  # the line naming it

# --- Every shown error is recorded -----------------------------------------------------


def test_every_error_an_example_prints_with_raises_is_recorded(site):
    recorded = shown_errors_by_source(site)
    calls = {
        script.name: len(re.findall(r"^\s*with raises\(", script.read_text("utf-8"), re.M))
        for script in EXAMPLES
    }
    assert sum(calls.values()) >= 20, calls  # the scan found the pages' checks
    for name, count in calls.items():
        assert len(recorded.get(name, [])) >= count, name
    assert (
        "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x5 and 10x5)"
        in recorded["plot_article_example2_crashes_as_written.py"]
    )


def test_every_doctest_traceback_is_recorded(site):
    recorded = shown_errors_by_source(site)
    for page in sorted(ROOT.glob("docs/**/*.md")):
        docname = page.relative_to(ROOT / "docs").with_suffix("").as_posix()
        blocks = re.findall(r"```\{doctest\}\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        tracebacks = sum(block.count("Traceback (most recent call last):") for block in blocks)
        assert len(recorded.get(docname, [])) >= tracebacks, docname
        for block in blocks:  # the line a traceback ends with is recorded verbatim
            for last in re.findall(
                r"^Traceback \(most recent call last\):\n(?:[ .].*\n)*(\w.*)$", block, re.M
            ):
                # (a message of several lines is recorded whole: it starts with that line)
                assert any(r.startswith(last) for r in recorded[docname]), (docname, last)


def test_counts(site):
    recorded = shown_errors_by_source(site)
    examples = sum(len(e) for source, e in recorded.items() if source.endswith(".py"))
    pages = sum(len(e) for source, e in recorded.items() if not source.endswith(".py"))
    print(
        f"\nerrors indexed: {examples} from examples, {pages} from doctests,"
        f" {len(shown_errors(site))} distinct"
    )
    assert examples >= 15 and pages >= 20


# --- The index page ---------------------------------------------------------------------


def index_rows(site):
    page = soup(site.html / ERROR_INDEX_PAGE)
    for section in page.select("section section"):
        if section.get("id") == "errors-older-torch":  # other torch versions: tested below
            continue
        exc_type = section.find(["h2", "h3"]).get_text().rstrip("¶").strip()
        for entry in section.select("ul.error-index > li"):
            message, where = entry.select_one("pre"), entry.select_one("p.error-index-where")
            yield (exc_type, rendered(message.get_text().strip()), where.find_all("a"))


def test_older_torch_wordings_are_indexed_with_their_versions_and_page(site):
    """Each wording another torch version gives an error this build shows (make matrix)."""
    section = soup(site.html / ERROR_INDEX_PAGE).select_one("section#errors-older-torch")
    assert section, "no section of older wordings"
    for entry in section.select("ul.error-index > li"):
        message, where = entry.select_one("pre"), entry.select_one("p.error-index-where")
        versions = re.match(r"torch (.*?)\. Explained on: ", where.get_text())
        assert versions and re.fullmatch(r"\d+\.\d+\.\d+(, \d+\.\d+\.\d+)*", versions.group(1))
        assert message.get_text().strip() and where.find_all(["a", "code"])


def test_the_index_has_one_row_per_error_grouped_by_type_linked_to_the_block_that_shows_it(site):
    rows = list(index_rows(site))
    assert sorted(message for _, message, _ in rows) == shown_errors(site)
    for exc_type, message, links in rows:
        assert re.match(rf"{re.escape(exc_type)}(:|$)", message), message
        assert links, message
        for link in links:
            target = urlparse(link["href"])
            assert target.fragment, link["href"]  # the link lands on the block, not the page top
            html = (site.html / ERROR_INDEX_PAGE).parent / unquote(target.path)
            block = soup(html).find(id=target.fragment)
            assert block is not None and message in rendered(block.get_text()), (
                message,
                link["href"],
            )


def test_the_search_index_holds_the_words_of_the_messages(site):
    index = json.loads(
        re.search(r"Search\.setIndex\((.*)\)", (site.html / "searchindex.js").read_text()).group(1)
    )
    page = index["docnames"].index(ERROR_INDEX_PAGE.removesuffix(".html"))
    for word in (
        "mat1",
        "shape",
        "multipli",
        "leaf",
        "differenti",
    ):  # stemmed as Sphinx stores them
        files = index["terms"][word]
        assert page in (files if isinstance(files, list) else [files]), word


# --- The examples' errors survive sphinx-gallery's cache ---------------------------------

ERRORS_PAGE = "# Errors\n\n```{error-index}\n```\n"
RAISING_EXAMPLE = '''"""
Raises
======
"""

import re
import traceback
from contextlib import contextmanager


@contextmanager
def raises(expected, match):
    try:
        yield
    except expected as error:
        if not re.search(match, str(error)):
            raise
        print("".join(traceback.format_exception_only(error)), end="")
    else:
        raise AssertionError(f"{expected.__name__} was not raised")


traceback.format_exception_only(ValueError("formatted, not printed by raises()"))
with raises(KeyError, "KEY"):
    {}["KEY"]
'''


def built_errors(root: Path) -> tuple[dict, str]:
    html = root / "build" / "html"
    return json.loads((html / ERROR_INDEX_JSON).read_text()), soup(html / "errors.html").get_text()


def test_cached_examples_keep_their_errors_and_a_changed_one_replaces_them(mini_project):
    (mini_project / "docs" / "errors.md").write_text(ERRORS_PAGE)
    index = mini_project / "docs" / "index.md"
    index.write_text(
        index.read_text().replace("auto_examples/index\n", "auto_examples/index\nerrors\n")
    )
    example = mini_project / "examples" / "plot_raises.py"
    example.write_text(RAISING_EXAMPLE.replace("KEY", "first"))

    def build(executed: int):
        result = make(mini_project, "html")
        assert result.returncode == 0, output_of(result)[-5000:]
        assert examples_executed(output_of(result)) == executed
        return built_errors(mini_project)

    errors, page = build(executed=2)
    assert errors["plot_raises.py"] == ["KeyError: 'first'"] and "KeyError: 'first'" in page
    # (the ValueError formatted outside raises() is not an error the page shows)
    errors, page = build(executed=0)  # cached: nothing runs, the record is read
    assert errors["plot_raises.py"] == ["KeyError: 'first'"] and "KeyError: 'first'" in page
    example.write_text(RAISING_EXAMPLE.replace("KEY", "second"))
    errors, page = build(executed=1)
    assert errors["plot_raises.py"] == ["KeyError: 'second'"]
    assert "KeyError: 'second'" in page and "'first'" not in page
    (mini_project / "docs" / "auto_examples" / "plot_raises.errors.json").unlink()
    errors, page = build(executed=1)  # a cached example without its record runs again
    assert errors["plot_raises.py"] == ["KeyError: 'second'"]


# --- Search: a pasted error lands on the block that shows it ---------------------------


@pytest.fixture(scope="module")
def served(site):
    with serve(site.html) as base:
        yield base + "/"


def shapes(error: str) -> set[str]:
    """The shapes a reader's query for ``error`` may have: the whole error's, and for
    an error of several lines, its first line's (which several errors may share)."""
    return {error_shape(error), FIRST_LINE + error_shape(error.splitlines()[0])}


FIRST_LINE = "first line: "


def where_shown(site) -> dict[str, set[str]]:
    """{error shape: the pages (not the index) that show an error of that shape}."""
    texts = page_texts(site)
    del texts[ERROR_INDEX_PAGE]  # it quotes every error; the explaining page must be found
    pages: dict[str, set[str]] = {}
    for error in shown_errors(site):
        shown = {page for page, text in texts.items() if rendered(error) in text}
        assert shown, error  # every error is shown on a page that explains it
        for shape in shapes(error):
            pages.setdefault(shape, set()).update(shown)
    return pages


def search_base(site, served: str, where: str) -> str:
    return site.html.as_uri() + "/" if where == "file" else served


def relative(base: str, href: str) -> tuple[str, str]:
    """(page, anchor) of a result link, the page relative to the site's root."""
    target = urlparse(href)
    return unquote(target.path).removeprefix(unquote(urlparse(base).path)), target.fragment


class Landing:
    """Whether a result lands on a block that shows an error of a shape: each page parsed
    once, however many queries land on it."""

    def __init__(self, site):
        self.html, self.errors, self.pages = site.html, shown_errors(site), {}

    def lands_on(self, page: str, anchor: str, shape: str) -> bool:
        """Whether ``anchor`` on ``page`` is a block that shows an error of that shape."""
        if page not in self.pages:
            self.pages[page] = soup(self.html / page)
        block = self.pages[page].find(id=anchor) if anchor else None
        shown = rendered(block.get_text()) if block else ""
        return any(shape in shapes(e) and rendered(e) in shown for e in self.errors)


@pytest.fixture(scope="module")
def pages_showing(site) -> dict[str, set[str]]:
    return where_shown(site)


@pytest.mark.parametrize("where", ["file", "http"])
def test_every_shown_error_pasted_or_retyped_finds_the_block_that_explains_it(
    site, chromium, served, pages_showing, where
):
    """Each error the site shows, pasted as printed and retyped (quotes and backslashes
    dropped, a name changed), the first line of each of several lines, and each exception
    type alone: a page that shows it (not the index) is among the first 3 results, and the
    first result lands on a block that shows it (or one like it, names changed)."""
    pages, landing = pages_showing, Landing(site)
    errors = shown_errors(site)
    queries = [(as_pasted(e), error_shape(e)) for e in errors]
    queries += [(retyped(e), error_shape(e)) for e in errors]
    # A message of several lines is often pasted by the line that names the exception
    # (where that line says more than the exception's name: "RuntimeError: ...").
    # Several errors may share that line: the query is answered by a block that shows
    # any of them.
    first_lines = [(e.splitlines()[0], FIRST_LINE + error_shape(e.splitlines()[0]))
                   for e in errors
                   if "\n" in e and len(re.findall(r"\w+", e.splitlines()[0])) >= 3]
    queries += first_lines
    types = sorted({EXC_TYPE.match(e).group(1) for e in errors})
    queries += [(t, t) for t in types]

    def accepted(shape: str) -> set[str]:
        if shape in types:  # the type alone: any page that shows an error of that type
            return set().union(*(
                shown for other, shown in pages.items()
                if not other.startswith(FIRST_LINE) and EXC_TYPE.match(other).group(1) == shape
            ))
        return pages[shape]

    base = search_base(site, served, where)
    started = time.monotonic()
    found, result = ranked_links(chromium, base + "search.html", [q for q, _ in queries])
    seconds = time.monotonic() - started
    lost, off_target = [], []
    for (query, shape), hrefs in zip(queries, found, strict=True):
        hits = [relative(base, href) for href in hrefs]
        if not any(page in accepted(shape) for page, _ in hits[:3]):
            lost.append((query, [page for page, _ in hits[:3]]))
        elif shape not in types and not landing.lands_on(*hits[0], shape):
            off_target.append((query, hits[0]))
    print(f"\n{where}: {len(errors)} errors, {len(queries)} queries "
          f"({len(errors)} as printed, {len(errors)} retyped, {len(first_lines)} first lines, "
          f"{len(types)} types) "
          f"in one search page, {seconds:.1f} s")
    assert len(errors) > 40 and len(types) >= 5
    assert not lost, lost
    assert not off_target, off_target
    assert not result.console, result.console
    if where == "file":
        assert not result.outside(site.html)
    else:
        assert all(url.startswith(served) for url in result.requests)


# What readers paste (issue 20), each with the pages that explain it.
ISSUE_QUERIES = {
    "KeyError: 'layer3'": {"reference/access.html", "tutorial/first-moduledict.html",
                           "reference/moduledict.html"},
    'Missing key(s) in state_dict: "layers.fc.weight"': {"howto/checkpoints.html"},
    r"""module name can\'t contain ".", got: a.b""": {"reference/keys.html",
                                                      "reference/moduledict.html",
                                                      "howto/register-modules.html"},
    'module name cant contain ., got: a.b': {"reference/keys.html", "reference/moduledict.html",
                                            "howto/register-modules.html"},
}


def test_what_readers_paste_finds_the_explaining_page(site, chromium):
    """Among the first 3 results; the first result is a block that shows an error."""
    base = site.html.as_uri() + "/"
    found, _ = ranked_links(chromium, base + "search.html", list(ISSUE_QUERIES))
    for (query, expected), hrefs in zip(ISSUE_QUERIES.items(), found, strict=True):
        hits = [relative(base, href) for href in hrefs[:3]]
        assert hits and hits[0][1].startswith("error-"), (query, hits)
        assert expected & {page for page, _ in hits}, (query, hits)


TOPIC_QUERIES = (
    "torch.compile ModuleDict key tensor",
    "ModuleDict backward",
    "state_dict keys checkpoint",
    "ModuleDict parameters",
    "DataParallel ModuleDict",
)


def test_a_topic_query_does_not_rank_the_error_index_or_an_error_first(site, chromium):
    """The index quotes every error, so it holds the words of many queries; a query that is
    not an error gets Sphinx's ranking with the index's text demoted, and no error block."""
    base = site.html.as_uri() + "/"
    found, _ = ranked_links(chromium, base + "search.html", [*TOPIC_QUERIES, "error index"])
    *topics, index = [[relative(base, href) for href in hrefs] for hrefs in found]
    for query, hits in zip(TOPIC_QUERIES, topics, strict=True):
        assert hits, query
        assert hits[0][0] != ERROR_INDEX_PAGE, (query, hits[:3])
        assert not any(anchor.startswith("error-") for _, anchor in hits), (query, hits[:3])
    contains_index = [query for query, hits in zip(TOPIC_QUERIES, topics, strict=True)
                      if ERROR_INDEX_PAGE in [page for page, _ in hits]]
    assert contains_index, "the demotion is tested: the index holds some topic's words"
    assert index[0][0] == ERROR_INDEX_PAGE  # its title still finds it


# --- The index fits the column ---------------------------------------------------------

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
WITHIN_COLUMN = """() => {
  const column = document.querySelector("article").getBoundingClientRect();
  const outside = [];
  const entries = document.querySelectorAll("ul.error-index > li");
  for (const element of document.querySelectorAll("ul.error-index pre, ul.error-index a")) {
    const box = element.getBoundingClientRect();
    if (box.left < column.left - 1 || box.right > column.right + 1)
      outside.push([element.textContent.slice(0, 60), box.left, box.right]);
  }
  const scrolling = [...document.querySelectorAll("ul.error-index pre")].filter(
    (pre) => pre.scrollWidth > pre.clientWidth + 1).length;
  return {
    entries: entries.length,
    links: document.querySelectorAll("ul.error-index a").length,
    column: [column.left, column.right],
    outside,
    scrolling,
    pageWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_index_and_its_links_fit_the_column(site, chromium, width):
    _, page = visit(chromium, (site.html / ERROR_INDEX_PAGE).as_uri(),
                    viewport=VIEWPORTS[width])
    fit = page.evaluate(WITHIN_COLUMN)
    page.context.close()
    assert fit["entries"] >= len(shown_errors(site)) and fit["links"] >= fit["entries"], fit
    assert not fit["outside"] and not fit["scrolling"], fit
    assert fit["pageWidth"] <= VIEWPORTS[width]["width"], fit
