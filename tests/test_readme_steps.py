"""README.md's "Adding an example" and "Adding a page", followed as written in a small
copy of the project (the real configuration, extensions and Makefile, one example, the
versions record cut down to it), each make command run as the README writes it, with
no network (``unshare -n``) where a namespace can be made.

A new example needs no ``make matrix``: ``make html`` passes, and the versions page says
that older torch versions have not recorded it yet.
"""

import json
import os
import re
import shutil
import subprocess

import pytest
from helpers import (
    EXAMPLES,
    ROOT,
    SITE_ENV,
    copy_project,
    example_path,
    make_command,
    offline,
    output_of,
    soup,
)

README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = example_path("plot_article_example1_item_access_works.py")
NEW = "plot_keys_missing_key_raises_keyerror"
PAGE = """# Counting the entries of a ModuleDict

`len` counts the modules that a `ModuleDict` holds, as it counts the keys of a dict.

```{doctest}
>>> from torch import nn
>>> layers = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Tanh()})
>>> len(layers)
2
>>> layers["c"]
Traceback (most recent call last):
    ...
KeyError: 'c'
```
"""


def section(heading: str) -> str:
    return re.search(rf"^## {heading}\n(.*?)^## ", README, re.M | re.S).group(1)


def run(project, command: str):
    """A make command of the README (``make TARGET... VAR=value...``), run offline."""
    _, target, *args = command.split()
    done = subprocess.run(
        [*offline(), *make_command(project, target, *args)],
        text=True,
        capture_output=True,
        env={**os.environ, **SITE_ENV},
    )
    log = output_of(done)
    assert done.returncode == 0 and "WARNING" not in log, f"{command}:\n{log[-5000:]}"
    return log


@pytest.fixture
def project(tmp_path):
    """The small copy; its index lists the sections, the gallery and a versions page."""
    files = (
        "conf.py",
        "Makefile",
        "requirements.txt",
        "docs/_ext",
        "docs/_static",
        "docs/_data",
    )
    root = copy_project(tmp_path / "project", files)
    gallery = root / "examples" / EXAMPLE.parent.name
    gallery.mkdir(parents=True)
    for header in (ROOT / "examples").glob("**/GALLERY_HEADER.rst"):
        (root / header.relative_to(ROOT)).parent.mkdir(exist_ok=True)
        shutil.copy2(header, root / header.relative_to(ROOT))
    shutil.copy2(EXAMPLE, gallery)
    record = json.loads((root / "docs/_data/torch-matrix.json").read_text())
    for column in record["columns"].values():
        column["examples"] = {EXAMPLE.name: column["examples"][EXAMPLE.name]}
    (root / "docs/_data/torch-matrix.json").write_text(json.dumps(record, indent=1))
    (root / "docs/versions.md").write_text(
        "# Versions\n\n```{torch-matrix} examples\n```\n"
    )
    toctree = "```{toctree}\n:glob:\nversions\n*/index\n```\n"  # a section, the gallery
    (root / "docs/index.md").write_text(f"# Small\n\n{toctree}")
    return root


def test_a_new_example_needs_only_make_html(project):
    steps = section("Adding an example")
    for written in (
        "`examples/<gallery>/plot_<topic>_<what_it_proves>.py`",
        "`examples/article/`",
        "`make html EXAMPLE=plot_<topic>_<what_it_proves>`",
        "copy the `raises`",
    ):
        assert written in steps, written
    # Step 1: a docstring with a title, `# %%` cells, the `raises` helper copied.
    cells = [
        c
        for p in EXAMPLES
        for c in p.read_text().split("\n# %%\n")
        if "def raises(" in c
    ]
    source = f'''"""
A missing key raises KeyError, as in a dict
===========================================

Item access with a key a ``ModuleDict`` does not hold raises ``KeyError``.
"""

# %%
from torch import nn

layers = nn.ModuleDict({{"present": nn.ReLU()}})


# %%
{cells[0].strip()}


# %%
# A key that is not there
# -----------------------
with raises(KeyError, r"'missing'"):
    layers["missing"]
assert list(layers) == ["present"]
'''
    assert max(map(len, source.splitlines())) <= 79
    (project / "examples" / "article" / f"{NEW}.py").write_text(source)
    log = run(project, f"make html EXAMPLE={NEW}")  # step 2: the new example alone
    assert re.search(r"executed 1 out of 1 file", log), log[-3000:]
    run(project, "make html")  # no make matrix before
    html = project / "build" / "html"
    page = soup(html / "auto_examples" / "article" / f"{NEW}.html").get_text()
    assert "KeyError: 'missing'" in page
    versions = [r.get_text(" ") for r in soup(html / "versions.html").select("tr")]
    [row] = [row for row in versions if "A missing key raises KeyError" in row]
    record = json.loads((project / "docs/_data/torch-matrix.json").read_text())
    assert row.count("not recorded yet") >= len(record["columns"]) - 1, row


def test_a_new_page_joins_its_section_and_its_doctests_run(project):
    steps = section("Adding a page")
    for written in (
        "`docs/<section>/<page>.md`",
        "`docs/tutorial/`",
        "{doctest}",
        "`make html doctest PROSE=1`",
    ):
        assert written in steps, written
    (project / "docs/tutorial").mkdir()
    shutil.copy2(
        ROOT / "docs/tutorial/index.md", project / "docs/tutorial"
    )  # the section
    (project / "docs" / "tutorial" / "counting-entries.md").write_text(PAGE)
    log = run(project, "make html doctest PROSE=1")
    assert 'gallery_conf["plot_gallery"] was False' in log
    index = soup(project / "build" / "html" / "tutorial" / "index.html")
    assert "counting-entries.html" in [
        a["href"] for a in index.select(".toctree-wrapper a")
    ]
    report = (project / "build" / "doctest" / "output.txt").read_text()
    assert re.search(
        r"Document: tutorial/counting-entries\n-+\n(.|\n)*4 passed and 0 failed", report
    ), report
