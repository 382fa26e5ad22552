"""Sphinx configuration of *ModuleDict, corrected*.

Run with the configuration directory ``.`` and the source directory ``docs/``
(see the Makefile). Custom behaviour lives in ``docs/_ext/guide.py``.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent
# docs/_ext holds the local Sphinx extension; examples/ holds _guide.py, the helpers
# shared by the examples and the doctests.
sys.path[:0] = [str(ROOT / "docs" / "_ext"), str(ROOT / "examples")]

project = "ModuleDict, corrected"
author = "the ModuleDict, corrected authors"
copyright = "2026, " + author  # a fixed year keeps builds reproducible
version = release = "1.0"  # the EPUB requires one
epub_basename = "moduledict-corrected"

extensions = [
    "notfound.extension",
    "myst_parser",
    "sphinx.ext.doctest",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
    "guide",
    "torch_matrix",  # the examples on other torch versions (make matrix)
]

# sphinx-gallery writes its pages, notebooks and scripts next to the sources.
exclude_patterns = ["auto_examples/*.ipynb", "auto_examples/*.py"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# A literal block is Python only when it says so; see tests/test_claims.py.
highlight_language = "none"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every example is executed ...
    "ignore_pattern": r"^_",  # ... except the helper module _guide.py
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",  # plot_article_example1, 2, 3, ...
    # The execution-times page loads jQuery and DataTables from CDNs.
    "write_computation_times": False,
    # Running times differ from build to build; not showing them keeps pages reproducible.
    "min_reported_time": 10**9,
}

doctest_global_setup = """
import torch
from torch import nn
from _guide import expect_error
"""

html_theme = "furo"
html_title = project
html_static_path = ["docs/_static"]  # relative to this file, not to docs/
html_css_files = ["guide.css"]
html_js_files = ["guide.js"]
html_favicon = "docs/_static/favicon.svg"
# Search result summaries fetch() each page, which fails when the site is read from disk.
html_show_search_summary = False
html_last_updated_fmt = None

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# The 404 page uses absolute links so that it works at any depth; on Read the Docs
# they start with the project's path, elsewhere (make serve) with "/".
notfound_urls_prefix = urlparse(os.environ.get("READTHEDOCS_CANONICAL_URL", "/")).path
