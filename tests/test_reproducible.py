"""A rebuild that runs no example, in a folder of another name and with no network,
writes the same files, byte for byte: the pages do not depend on where, or with what
network, they were written."""

import filecmp

from helpers import output_of

def test_the_rebuild_ran_in_a_network_namespace_with_loopback_alone(rebuild):
    result, listed, _ = rebuild
    assert result.returncode == 0, output_of(result)[-5000:]
    assert [line.split(":")[1].strip() for line in listed.splitlines()] == ["lo"], listed
    assert ",UP" in listed, listed


def test_the_rebuild_ran_no_example_but_the_expected_crash(rebuild):
    """Every example's outputs were current; the crash has no cache (it never ends)."""
    log = output_of(rebuild[0])
    assert "successfully executed 0 out of 1 file" in log, log[-3000:]


def tree(root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_the_rebuild_in_another_folder_writes_identical_files(site, rebuild):
    _, _, root = rebuild
    first, second = site.html, root / "build" / "html"
    files = tree(first)
    assert len(files) >= 200 and files == tree(second)
    assert [f for f in sorted(files) if not filecmp.cmp(first / f, second / f, shallow=False)] == []


def test_no_built_file_contains_the_folder_it_was_built_in(site, rebuild):
    found, scanned = [], 0
    for project in (site.root, rebuild[2]):
        for path in (project / "build" / "html").rglob("*"):
            if path.is_file():
                scanned += 1
                found += [path] if str(project).encode() in path.read_bytes() else []
    assert scanned >= 400 and not found
