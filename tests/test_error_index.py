"""The error index lists every error the site shows, links it to where it is shown, and
ranks first in the search for a pasted error message (from disk and over HTTP)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import pytest
from browser import visit
from helpers import (
    ERROR_INDEX_JSON,
    ERROR_INDEX_PAGE,
    EXAMPLES,
    ROOT,
    examples_executed,
    make,
    output_of,
    rendered,
    serve,
    shown_errors,
    shown_errors_by_source,
    soup,
)

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
        for row in section.select("table.error-index tbody tr"):
            message, kind, where = row.find_all("td")
            yield (
                exc_type,
                rendered(message.get_text().strip()),
                kind.get_text().strip(),
                where.find_all("a"),
            )


def test_older_torch_wordings_are_indexed_with_their_versions_and_page(site):
    """Each wording another torch version gives an error this build shows (make matrix)."""
    section = soup(site.html / ERROR_INDEX_PAGE).select_one("section#errors-older-torch")
    assert section, "no section of older wordings"
    for row in section.select("table.error-index tbody tr"):
        message, versions, where = row.find_all("td")
        assert re.fullmatch(r"\d+\.\d+\.\d+(, \d+\.\d+\.\d+)*", versions.get_text().strip())
        assert message.get_text().strip() and where.get_text().strip()


def test_the_index_has_one_row_per_error_grouped_by_type_linked_to_the_block_that_shows_it(site):
    rows = list(index_rows(site))
    assert sorted(message for _, message, _, _ in rows) == shown_errors(site)
    for exc_type, message, kind, links in rows:
        assert kind == exc_type and re.match(rf"{re.escape(exc_type)}(:|$)", message), message
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


# --- Search: a pasted error lands on the index ------------------------------------------

PASTED = (  # parts of messages the build shows; each test pastes the whole message
    "mat1 and mat2 shapes cannot be multiplied",
    "a leaf Variable that requires grad is being used in an in-place operation",
    "Trying to backward through the graph a second time",
    "object has no attribute 'get'",
)


def pasted_messages(site) -> list[str]:
    errors = shown_errors(site)
    return [next(e for e in errors if part in e) for part in PASTED]


@pytest.fixture(scope="module")
def served(site):
    with serve(site.html) as base:
        yield base + "/"


def ranked(chromium, base: str, query: str):
    """The search results for ``query``: (page, score) best first, and the visit."""
    result, page = visit(chromium, base + "search.html?q=" + quote(query))
    page.wait_for_selector("#search-results p.search-summary", timeout=15000)
    hits = page.eval_on_selector_all(
        "#search-results ul.search li a",
        "links => links.map(a => [a.href, Number(a.dataset.score)])",
    )
    page.context.close()
    return [
        (urlparse(href).path.removeprefix(urlparse(base).path), score) for href, score in hits
    ], result


@pytest.mark.parametrize("where", ["file", "http"])
def test_a_pasted_error_message_ranks_the_error_index_first(site, chromium, served, where):
    base = site.html.as_uri() + "/" if where == "file" else served
    for message in pasted_messages(site):
        hits, result = ranked(chromium, base, message)
        assert hits and hits[0][0] == ERROR_INDEX_PAGE, (message, hits[:3])
        assert len(hits) > 1, "the page that explains it is found as well"
        if where == "file":
            assert not result.console, result.console


def test_a_short_query_keeps_sphinx_ranking(site, chromium):
    """The boost needs 4 words: 'ModuleDict backward' matches the index without lifting it."""
    hits, _ = ranked(chromium, site.html.as_uri() + "/", "ModuleDict backward")
    scores = dict(hits)
    assert ERROR_INDEX_PAGE in scores and scores[ERROR_INDEX_PAGE] < 100
    hits, _ = ranked(chromium, site.html.as_uri() + "/", pasted_messages(site)[0])
    assert dict(hits)[ERROR_INDEX_PAGE] >= 100
