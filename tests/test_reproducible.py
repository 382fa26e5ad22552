"""A clean rebuild with no network at all gives the same HTML, byte for byte."""

from __future__ import annotations

import filecmp
import os
import shlex
import shutil
import subprocess
import sys

import pytest
from conftest import SOURCE_DATE_EPOCH, make_command, output_of

# Files that cannot be identical between two builds, and why.
NOT_REPRODUCIBLE = {
    "auto_examples/plot_indexing_cost.html": "it shows timings measured during the build",
    "_sources/auto_examples/plot_indexing_cost.rst.txt": "the source of that page, timings included",
    "_images/sphx_glr_plot_indexing_cost_001.png": "the chart of those timings",
    "_images/sphx_glr_plot_indexing_cost_thumb.png": "the thumbnail of that chart",
}

# Makes any connection to an address that is not loopback raise (used where the
# machine does not let us make a network namespace).
GUARD = '''
import ipaddress, socket
_connect = socket.socket.connect
def _guarded(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise OSError(f"network blocked by the test: {address}")
    return _connect(self, address)
socket.socket.connect = _guarded
'''
PROBE = (
    "import socket\n"
    "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\nexcept OSError:\n"
    "    print('network blocked')\nelse:\n    print('network open')\n"
)


def offline(command: list[str], tmp_path) -> tuple[list[str], dict]:
    """Wrap a command so that it runs without network; say how."""
    if shutil.which("ip") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        # A new, empty network namespace with only loopback (DDP's gloo uses 127.0.0.1).
        return ["unshare", "-n", "sh", "-c", "ip link set lo up && exec " + shlex.join(command)], {}
    (tmp_path / "sitecustomize.py").write_text(GUARD)
    return command, {"PYTHONPATH": str(tmp_path)}


@pytest.fixture(scope="module")
def offline_rebuild(site, tmp_path_factory):
    """The site built again from scratch, beside the first build, with no network."""
    guard = tmp_path_factory.mktemp("guard")
    shutil.rmtree(site.root / "docs" / "auto_examples")  # forget every cached output
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    probe, probe_env = offline([sys.executable, "-c", PROBE], guard)
    blocked = subprocess.run(probe, capture_output=True, text=True, env={**env, **probe_env})
    build, build_env = offline(make_command(site.root, "html", "BUILDDIR=build-again"), guard)
    result = subprocess.run(build, capture_output=True, text=True, env={**env, **build_env})
    return blocked, result, site.root / "build-again" / "html"


def test_the_site_builds_with_no_network(offline_rebuild):
    blocked, result, _ = offline_rebuild
    assert blocked.stdout.strip() == "network blocked", blocked.stdout + blocked.stderr
    assert result.returncode == 0, output_of(result)[-5000:]
    assert "WARNING" not in output_of(result)


def tree(root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_two_clean_builds_are_byte_identical(site, offline_rebuild):
    _, result, again = offline_rebuild
    assert result.returncode == 0
    first, second = tree(site.html), tree(again)
    assert first == second
    different = sorted(f for f in first if not filecmp.cmp(site.html / f, again / f, shallow=False))
    assert different == sorted(f for f in NOT_REPRODUCIBLE if f in first), different


def test_the_fallback_guard_blocks_outside_connections(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(GUARD)
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert probe.stdout.strip() == "network blocked", probe.stderr
