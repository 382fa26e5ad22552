"""What a page tells readers before they read it, and what its code blocks are.

* **A description for every page.** ``<meta name="description">`` (what search engines
  and link previews show) is the page's first paragraph of prose, shortened to about
  160 characters at a word boundary. Pages without a document (search, index) get
  the site's description.
* **Doctest blocks say what they hold.** Blocks of ``sphinx.ext.doctest``'s directives
  get a class naming their kind (``guide-doctest``, ``guide-testcode``,
  ``guide-testoutput``), so that tests/test_downloads.py can rebuild, from the HTML,
  the session a reader runs by pasting a page's code in order.
"""

from __future__ import annotations

import html
import re

from docutils import nodes

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
        if isinstance(paragraph.parent, nodes.list_item) or _skipped(paragraph):
            continue
        text = paragraph.astext().strip()
        if len(text) >= 40:
            return shorten(text)
    return SITE_DESCRIPTION


def add_description(app, pagename, templatename, context, doctree) -> None:
    text = description(doctree) if doctree is not None else SITE_DESCRIPTION
    tag = f'<meta name="description" content="{html.escape(text, quote=True)}" />\n'
    context["metatags"] = context.get("metatags", "") + tag


KINDS = ("doctest", "testcode", "testoutput")


def mark_block_kinds(app, doctree) -> None:
    for block in doctree.findall(nodes.literal_block):
        kind = block.get("testnodetype")
        if kind in KINDS:
            block["classes"].append(f"guide-{kind}")


def setup(app):
    app.connect("html-page-context", add_description)
    app.connect("doctree-read", mark_block_kinds)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
