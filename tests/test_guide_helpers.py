"""Each example's own ``raises`` helper checks an expected error by type and message,
prints it as Python does followed by a blank line (the error index reads it), and fails
when the block stops failing or fails differently. Each copy is checked, where it is."""

import ast
import re

import pytest
from helpers import EXAMPLES

def helper(path):
    """The example's top-level ``raises`` (with its decorator), or None."""
    source = path.read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "raises":
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            return "\n".join(source.splitlines()[start - 1 : node.end_lineno])
    return None


DEFINED = {p.name: text for p in EXAMPLES if (text := helper(p))}
USING = {p.name for p in EXAMPLES if re.search(r"\n\s*with raises\(", p.read_text())}


def test_every_example_that_shows_an_error_defines_its_helper():
    assert len(USING) >= 8 and USING == set(DEFINED)


@pytest.fixture(params=sorted(DEFINED))
def raises(request):
    namespace: dict = {}
    imports = "import re\nimport traceback\nfrom contextlib import contextmanager\n"
    exec(imports + DEFINED[request.param], namespace)
    return namespace["raises"]


def fail(error):
    raise error


@pytest.mark.parametrize("expected, raised", [
    (KeyError, KeyError("missing")),
    (RuntimeError, RuntimeError("first line\n  second line")),
    (LookupError, IndexError("list index out of range")),
])
def test_prints_the_error_as_python_does_then_a_blank_line(raises, capsys, expected, raised):
    with raises(expected, re.escape(str(raised)[:5])):
        fail(raised)
    assert capsys.readouterr().out == f"{type(raised).__name__}: {raised}\n\n"


@pytest.mark.parametrize("raised, escapes, match", [
    (None, AssertionError, "^ValueError was not raised$"),
    (ValueError("other words"), ValueError, "^other words$"),
    (TypeError("expected words"), TypeError, "expected words"),
])
def test_fails_when_the_block_stops_failing_or_fails_differently(
    raises, capsys, raised, escapes, match
):
    with pytest.raises(escapes, match=match), raises(ValueError, "expected words"):
        if raised is not None:
            fail(raised)
    assert capsys.readouterr().out == ""
