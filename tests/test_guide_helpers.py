"""The expected-error helper ``raises`` that example pages define on the page itself.

Every page that shows an error defines ``raises`` in its first code cell, with the same
text, so that copied code runs alone. The text prints the error as Python does, and fails
when the block stops failing or fails differently.
"""

import ast
import re

import pytest
from helpers import EXAMPLES

# The pages of examples/pitfalls that show errors; other folders may add theirs.
AT_LEAST = {
    "plot_compile_checkpoint_names_gain_orig_mod_prefix.py",
    "plot_compile_key_per_call.py",
    "plot_fx_and_export_moduledict.py",
    "plot_graph_cuts_silent_untrained_parameters.py",
    "plot_graph_cuts_tensor_operations_not_lookups.py",
    "plot_references_stale_after_replace.py",
    "plot_registration_plain_dict_is_invisible.py",
    "plot_torchscript_moduledict_keys.py",
}


def raises_source(source: str) -> str | None:
    """The source text of the top-level ``def raises``, with its decorator."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "raises":
            start = (
                node.decorator_list[0].lineno if node.decorator_list else node.lineno
            )
            return "\n".join(source.splitlines()[start - 1 : node.end_lineno])
    return None


SOURCES = {page.name: page.read_text(encoding="utf-8") for page in EXAMPLES}
DEFINED = {
    name: text for name, source in SOURCES.items() if (text := raises_source(source))
}


def test_every_page_that_shows_an_error_defines_the_same_raises_in_its_first_code_cell():
    assert len(SOURCES) >= 10 and AT_LEAST <= set(DEFINED)
    assert len(set(DEFINED.values())) == 1, sorted(DEFINED)
    for name, text in DEFINED.items():
        first_cell = SOURCES[name].split("\n# %%\n")[1]
        assert text in "\n".join(
            ln for ln in first_cell.splitlines() if not ln.startswith("#")
        )
    using = {
        name for name, text in SOURCES.items() if re.search(r"\n\s*with raises\(", text)
    }
    assert AT_LEAST <= using <= set(DEFINED)


@pytest.fixture(scope="module")
def raises():
    """``raises`` as the pages define it, with the imports it needs."""
    namespace: dict = {}
    exec(
        "import re\nimport traceback\nfrom contextlib import contextmanager\n\n"
        + next(iter(DEFINED.values())),
        namespace,
    )
    return namespace["raises"]


def fail(error):
    raise error


# A message of several lines is printed whole; a subclass is named.
@pytest.mark.parametrize(
    "expected, raised",
    [
        (KeyError, KeyError("missing")),
        (RuntimeError, RuntimeError("first line\n  second line")),
        (LookupError, IndexError("list index out of range")),
    ],
)
def test_prints_the_error_as_python_does(raises, capsys, expected, raised):
    with raises(expected, re.escape(str(raised)[:5])):
        fail(raised)
    assert capsys.readouterr().out == f"{type(raised).__name__}: {raised}\n"


@pytest.mark.parametrize(
    "raised, escapes, match",
    [
        (None, AssertionError, "^ValueError was not raised$"),
        (ValueError("other words"), ValueError, "^other words$"),
        (TypeError("expected words"), TypeError, "expected words"),
    ],
)
def test_fails_when_the_block_stops_failing_or_fails_differently(
    raises, capsys, raised, escapes, match
):
    with pytest.raises(escapes, match=match), raises(ValueError, "expected words"):
        if raised is not None:
            fail(raised)
    assert capsys.readouterr().out == ""
