"""Sphinx configuration of *ModuleDict, corrected*.

Run with the configuration directory ``.`` and the source directory ``docs/``
(see the Makefile). Custom behaviour lives in small modules in ``docs/_ext/``.
"""

import doctest
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent
# docs/_ext holds the local Sphinx extensions.
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

project = "ModuleDict, corrected"
author = "the ModuleDict, corrected authors"
copyright = "2026, " + author  # a fixed year keeps builds reproducible
version = release = "1.0"  # the EPUB requires one
epub_basename = "moduledict-corrected"
# sphinx-gallery puts its JupyterLite badge (unused here) into _static; its SVG declares
# external entities, which EPUB 3 forbids.
epub_exclude_files = [
    "_static/jupyterlite_badge_logo.svg",
    # The link previews' card (below): an EPUB shows no link preview.
    "_static/link-preview.png",
]

extensions = [
    "notfound.extension",
    "notfound_from_disk",
    "myst_parser",
    "sphinx.ext.doctest",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
    "sphinxext.opengraph",
    "guide",
    "api_coverage",
    "error_index",
    "markup_fixes",
    "verdict_cards",
    "article_quote",
    "claims_ledger",
    "expected_crash",
    "reader_pages",
    "typecheck",
    "torch_matrix",  # the examples on other torch versions (make matrix)
]

# sphinx-gallery writes its pages, notebooks and scripts next to the sources.
exclude_patterns = ["auto_examples/*.ipynb", "auto_examples/*.py"]

# Sphinx's default adds IGNORE_EXCEPTION_DETAIL, which would accept a traceback whose
# message differs: an error a page shows is checked by type and message.
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# A literal block is Python only when it says so; see tests/test_claims.py.
highlight_language = "none"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every example is executed
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",  # plot_article_example1, 2, 3, ...
    # The execution-times page loads jQuery and DataTables from CDNs.
    "write_computation_times": False,
    # Running times differ from build to build; not showing them keeps pages reproducible.
    "min_reported_time": 10**9,
    # Each figure also drawn at twice its dots per inch, for screens of high density.
    "image_srcset": ["2x"],
    # The examples run in one process per core.
    "parallel": os.cpu_count() or 1,
}

# The example that ends in an error on purpose, and the error, as Python prints it
# (docs/_ext/expected_crash.py; sphinx-gallery's expected_failing_examples).
expected_crash_messages = {
    "article/plot_article_example2_crashes_as_written.py": (
        r"^RuntimeError: mat1 and mat2 shapes cannot be multiplied \(1x5 and 10x5\)$"
    ),
}

html_theme = "furo"
html_title = project
html_static_path = ["docs/_static"]  # relative to this file, not to docs/
html_css_files = ["guide.css"]
html_js_files = ["guide.js", "search-summary.js"]
html_favicon = "docs/_static/favicon.svg"
# Search results show excerpts when the site is served; docs/_static/search-summary.js
# turns them off where the site is read from disk (file://), where fetch() fails.
html_show_search_summary = True
html_last_updated_fmt = None
# The error index ranks low for a query that is not an error (see the file).
html_search_scorer = str(ROOT / "docs" / "_static" / "search-scorer.js")

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# Where the site is published: Read the Docs sets READTHEDOCS_CANONICAL_URL, other hosts
# set SITE_URL (the GitHub workflow does). Pages then name it as their canonical URL;
# unset (make html, make serve), they name none.
html_baseurl = os.environ.get("READTHEDOCS_CANONICAL_URL") or os.environ.get("SITE_URL", "")
# The 404 page uses absolute links so that it works at any depth: they start with the
# path of that URL ("/" when unset).
notfound_urls_prefix = urlparse(html_baseurl).path or "/"

# Link previews (Open Graph), by sphinxext-opengraph. Its URLs are absolute where the
# site's URL is known; a local build, which no preview reads, has relative ones.
ogp_site_url = html_baseurl
# docs/_ext/reader_pages.py chooses each page's description (it says why) and writes
# <meta name="description">.
ogp_enable_meta_description = False
# One card for every page, a PNG of 1200 × 630 pixels drawn once; the library's
# per-page cards would draw every page with matplotlib at every build.
ogp_image = "_static/link-preview.png"
ogp_image_alt = (
    "ModuleDict, corrected: item access returns the registered module; "
    "gradients are the same whichever lookup you use."
)
ogp_custom_meta_tags = [
    # The card's size lets a preview show it from the first share; the large card,
    # rather than a thumbnail beside the text, is what the image was drawn for.
    '<meta property="og:image:width" content="1200" />',
    '<meta property="og:image:height" content="630" />',
    '<meta name="twitter:card" content="summary_large_image" />',
]
