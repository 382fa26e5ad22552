"""The shared expected-error helper behaves like pytest.raises, and prints what it caught."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from _guide import environment, expect_error  # noqa: E402

def test_prints_the_error_as_python_does(capsys):
    with expect_error(KeyError, "'missing'") as caught:
        {}["missing"]
    assert capsys.readouterr().out == "KeyError: 'missing'\n"
    assert isinstance(caught.value, KeyError)


def test_fails_when_nothing_is_raised():
    with pytest.raises(AssertionError, match="expected KeyError matching 'x'; nothing was raised"):
        with expect_error(KeyError, "x"):
            pass


def test_fails_when_the_message_differs():
    with pytest.raises(AssertionError, match="does not match"):
        with expect_error(ValueError, "expected words"):
            raise ValueError("other words")


def test_lets_another_error_type_through():
    with pytest.raises(TypeError, match="wrong type"):
        with expect_error(ValueError, "wrong type"):
            raise TypeError("wrong type")


def test_environment_names_torch_and_python():
    env = environment()
    assert env["torch"] == torch.__version__
    assert env["python"] == "%d.%d.%d" % sys.version_info[:3]
