"""What a page tells readers before they read it: its description.

* **A description for every page.** sphinxext-opengraph writes each page's link preview
  (conf.py, ``ogp_*``). Its own description is the start of the page's whole text: on
  our pages that is the example pages' build stamp and download buttons, and (0.13.0)
  it cuts ``&quot;`` in half and drops the space before ``(`` and ``.``. So the
  description is chosen here: the page's first paragraph of prose, shortened to about
  160 characters at a word boundary, given to the library as the page's
  ``og:description`` field (a field list the page writes itself wins) and written as
  ``<meta name="description">``. Pages without a document (search, index, 404), which
  the library skips, get the site's description.
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from sphinx import addnodes

SITE_DESCRIPTION = (
    "A guide to torch.nn.ModuleDict in which every snippet runs at build time: item access "
    "returns the registered module, and gradients are the same whichever lookup you use."
)
# The stamp, sphinx-gallery's download note, buttons, outputs and signature are not prose.
SKIPPED_CLASSES = {
    "guide-stamp",
    "sphx-glr-download-link-note",
    "sphx-glr-footer",
    "sphx-glr-script-out",
    "sphx-glr-signature",
}
LIMIT = 160
FIELD = "og:description"


def _skipped(node: nodes.Node) -> bool:
    while node is not None:
        if isinstance(node, (nodes.Admonition, nodes.note, nodes.sidebar, nodes.topic)):
            return True
        if isinstance(node, nodes.Element) and SKIPPED_CLASSES & set(node.get("classes", [])):
            return True
        node = node.parent
    return False


def shorten(text: str, limit: int = LIMIT) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def description(doctree) -> str:
    for paragraph in doctree.findall(nodes.paragraph):
        # A toctree is a paragraph of its entries' titles, joined without a separator.
        if isinstance(paragraph, addnodes.compact_paragraph):
            continue
        if isinstance(paragraph.parent, nodes.list_item) or _skipped(paragraph):
            continue
        text = paragraph.astext().strip()
        if len(text) >= 40:
            return shorten(text)
    return SITE_DESCRIPTION


def add_description(app, pagename, templatename, context, doctree) -> None:
    """Give the page's description to sphinxext-opengraph as its ``og:description``
    field, HTML-escaped (the library writes fields as they are), and write it as the
    page's ``<meta name="description">``."""
    fields = dict(context.get("meta") or {})
    if FIELD not in fields:
        text = description(doctree) if doctree is not None else SITE_DESCRIPTION
        fields[FIELD] = html.escape(text)
    context["meta"] = fields
    # A field the page writes itself is plain text; its quotes are escaped as the
    # library escapes them.
    content = fields[FIELD].replace('"', "&quot;")
    context["metatags"] = context.get("metatags", "") + (
        f'<meta name="description" content="{content}" />\n'
    )


def setup(app):
    # Before sphinxext-opengraph's handler (priority 500) reads the page's fields.
    app.connect("html-page-context", add_description, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
