"""The 404 page, opened from disk, finds its styles, scripts, images and links.

sphinx-notfound-page writes the 404 page with absolute URLs under
``notfound_urls_prefix`` ("/" or the path of the site's URL), so that a host can serve
it for a missing page at any depth. Opened from disk (``file://``), those URLs point at
the root of the file system. A short script, first in the page's head, rewrites them
there, and only there, to the folder of the page itself, the root of the site: each
element as it is parsed, so that the styles, scripts and links that follow are found.
"""

from __future__ import annotations

import json

SCRIPT = """<script>
if (location.protocol === "file:") {
  const prefix = %s;
  const root = location.href.replace(/[^/]*$/, "");
  const local = (element) => {
    for (const name of ["href", "src", "action"]) {
      const value = element.getAttribute(name);
      if (value && value.startsWith(prefix) && !value.startsWith("//")) {
        element.setAttribute(name, root + value.slice(prefix.length));
      }
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        local(node);
        node.querySelectorAll("[href], [src], [action]").forEach(local);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
}
</script>"""


def add_script(app, pagename, templatename, context, doctree) -> None:
    if pagename != app.config.notfound_pagename or app.builder.name != "html":
        return
    prefix = app.config.notfound_urls_prefix or "/"
    context["metatags"] = SCRIPT % json.dumps(prefix) + context.get("metatags", "")


def setup(app):
    app.connect("html-page-context", add_script)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
