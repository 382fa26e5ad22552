"""Fail the build when a reference page misses an entry of its class's API.

The API of a container class is enumerated from the class itself, at build time:
every function (or property, classmethod, staticmethod) defined in the body of the
class or of a base class below ``nn.Module``, whose name is public or a dunder. That
is the class's own methods, the operators it implements and the ``nn.Module`` methods
it overrides; what it inherits unchanged from ``nn.Module`` is not its API.

Each name must have an entry on the class's page: a MyST target
``(<class>-<name without surrounding underscores, inner ones as dashes>)=`` above a
heading, for example ``(parameterdict-setdefault)=``, ``(moduledict-getitem)=`` for
``__getitem__`` or ``(parameterdict-extra-repr)=`` for ``extra_repr``.
The section under the target must hold at least one doctest block. A missing entry,
an entry without a doctest, or an entry for a name the class no longer has is a
Sphinx warning, so a torch that adds, removes or renames a method fails the build.

The check runs at every build, once every page is read.
"""

from __future__ import annotations

import guide
from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

# Page (docname) -> dotted name of the class it documents.
PAGES = {
    "reference/moduledict": "torch.nn.ModuleDict",
    "reference/parameterdict": "torch.nn.ParameterDict",
}
KINDS = (property, classmethod, staticmethod)


def _is_api(name: str, value) -> bool:
    public = not name.startswith("_")
    dunder = name.startswith("__") and name.endswith("__") and len(name) > 4
    return (public or dunder) and (callable(value) or isinstance(value, KINDS))


def public_api(cls, base=None) -> list[str]:
    """Names ``cls`` defines or overrides below ``base`` (default ``nn.Module``)."""
    if base is None:
        from torch import nn

        base = nn.Module
    mro = cls.__mro__
    if base not in mro:
        raise TypeError(f"{cls.__name__} is not a subclass of {base.__name__}")
    names = set()
    for klass in mro[: mro.index(base)]:
        names |= {name for name, value in vars(klass).items() if _is_api(name, value)}
    return sorted(names)


def label(cls, name: str) -> str:
    """The target of ``cls.name``'s entry: ``moduledict-getitem``, ``parameterdict-extra-repr``."""
    return f"{cls.__name__.lower()}-{name.strip('_').replace('_', '-')}"


def resolve(dotted: str):
    import importlib

    module, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def expected_labels() -> dict[str, dict[str, str]]:
    """docname -> {label: API name}, with a check that no two names share a label."""
    out = {}
    for docname, dotted in PAGES.items():
        cls = resolve(dotted)
        labels = {}
        for name in public_api(cls):
            key = label(cls, name)
            if key in labels:
                raise ValueError(f"{name} and {labels[key]} would share the target {key}")
            labels[key] = name
        out[docname] = labels
    return out


def _has_doctest(section) -> bool:
    return any(
        guide.test_kind(block) == "doctest" for block in section.findall(nodes.literal_block)
    )


def check_coverage(app, env) -> None:
    """Warn for every API name without an entry, entry without doctest, or stale entry."""
    problems = 0
    labels = env.domaindata["std"]["labels"]  # label -> (docname, id, title)
    if not any(docname in env.found_docs for docname in PAGES):
        return  # a project without the reference pages (the tests' one-page projects)
    wanted_labels = expected_labels()
    for docname, wanted in wanted_labels.items():
        if docname not in env.found_docs:
            problems += 1
            logger.warning("api_coverage: page %s is missing", docname)
            continue
        doctree = env.get_doctree(docname)
        ids = {node_id: node for node in doctree.findall(nodes.Element) for node_id in node["ids"]}
        prefix = PAGES[docname].rpartition(".")[2].lower() + "-"
        for key, name in sorted(wanted.items()):
            where = labels.get(key)
            if where is None or where[0] != docname:
                problems += 1
                logger.warning(
                    "api_coverage: %s.%s has no entry: add the target (%s)= above a heading",
                    PAGES[docname],
                    name,
                    key,
                    location=docname,
                )
            elif where[1] not in ids or not _has_doctest(ids[where[1]]):
                problems += 1
                logger.warning(
                    "api_coverage: the entry (%s)= of %s.%s holds no doctest block",
                    key,
                    PAGES[docname],
                    name,
                    location=docname,
                )
        for key, (where_doc, _, _) in sorted(labels.items()):
            if where_doc == docname and key.startswith(prefix) and key not in wanted:
                problems += 1
                logger.warning(
                    "api_coverage: the target (%s)= names nothing %s defines",
                    key,
                    PAGES[docname],
                    location=docname,
                )


def setup(app):
    app.connect("env-check-consistency", check_coverage)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
