"""Rehearse the Read the Docs build here, then read the result over HTTP as a visitor would.

``make rehearse`` runs it (``.ci/run`` and the GitHub workflow do too). It follows
``.readthedocs.yaml`` step by step in a fresh copy of the checkout:

1. a new virtual environment of ``build.tools.python`` (Read the Docs uses virtualenv;
   the standard library's venv here), pip and setuptools upgraded as Read the Docs does;
2. every ``build.jobs.pre_install`` command, then ``python.install``'s requirements with
   Read the Docs' own pip command, then every ``build.jobs.build.html`` command, run by
   bash in the checkout with the ``READTHEDOCS*`` variables Read the Docs sets;
3. ``$READTHEDOCS_OUTPUT/html`` served on 127.0.0.1 under ``/en/latest/``, a missing page
   answered with the project's ``404.html`` (as Read the Docs does), and crawled in the
   system Chromium: every page and file it links answers 200, with no console error and
   no request leaving 127.0.0.1; ``404.html`` works for a missing page at depths 1 to 5;
   every page names its canonical URL; search shows results with excerpts.

Offline stand-in: where an index cannot be reached from here (PyTorch's CPU index, on a
machine that reaches only PyPI), pip's own configuration on the machine supplies what it
would have served (here: the CPU build of torch, from a local wheel). Read the Docs'
server-side search and its injected "addons" script are not rehearsed: they come from
Read the Docs' servers, not from this repository.

Writes ``build/rehearsal/report.json``; exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "/en/latest/"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MISSING = ["nope.html", "a/nope.html", "a/b/nope.html", "a/b/c/nope.html", "a/b/c/d/nope"]
SEARCH = "ModuleDict backward"


def step(message: str) -> None:
    print(f"rehearse: {message}", flush=True)


def run(command: str | list[str], cwd: Path, env: dict) -> float:
    """Run one build command as Read the Docs does (bash, in the checkout); stop on failure."""
    shown = command if isinstance(command, str) else " ".join(command)
    step(f"$ {shown}")
    start = time.perf_counter()
    args = ["bash", "-c", command] if isinstance(command, str) else command
    result = subprocess.run(args, cwd=cwd, env=env)
    if result.returncode != 0:
        raise SystemExit(f"rehearse: failed ({result.returncode}): {shown}")
    return time.perf_counter() - start


def checkout(dst: Path) -> Path:
    """The repository's files as a clone has them (tracked and new, not ignored)."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dst / name)
    return dst


def build(work: Path, port: int) -> tuple[Path, dict]:
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert config["version"] == 2, config
    repo = checkout(work / "checkouts" / "latest")
    venv = work / "envs" / "latest"
    python = shutil.which(f"python{config['build']['tools']['python']}")
    if python is None:
        raise SystemExit(f"rehearse: python{config['build']['tools']['python']} is not installed")
    canonical = f"http://127.0.0.1:{port}{PREFIX}"
    env = {
        **{k: v for k, v in os.environ.items()
           if k in ("HOME", "LANG", "TMPDIR") or k.startswith("PIP_")},
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "READTHEDOCS": "True",
        "READTHEDOCS_PROJECT": "moduledict-corrected",
        "READTHEDOCS_LANGUAGE": "en",
        "READTHEDOCS_VERSION": "latest",
        "READTHEDOCS_VERSION_NAME": "latest",
        "READTHEDOCS_VERSION_TYPE": "branch",
        "READTHEDOCS_VIRTUALENV_PATH": str(venv),
        "READTHEDOCS_OUTPUT": str(repo / "_readthedocs") + "/",
        "READTHEDOCS_CANONICAL_URL": canonical,
        "READTHEDOCS_REPOSITORY_PATH": str(repo),
        "READTHEDOCS_GIT_IDENTIFIER": "main",
    }
    jobs = config["build"].get("jobs", {})
    installs = [*jobs.get("pre_install", [])]
    seconds = {"virtualenv": run([python, "-m", "venv", str(venv)], repo, env)}
    seconds["upgrade pip"] = run("python -m pip install --upgrade --no-cache-dir pip setuptools",
                                 repo, env)
    seconds["pre_install"] = sum(run(command, repo, env) for command in installs)
    seconds["install"] = sum(
        run(f"python -m pip install --exists-action=w --no-cache-dir -r {item['requirements']}",
            repo, env)
        for item in config["python"]["install"]
    )
    commands = jobs["build"]["html"]
    seconds["build html"] = sum(run(command, repo, env) for command in commands)
    html = Path(env["READTHEDOCS_OUTPUT"]) / "html"
    if not (html / "index.html").is_file():
        raise SystemExit(f"rehearse: no {html}/index.html")
    return html, {"seconds": seconds, "canonical": canonical}


def serve(html: Path, port: int) -> http.server.ThreadingHTTPServer:
    """Serve ``html`` under /en/latest/ as Read the Docs does, 404.html for a missing page."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            path = urlparse(path).path
            if not path.startswith(PREFIX):
                return str(html / "\0missing")  # answered by send_error(404)
            return super().translate_path("/" + path[len(PREFIX):])

        def do_GET(self):
            if urlparse(self.path).path == "/":
                self.send_response(302)
                self.send_header("Location", PREFIX)
                self.end_headers()
                return
            super().do_GET()

        def send_error(self, code, message=None, explain=None):
            if code != 404:
                return super().send_error(code, message, explain)
            body = (html / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                             lambda *a, **k: Handler(*a, directory=str(html), **k))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Load:
    """One page load in Chromium: requests, failures, statuses, console messages."""

    def __init__(self, browser, url: str):
        self.page = browser.new_context().new_page()
        self.requests, self.failed, self.console, self.statuses = [], [], [], {}
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", lambda r: self.statuses.__setitem__(r.url, r.status))
        self.page.on("console", lambda m: m.type in ("error", "warning")
                     and self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.response = self.page.goto(url, wait_until="load")

    def outside(self, origin: str) -> list[str]:
        return [u for u in self.requests
                if not (u.startswith(origin + "/") or u.startswith("data:"))]

    def close(self):
        self.page.context.close()


def crawl(origin: str, canonical: str, html: Path) -> dict:
    """Visit every page: those the pages link to, and every other page the build wrote."""
    from playwright.sync_api import sync_playwright

    problems: dict[str, list[str]] = {}
    pages, files, linked = set(), set(), set()
    written = {p.relative_to(html).as_posix() for p in html.rglob("*.html")} - {"404.html"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_ARGS)
        queue = [origin + PREFIX + page for page in sorted(written, reverse=True)]
        queue.append(origin + PREFIX + "index.html")  # visited first
        while queue:
            url = queue.pop()
            if url in pages:
                continue
            pages.add(url)
            load = Load(browser, url)
            found = [f"status {load.response.status}"] if load.response.status != 200 else []
            found += load.failed + load.console + [f"outside: {u}" for u in load.outside(origin)]
            found += [f"{u}: {s}" for u, s in load.statuses.items() if s >= 400]
            relative = urlparse(url).path[len(PREFIX):]
            named = load.page.eval_on_selector_all("link[rel=canonical]",
                                                   "ls => ls.map(l => l.href)")
            if named != [canonical + relative]:
                found.append(f"canonical URL {named}, expected {canonical + relative}")
            for href in load.page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
                target = urldefrag(urljoin(url, href)).url
                if not target.startswith(origin + PREFIX):
                    continue
                if target.endswith((".html", "/")):
                    target += "index.html" if target.endswith("/") else ""
                    linked.add(urlparse(target).path[len(PREFIX):])
                    queue.append(target)
                else:
                    files.add(target)
            load.close()
            if found:
                problems[relative] = found
        request = browser.new_context().request
        for url in sorted(files):
            status = request.get(url).status
            if status != 200:
                problems[urlparse(url).path] = [f"status {status}"]

        for missing in MISSING:
            url = origin + PREFIX + missing
            load = Load(browser, url)
            found = [] if load.page.title().startswith("Page not found") else ["not the 404 page"]
            bad = {u: s for u, s in load.statuses.items() if s >= 400}
            if bad != {url: 404}:
                found.append(f"statuses {bad}")
            if load.console != ["error: Failed to load resource: the server responded with a "
                                "status of 404 (Not Found)"]:
                found += load.console
            found += load.failed + [f"outside: {u}" for u in load.outside(origin)]
            font = load.page.evaluate("getComputedStyle(document.body).fontFamily")
            if font == "Times New Roman":
                found.append("unstyled")
            home = load.page.eval_on_selector("a.sidebar-brand", "a => a.href")
            if load.page.context.request.get(home).status != 200:
                found.append(f"home link {home} is broken")
            load.close()
            if found:
                problems[f"404 at {missing}"] = found

        load = Load(browser, f"{origin}{PREFIX}search.html?q={SEARCH}")
        load.page.wait_for_selector("#search-results p.search-summary", timeout=30000)
        load.page.wait_for_selector("#search-results li p.context", timeout=30000)
        hits = load.page.eval_on_selector_all("#search-results ul.search li", "ls => ls.length")
        excerpts = load.page.eval_on_selector_all("#search-results li p.context",
                                                  "ps => ps.map(p => p.textContent.trim())")
        found = load.console + load.failed + [f"outside: {u}" for u in load.outside(origin)]
        if not hits or not excerpts or not all(excerpts):
            found.append(f"{hits} results, excerpts {excerpts[:3]}")
        load.close()
        if found:
            problems["search"] = found
        browser.close()
    return {"pages": len(pages), "pages no page links to": sorted(written - linked),
            "files": len(files), "search results": hits,
            "search excerpts": len(excerpts), "missing pages checked": len(MISSING),
            "problems": problems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the build folder")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        raise SystemExit("rehearse: Chromium is missing (apt-get install -y chromium)")
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="rehearse-rtd-"))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler) as s:
        port = s.server_address[1]  # a free port, known before the build names it
    try:
        html, report = build(work, port)
        server = serve(html, port)
        crawl_start = time.perf_counter()
        report.update(crawl(f"http://127.0.0.1:{port}", report["canonical"], html))
        report["seconds"]["crawl"] = time.perf_counter() - crawl_start
        server.shutdown()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report["seconds"]["total"] = time.perf_counter() - start
    out = ROOT / "build" / "rehearsal"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    if report["problems"]:
        raise SystemExit(f"rehearse: {len(report['problems'])} problems")
    step(f"{report['pages']} pages and {report['files']} files served without a problem")


if __name__ == "__main__":
    main()
