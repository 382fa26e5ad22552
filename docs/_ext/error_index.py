"""The error index: every error message the site shows, linked to the block that shows it.

* **Examples.** An example page that shows an expected error defines a small ``raises``
  helper of its own, which prints the error with ``traceback.format_exception_only``, as
  Python prints a traceback's last lines. The examples run in the Sphinx process, so this
  extension wraps ``traceback.format_exception_only`` once (at ``config-inited``) and
  records each result returned to the ``raises`` function of the example that is running
  (the caller's ``co_filename`` is the example's file: sphinx-gallery compiles each block
  with it), and nothing else. sphinx-gallery's ``reset_modules`` hook says which example is about to
  run. Each example's errors are saved next to its outputs
  (``auto_examples/<example>.errors.json``), so an example that sphinx-gallery does not
  run again keeps them; a cached example without that file is run again (its ``.md5`` is
  deleted).
  An example that ends in an expected crash shows the traceback sphinx-gallery rendered
  as its last output: its error is indexed too.
* **Pages.** The doctest tracebacks of ``{doctest}`` blocks (their ``ExcType: message``
  line, which ``make doctest`` compares) and of ``{testoutput}`` blocks are read from
  each page's doctree.
* **Anchors.** The output block that shows an error gets an id (``error-...``), so a
  link lands on the error itself.
* **The index.** The ``error-index`` directive becomes one list per exception type: each
  message as a code block (wrapped to the column; the search indexes its words), then
  links to the blocks that show it. ``shown_errors(app)`` gives the same data to other
  code; HTML builds also write it to ``_static/error-index.json``.
* **Search.** HTML builds write ``_static/search-errors-data.js`` (every message with the
  page, title and anchor of each block that shows it), which the search page alone loads
  with ``search-errors.js``: a query that looks like one of these messages lists the
  blocks that show it first.
"""

from __future__ import annotations

import doctest
import functools
import hashlib
import json
import re
import sys
import traceback
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from guide import _as_list, example_source, gallery_dirs
from sphinx.addnodes import pending_xref
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

RECORD_SUFFIX = ".errors.json"
RECORD_VERSION = 1
JSON_OUTPUT = "_static/error-index.json"
# sphinx-gallery imports this by name (a callable would make the config unpicklable).
START_HOOK = "error_index.start_example"
HELPER = "raises"  # the function, defined by each page that shows errors, that prints them

# --- Recording the examples' errors ---------------------------------------------------

_running: dict[str, Path | str | None] = {"record": None, "fname": None}


def _record_file(gallery_conf: dict, fname: str) -> Path:
    """Where the errors of example ``fname`` (a file name in an examples dir) are saved."""
    src_dir = Path(gallery_conf["src_dir"])
    for examples, gallery in zip(
        _as_list(gallery_conf["examples_dirs"]), _as_list(gallery_conf["gallery_dirs"])
    ):
        # An example may sit in a sub-gallery (a sub-folder of the examples dir).
        for script in sorted((src_dir / examples).resolve().rglob(fname)):
            relative = script.relative_to((src_dir / examples).resolve())
            return src_dir / gallery / relative.with_name(script.stem + RECORD_SUFFIX)
    raise ExtensionError(f"error_index: {fname} is in no examples_dirs")


def _write(record: Path, errors: list[str]) -> None:
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"version": RECORD_VERSION, "errors": errors}, indent=1) + "\n")


def start_example(gallery_conf: dict, fname: str | None) -> None:
    """sphinx-gallery calls this before it runs an example (and with None per folder)."""
    if fname is None:
        return
    record = _record_file(gallery_conf, Path(fname).name)
    _running.update(record=record, fname=Path(fname).name)
    _write(record, [])  # an example that shows no error any more loses its old ones


def _read(record: Path) -> list[str] | None:
    if not record.is_file():
        return None
    data = json.loads(record.read_text())
    return data["errors"] if data.get("version") == RECORD_VERSION else None


def _recording(format_exception_only):
    """``traceback.format_exception_only``, which also saves what it formatted for code
    of the running example into that example's record."""

    @functools.wraps(format_exception_only)
    def recording_format_exception_only(*args, **kwargs):
        lines = format_exception_only(*args, **kwargs)
        record, caller = _running["record"], sys._getframe(1).f_code
        if (
            record is not None
            and caller.co_name == HELPER
            and Path(caller.co_filename).name == _running["fname"]
        ):
            _write(record, [*(_read(record) or []), "".join(lines).rstrip("\n")])
        return lines

    recording_format_exception_only.recorded = format_exception_only
    return recording_format_exception_only


def install(app, config) -> None:
    """Wrap ``traceback.format_exception_only``, hook into sphinx-gallery, rerun examples
    with no record."""
    if not hasattr(traceback.format_exception_only, "recorded"):
        traceback.format_exception_only = _recording(traceback.format_exception_only)
    gallery_conf = config.sphinx_gallery_conf
    if START_HOOK not in gallery_conf["reset_modules"]:
        gallery_conf["reset_modules"] = (*_as_list(gallery_conf["reset_modules"]), START_HOOK)
    if gallery_conf.get("parallel"):
        raise ExtensionError(
            "error_index sees only the examples run in the Sphinx process: set parallel=False"
        )
    examples_dirs = _as_list(gallery_conf["examples_dirs"])
    for examples, gallery in zip(examples_dirs, gallery_dirs(app)):
        for md5 in gallery.rglob("*.py.md5"):  # sub-galleries included
            script = Path(app.srcdir, examples, md5.name.removesuffix(".md5"))
            if _read(md5.parent / (script.stem + RECORD_SUFFIX)) is None:
                print(f"error_index: no error record for {script.name}; it runs again")
                md5.unlink()


# --- Finding every shown error in the doctrees ----------------------------------------

# The line that names the exception; indented lines after it continue its message.
EXC_LINE = re.compile(r"^((?:[A-Za-z_]\w*\.)*[A-Z]\w*)(?::|$)")


def _type_of(shown: str) -> str:
    return EXC_LINE.match(shown).group(1)


def _rendered(text: str) -> str:
    """Text as a page shows it in a code block: tabs expanded, no trailing spaces."""
    return "\n".join(line.expandtabs().rstrip() for line in text.rstrip("\n").splitlines())


def _message(text: str) -> str:
    """A traceback's last part from the line that names the exception (a SyntaxError's
    ``File`` lines come before it), as a page shows it."""
    lines = _rendered(text).splitlines()
    first = next(i for i, line in enumerate(lines) if EXC_LINE.match(line))
    return "\n".join(lines[first:])


def _page_errors(doctree) -> list[tuple[str, nodes.Element]]:
    """The errors a page's doctest and testoutput blocks show, with their blocks."""
    parser = doctest.DocTestParser()
    found = []
    for block in doctree.findall(nodes.literal_block):
        kind = block.get("testnodetype")
        if kind == "doctest":
            for example in parser.get_examples(block.astext()):
                if example.exc_msg:
                    found.append((_message(example.exc_msg), block))
        elif kind == "testoutput":
            match = doctest.DocTestParser._EXCEPTION_RE.match(block.astext())
            if match:
                found.append((_message(match.group("msg")), block))
    return found


def _example_errors(app, docname: str, doctree) -> list[tuple[str, nodes.Element]]:
    """The errors an example showed, each with the first output block (in order) that shows it."""
    script = example_source(app, docname)
    records = _read(Path(app.srcdir, docname).parent / (script.stem + RECORD_SUFFIX)) or []
    shown = [_message(record) for record in records]
    blocks = [
        b for b in doctree.findall(nodes.literal_block) if "sphx-glr-script-out" in b["classes"]
    ]
    found, start = [], 0
    for error in shown:
        at = next(
            (i for i in range(start, len(blocks)) if error in _rendered(blocks[i].astext())), None
        )
        if at is None:
            logger.warning(
                "error_index: %s is not in any output of %s", error, docname, location=docname
            )
            continue
        found.append((error, blocks[at]))
        start = at
    # An example may end in an error on purpose (an expected crash): sphinx-gallery
    # shows its traceback as the last output, and the error is the traceback's end.
    if blocks and blocks[-1].get("language") == "pytb":
        found.append((_message(blocks[-1].astext()), blocks[-1]))
    return found


def _anchor(doctree, block: nodes.Element, shown: str) -> str:
    if block["ids"]:
        return block["ids"][0]
    base = nodes.make_id("error " + shown)[:60].rstrip("-")
    anchor, n = base, 1
    while anchor in doctree.ids:
        n += 1
        anchor = f"{base}-{n}"
    block["ids"].append(anchor)
    doctree.ids[anchor] = block
    return anchor


def collect(app, doctree) -> None:
    """Record the errors this page shows, give their blocks ids and labels."""
    env, docname = app.env, app.env.docname
    page = Path(app.srcdir, docname)
    in_gallery = any(g in page.parents for g in gallery_dirs(app))  # sub-galleries too
    if in_gallery and page.name.startswith("plot_"):
        source, found = example_source(app, docname).name, _example_errors(app, docname, doctree)
    else:
        source, found = docname, _page_errors(doctree)
    std = env.domains.standard_domain
    entries = []
    for shown, block in found:
        anchor = _anchor(doctree, block, shown)
        label = f"error-index:{docname}#{anchor}".lower()
        std.anonlabels[label] = (docname, anchor)
        entries.append({"source": source, "shown": shown, "label": label})
    _store(env)[docname] = entries


def _store(env) -> dict[str, list[dict]]:
    if not hasattr(env, "guide_shown_errors"):
        env.guide_shown_errors = {}
        env.guide_error_index_pages = set()
    return env.guide_shown_errors


def purge(app, env, docname) -> None:
    _store(env).pop(docname, None)
    env.guide_error_index_pages.discard(docname)


def merge(app, env, docnames, other) -> None:
    _store(env).update({d: e for d, e in _store(other).items() if d in docnames})
    env.guide_error_index_pages |= other.guide_error_index_pages & set(docnames)


def shown_errors(app) -> dict[str, list[str]]:
    """Every error this build shows: by example script file name, or by page docname."""
    errors: dict[str, list[str]] = {}
    for docname in sorted(_store(app.env)):
        for entry in _store(app.env)[docname]:
            errors.setdefault(entry["source"], []).append(entry["shown"])
    return errors


def _index(env) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """{exception type: {shown error: [(docname, label), ...]}}, sorted."""
    index: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for docname in sorted(_store(env)):
        for entry in _store(env)[docname]:
            links = index.setdefault(_type_of(entry["shown"]), {}).setdefault(entry["shown"], [])
            if all(d != docname for d, _ in links):
                links.append((docname, entry["label"]))
    return {t: dict(sorted(index[t].items())) for t in sorted(index)}


def rewrite_index_pages(app, env) -> list[str]:
    """The index pages are written again whenever the index changed."""
    _store(env)
    older = _older_wordings(env)
    digest = hashlib.sha256(json.dumps([_index(env), older]).encode()).hexdigest()
    if getattr(env, "guide_error_index_digest", None) == digest:
        return []
    env.guide_error_index_digest = digest
    return sorted(env.guide_error_index_pages)


# --- The index page -------------------------------------------------------------------


class error_index(nodes.General, nodes.Element):
    """Where the index goes; replaced before references are resolved."""


class ErrorIndexDirective(Directive):
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        _store(env)
        env.guide_error_index_pages.add(env.docname)
        return [error_index()]


def _message_block(shown: str) -> nodes.literal_block:
    """The message as the page shows it: a code block, wrapped to the column by CSS."""
    return nodes.literal_block(shown, shown, language="none")


def _older_wordings(env) -> list[dict]:
    """Wordings other torch versions give the same errors, which another extension
    (``torch_matrix``, from ``make matrix``'s record) puts in ``env.guide_older_wordings``;
    none without it."""
    return getattr(env, "guide_older_wordings", [])


def _first_label(env, script: str) -> tuple[str, str] | None:
    """(docname, label) of the first error block of the gallery page of ``script``."""
    found = [
        (docname, entry["label"]) for docname, entries in sorted(_store(env).items())
        for entry in entries if entry["source"] == script
    ]
    return found[0] if found else None


def _xref(env, docname: str, label: str) -> pending_xref:
    title = env.titles[docname].astext()
    return pending_xref("", nodes.inline(title, title), refdomain="std", reftype="ref",
                        reftarget=label, refexplicit=True, refwarn=True, refdoc=env.docname)


def _example_link(env, script: str) -> nodes.Element:
    """A reference to the gallery page of ``script`` (a file name), by its label."""
    first = _first_label(env, script)
    if first is None:  # recorded on another torch by an example this tree no longer has
        return nodes.literal(script, script)
    return _xref(env, *first)


def _entry(message: nodes.Node, lead: str, links: list[nodes.Node]) -> nodes.list_item:
    """One error of the index: its message, then a line that links where it is explained."""
    where = nodes.paragraph(classes=["error-index-where"])
    where += nodes.Text(lead)
    for n, link in enumerate(links):
        if n:
            where += nodes.Text(", ")
        where += link
    return nodes.list_item("", message, where)


def _entries(items: list[nodes.list_item]) -> nodes.bullet_list:
    """A list of errors (not a table: a long message wraps in the column, and the links
    under it stay in view at any width)."""
    return nodes.bullet_list("", *items, classes=["error-index"])


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
        summary = nodes.paragraph(
            text=f"This site shows {count} distinct error messages, "
            f"of {len(index)} exception types, "
            f"in {len(examples)} examples and {len(sources) - len(examples)} pages."
        )
        out = [summary]
        for exc_type, messages in index.items():
            section = nodes.section(ids=[nodes.make_id("errors " + exc_type)])
            section += nodes.title(exc_type, exc_type)
            section += _entries([
                _entry(_message_block(shown), "Explained on: ",
                       [_xref(env, docname, label) for docname, label in links])
                for shown, links in messages.items()
            ])
            out.append(section)
        return out + self.older()

    def older(self) -> list[nodes.Node]:
        """Each older wording, with the versions that print it and the page that explains it."""
        older = _older_wordings(self.env)
        if not older:
            return []
        section = nodes.section(ids=["errors-older-torch"])
        title = "Older wordings (other torch versions)"
        section += nodes.title(title, title)
        section += nodes.paragraph(text=(
            "The same errors, worded as older torch versions raise them (see the page "
            "Across torch versions)."))
        section += _entries([
            _entry(_message_block(item["message"]),
                   f"torch {', '.join(item['versions'])}. Explained on: ",
                   [_example_link(self.env, item["example"])])
            for item in older
        ])
        return [section]


# --- What the search page knows of the errors -----------------------------------------

# The search page loads this data (a script, not JSON: fetch() fails from file://) and
# search-errors.js, which puts the pages that explain a pasted error first.
SEARCH_DATA = "search-errors-data.js"
SEARCH_SCRIPT = "search-errors.js"
SEARCH_WORDS = "search-words.js"  # in docs/_static: words readers use, the site's words
INDEX_STYLE = "error-index.css"  # in docs/_static


def _index_pages(env) -> set[str]:
    _store(env)
    return env.guide_error_index_pages


def search_data(app) -> list[dict]:
    """Every shown error with the blocks that show it: [{"shown", "type", "at": [[docname,
    "#anchor"], ...]}], and the older wordings (with their torch versions), sorted."""
    env = app.env
    anonlabels = env.domains.standard_domain.anonlabels

    def at(docname: str, label: str) -> list[str]:
        return [docname, "#" + anonlabels[label][1]]

    data = [
        {"shown": shown, "type": exc_type, "at": [at(*link) for link in links]}
        for exc_type, messages in _index(env).items()
        for shown, links in messages.items()
    ]
    for item in _older_wordings(env):
        first = _first_label(env, item["example"])
        if first is not None:
            data.append({"shown": item["message"], "type": _type_of(item["message"]),
                         "at": [at(*first)], "versions": item["versions"]})
    return data


def add_page_files(app, pagename, templatename, context, doctree) -> None:
    """The search page alone loads the errors and the script that matches them; the
    index pages alone load the index's style."""
    if pagename == "search" and app.builder.name in ("html", "dirhtml"):
        app.add_js_file(SEARCH_DATA)
        app.add_js_file(SEARCH_SCRIPT)
        app.add_js_file(SEARCH_WORDS)
    if pagename in _index_pages(app.env):
        app.add_css_file(INDEX_STYLE)


def write_json(app):
    """Write the shown errors (JSON) and the search page's data; at html-collect-pages,
    before the search page is written, so that its link to the data names the data's
    checksum."""
    if app.builder.name not in ("html", "dirhtml"):
        return []
    target = Path(app.outdir, JSON_OUTPUT)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(shown_errors(app), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    errors = search_data(app)
    pages = sorted({docname for error in errors for docname, _ in error["at"]})
    titles = {docname: app.env.titles[docname].astext() for docname in pages}
    compact = {"separators": (",", ":"), "ensure_ascii": True}  # the search page's weight
    Path(app.outdir, "_static", SEARCH_DATA).write_text(
        f"var GUIDE_PAGE_TITLES = {json.dumps(titles, **compact)};\n"
        f"var GUIDE_SHOWN_ERRORS = {json.dumps(errors, **compact)};\n",
        encoding="utf-8",
    )
    return []


def setup(app):
    app.setup_extension("guide")
    app.setup_extension("sphinx_gallery.gen_gallery")
    app.connect(
        "config-inited", install, priority=600
    )  # after sphinx-gallery fills its defaults (10)
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-updated", rewrite_index_pages)
    app.connect("html-collect-pages", write_json)
    app.connect("html-page-context", add_page_files)
    app.add_node(error_index)
    app.add_directive("error-index", ErrorIndexDirective)
    app.add_post_transform(FillErrorIndex)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
