"""The example that ends in the crash it shows (the article's Example 2) crashes as declared.

sphinx-gallery's ``expected_failing_examples`` fails the build when a listed example runs
to its end, and shows its traceback; it accepts any error. ``expected_crash_messages``
(path under the examples folder: a regular expression) names the error each must end in,
as Python prints it (``RuntimeError: ...``); another error fails the build.
"""

from __future__ import annotations

import os
import re

import guide
from sphinx.errors import ExtensionError

def check(app) -> None:
    """After sphinx-gallery ran the examples: each declared crash is the declared one."""
    failing = app.config.sphinx_gallery_conf["failing_examples"]
    for source, _ in guide.examples(app):
        for relative, pattern in app.config.expected_crash_messages.items():
            if source.as_posix().endswith("/" + relative) and str(source) in failing:
                shown = guide.shown_errors(failing[str(source)])
                if not shown or not re.search(pattern, shown[-1]):
                    raise ExtensionError(f"{relative} crashed with {shown[-1:]}, not {pattern!r}")


def declare(app, config) -> None:
    """List the declared examples in sphinx-gallery's ``expected_failing_examples``."""
    listed = set(config.sphinx_gallery_conf["expected_failing_examples"])
    for source, _ in guide.examples(app):
        if any(source.as_posix().endswith("/" + r) for r in config.expected_crash_messages):
            listed.add(os.path.relpath(source, app.srcdir))
    config.sphinx_gallery_conf["expected_failing_examples"] = listed


def setup(app):
    app.add_config_value("expected_crash_messages", {}, "env", types=[dict])
    app.connect("config-inited", declare, priority=20)  # after sphinx-gallery's defaults (10)
    app.connect("builder-inited", check, priority=600)  # after it ran the examples (500)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
