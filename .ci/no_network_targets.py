"""Lint: the tests name no network target off this machine (``make lint`` runs it on tests/).

A network target is an address a test could connect to, found in the code, not in comments
or docstrings (a link in prose is not a target):

* an IP address written as a string (``"10.0.0.1"``, ``"2001:db8::1"``) or as
  ``address:port`` in one (``"10.0.0.1:29500"``);
* the host of a URL written in a string (``"https://example.org/x"``);
* a host name given to a call that resolves or connects to it (``gethostbyname("example.org")``,
  ``HTTPConnection("example.org")``), or written as ``(host, port)`` (``create_connection``,
  ``connect``, ``sendto``, ``bind`` take that form).

Allowed: the loopback range 127.0.0.0/8, ``::1``, ``localhost``, the unspecified
addresses 0.0.0.0 and ``::`` (what a server binds to), ``file:`` URLs, and names under
the top-level domains reserved never to resolve (``.example``, ``.invalid``, ``.test``).

Usage: python .ci/no_network_targets.py PATH...   (folders are searched for *.py)
Exit status 1, and one line per target found, when there is one.
"""

from __future__ import annotations

import ast
import ipaddress
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

# An address written as the whole string, as host:port, or as a URL's host (below).
# Elsewhere in text "1.7.12.25" is far more often a version than an address.
IPV4 = re.compile(r"^\s*((?:\d{1,3}\.){3}\d{1,3})\s*$|((?:\d{1,3}\.){3}\d{1,3}):\d+")
IPV6 = re.compile(r"^\s*\[?([0-9A-Fa-f:]*:[0-9A-Fa-f:]*)\]?\s*$|\[([0-9A-Fa-f:]+)\]:\d+")
URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^/\s'\"?#]*)")
# Calls whose first argument is a host name.
HOST_CALLS = {
    "getaddrinfo", "gethostbyname", "gethostbyname_ex", "HTTPConnection", "HTTPSConnection",
}
# A written-out host name has a dot (("a", 1) is a key, not a target).
HOST_NAME = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
LOCAL_NAMES = {"localhost", "localhost.localdomain", ""}
# Top-level domains reserved never to resolve (RFC 2606, RFC 6761): fine as test data.
RESERVED_TLDS = (".example", ".invalid", ".test")


def is_local(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOCAL_NAMES or host.endswith((".localhost", *RESERVED_TLDS)):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def addresses_in(text: str) -> list[str]:
    """IP addresses and URL hosts written in ``text`` that are not on this machine."""
    found = []
    for pattern, kind in ((IPV4, ipaddress.IPv4Address), (IPV6, ipaddress.IPv6Address)):
        for match in pattern.finditer(text):
            written = match.group(1) or match.group(2)
            try:
                kind(written)
            except ValueError:  # not an address (e.g. 300.1.2.3, or "a::b" as text)
                continue
            found.append(written)
    for scheme, netloc in URL.findall(text):
        if scheme.lower() != "file":
            found.append(urlsplit(f"//{netloc}").hostname or "")
    return [host for host in found if not is_local(host)]


def host_of(node: ast.AST) -> str | None:
    """The host a call's first argument names, where it is written out."""
    if isinstance(node, ast.Tuple) and node.elts:
        node = node.elts[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        value = node.value
        return urlsplit(value).hostname or "" if "://" in value else value
    return None


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (prose, not code)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def targets(source: str) -> list[tuple[int, str]]:
    """(line, target) for every network target off this machine in ``source``."""
    tree = ast.parse(source)
    prose = docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            found += [(node.lineno, host) for host in addresses_in(node.value)]
        elif isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            host = host_of(node.args[0])
            if name in HOST_CALLS and host is not None and not is_local(host):
                found.append((node.lineno, host))
        elif (isinstance(node, ast.Tuple) and len(node.elts) == 2
              and isinstance(node.elts[1], ast.Constant) and type(node.elts[1].value) is int
              and 0 <= node.elts[1].value < 65536):
            host = host_of(node)
            if host is not None and HOST_NAME.match(host) and not is_local(host):
                found.append((node.lineno, host))
    return sorted(set(found))


def main(paths: list[str]) -> int:
    files = [f for p in map(Path, paths) for f in (sorted(p.rglob("*.py")) if p.is_dir() else [p])]
    problems = [f"{file}:{line}: network target off this machine: {host!r}"
                for file in files for line, host in targets(file.read_text(encoding="utf-8"))]
    print("\n".join(problems) or f"no network target off this machine in {len(files)} files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["tests"]))
