"""The expected-error helper ``raises`` that example pages define on the page itself.

Every page that shows an error defines ``raises`` in its first code cell, with the same
text, so that copied code runs alone. These tests check that the pages agree on that
text and that the text behaves: it prints the error as Python does, and it fails when
the block stops failing or fails differently.
"""

import ast
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PAGES = sorted(EXAMPLES.glob("*/plot_*.py"))
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


def raises_source(page: Path) -> str | None:
    """The source text of the top-level ``def raises`` of ``page`` with its decorator."""
    source = page.read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "raises":
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            return "\n".join(source.splitlines()[start - 1 : node.end_lineno])
    return None


def first_code_cell(page: Path) -> str:
    """The code of the page's first ``# %%`` cell (text lines and the docstring dropped)."""
    cells = page.read_text(encoding="utf-8").split("\n# %%\n")
    assert len(cells) > 1, f"{page.name} has no # %% cell"
    return "\n".join(line for line in cells[1].splitlines() if not line.startswith("#"))


DEFINED = {page: raises_source(page) for page in PAGES}
DEFINING = sorted(page for page, text in DEFINED.items() if text is not None)


def test_every_page_that_defines_raises_defines_the_same_text():
    assert len(PAGES) >= 10, [page.name for page in PAGES]
    names = {page.name for page in DEFINING}
    assert AT_LEAST <= names, sorted(AT_LEAST - names)
    texts = {DEFINED[page] for page in DEFINING}
    assert len(texts) == 1, [page.name for page in DEFINING]


def test_raises_is_defined_in_the_first_code_cell():
    for page in DEFINING:
        assert DEFINED[page] in first_code_cell(page), page.name


def test_pages_that_use_raises_define_it():
    for page in PAGES:
        uses = re.search(r"^\s*with raises\(", page.read_text(encoding="utf-8"), re.M)
        assert not uses or page in DEFINING, page.name


@pytest.fixture(scope="module")
def raises():
    """``raises`` as the first defining page defines it, with the imports it needs."""
    namespace: dict = {}
    exec(
        "import re\nimport traceback\nfrom contextlib import contextmanager\n\n"
        + DEFINED[DEFINING[0]],
        namespace,
    )
    return namespace["raises"]


def test_prints_the_error_as_python_does(raises, capsys):
    with raises(KeyError, r"'missing'"):
        {}["missing"]
    assert capsys.readouterr().out == "KeyError: 'missing'\n"


def test_prints_a_message_of_several_lines_whole(raises, capsys):
    with raises(RuntimeError, "first"):
        raise RuntimeError("first line\n  second line")
    assert capsys.readouterr().out == "RuntimeError: first line\n  second line\n"


def test_a_subclass_of_the_expected_type_is_accepted_and_named(raises, capsys):
    with raises(LookupError, "out of range"):
        [][3]
    assert capsys.readouterr().out == "IndexError: list index out of range\n"


def test_fails_when_nothing_is_raised(raises, capsys):
    with pytest.raises(AssertionError, match="^KeyError was not raised$"):
        with raises(KeyError, "x"):
            pass
    assert capsys.readouterr().out == ""


def test_reraises_the_error_when_the_message_differs(raises, capsys):
    with pytest.raises(ValueError, match="^other words$"):
        with raises(ValueError, "expected words"):
            raise ValueError("other words")
    assert capsys.readouterr().out == ""


def test_lets_another_error_type_through(raises, capsys):
    with pytest.raises(TypeError, match="wrong type"):
        with raises(ValueError, "wrong type"):
            raise TypeError("wrong type")
    assert capsys.readouterr().out == ""
