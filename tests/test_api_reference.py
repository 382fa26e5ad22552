"""Every public method and operator of ModuleDict and ParameterDict has a reference entry.

The API is enumerated from the installed torch by ``docs/_ext/api_coverage.py`` (as the
build does); the entries are read from the page sources, so no site build is needed. A small
separate build proves that the extension fails a build that lacks an entry.
"""

from __future__ import annotations

import re
import subprocess
import sys

import api_coverage
import pytest
from helpers import ROOT
from torch import nn

CLASSES = {
    docname: api_coverage.resolve(dotted)
    for docname, dotted in api_coverage.PAGES.items()
}


def entries(docname: str) -> dict[str, str]:
    """Target -> the text of its section, up to the next target or heading."""
    source = (ROOT / "docs" / f"{docname}.md").read_text(encoding="utf-8")
    parts = re.split(r"^\(([\w-]+)\)=\n#+ .+\n", source, flags=re.M)
    return {
        target: re.split(r"^#+ ", body, flags=re.M)[0]
        for target, body in zip(parts[1::2], parts[2::2])
    }


def labels(cls, names) -> list[str]:
    return [api_coverage.label(cls, name) for name in names]


@pytest.mark.parametrize("docname", sorted(api_coverage.PAGES))
def test_every_public_name_has_an_entry_with_a_doctest_and_no_other(docname):
    cls, sections = CLASSES[docname], entries(docname)
    expected = labels(cls, api_coverage.public_api(cls))
    assert len(expected) >= 13
    assert [t for t in expected if "```{doctest}" not in sections.get(t, "")] == []
    assert sorted(sections) == sorted(expected)


def test_the_enumeration_is_the_class_body_below_module():
    assert api_coverage.public_api(nn.ModuleDict) == [
        "__contains__", "__delitem__", "__getitem__", "__init__", "__iter__", "__len__",
        "__setitem__", "clear", "items", "keys", "pop", "update", "values",
    ]  # fmt: skip
    pd = set(api_coverage.public_api(nn.ParameterDict))
    assert {
        "__or__",
        "__ror__",
        "__ior__",
        "__reversed__",
        "__call__",
        "setdefault",
    } <= pd
    assert not {"state_dict", "children", "forward", "_key_to_attr", "__setattr__"} & pd


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
    sections = entries("reference/moduledict")
    missing = [n for n in names if api_coverage.label(nn.ModuleDict, n) not in sections]
    assert missing == ["__or__", "get"]


CONF = """import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_parser", "sphinx.ext.doctest", "api_coverage"]
"""
INDEX = "# Index\n\n```{toctree}\nreference/moduledict\nreference/parameterdict\n```\n"
SPHINX = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "dummy"]


def mini_build(tmp_path, edit=lambda labels: labels, bare=()):
    """Build the two reference pages alone: an entry with a doctest for each label of
    ``edit(labels)``, without a doctest for those in ``bare``."""
    (tmp_path / "reference").mkdir(parents=True)
    (tmp_path / "conf.py").write_text(CONF.format(ext=str(ROOT / "docs/_ext")))
    (tmp_path / "index.md").write_text(INDEX)
    for docname, cls in CLASSES.items():
        doctest = "```{doctest}\n>>> 1 + 1\n2\n```\n"
        entries = [
            f"({t})=\n## `{t}`\n\n" + ("-\n" if t in bare else doctest)
            for t in edit(labels(cls, api_coverage.public_api(cls)))
        ]
        (tmp_path / f"{docname}.md").write_text(
            f"# {cls.__name__}\n\n" + "\n".join(entries)
        )
    return subprocess.run(
        [*SPHINX, tmp_path, tmp_path / "out"], capture_output=True, text=True
    )


def spoiled(labels: list[str]) -> list[str]:
    """setdefault's entry replaced by a stale one (has_key)."""
    stale = ["parameterdict-has-key"] if "parameterdict-setdefault" in labels else []
    return [t for t in labels if t != "parameterdict-setdefault"] + stale


def test_the_build_fails_without_an_entry_without_a_doctest_or_with_a_stale_one(
    tmp_path,
):
    """It passes with every entry (the control)."""
    control = mini_build(tmp_path / "control")
    assert control.returncode == 0, control.stderr
    result = mini_build(tmp_path, spoiled, bare={"moduledict-update"})
    assert result.returncode != 0
    assert "torch.nn.ParameterDict.setdefault has no entry" in result.stderr
    stale = "the target (parameterdict-has-key)= names nothing torch.nn.ParameterDict defines"
    bare = (
        "the entry (moduledict-update)= of torch.nn.ModuleDict.update holds no doctest"
    )
    assert stale in result.stderr and bare in result.stderr
