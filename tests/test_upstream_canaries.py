"""Canaries: each upstream bug that ``docs/_ext/markup_fixes.py`` works around is there.

Each fails when upstream fixes its bug (the fix can then go), and names the fix it guards.
Canaries that need a built site are in ``test_validators.py``."""

from __future__ import annotations

import inspect
import os
import re
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import markup_fixes
import sphinx_gallery
import sphinx_gallery.utils
from furo import navigation
from helpers import ROOT
from sphinx.testing.util import SphinxTestApp
from sphinx_gallery import _doctree_links, backreferences, directives, gen_rst

# The versions the fixes were written for (markup_fixes' docstring names them).
WRITTEN_FOR = {"sphinx-gallery": "0.22.1", "furo": "2025.12.19"}


def test_the_fixes_were_written_for_the_installed_versions():
    installed = {package: version(package) for package in WRITTEN_FOR}
    assert installed == WRITTEN_FOR, "check each canary below, then update the versions"


def test_sphinx_gallery_drops_a_linked_code_blocks_classes():
    """Fix: ``visit_code_links_block_with_classes`` (a block without classes unchanged)."""
    bodies = []
    for classes in (["guide-article-quote"], []):
        node = _doctree_links.code_links_block(lang="Python", classes=classes)
        upstream, fixed = SimpleNamespace(body=[]), SimpleNamespace(body=[])
        _doctree_links.visit_code_links_block_html(upstream, node)
        markup_fixes.visit_code_links_block_with_classes(fixed, node)
        bodies += [upstream.body, fixed.body]
    div, inside = (
        '<div class="highlight-Python notranslate',
        '"><div class="highlight"><pre>',
    )
    assert bodies[:2] == [[div + inside], [div + " guide-article-quote" + inside]]
    assert bodies[2] == bodies[3] == [div + inside]


def test_sphinx_gallery_writes_image_alt_text_unescaped():
    """Fix: ``visit_imgsg_html_escaped``."""
    source = inspect.getsource(directives.visit_imgsg_html)
    assert 'alt="{alt}"' in source and "escape" not in source


def test_sphinx_gallery_thumbnails_have_a_tooltip_a_tag_list_each_and_an_empty_alt():
    """Fix: ``thumbnails_without_tooltip_attribute`` (``tooltip`` to ``data-tooltip``, the
    first tag list only, alt text from the title)."""
    assert 'tooltip="' in backreferences.THUMBNAIL_TEMPLATE
    assert markup_fixes.TOOLTIP.search(
        '<div class="sphx-glr-thumbcontainer" tooltip="x">'
    )
    assert markup_fixes.TAG_LIST in inspect.getsource(gen_rst)
    card = backreferences.THUMBNAIL_TEMPLATE.format(
        tags="",
        intro="x",
        thumbnail="t.png",
        doc_name="/a/b",
        title="It&#x27;s a finding",
    )
    assert "    :alt:\n\n" in card
    source = [card]
    markup_fixes.thumbnails_without_tooltip_attribute(None, "a/index", source)
    assert "    :alt: It's a finding\n\n" in source[0]


def test_furo_gives_navigation_checkboxes_a_switch_role():
    """Fix: ``navigation_without_switch_role``."""
    source = inspect.getsource(navigation)
    assert '"role": "switch"' in source and "aria-checked" not in source


def test_sphinx_gallery_styles_that_markup_fixes_css_overrides_are_unchanged():
    """Fixes in ``docs/_static/markup-fixes.css``: the thumbnail link's hidden text, the
    traceback's background."""
    upstream = (
        Path(sphinx_gallery.__file__).parent / "_static" / "sg_gallery.css"
    ).read_text()
    hidden = re.search(r"\.sphx-glr-thumbcontainer p a span \{([^}]*)\}", upstream)
    assert hidden and "display: none" in hidden[1]
    assert upstream.count("--sg-pytb-background: #ffe4e4;") == 2
    ours = (ROOT / "docs" / "_static" / markup_fixes.STYLE_FIXES).read_text()
    assert ".sphx-glr-thumbcontainer p a span {" in ours and "#fff4f4" in ours


def test_sphinx_gallery_compiles_an_example_under_its_absolute_path():
    """Fix: ``portable_paths`` (the page shows what ``python plot_x.py`` prints)."""
    source = inspect.getsource(gen_rst.execute_code_block)
    assert 'script_vars["src_file"]' in source and "compile(" in source


def test_sphinx_gallery_zips_keep_the_files_times(tmp_path):
    """Fix: ``fix_downloads`` writes the zips with one fixed time (``guide.write_zip``)."""
    example = tmp_path / "plot_a.py"
    example.write_text("x = 1\n")
    archives = []
    for when in (1_000_000_000, 1_500_000_000):
        os.utime(example, (when, when))
        sphinx_gallery.utils.zip_files([example], tmp_path / f"{when}.zip", tmp_path)
        archives.append((tmp_path / f"{when}.zip").read_bytes())
    assert archives[0] != archives[1]  # the same file, another time: other bytes


def test_sphinx_gallery_leaves_roles_in_notebooks():
    """Fix: ``notebook_text`` (every role becomes plain text)."""
    from sphinx_gallery.notebook import rst2md

    text = "See :doc:`the page <other>` and :ref:`sphx_glr_auto_examples_plot_a.py`."
    converted = rst2md(text, {"pypandoc": False}, "", {})
    assert ":doc:`the page <other>`" in converted
    assert "`sphx_glr_auto_examples_plot_a.py`" in converted
    plain = markup_fixes.notebook_text(
        converted, {"sphx_glr_auto_examples_plot_a.py": "A"}
    )
    assert plain.strip() == "See the page and *A*."


PAGES = {
    "conf.py": 'html_theme = "basic"\nproject = "canary"\n',
    "index.rst": "Canary\n======\n\n.. toctree::\n\n   a\n   b\n",
    "a.rst": ".. _a-label:\n\nPage A\n======\n\nConclusion\n----------\n\nText.\n",
    "b.rst": "Page B\n======\n\nSee :ref:`a-label`.\n\nConclusion\n----------\n\nText.\n",
}


def test_sphinx_single_page_repeats_ids_doubles_anchors_links_missing_pages(tmp_path):
    """Fixes: ``single_page_anchors`` (ids made unique; ``#document-a#label`` to ``#label``)
    and ``single_page_without_missing_pages`` (``hasdoc`` denies genindex and search).
    Sphinx's ``singlehtml`` builder, on a two-page project without the fixes."""
    for name, text in PAGES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    app = SphinxTestApp("singlehtml", srcdir=tmp_path, freshenv=True)
    try:
        app.build()
    finally:
        app.cleanup()
    page = (Path(app.outdir) / "index.html").read_text(encoding="utf-8")
    assert page.count('id="conclusion"') == 2 and 'href="#document-a#a-label"' in page
    assert markup_fixes.DOUBLE_ANCHOR.match("#document-a#a-label").groups() == (
        "a",
        "a-label",
    )
    for name in ("genindex", "search"):
        assert re.search(
            rf'<link rel="(index|search)" [^>]*href="{name}\.html"', page
        ), name
        assert not (Path(app.outdir) / f"{name}.html").exists()
