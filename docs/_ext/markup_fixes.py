"""Fixes to what upstream packages write, each naming the bug and the version it is for.

Each has a canary in ``tests/test_upstream_canaries.py`` that fails once upstream
changes; the fix can then go. The markup, so that the pages validate (Nu, EPUBCheck):

* sphinx-gallery 0.22.1 ``directives.visit_imgsg_html`` writes a figure's ``alt``
  unescaped: a title with a quote breaks the tag. Escaped here.
* sphinx-gallery 0.22.1 ``backreferences.THUMBNAIL_TEMPLATE`` gives thumbnails a
  ``tooltip`` attribute, which is not HTML (``data-tooltip`` here, styled by
  ``guide.css``), and an empty ``:alt:`` (the example's title here: each card states it).
* sphinx-gallery 0.22.1 ``gen_rst.generate_dir_rst`` repeats ``id='sg-tag-list'`` under
  each sub-gallery's header: only the first keeps it.
* sphinx-gallery 0.22.1 ``_doctree_links.visit_code_links_block_html`` drops a linked
  code block's classes (the article's quote is ``guide-article-quote``): written here.
* furo 2025.12.19 ``navigation.get_navigation_tree`` gives the navigation's checkboxes
  ``role="switch"`` without ``aria-checked``: the role goes.
* Sphinx 9.0 ``singlehtml`` repeats ids across pages, writes ``#document-page#label``
  (two ``#``) and links ``genindex.html`` and ``search.html``, which it does not write:
  ids are made unique, links point at the single page's anchors, the two links go.

The styles, in ``docs/_static/markup-fixes.css``: sphinx-gallery 0.22.1's
``sg_gallery.css`` hides a thumbnail link's text (no accessible name; hidden from sight
only here), and shows tracebacks on ``#ffe4e4``, under WCAG AA's contrast for furo's
keyword colour (lighter here).

What sphinx-gallery 0.22.1 writes, fixed after it ran (``builder-inited``):

* ``gen_rst.execute_code_block`` compiles an example under its absolute path, so a
  traceback or a TorchScript error names the build folder: the pages show the paths
  ``python plot_x.py`` prints in the example's folder.
* ``gen_gallery`` zips the downloads with the files' times: written again with one
  fixed time (``guide.write_zip``), so that two builds give the same bytes.
* ``notebook.rst2md`` leaves reST roles in a notebook's Markdown: each becomes its text,
  a bare example label that example's title in italics.
"""
from __future__ import annotations

import html
import json
import os
import re
import sysconfig
import zipfile
from pathlib import Path

import guide
from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx_gallery import _doctree_links as sg_links
from sphinx_gallery import directives as sg_directives

# The thumbnail template's attribute, as sphinx-gallery writes it into the gallery index.
TOOLTIP = re.compile(r'(<div class="sphx-glr-thumbcontainer"[^>]*?) tooltip="')
NAVIGATION_SWITCH = ' role="switch"'
STYLE_FIXES = "markup-fixes.css"  # in docs/_static


def visit_imgsg_html_escaped(self, node) -> None:
    """sphinx-gallery's HTML visitor for its images, with the ``alt`` text escaped."""
    alt = node["alt"]
    node["alt"] = html.escape(alt, quote=True)
    try:
        sg_directives.visit_imgsg_html(self, node)
    finally:
        node["alt"] = alt


def visit_code_links_block_with_classes(self, node) -> None:
    """sphinx-gallery's wrapper of a linked code block, with the block's classes."""
    start = len(self.body)
    sg_links.visit_code_links_block_html(self, node)
    opening = f'<div class="highlight-{sg_links._sanitize_css_class(node["lang"])} notranslate">'
    if node["classes"] and self.body[start].startswith(opening):
        classes = " ".join(html.escape(c) for c in node["classes"])
        self.body[start] = self.body[start].replace('notranslate">', f'notranslate {classes}">', 1)


TAG_LIST = "<div id='sg-tag-list' class='sphx-glr-tag-list'></div>"
# A thumbnail as THUMBNAIL_TEMPLATE writes it: its empty alt, then (after the link) its title.
EMPTY_ALT = re.compile(
    r"(?P<image>\.\. image:: /\S+\n\s+:alt:)(?P<link>\n\n\s+:doc:`[^`]+`\n\n\.\. raw:: html\n\n"
    r"\s+<div class=\"sphx-glr-thumbnail-title\">)(?P<title>[^<\n]+)</div>"
)


def _alt_from_title(match: re.Match) -> str:
    return f"{match['image']} {html.unescape(match['title'])}{match['link']}{match['title']}</div>"


def thumbnails_without_tooltip_attribute(app, docname: str, source: list[str]) -> None:
    """Rename the thumbnails' ``tooltip`` attribute to ``data-tooltip``; give each the
    alt text of its title; one tag list."""
    if "sphx-glr-thumbcontainer" in source[0]:
        source[0] = TOOLTIP.sub(r'\1 data-tooltip="', source[0])
        source[0] = EMPTY_ALT.sub(_alt_from_title, source[0])
    first, found, rest = source[0].partition(TAG_LIST)
    if found:
        without_id = TAG_LIST.replace(" id='sg-tag-list'", "")
        source[0] = first + found + rest.replace(TAG_LIST, without_id)


def navigation_without_switch_role(app, pagename, templatename, context, doctree) -> None:
    """Drop ``role="switch"`` from furo's navigation checkboxes (runs after furo's hook)."""
    tree = context.get("furo_navigation_tree")
    if tree:
        context["furo_navigation_tree"] = tree.replace(NAVIGATION_SWITCH, "")


DOUBLE_ANCHOR = re.compile(r"^#document-([^#]+)#(.+)$")


def _pages(node, page: str):
    """Each element of the single page with the page it came from.

    Sphinx moves each page's nodes under a ``start_of_file`` node without updating
    their ``parent``, so the page is tracked while walking down from the root.
    """
    if isinstance(node, addnodes.start_of_file):
        page = node["docname"]
    yield node, page
    for child in node.children:
        if isinstance(child, nodes.Element):
            yield from _pages(child, page)


def single_page_anchors(app, doctree, docname: str) -> None:
    """Make the ids of the single page unique and every reference point at one of them."""
    if app.builder.name != "singlehtml":
        return
    elements = list(_pages(doctree, docname))
    renamed: dict[tuple[str, str], str] = {}  # (page, old id) -> new id
    seen: set[str] = set()
    for node, page in elements:
        ids = node.get("ids", [])
        for i, old in enumerate(ids):
            if old in seen:
                ids[i] = nodes.make_id(f"{page}-{old}")
                renamed[(page, old)] = ids[i]
            seen.add(ids[i])
    for node, page in elements:
        if isinstance(node, nodes.reference):
            _fix_reference(node, page, renamed)
        elif isinstance(node, nodes.raw) and "html" in node.get("format", "").split():
            text = RAW_ID.sub(lambda m: _first_id(m, seen), node.astext())
            node.children = [nodes.Text(text)]


RAW_ID = re.compile(r"""\sid=(['"])([^'"]+)\1""")


def _first_id(match, seen: set[str]) -> str:
    """A raw HTML id kept where it first occurs (sphinx-gallery's tag list), dropped after."""
    if match.group(2) in seen:
        return ""
    seen.add(match.group(2))
    return match.group(0)


def _fix_reference(ref, page: str, renamed: dict[tuple[str, str], str]) -> None:
    if ref.get("refid") and (page, ref["refid"]) in renamed:
        ref["refid"] = renamed[(page, ref["refid"])]
    uri = ref.get("refuri", "")
    double = DOUBLE_ANCHOR.match(uri)
    if double:
        target, anchor = double.groups()
        ref["refuri"] = "#" + renamed.get((target, anchor), anchor)
    elif uri.startswith("#") and (page, uri[1:]) in renamed:
        ref["refuri"] = "#" + renamed[(page, uri[1:])]


NAV_DOUBLE_ANCHOR = re.compile(r'href="#document-[^"#]+#([^"]+)"')


def single_page_without_missing_pages(app, pagename, templatename, context, doctree) -> None:
    """The single page has no index or search page to link to; one ``#`` per link."""
    if app.builder.name != "singlehtml":
        return
    if "hasdoc" in context:
        hasdoc = context["hasdoc"]
        context["hasdoc"] = lambda name: name not in ("genindex", "search") and hasdoc(name)
    for key, value in list(context.items()):
        if isinstance(value, str) and "#document-" in value:
            context[key] = NAV_DOUBLE_ANCHOR.sub(r'href="#\1"', value)


# ---- What sphinx-gallery writes -----------------------------------------------------

logger = logging.getLogger(__name__)


def portable(text: str, example: Path) -> str:
    """An example page's file paths as ``python plot_x.py`` in its folder prints them."""
    roots = {sysconfig.get_paths()[k] for k in ("purelib", "platlib", "stdlib")}
    for root in sorted({str(example.parent), *roots}, key=len, reverse=True):
        text = text.replace(f'File "{root}{os.sep}', 'File "')
    return text


# What notebook.rst2md leaves of a role: :role:`text <target>`, :role:`target`, and of a
# :ref: its title and label, `title <sphx_glr_...>`, or its bare label `sphx_glr_...`.
NOTEBOOK_ROLE = re.compile(
    r"(?::[\w:-]+:)?`(?P<text>[^`<]+?)\s*<(?P<target>[^`<>\s]+)>`(?!_)"
    r"|:[\w:-]+:`(?P<bare>[^`]+)`|`(?P<label>sphx_glr_[\w.]+)`"
)


def notebook_text(text: str, titles: dict[str, str]) -> str:
    """A notebook's Markdown with every reST role as plain text."""

    def plain(match) -> str:
        label = match["bare"] or match["label"]
        if match["text"]:
            return match["text"]
        if label.startswith("sphx_glr_"):
            return f"*{titles[label]}*"
        return label

    return NOTEBOOK_ROLE.sub(plain, text)


def fix_outputs(app) -> None:
    """Pages with portable paths, notebooks without reST roles, zips with fixed times."""
    pages = [(src, page) for src, page in guide.examples(app) if page.is_file()]
    titles = {}
    for src, page in pages:
        text = page.read_text(encoding="utf-8")
        titles[guide.label(app, page)] = guide.title(text)
        if portable(text, src) != text:
            page.write_text(portable(text, src), encoding="utf-8")
    for _, page in pages:
        notebook = page.with_suffix(".ipynb")
        data = json.loads(notebook.read_text(encoding="utf-8"))
        for cell in data["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = notebook_text("".join(cell["source"]), titles)
        fixed = json.dumps(data, indent=2)
        if fixed != notebook.read_text(encoding="utf-8"):
            notebook.write_text(fixed, encoding="utf-8")
    for gallery in {page.parent.parent for _, page in pages}:
        for archive in sorted(gallery.rglob("*.zip")):
            with zipfile.ZipFile(archive) as old:  # each file as it is now
                current = [(n, archive.parent / n) for n in old.namelist()]
                entries = [(n, f.read_bytes() if f.is_file() else old.read(n)) for n, f in current]
            guide.write_zip(archive, entries)


def setup(app):
    app.add_node(
        sg_directives.imgsgnode,
        override=True,
        html=(visit_imgsg_html_escaped, sg_directives.depart_imgsg_html),
    )
    app.add_node(
        sg_links.code_links_block,
        override=True,
        html=(visit_code_links_block_with_classes, sg_links.depart_code_links_block_html),
    )
    app.add_css_file(STYLE_FIXES, priority=900)  # after sphinx-gallery's styles (500)
    app.connect("source-read", thumbnails_without_tooltip_attribute)
    # furo fills furo_navigation_tree at the default priority (500).
    app.connect("html-page-context", navigation_without_switch_role, priority=900)
    app.connect("html-page-context", single_page_without_missing_pages)
    app.connect("doctree-resolved", single_page_anchors)
    # After sphinx-gallery ran the examples and wrote the downloads (priority 500).
    app.connect("builder-inited", fix_outputs, priority=800)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
