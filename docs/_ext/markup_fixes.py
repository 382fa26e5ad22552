"""Build-time fixes for markup that upstream packages emit, so the pages validate.

The site's HTML is checked with the Nu HTML Checker and its EPUB with EPUBCheck
(``tests/test_validators.py``). Where the invalid markup comes from a package we do not
maintain, it is corrected here, each fix naming its upstream cause:

* **sphinx-gallery 0.22.1, ``directives.visit_imgsg_html``** writes a figure's ``alt``
  text into an ``<img>`` tag without escaping it: a figure title with a quote breaks the
  tag (the Nu checker: "Quote in attribute name"; EPUBCheck: a fatal XML error).
* **sphinx-gallery 0.22.1, ``backreferences.THUMBNAIL_TEMPLATE``** gives each gallery
  thumbnail a ``tooltip`` attribute, which is not HTML. It becomes ``data-tooltip`` and
  ``guide.css`` shows it the way sphinx-gallery's stylesheet showed ``tooltip``.
* **sphinx-gallery 0.22.1, ``backreferences.THUMBNAIL_TEMPLATE``** gives every thumbnail
  an empty ``:alt:``, as if it were decoration; each of ours is a card that states the
  example's finding (``verdict_cards.py``). Its alt text becomes the example's title,
  which the template writes under the card.
* **sphinx-gallery 0.22.1, ``gen_rst.generate_dir_rst``** writes an empty
  ``<div id='sg-tag-list'>`` (where its script lists example tags) under every
  gallery header: with sub-galleries the gallery index repeats that id. Only the first
  keeps it (sphinx-gallery's script looks it up by id, once).
* **sphinx-gallery 0.22.1, ``_doctree_links.visit_code_links_block_html``** renders an
  example's code block (once it swapped it for a ``code_links_block`` to link names to
  their documentation) as ``<div class="highlight-<lang> notranslate">`` without the
  block's own classes, which it copied onto the node: a class given to a block (the
  article's code is ``guide-article-quote``, wrapped by ``guide.css``) never reaches the
  page. The visitor here writes them.
* **furo 2025.12.19, ``navigation.get_navigation_tree``** marks the checkbox that opens a
  section of the navigation with ``role="switch"`` but no ``aria-checked``, which that
  role requires. Without the role it is a native checkbox, whose checked state browsers
  expose to assistive technology as the reader toggles it.
* **Sphinx 9.0 ``singlehtml``** puts every page into one document, so ids repeat (each
  example has a "Conclusion" section), a reference to a label on another page becomes
  ``#document-page#label`` (two ``#``; Sphinx's own ``fix_refuris`` that undid this is
  deprecated and no longer called), and ``<link rel="index">``/``rel="search"`` point
  to ``genindex.html`` and ``search.html``, which that builder does not write. Each is
  rewritten to the single page's own anchors; in the navigation, which Sphinx renders
  apart from the page, too. (Raw HTML links to ``page.html``, which neither the single
  page nor the EPUB's ``.xhtml`` pages would have, are not fixed but avoided: the site's
  own extensions render docutils nodes, which every builder links; tests/
  test_offline_formats.py fails on a raw HTML link to a page.)

Two fixes are to upstream styles, in ``docs/_static/markup-fixes.css`` (added here):

* **sphinx-gallery 0.22.1, ``sg_gallery.css``** hides the text of each thumbnail's link
  (``display: none``): the link has no accessible name. The text is hidden from sight
  only.
* **sphinx-gallery 0.22.1, ``sg_gallery.css``** shows a traceback on ``#ffe4e4``, where
  furo's keyword colour falls under WCAG AA's contrast; the light background is lighter.

Two fixes are to what sphinx-gallery runs and writes:

* **sphinx-gallery 0.22.1, ``gen_rst._exec_and_get_memory``** compiles an example's code
  under the absolute path of its source (``script_vars["src_file"]``), from the example's
  folder; ``python plot_x.py`` run there compiles it under its base name. Messages that
  quote the source file (TorchScript's errors do) would carry the build folder: the code
  is compiled under the base name instead, so the page shows what the reader's run
  prints.
* **sphinx-gallery 0.22.1, ``gen_gallery``** writes the zips of an example's downloads
  with the files' modification times: they are rewritten with one fixed time, so that
  two builds give the same bytes. sphinx-gallery writes the zips of a whole gallery
  (``downloads.generate_zipfiles``) at every build and keeps the old file only when
  its own new zip has the same bytes, which a zip with fixed times never has: a zip
  that ends up with the bytes it had before the build gets its former modification
  time back, or Sphinx would read the gallery's index again (it links the zip) and
  write it again, at every build.

One fix is to a download rather than to the pages:

* **sphinx-gallery 0.22.1, ``notebook.rst2md``** drops the ``:ref:`` of a
  cross-reference and leaves the rest as it was, so a downloaded notebook shows
  "`title <sphx_glr_auto_examples_..._plot_x.py>`" or a bare
  "`sphx_glr_auto_examples_..._plot_x.py`": a Sphinx label, which means nothing in
  Jupyter. After sphinx-gallery has written the notebooks, each such reference becomes
  plain text: its title, or for a bare label the linked example's title in italics. (A
  relative link would not resolve: a downloaded notebook is not next to the pages.) The
  zips that hold notebooks are then written again from the fixed notebooks.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import zipfile
from pathlib import Path

from docutils import nodes
from guide import gallery_dirs
from sphinx import addnodes
from sphinx.util import logging
from sphinx_gallery import _doctree_links as sg_links
from sphinx_gallery import directives as sg_directives

# The thumbnail template's attribute, as sphinx-gallery writes it into the gallery index.
TOOLTIP = re.compile(r'(<div class="sphx-glr-thumbcontainer"[^>]*?) tooltip="')
NAVIGATION_SWITCH = ' role="switch"'
STYLE_FIXES = "markup-fixes.css"  # in docs/_static
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold


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
        self.body[start] = self.body[start].replace(
            'notranslate">', f'notranslate {classes}">', 1)


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


# ---- Notebooks: cross-references as plain text -------------------------------------

logger = logging.getLogger(__name__)

# What sphinx-gallery 0.22.1's notebook.rst2md leaves of :ref:`title <label>` and :ref:`label`.
NOTEBOOK_REF = re.compile(
    r"`(?:(?P<title>[^`<]+?)\s*<(?P<label>sphx_glr_[^`<>\s]+)>|(?P<bare>sphx_glr_[^`<>\s]+))`"
)
# An example's label and title, as sphinx-gallery writes them at the top of its page.
EXAMPLE_LABEL = re.compile(r"^\.\. _(sphx_glr_\S+):\n\n+(.+)\n=+\n", re.MULTILINE)


def example_titles(galleries: list[Path]) -> dict[str, str]:
    """Every example's label, with its title."""
    titles = {}
    for gallery in galleries:
        for page in sorted(gallery.rglob("*.rst")):
            for label, title in EXAMPLE_LABEL.findall(page.read_text(encoding="utf-8")):
                titles[label] = title.strip()
    return titles


def notebook_text_without_refs(text: str, titles: dict[str, str]) -> str:
    """``text`` of a notebook's Markdown cell, its cross-references as plain text."""

    def plain(match) -> str:
        label = match["label"] or match["bare"]
        if label not in titles:
            raise ValueError(f"a notebook refers to {label}, which no example is")
        return match["title"] if match["title"] else f"*{titles[label]}*"

    return NOTEBOOK_REF.sub(plain, text)


def fixed_notebook(notebook: dict, titles: dict[str, str]) -> dict:
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            source = cell["source"]
            text = "".join(source) if isinstance(source, list) else source
            text = notebook_text_without_refs(text, titles)
            cell = {**cell, "source": [text] if isinstance(source, list) else text}
        cells.append(cell)
    return {**notebook, "cells": cells}


def rebuild_zip(archive: Path) -> None:
    """Write a gallery zip again from the current files, with fixed times and order."""

    with zipfile.ZipFile(archive) as old:
        entries = []
        for info in old.infolist():
            current = archive.parent / info.filename
            data = current.read_bytes() if current.is_file() else old.read(info)
            entries.append((info.filename, info.external_attr, data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as new:
        for name, attributes, data in entries:
            fixed = zipfile.ZipInfo(name, ZIP_TIME)
            fixed.external_attr = attributes
            new.writestr(fixed, data, zipfile.ZIP_DEFLATED)
    if archive.read_bytes() != buffer.getvalue():
        archive.write_bytes(buffer.getvalue())


def notebooks_without_raw_refs(app) -> None:
    """Rewrite the gallery's notebooks (idempotent), then the zips that hold them."""
    galleries = [g for g in gallery_dirs(app) if g.is_dir()]
    titles = example_titles(galleries)
    for gallery in galleries:
        for path in sorted(gallery.rglob("*.ipynb")):
            text = path.read_text(encoding="utf-8")
            try:
                fixed = json.dumps(fixed_notebook(json.loads(text), titles), indent=2)
            except ValueError as error:  # a warning: the build goes on, and then fails
                logger.warning("%s: %s (left as it is)", path.name, error)
                continue
            if fixed != text:  # sphinx-gallery's save_notebook writes indent=2, ASCII
                path.write_text(fixed, encoding="utf-8")
        for archive in sorted(gallery.rglob("*.zip")):
            rebuild_zip(archive)


def _zips(app) -> dict[Path, tuple[str, int]]:
    """Every gallery zip: the sha256 of its bytes and its modification time (ns)."""
    return {
        archive: (hashlib.sha256(archive.read_bytes()).hexdigest(), archive.stat().st_mtime_ns)
        for gallery in gallery_dirs(app) if gallery.is_dir()
        for archive in sorted(gallery.rglob("*.zip"))
    }


def remember_zips(app) -> None:
    """Before sphinx-gallery writes the zips: what they hold and when they were written."""
    app.markup_fixes_zips = _zips(app)


def normalize_zips(app) -> None:
    """Give every entry of the gallery's zips the same time (runs after sphinx-gallery);
    a zip with the bytes it had before the build keeps its modification time."""
    _normalize_zips(app)
    before = getattr(app, "markup_fixes_zips", {})
    for archive, (digest, written) in _zips(app).items():
        if archive in before and before[archive][0] == digest and before[archive][1] != written:
            os.utime(archive, ns=(archive.stat().st_atime_ns, before[archive][1]))


def _normalize_zips(app) -> None:
    for gallery in gallery_dirs(app):
        for archive in gallery.rglob("*.zip"):
            with zipfile.ZipFile(archive) as old:
                if all(info.date_time == ZIP_TIME for info in old.infolist()):
                    continue
                entries = [(info, old.read(info)) for info in old.infolist()]
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as new:
                for info, data in entries:
                    fixed = zipfile.ZipInfo(info.filename, ZIP_TIME)
                    fixed.external_attr = info.external_attr
                    new.writestr(fixed, data, zipfile.ZIP_DEFLATED)


def compile_examples_under_base_name(app, config) -> None:
    """Make sphinx-gallery compile each example block under its file's base name.

    sphinx-gallery 0.22.1 compiles a block with ``script_vars["src_file"]`` (absolute)
    in ``gen_rst._exec_and_get_memory``, with the example's folder as the working
    directory, so the base name still finds the file (``inspect``, ``linecache``).
    """
    from sphinx_gallery import gen_rst

    run = gen_rst._exec_and_get_memory
    if getattr(run, "under_base_name", False):
        return

    def under_base_name(compiler, *, script_vars, **kwargs):
        named = dict(script_vars, src_file=Path(script_vars["src_file"]).name)
        return run(compiler, script_vars=named, **kwargs)

    under_base_name.under_base_name = True
    gen_rst._exec_and_get_memory = under_base_name


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
    # After sphinx-gallery writes the notebooks and zips (priority 500), before
    # normalize_zips (900).
    app.connect("builder-inited", notebooks_without_raw_refs, priority=800)
    app.connect("builder-inited", remember_zips, priority=400)  # before sphinx-gallery
    app.connect("builder-inited", normalize_zips, priority=900)
    app.connect("config-inited", compile_examples_under_base_name)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
