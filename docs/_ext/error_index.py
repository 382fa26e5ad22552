"""The error index: every error message the site shows, linked to the block that shows it.

Errors are read from each page's doctree when Sphinx reads it:

* an example page: the output blocks sphinx-gallery wrote (``sphx-glr-script-out``,
  and the traceback of an example that ends in a crash), read by ``guide.shown_errors``;
* any other page: the tracebacks of its ``{doctest}`` and ``{testoutput}`` blocks.

The block that shows an error gets an id, so a link lands on the error itself, and the
code a reader copies to run it (the doctest itself, or the code cell or ``{testcode}``
just before the output) gets the caption "raises <type>". The ``error-index``
directive becomes one list per exception type: each message, then links to the blocks
that show it. HTML builds write ``_static/error-index.json`` (the errors
by example or page) and ``_static/search-errors-data.js``, which the search page alone
loads with ``search-errors.js``: a pasted error lists the blocks that show it first,
a doctest whose statement that raised is an item access (``md["k"]``) before the others.
"""

from __future__ import annotations

import ast
import doctest
import json
from pathlib import Path

import guide
from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform

def _item_access(source: str) -> bool:
    """Whether a doctest's statement is an item access, ``md["k"]``."""
    body = ast.parse(source).body
    return len(body) == 1 and isinstance(getattr(body[0], "value", None), ast.Subscript)


def _found(app, doctree) -> tuple[str, list[tuple[str, nodes.Element, bool]]]:
    """Where the errors of this page come from (an example's file name or the docname),
    and each error with the block that shows it and whether an item access raised it."""
    example = guide.example_of(app, app.env.docname)
    found = []
    for block in doctree.findall(nodes.literal_block):
        if example is not None and (
            "sphx-glr-script-out" in block["classes"] or block.get("language") == "pytb"
        ):
            found += [(e, block, False) for e in guide.shown_errors(block.astext())]
        elif guide.test_kind(block) == "doctest":
            for part in doctest.DocTestParser().get_examples(block.astext()):
                errors = guide.shown_errors(part.exc_msg or "")
                found += [(e, block, _item_access(part.source)) for e in errors]
        elif guide.test_kind(block) == "testoutput":
            found += [(e, block, False) for e in guide.shown_errors(block.astext())[-1:]]
    return (example.name if example else app.env.docname), found


def collect(app, doctree) -> None:
    """Record the errors this page shows; give their blocks ids and labels."""
    env, docname = app.env, app.env.docname
    source, found = _found(app, doctree)
    entries = []
    for shown, block, access in found:
        if not block["ids"]:
            _give_id(doctree, block, "error " + shown)
        label = f"error-index:{docname}#{block['ids'][0]}".lower()
        env.domains.standard_domain.anonlabels[label] = (docname, block["ids"][0])
        entries.append(dict(source=source, shown=shown, label=label, access=access))
    _store(env)[docname] = entries
    _caption_raising_code(doctree, found)


def _give_id(doctree, node: nodes.Element, text: str) -> None:
    base = nodes.make_id(text)[:60].rstrip("-")
    anchor, n = base, 1
    while anchor in doctree.ids:
        n += 1
        anchor = f"{base}-{n}"
    node["ids"].append(anchor)
    doctree.ids[anchor] = node


def _caption_raising_code(doctree, found) -> None:
    """Caption the code a reader copies to run what raised: "raises KeyError"."""
    raised: dict[nodes.Element, list[str]] = {}
    for shown, block, _ in found:
        if guide.test_kind(block) != "doctest":  # the code just before an output
            before = block.parent.children[: block.parent.index(block)]
            codes = [b for b in before if isinstance(b, nodes.literal_block)]
            if not codes:  # a failed example's traceback, after no code of its own
                continue
            block = codes[-1]
        raised.setdefault(block, []).append(guide.EXCEPTION.match(shown).group(1))
    for code, kinds in raised.items():
        text = "raises " + ", ".join(dict.fromkeys(kinds))
        classes = ["literal-block-wrapper", "guide-raises"]
        wrapper = nodes.container("", literal_block=True, classes=classes)
        code.parent.replace(code, wrapper)
        wrapper += [nodes.caption(text, text), code]
        _give_id(doctree, wrapper, text)  # Sphinx links a code block's caption to it


def _store(env) -> dict[str, list[dict]]:
    if not hasattr(env, "guide_shown_errors"):
        env.guide_shown_errors = {}
    return env.guide_shown_errors


def purge(app, env, docname) -> None:
    _store(env).pop(docname, None)


def merge(app, env, docnames, other) -> None:
    _store(env).update({d: e for d, e in _store(other).items() if d in docnames})


def shown_errors(env) -> dict[str, list[str]]:
    """Every error this build shows: by example file name, or by page docname."""
    errors: dict[str, list[str]] = {}
    for docname in sorted(_store(env)):
        for entry in _store(env)[docname]:
            errors.setdefault(entry["source"], []).append(entry["shown"])
    return errors


def _index(env) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """{exception type: {shown error: [(docname, label), ...]}}, sorted."""
    index: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for docname in sorted(_store(env)):
        for entry in _store(env)[docname]:
            kind = guide.EXCEPTION.match(entry["shown"]).group(1)
            links = index.setdefault(kind, {}).setdefault(entry["shown"], [])
            if all(d != docname for d, _ in links):
                links.append((docname, entry["label"]))
    return {t: dict(sorted(index[t].items())) for t in sorted(index)}


def _older(env) -> list[dict]:
    """Other torch versions' wordings, which ``torch_matrix`` shares from its record."""
    return getattr(env, "guide_older_wordings", [])


def _first_label(env, script: str) -> tuple[str, str] | None:
    """(docname, label) of the first error shown by the example ``script``."""
    for docname, entries in sorted(_store(env).items()):
        for entry in entries:
            if entry["source"] == script:
                return docname, entry["label"]
    return None


class error_index(nodes.General, nodes.Element):
    """Where the index goes; replaced before references are resolved."""


class ErrorIndexDirective(Directive):
    def run(self):
        return [error_index()]


def _entry(env, shown: str, lead: str, links: list[tuple[str, str]]) -> nodes.list_item:
    """One error: its message (wrapped to the column by CSS), then where it is explained."""
    where = nodes.paragraph("", lead, classes=["error-index-where"])
    for n, (docname, label) in enumerate(links):
        title = env.titles[docname].astext()
        where += [nodes.Text(", ")] if n else []
        where += pending_xref(
            "",
            nodes.inline(title, title),
            refdomain="std",
            reftype="ref",
            reftarget=label,
            refexplicit=True,
            refwarn=True,
            refdoc=env.docname,
        )
    return nodes.list_item("", nodes.literal_block(shown, shown, language="none"), where)


class FillErrorIndex(SphinxPostTransform):
    default_priority = 5  # before sphinx's ReferencesResolver (10) resolves the links

    def run(self, **kwargs) -> None:
        for placeholder in list(self.document.findall(error_index)):
            placeholder.replace_self(self.content())

    def content(self) -> list[nodes.Node]:
        env, index = self.env, _index(self.env)
        sources = {e["source"] for entries in _store(env).values() for e in entries}
        examples = {s for s in sources if s.endswith(".py")}
        count = sum(len(messages) for messages in index.values())
        out = [
            nodes.paragraph(
                text=(
                    f"This site shows {count} distinct error messages, of {len(index)} exception "
                    f"types, in {len(examples)} examples and {len(sources) - len(examples)} pages."
                )
            )
        ]
        for kind, messages in index.items():
            section = nodes.section(ids=[nodes.make_id("errors " + kind)])
            section += nodes.title(kind, kind)
            items = [
                _entry(env, shown, "Explained on: ", links) for shown, links in messages.items()
            ]
            section += nodes.bullet_list("", *items, classes=["error-index"])
            out.append(section)
        older = [
            _entry(
                env,
                item["message"],
                f"torch {', '.join(item['versions'])}. Explained on: ",
                [first] if (first := _first_label(env, item["example"])) else [],
            )
            for item in _older(env)
        ]
        if older:
            section = nodes.section(ids=["errors-older-torch"])
            section += nodes.title("", "Older wordings (other torch versions)")
            section += nodes.paragraph(
                text=(
                    "The same errors, worded as older torch versions raise them (see the page "
                    "Across torch versions)."
                )
            )
            section += nodes.bullet_list("", *older, classes=["error-index"])
            out.append(section)
        return out


def reread_index_page(app, env) -> list[str]:
    return guide.pages_using(env, "error-index")


# The search page loads the errors as a script (fetch() fails from file://) and
# search-errors.js, which puts the pages that explain a pasted error first.
SEARCH_DATA = "search-errors-data.js"


def write_json(app):
    """Write the shown errors (JSON) and the search page's data, before the search page."""
    if app.builder.name not in ("html", "dirhtml"):
        return []
    env = app.env
    static = Path(app.outdir, "_static")
    static.mkdir(parents=True, exist_ok=True)
    (static / "error-index.json").write_text(
        json.dumps(shown_errors(env), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    anchors = env.domains.standard_domain.anonlabels
    entries = [e for each in _store(env).values() for e in each]
    access = {(e["label"], e["shown"]) for e in entries if e["access"]}

    # [docname, anchor, 1 if an item access raised it]
    def at(docname: str, label: str, shown: str = "") -> list:
        return [docname, "#" + anchors[label][1], int((label, shown) in access)]

    data = [
        {"shown": shown, "type": kind, "at": [at(*link, shown) for link in links]}
        for kind, messages in _index(env).items()
        for shown, links in messages.items()
    ]
    for item in _older(env):
        if first := _first_label(env, item["example"]):
            kind = guide.EXCEPTION.match(item["message"]).group(1)
            more = {"type": kind, "at": [at(*first)], "versions": item["versions"]}
            data.append({"shown": item["message"], **more})
    pages = sorted({where[0] for e in data for where in e["at"]})
    titles = {d: env.titles[d].astext() for d in pages}
    compact = {"separators": (",", ":"), "ensure_ascii": True}  # the search page's weight
    (static / SEARCH_DATA).write_text(
        f"var GUIDE_PAGE_TITLES = {json.dumps(titles, **compact)};\n"
        f"var GUIDE_SHOWN_ERRORS = {json.dumps(data, **compact)};\n",
        encoding="utf-8",
    )
    return []


def add_page_files(app, pagename, templatename, context, doctree) -> None:
    """The search page alone loads the errors and their scripts (guide.css styles the index)."""
    if pagename == "search" and app.builder.name in ("html", "dirhtml"):
        for script in (SEARCH_DATA, "search-errors.js", "search-words.js"):
            app.add_js_file(script)


def setup(app):
    app.setup_extension("guide")
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-updated", reread_index_page)
    app.connect("html-collect-pages", write_json)
    app.connect("html-page-context", add_page_files)
    app.add_node(error_index)
    app.add_directive("error-index", ErrorIndexDirective)
    app.add_post_transform(FillErrorIndex)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
