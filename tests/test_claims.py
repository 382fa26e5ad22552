"""Every Python block on the site is executed, and every error shown is the one the build raised."""

from __future__ import annotations

import json
import re

from bs4 import BeautifulSoup
from conftest import ROOT

PYTHON = {"python", "python3", "py", "pycon", "ipython", "ipython3", "default"}


def soup(path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def code_blocks(html: BeautifulSoup):
    for block in html.select('div[class*="highlight-"]'):
        language = next(c for c in block["class"] if c.startswith("highlight-")).removeprefix("highlight-")
        yield block, language


def test_no_python_block_on_the_site_goes_unexecuted(site):
    examples = {p.stem for p in ROOT.glob("examples/plot_*.py")}
    unexecuted = []
    for html in site.html.rglob("*.html"):
        relative = html.relative_to(site.html).as_posix()
        is_example = relative.startswith("auto_examples/") and html.stem in examples
        for block, language in code_blocks(soup(html)):
            if "guide-executed" in block["class"]:  # run by make doctest
                continue
            if is_example and language == "Python":  # a code cell sphinx-gallery ran
                continue
            if language.lower() in PYTHON:
                unexecuted.append(f"{relative}: {block.get_text()[:80]!r}")
    assert not unexecuted
    # The gallery's cells are only exempt because every example ran in this build.
    ran = re.search(r"successfully executed (\d+) out of (\d+)", site.log)
    assert ran and ran.group(1) == ran.group(2) == str(len(examples))


def shown_errors(*logs) -> list[str]:
    errors = []
    for log in logs:
        if log.exists():
            errors += [json.loads(line).strip() for line in log.read_text(encoding="utf-8").splitlines()]
    return sorted(set(errors))


def rendered(text: str) -> str:
    """Text as HTML shows it in a code block: tabs expanded, no trailing spaces."""
    return "\n".join(line.expandtabs().rstrip() for line in text.splitlines())


def page_texts(site) -> dict[str, str]:
    texts = {}
    for html in site.html.rglob("*.html"):
        blocks = soup(html).find_all("pre")
        texts[html.relative_to(site.html).as_posix()] = rendered("\n".join(b.get_text() for b in blocks))
    return texts


def test_every_error_the_guide_shows_is_verbatim_on_a_page(site, doctest_run):
    _, doctest_errors = doctest_run
    errors = shown_errors(site.shown_errors, doctest_errors)
    assert len(errors) >= 20, errors
    texts = page_texts(site)
    missing = [e for e in errors if not any(rendered(e) in text for text in texts.values())]
    assert not missing
