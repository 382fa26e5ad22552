"""Two clean builds in two folders give the same files; one of them runs with no network.

The second build runs in a new network namespace. The test never sends anything to find
out whether the network is reachable: it lists the namespace's interfaces and requires
loopback alone (DDP's gloo uses 127.0.0.1).
"""

from __future__ import annotations

import filecmp
import os
import shlex
import subprocess

import pytest
from helpers import SITE_ENV, copy_project, make_command, output_of, require

# The only files that differ between two clean builds, and why: each shows timings
# measured during the build. Everything else must be identical, byte for byte.
NOT_REPRODUCIBLE = {
    "auto_examples/article/plot_indexing_cost.html": "it shows timings measured during the build",
    "_sources/auto_examples/article/plot_indexing_cost.rst.txt":
        "that page's source, timings included",
    "_images/sphx_glr_plot_indexing_cost_001.png": "the chart of those timings",
    "_images/sphx_glr_plot_indexing_cost_thumb.png": "the thumbnail of that chart",
}

# Lists the namespace's interfaces (netlink: what this network namespace has).
LIST_INTERFACES = "ip -o link show"


def network_namespace() -> list[str] | None:
    """``unshare`` arguments that make a new network namespace here (as root, or not)."""
    for unshare in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            if subprocess.run([*unshare, "ip", "link", "set", "lo", "up"],
                              capture_output=True).returncode == 0:
                return unshare
        except FileNotFoundError:  # no unshare or no ip
            return None
    return None


def isolated(command: list[str], interfaces) -> list[str]:
    """``command`` in a new network namespace with loopback up; its interfaces go to a file."""
    unshare = network_namespace()
    require("A network namespace (unshare -n as root, unshare -rn otherwise; ip)",
            unshare is not None, "util-linux and iproute2, user namespaces enabled")
    script = (f"ip link set lo up && {LIST_INTERFACES} > {shlex.quote(str(interfaces))} "
              f"&& exec {shlex.join(command)}")
    return [*unshare, "sh", "-c", script]


@pytest.fixture(scope="module")
def offline_build(tmp_path_factory):
    """A clean build, of its own copy of the project, in a folder unlike the site's."""
    root = copy_project(tmp_path_factory.mktemp("again") / "another-folder-name")
    interfaces = root.parent / "interfaces.txt"
    command = isolated(make_command(root, "html"), interfaces)
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **SITE_ENV})
    listed = interfaces.read_text() if interfaces.exists() else ""
    return result, listed, root


def test_the_site_builds_in_a_network_namespace_with_loopback_alone(offline_build):
    result, listed, _ = offline_build
    assert result.returncode == 0, output_of(result)[-5000:]
    assert "WARNING" not in output_of(result)
    names = [line.split(":")[1].strip() for line in listed.splitlines()]
    assert names == ["lo"], listed
    assert ",UP" in listed, listed


def tree(root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_two_clean_builds_in_two_folders_are_identical(site, offline_build):
    result, _, root = offline_build
    assert result.returncode == 0
    first, second = site.html, root / "build" / "html"
    assert site.root != root
    assert tree(first) == tree(second)
    different = sorted(f for f in tree(first)
                       if not filecmp.cmp(first / f, second / f, shallow=False))
    assert different == sorted(f for f in NOT_REPRODUCIBLE if f in tree(first)), different


def test_no_built_file_contains_the_folder_it_was_built_in(site, offline_build):
    _, _, root = offline_build
    found = []
    for project in (site.root, root):
        html = project / "build" / "html"
        folder = str(project).encode()
        found += [str(p.relative_to(html)) for p in sorted(html.rglob("*"))
                  if p.is_file() and folder in p.read_bytes()]
    assert not found
