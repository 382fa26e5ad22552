"""Two clean builds in two folders give the same files; one of them runs with no network.

The second build (the ``offline_build`` fixture) runs in a new network namespace, at the
same time as the site's. The test never sends anything to find out whether the network
is reachable: it lists the namespace's interfaces and requires loopback alone (DDP's gloo
uses 127.0.0.1).
"""

from __future__ import annotations

import filecmp

from helpers import output_of

# The only files that differ between two clean builds, and why: each shows timings
# measured during the build. Everything else must be identical, byte for byte.
NOT_REPRODUCIBLE = {
    "auto_examples/article/plot_indexing_cost.html": "it shows timings measured during the build",
    "_sources/auto_examples/article/plot_indexing_cost.rst.txt":
        "that page's source, timings included",
    "_images/sphx_glr_plot_indexing_cost_001.png": "the chart of those timings",
    "_images/sphx_glr_plot_indexing_cost_thumb.png": "the thumbnail of that chart",
}

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
