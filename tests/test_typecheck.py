"""docs/_ext/typecheck.py: mypy really runs, and a page's expectations can fail the build."""

from __future__ import annotations

import pytest
from typecheck import (
    Diagnostic,
    cache_dir,
    expected_diagnostics,
    mismatch,
    run_mypy,
    run_snippet,
)

TORCH_SNIPPET = """\
import torch
from torch import nn

md = nn.ModuleDict({"k": nn.Linear(2, 2)})
md["k"](torch.zeros(1, 2))
md.k(torch.zeros(1, 2))  # E: "Tensor" not callable  [operator]
"""
ASSIGNMENT = (
    'Incompatible types in assignment (expression has type "str", variable has type '
    '"int")  [assignment]'
)


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    """The cache the builds use (mypy checks each entry against its source)."""
    return cache_dir(tmp_path_factory.mktemp("build"))


@pytest.mark.parametrize(
    "source, expected",
    [
        (TORCH_SNIPPET, [Diagnostic(6, "error", '"Tensor" not callable  [operator]')]),
        ("x = 1\n", []),
        # on a line of its own, a comment is about the next line of code
        (
            '# N: Revealed type is "int"\n\nreveal_type(1)\nx = 1  # E: no\n',
            [
                Diagnostic(3, "note", 'Revealed type is "int"'),
                Diagnostic(4, "error", "no"),
            ],
        ),
    ],
)
def test_expectations_are_read_from_the_comments(source, expected):
    assert expected_diagnostics(source) == expected


def test_mypy_output_is_split_by_snippet_and_names_no_path(cache):
    lines, by_file = run_mypy(
        ["x: int = 'a'\n", "y: str = 'b'\n", "reveal_type(1)\n"], cache
    )
    assert by_file == {
        "snippet1.py": [Diagnostic(1, "error", ASSIGNMENT)],
        "snippet2.py": [],
        "snippet3.py": [Diagnostic(1, "note", 'Revealed type is "Literal[1]?"')],
    }
    assert lines and all(line.startswith("snippet") for line in lines)


def test_a_wrong_or_missing_expectation_is_reported(cache):
    snippets = ["x: int = 'a'  # E: something else\n", "y = 1  # N: not reported\n"]
    _, by_file = run_mypy(snippets, cache)
    wrong, missing = (
        mismatch(expected_diagnostics(source), by_file[f"snippet{n}.py"])
        for n, source in enumerate(snippets, 1)
    )
    assert "expected, not reported" in wrong and "reported, not expected" in wrong
    assert (
        missing.startswith("expected, not reported")
        and "reported, not expected" not in missing
    )


def test_the_typing_page_claim_holds_for_torch(cache):
    """md.k(x) is an error for mypy on this torch, md["k"](x) is not; both run."""
    _, by_file = run_mypy([TORCH_SNIPPET], cache)
    assert mismatch(expected_diagnostics(TORCH_SNIPPET), by_file["snippet1.py"]) == ""
    assert run_snippet("snippet1.py", TORCH_SNIPPET + "print('ran')\n") == "ran\n"
    with pytest.raises(ZeroDivisionError):  # a snippet that raises fails
        run_snippet("snippet1.py", "1 / 0\n")


def test_the_cache_outlives_the_build_or_stays_inside_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cache_dir(tmp_path / "build").is_relative_to(tmp_path / "cache")
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    assert cache_dir(tmp_path / "build") == tmp_path / "build" / "mypy_cache"
