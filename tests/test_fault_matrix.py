"""The fault matrix: a mistake planted in a small copy of the project (the real conf.py
and docs/_ext, one example, one page) fails ``html`` (``-W -n``, as make does) or
``doctest``, naming it; the copy without it builds clean (the control); outputs made in
another environment are made again. Built in this process by ``sphinx.testing``."""

import contextlib
import copy
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from helpers import ROOT, copy_mini_project, example_path
from sphinx.application import Sphinx
from sphinx.testing.util import SphinxTestApp
from torch import nn

EXAMPLE = "plot_article_example1_item_access_works.py"
PAGE = """# Minimal

```{toctree}
auto_examples/index
```

See {doc}`auto_examples/index`.

```{doctest}
>>> from torch import nn
>>> len(nn.ModuleDict({"a": nn.ReLU()}))
1
>>> nn.ModuleDict()["layer3"]
Traceback (most recent call last):
    ...
KeyError: 'layer3'
```
"""
EXTENSIONS = {p.stem for p in (ROOT / "docs" / "_ext").iterdir()}


def mini_copy(dst: Path) -> Path:
    """The configuration, extensions, one example and :data:`PAGE` (no torch matrix)."""
    root = copy_mini_project(dst)
    (root / "docs" / "index.md").write_text(PAGE)
    return root


class ConfInRoot(Sphinx):
    """The project's layout: conf.py in the root, the pages in docs/."""

    def __init__(self, srcdir, confdir, *args, **kwargs):
        super().__init__(srcdir, srcdir.parent, *args, **kwargs)


class App(SphinxTestApp, ConfInRoot):
    pass


@contextlib.contextmanager
def own_extensions():
    """The copy's docs/_ext imported afresh (their paths and caches are module-level)."""
    ours = lambda: [n for n in sys.modules if n.split(".")[0] in EXTENSIONS]  # noqa: E731
    saved = {name: sys.modules.pop(name) for name in ours()}
    try:
        yield
    finally:
        for name in ours():
            del sys.modules[name]
        sys.modules.update(saved)


def build(root: Path, builder="html", run_examples=False, **overrides):
    """Whether ``root`` builds clean, warnings being errors, and its log (and end error)."""
    overrides = {"nitpicky": True, "plot_gallery": str(int(run_examples)), **overrides}
    app, error = None, ""
    with own_extensions():
        try:
            dirs = {"srcdir": root / "docs", "builddir": root / "build"}
            app = App(builder, **dirs, confoverrides=overrides, warningiserror=True)
            app.build()
        except Exception as stopped:  # noqa: BLE001 - the error a build ends in is its result
            error = f"{type(stopped).__name__}: {stopped}"
        finally:
            if app is not None:
                app.cleanup()
    log = app.status.getvalue() + app.warning.getvalue() if app else ""
    return not error and app.statuscode == 0, re.sub(r"\x1b\[[0-9;]*m", "", log + error)


def executed(log: str) -> int:
    """How many examples the build ran (sphinx-gallery: "executed N out of M")."""
    ran = re.search(r"executed \d+ out of (\d+) file", log)
    return int(ran.group(1)) if ran else 0


@pytest.fixture(scope="module")
def control(tmp_path_factory) -> Path:
    """Without a mistake the copy passes html (its example run) and doctest, no warning."""
    root = mini_copy(tmp_path_factory.mktemp("control"))
    for builder in ("html", "doctest"):
        passed, log = build(root, builder, run_examples=True)
        assert passed and "WARNING" not in log and "ERROR" not in log, log[-5000:]
    report = (root / "build" / "doctest" / "output.txt").read_text()
    assert "3 tests\n    0 failures in tests" in report, report
    return root


def edit(path: Path, old: str | None, new: str) -> None:
    """Replace ``old`` in ``path`` with ``new``; write a new file when ``old`` is None."""
    text = path.read_text(encoding="utf-8") if old is not None else ""
    assert old is None or old in text, (path, old)
    path.write_text(text.replace(old, new, 1) if old else new, encoding="utf-8")


NOT_RAISING = '''"""
An expected error that is not raised
====================================
"""

try:
    {"missing": 1}["missing"]
except KeyError:
    print("KeyError: 'missing'")
else:
    raise AssertionError("KeyError was not raised")
'''
BAD_REST = '"""\nA title\n=====\n\nText.\n"""\n\nx = 1\n'
LEDGER = "```{claims-ledger} table\n```\n\nSee {doc}"  # judged with a patched torch
INDEX, SEE = "docs/index.md", "See {doc}"
# The mistake (the builder, the file, the text replaced (None: a new file) and its
# replacement), and what the log must say.
FAULTS = {
    "a changed doctest output": (
        ("doctest", INDEX, "}))\n1\n", "}))\n2\n"),
        r'File "index\.md", line 10, in default\nFailed example:\n.*\nExpected:\n +2\nGot:\n +1',
    ),
    "a doctest traceback with another message": (
        ("doctest", INDEX, "KeyError: 'layer3'", "KeyError: 'lay'"),
        r"Expected:\n(.|\n)*KeyError: 'lay'\nGot:\n(.|\n)*KeyError: 'layer3'",
    ),
    "an expected error no longer raised": (
        ("html", "examples/plot_not_raising.py", None, NOT_RAISING),
        r'plot_not_raising\.py", line 11(.|\n)*AssertionError: KeyError was not',
    ),
    "an edited article quote": (
        ("html", f"examples/{EXAMPLE}", "(10, 5)", "(10, 6)"),
        r"the article's code was changed where it is quoted: Example 1 \(plot_article",
    ),
    "a flipped claim verdict": (
        ("html", INDEX, SEE, LEDGER),
        r"LedgerError: claim 3 \('meaning "
        r"it participates in the PyTorch computation graph'\): the evidence now gives 'false'",
    ),
    "a broken cross-reference": (
        ("html", INDEX, SEE, "{py:class}`torch.nn.Nothing`\n\n" + SEE),
        r"index\.md:\d+: WARNING: py:class reference target not found: torch\.nn\.Nothing",
    ),
    "an unknown document": (
        ("html", INDEX, SEE, "{doc}`/no-such-page`\n\n" + SEE),
        r"index\.md:\d+: WARNING: unknown document: '/no-such-page'",
    ),
    "a warning in a page": (
        ("html", INDEX, SEE, "```{no-such-directive}\nbody\n```\n\n" + SEE),
        r"index\.md:\d+: (WARNING|ERROR): Unknown directive type: 'no-such-directive'",
    ),
    "malformed reST in an example": (
        ("html", "examples/plot_bad_rest.py", None, BAD_REST),
        r"plot_bad_rest\.rst:\d+: WARNING: Title underline too short",
    ),
}


@pytest.mark.usefixtures("control")  # which must pass first
@pytest.mark.parametrize("fault", FAULTS)
def test_a_planted_mistake_fails_the_build_naming_it(fault, tmp_path, monkeypatch):
    (builder, path, old, new), message = FAULTS[fault]
    root = mini_copy(tmp_path)
    edit(root / path, old, new)
    if new == LEDGER:  # the article's code (the evidence runs it); item access copies
        for name in ("example2_crashes_as_written", "example3_backward_succeeds"):
            shutil.copy2(example_path(f"plot_article_{name}.py"), root / "examples")
        deepcopy = lambda d, key: copy.deepcopy(d._modules[key])  # noqa: E731
        monkeypatch.setattr(nn.ModuleDict, "__getitem__", deepcopy)
    pattern = {"sphinx_gallery_conf.filename_pattern": "plot_not"}
    runs = pattern if new is NOT_RAISING else {}
    passed, log = build(root, builder, run_examples=bool(runs), **runs)
    if builder == "doctest":
        log = (root / "build" / "doctest" / "output.txt").read_text()
    assert not passed and re.search(message, log), log[-5000:]


def test_a_changed_environment_reexecutes_the_examples(control, capsys):
    """sphinx-gallery's cache alone would keep outputs made by another torch, or under
    another conf.py or requirements.txt (docs/_ext/guide.py's fingerprint)."""
    # sphinx-gallery's cache works
    assert executed(build(control, run_examples=True)[1]) == 0
    record = control / "docs" / "auto_examples" / ".environment.json"
    for changed in ("torch", "requirements.txt", "conf.py"):
        if changed == "torch":  # as if the cached outputs were made by another torch
            stamp = json.loads(record.read_text()) | {"torch": "2.12"}
            record.write_text(json.dumps(stamp))
        else:
            edit(control / changed, "\n", "\n# changed\n")
        passed, log = build(control, run_examples=True)
        assert passed and executed(log) == 1, (changed, log[-3000:])
        assert "environment changed; re-executing" in capsys.readouterr().out
    page = control / "build/html/auto_examples" / EXAMPLE.replace(".py", ".html")
    assert "layers.layer1.weight" in page.read_text()
