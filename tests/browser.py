"""Pages as readers get them: the built pages, their local links, and real-browser loads."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from helpers import soup

# 404.html uses absolute links (/_static/...) so that it works at any depth when hosted;
# tests/test_offline_reading.py checks it over HTTP and from disk on its own.
NOT_FOR_DISK = {"404.html"}
LINKED = (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src"))


def html_pages(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.html") if p.name not in NOT_FOR_DISK)


def local_targets(root: Path) -> tuple[list[Path], list[str], list[str]]:
    """The pages under ``root``, every local file they link to, show or load, and the missing."""
    pages, targets, missing = html_pages(root), [], []
    for html in pages:
        doc = soup(html)  # parsed once: every tag below is read from it
        for tag, attribute in LINKED:
            for element in doc.find_all(tag, attrs={attribute: True}):
                url = urlsplit(target := element[attribute])
                if url.scheme or url.netloc or not url.path:
                    continue  # another site (a link, never loaded) or a fragment here
                targets.append(target)
                if not (html.parent / unquote(url.path)).exists():
                    missing.append(f"{html.relative_to(root)}: {tag} {target}")
    return pages, targets, missing


class Visit:
    """One page load: every request it made, what failed, what the console said."""

    def __init__(self, page, url: str):
        self.requests, self.failed, self.console, self.statuses = [], [], [], {}
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: self.statuses.__setitem__(r.url, r.status))
        problem = ("error", "warning")
        say = lambda m: m.type in problem and self.console.append(f"{m.type}: {m.text}")  # noqa: E731
        page.on("console", say)
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.goto(url, wait_until="load")

    def outside(self, root: Path) -> list[str]:
        prefix = root.resolve().as_uri() + "/"
        return [u for u in self.requests if not u.startswith((prefix, "data:"))]

    def bytes_from_disk(self, skip: tuple[str, ...] = ()) -> int:
        paths = [urlsplit(u).path for u in self.requests if u.startswith("file://")]
        files = {Path(unquote(p)) for p in paths if not p.lower().endswith(skip)}
        return sum(f.stat().st_size for f in files)


def visit(chromium, url: str, **context) -> tuple[Visit, object]:
    page = chromium.new_context(**context).new_page()
    return Visit(page, url), page


SEARCH_DONE = """() => {
  const summary = document.querySelector("#search-results p.search-summary");
  return summary !== null && summary.textContent.trim() !== "";
}"""
HITS = "#search-results ul.search li > a"
EXCERPTS_DONE = """s => [...document.querySelectorAll(s)]
  .every(a => a.parentElement.querySelector('p.context'))"""


def search(chromium, search_url: str, query: str, excerpts: bool = False):
    """The result links (relative to the search page), the excerpts (``p.context``) and the
    visit of a search for ``query``. Served, each excerpt is fetched after the summary."""
    result, page = visit(chromium, search_url + "?q=" + quote(query))
    page.wait_for_function(SEARCH_DONE, timeout=15000)
    if excerpts:
        page.wait_for_function(EXCERPTS_DONE, arg=HITS)
    links = page.eval_on_selector_all(HITS, "links => links.map(a => a.href)")
    texts = "ps => ps.map(p => p.textContent.trim())"
    shown = page.eval_on_selector_all("#search-results li p.context", texts)
    page.context.close()
    base = search_url.rsplit("/", 1)[0] + "/"
    links = [unquote(link.removeprefix(base)).split("?")[0] for link in links]
    return links, shown, result


# For tests/test_error_index.py: Sphinx's ranking alone, for many queries: searchtools.js's
# own steps (_parseQuery, then _performSearch, whose scores search-scorer.js adjusts from the
# address's query) without drawing the results one by one. The links are made as
# _displayItem makes them for the html builder, best first.
RANKED = """(queries) => queries.map((query) => {
  history.replaceState(null, "", "?q=" + encodeURIComponent(query));
  const [searchQuery, searchTerms, excludedTerms, highlightTerms, objectTerms] =
    Search._parseQuery(query);
  const results = Search._performSearch(
    searchQuery, searchTerms, excludedTerms, highlightTerms, objectTerms);
  return results.reverse().map(([docName, , anchor]) =>
    new URL(docName + DOCUMENTATION_OPTIONS.LINK_SUFFIX + anchor, location.href).href);
})"""


def ranked_links(chromium, search_url: str, queries: list[str]) -> tuple[list, Visit]:
    """The result links (whole addresses), best first, for each query, ranked in one search
    page; the first query's drawn results must be the ranking's."""
    result, page = visit(chromium, search_url + "?q=" + quote(queries[0]))
    page.wait_for_function(SEARCH_DONE, timeout=15000)
    drawn = page.eval_on_selector_all(HITS, "links => links.map(a => a.href)")
    found = page.evaluate(RANKED, queries)
    page.context.close()
    assert drawn and found[0] == drawn, ("not the page's ranking", found[0], drawn)
    return found, result
