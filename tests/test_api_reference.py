"""Every public method and operator of ModuleDict and ParameterDict has a reference entry.

The API is enumerated from the installed torch by ``docs/_ext/api_coverage.py`` (the
function the build uses); the entries are found in the page sources, so no site build
is needed. A small separate build proves that the extension fails a build that lacks
an entry.
"""

from __future__ import annotations

import re
import subprocess
import sys
from types import SimpleNamespace

import api_coverage
import pytest
from helpers import ROOT
from torch import nn

TARGET = re.compile(r"^\(([\w-]+)\)=\n#+ .+$", re.M)
CLASSES = {docname: api_coverage.resolve(dotted) for docname, dotted in api_coverage.PAGES.items()}


def entries(source: str) -> dict[str, str]:
    """Target -> the text of its section (up to the next target or heading)."""
    found = {}
    matches = list(TARGET.finditer(source))
    for match, following in zip(matches, matches[1:] + [None]):
        end = following.start() if following else len(source)
        body = source[match.end() : end]
        heading = re.search(r"^#+ ", body, re.M)
        found[match.group(1)] = body[: heading.start()] if heading else body
    return found


def page(docname: str) -> str:
    return (ROOT / "docs" / f"{docname}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("docname", sorted(api_coverage.PAGES))
def test_every_public_name_has_an_entry_with_a_doctest(docname):
    cls = CLASSES[docname]
    names = api_coverage.public_api(cls)
    sections = entries(page(docname))
    missing = [name for name in names if api_coverage.label(cls, name) not in sections]
    assert not missing, f"{cls.__name__}: no entry for {missing}"
    without_doctest = [
        name for name in names if "```{doctest}" not in sections[api_coverage.label(cls, name)]
    ]
    assert not without_doctest, f"{cls.__name__}: entries without a doctest: {without_doctest}"
    stale = sorted(set(sections) - {api_coverage.label(cls, name) for name in names})
    assert not stale, f"{cls.__name__}: entries for names it does not define: {stale}"


def test_the_enumeration_is_the_class_body_below_module():
    assert api_coverage.public_api(nn.ModuleDict) == [
        "__contains__", "__delitem__", "__getitem__", "__init__", "__iter__", "__len__",
        "__setitem__", "clear", "items", "keys", "pop", "update", "values",
    ]  # fmt: skip
    pd = api_coverage.public_api(nn.ParameterDict)
    assert {
        "__or__",
        "__ror__",
        "__ior__",
        "__reversed__",
        "__call__",
        "extra_repr",
        "setdefault",
    } <= set(pd)
    assert not {"state_dict", "children", "forward", "_key_to_attr", "__setattr__"} & set(pd)


def test_a_method_added_by_a_new_torch_is_enumerated_and_reported_missing():
    class NewModuleDict(nn.ModuleDict):
        def get(self, key, default=None):
            return self[key] if key in self else default

        def __or__(self, other):
            return self

        def _private(self):
            pass

    names = api_coverage.public_api(NewModuleDict)
    assert set(names) == set(api_coverage.public_api(nn.ModuleDict)) | {"get", "__or__"}
    sections = entries(page("reference/moduledict"))
    assert [n for n in names if api_coverage.label(nn.ModuleDict, n) not in sections] == [
        "__or__",
        "get",
    ]


def test_the_pages_are_reread_when_the_api_differs_from_the_one_last_checked():
    current = api_coverage.expected_labels()
    env = SimpleNamespace(found_docs=set(api_coverage.PAGES), api_coverage_checked=current)
    assert api_coverage.reread_when_api_changed(None, env, set(), set(), set()) == []
    env.api_coverage_checked = {docname: {} for docname in current}
    assert sorted(api_coverage.reread_when_api_changed(None, env, set(), set(), set())) == sorted(
        api_coverage.PAGES
    )


MINI_CONF = """\
import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_parser", "sphinx.ext.doctest", "api_coverage"]
"""


def mini_page(cls, names, doctest=True) -> str:
    body = "```{doctest}\n>>> 1 + 1\n2\n```\n" if doctest else "No example.\n"
    sections = [f"({api_coverage.label(cls, name)})=\n## `{name}`\n\n{body}" for name in names]
    return f"# {cls.__name__}\n\n" + "\n".join(sections)


def mini_build(tmp_path, edit) -> subprocess.CompletedProcess:
    """Build a project holding only the two reference pages, after ``edit(pages)``."""
    pages = {docname: (cls, api_coverage.public_api(cls), True) for docname, cls in CLASSES.items()}
    edit(pages)
    (tmp_path / "conf.py").write_text(MINI_CONF.format(ext=str(ROOT / "docs" / "_ext")))
    (tmp_path / "index.md").write_text(
        "# Index\n\n```{toctree}\nreference/moduledict\nreference/parameterdict\n```\n"
    )
    (tmp_path / "reference").mkdir()
    for docname, (cls, names, doctest) in pages.items():
        (tmp_path / f"{docname}.md").write_text(mini_page(cls, names, doctest))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "dummy",
            str(tmp_path),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )


def test_the_build_passes_with_every_entry(tmp_path):
    result = mini_build(tmp_path, lambda pages: None)
    assert result.returncode == 0, result.stderr


def test_the_build_fails_without_an_entry_without_a_doctest_or_with_a_stale_one(tmp_path):
    def edit(pages):
        cls, names, _ = pages["reference/parameterdict"]
        pages["reference/parameterdict"] = (
            cls,
            [n for n in names if n != "setdefault"] + ["has_key"],
            True,
        )
        cls, names, _ = pages["reference/moduledict"]
        pages["reference/moduledict"] = (cls, names, False)

    result = mini_build(tmp_path, edit)
    assert result.returncode != 0
    assert "torch.nn.ParameterDict.setdefault has no entry" in result.stderr
    assert (
        "the target (parameterdict-has-key)= names nothing torch.nn.ParameterDict defines"
        in result.stderr
    )
    assert (
        "the entry (moduledict-update)= of torch.nn.ModuleDict.update holds no doctest block"
        in result.stderr
    )
