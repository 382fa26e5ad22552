"""Helpers shared by every example and doctest of *ModuleDict, corrected*.

Run an example from this folder (``python plot_x.py``) or open its notebook here,
and this module is found next to it.
"""

from __future__ import annotations

import platform
import re
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version

@dataclass
class RaisedError:
    """What :func:`expect_error` caught: filled in when the block has raised."""

    value: BaseException | None = None


@contextmanager
def expect_error(exc_type: type[BaseException], match: str):
    """Require the block to raise ``exc_type`` with a message matching ``match``.

    Like ``pytest.raises``: ``match`` is searched (``re.search``) in ``str(error)``.
    The error is printed as Python prints the last line of a traceback, so the page
    shows the exception the build just raised. If the block raises nothing, or an
    error of the right type with another message, an ``AssertionError`` stops the
    build; an error of another type propagates unchanged.
    """
    caught = RaisedError()
    try:
        yield caught
    except exc_type as error:
        if not re.search(match, str(error)):
            raise AssertionError(
                f"{type(error).__name__} was raised, but its message {str(error)!r} "
                f"does not match {match!r}"
            ) from error
        caught.value = error
        shown = "".join(traceback.format_exception_only(error))
        print(shown, end="")
        return
    raise AssertionError(f"expected {exc_type.__name__} matching {match!r}; nothing was raised")


def environment() -> dict[str, str]:
    """The versions that produce the site's outputs (read without importing torch)."""
    return {"torch": version("torch"), "python": platform.python_version()}
