"""Real-browser helpers: load a page from disk or a local server and record what it did."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlparse

# 404.html uses absolute links (/_static/...) so that it works at any depth when hosted;
# it is checked over HTTP in test_404_page_works_at_any_depth instead.
NOT_FOR_DISK = {"404.html"}


def html_pages(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.html") if p.relative_to(root).as_posix() not in NOT_FOR_DISK
    )


class Visit:
    """One page load: every request it made, what failed, what the console said."""

    def __init__(self, page, url: str):
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.statuses: dict[str, int] = {}
        self.console: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: self.statuses.__setitem__(r.url, r.status))
        page.on(
            "console",
            lambda m: (
                m.type in ("error", "warning") and self.console.append(f"{m.type}: {m.text}")
            ),
        )
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.goto(url, wait_until="load")

    def outside(self, root: Path) -> list[str]:
        prefix = root.resolve().as_uri() + "/"
        return [u for u in self.requests if not (u.startswith(prefix) or u.startswith("data:"))]

    def bytes_from_disk(self) -> int:
        files = {Path(unquote(urlparse(u).path)) for u in self.requests if u.startswith("file://")}
        return sum(f.stat().st_size for f in files)


def visit(chromium, url: str, **context) -> tuple[Visit, object]:
    page = chromium.new_context(**context).new_page()
    return Visit(page, url), page


def search(chromium, html_root: Path, query: str) -> tuple[list[str], Visit]:
    """The pages a search for ``query`` finds, from its search page's address."""
    (hits,), result = search_each(chromium, html_root, [query])
    return hits, result


# Search again in the page already open, as its own search box would: the address shows the
# new query (search-scorer.js reads it), the old results go, Sphinx's search runs.
SEARCH_AGAIN = """(query) => {
  history.replaceState(null, "", "?q=" + encodeURIComponent(query));
  document.getElementById("search-results").replaceChildren();
  Search.performSearch(query);
}"""
SEARCH_DONE = """() => {
  const summary = document.querySelector("#search-results p.search-summary");
  return summary !== null && summary.textContent.trim() !== "";
}"""
HITS = "#search-results ul.search li a"


def search_each(chromium, html_root: Path, queries: list[str]) -> tuple[list[list[str]], Visit]:
    """The pages found for each query, searched one after the other in one search page."""
    url = html_root.joinpath("search.html").as_uri() + "?q=" + quote(queries[0])
    result, page = visit(chromium, url)
    found = []
    for index, query in enumerate(queries):
        if index:
            page.evaluate(SEARCH_AGAIN, query)
        page.wait_for_function(SEARCH_DONE, timeout=15000)
        hits = page.eval_on_selector_all(HITS, "links => links.map(a => a.href)")
        found.append([Path(unquote(urlparse(h).path)).relative_to(html_root).as_posix()
                      for h in hits])
    page.context.close()
    return found, result


# Sphinx's ranking alone, for many queries: searchtools.js's own steps (_parseQuery, then
# _performSearch, whose scores search-scorer.js adjusts from the address's query) without
# drawing the results one by one (5 ms apiece, each fetching its page when served). The
# links are made as _displayItem makes them for the html builder, best first.
RANKED = """(queries) => queries.map((query) => {
  history.replaceState(null, "", "?q=" + encodeURIComponent(query));
  const [searchQuery, searchTerms, excludedTerms, highlightTerms, objectTerms] =
    Search._parseQuery(query);
  const results = Search._performSearch(
    searchQuery, searchTerms, excludedTerms, highlightTerms, objectTerms);
  return results.reverse().map(([docName, , anchor]) =>
    new URL(docName + DOCUMENTATION_OPTIONS.LINK_SUFFIX + anchor, location.href).href);
})"""


def ranked_links(chromium, search_url: str, queries: list[str]) -> tuple[list[list[str]], Visit]:
    """The result links (whole addresses, anchors included), best first, for each query,
    ranked in one search page at ``search_url`` (from disk or served). The first query is
    searched as a reader searches, and its drawn results must be the ranking's."""
    result, page = visit(chromium, search_url + "?q=" + quote(queries[0]))
    page.wait_for_function(SEARCH_DONE, timeout=15000)
    drawn = page.eval_on_selector_all(HITS, "links => links.map(a => a.href)")
    found = page.evaluate(RANKED, queries)
    page.context.close()
    # The first query finds something, so that the comparison compares something.
    assert drawn and found[0] == drawn, ("the ranking is not what the page shows", found[0], drawn)
    return found, result
