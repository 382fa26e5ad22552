"""Canaries: each upstream bug that ``docs/_ext/markup_fixes.py`` works around is still there.

A canary fails when upstream fixes the bug or changes the output the fix patches: the
fix (and its canary) can then go. Each test names the fix it guards. The fixes whose
canary needs a built site live with the tests of that site: the notebook ``:ref:`` fix
in ``test_downloads.py``, the validators' canary page in ``test_validators.py``.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version
from pathlib import Path

import markup_fixes
import pytest
import sphinx_gallery
import sphinx_gallery.utils
from furo import navigation
from helpers import ROOT
from sphinx.testing.util import SphinxTestApp
from sphinx_gallery import _doctree_links, backreferences, directives, gen_rst

# The versions the fixes were written for (markup_fixes' docstring names them).
WRITTEN_FOR = {"sphinx-gallery": "0.22.1", "furo": "2025.12.19"}


class Translator:
    """The part of an HTML translator that the visitors under test use."""

    def __init__(self):
        self.body: list[str] = []


def test_the_fixes_were_written_for_the_installed_versions():
    installed = {package: version(package) for package in WRITTEN_FOR}
    assert installed == WRITTEN_FOR, "check each canary below, then update the versions"


def test_sphinx_gallery_drops_a_linked_code_blocks_classes():
    """Fix: ``visit_code_links_block_with_classes``."""
    node = _doctree_links.code_links_block(lang="Python")
    node["classes"] = ["guide-article-quote"]
    upstream, fixed = Translator(), Translator()
    _doctree_links.visit_code_links_block_html(upstream, node)
    markup_fixes.visit_code_links_block_with_classes(fixed, node)
    inside = '<div class="highlight"><pre>'
    assert upstream.body == ['<div class="highlight-Python notranslate">' + inside]
    assert fixed.body == ['<div class="highlight-Python notranslate guide-article-quote">' + inside]


def test_sphinx_gallery_writes_image_alt_text_unescaped():
    """Fix: ``visit_imgsg_html_escaped``."""
    source = inspect.getsource(directives.visit_imgsg_html)
    assert 'alt="{alt}"' in source and "escape" not in source


def test_sphinx_gallery_thumbnails_carry_a_tooltip_attribute():
    """Fix: ``thumbnails_without_tooltip_attribute`` (``tooltip`` to ``data-tooltip``)."""
    assert 'tooltip="' in backreferences.THUMBNAIL_TEMPLATE
    assert markup_fixes.TOOLTIP.search(
        '<div class="sphx-glr-thumbcontainer" tooltip="x">'
    )


def test_sphinx_gallery_writes_a_tag_list_under_every_gallery_header():
    """Fix: ``thumbnails_without_tooltip_attribute`` keeps the first tag list only."""
    assert markup_fixes.TAG_LIST in inspect.getsource(gen_rst)


def test_furo_gives_navigation_checkboxes_a_switch_role():
    """Fix: ``navigation_without_switch_role``."""
    source = inspect.getsource(navigation)
    assert '"role": "switch"' in source and "aria-checked" not in source


def test_the_fixed_visitor_leaves_a_block_without_classes_as_upstream_writes_it():
    node = _doctree_links.code_links_block(lang="python")
    upstream, fixed = Translator(), Translator()
    _doctree_links.visit_code_links_block_html(upstream, node)
    markup_fixes.visit_code_links_block_with_classes(fixed, node)
    assert fixed.body == upstream.body


def test_sphinx_gallery_thumbnails_have_an_empty_alt_which_becomes_their_title():
    """Fix: ``thumbnails_without_tooltip_attribute`` (alt text from the title)."""
    card = backreferences.THUMBNAIL_TEMPLATE.format(
        tags="", intro="x", thumbnail="t.png", doc_name="/a/b", title="It&#x27;s a finding"
    )
    assert "    :alt:\n\n" in card
    source = [card]
    markup_fixes.thumbnails_without_tooltip_attribute(None, "a/index", source)
    assert "    :alt: It's a finding\n\n" in source[0]


def test_sphinx_gallery_styles_that_markup_fixes_css_overrides_are_unchanged():
    """Fixes in ``docs/_static/markup-fixes.css``: the thumbnail link's hidden text, the
    traceback's background."""
    upstream = (Path(sphinx_gallery.__file__).parent / "_static" / "sg_gallery.css").read_text()
    hidden = re.search(r"\.sphx-glr-thumbcontainer p a span \{([^}]*)\}", upstream)
    assert hidden and "display: none" in hidden[1]
    assert upstream.count("--sg-pytb-background: #ffe4e4;") == 2
    ours = (ROOT / "docs" / "_static" / markup_fixes.STYLE_FIXES).read_text()
    assert ".sphx-glr-thumbcontainer p a span {" in ours and "#fff4f4" in ours


def test_sphinx_gallery_compiles_an_example_under_the_path_it_is_given():
    """Fix: ``compile_examples_under_base_name`` (the page shows what ``python plot_x.py``
    prints)."""
    source = inspect.getsource(gen_rst._exec_and_get_memory)
    assert 'script_vars["src_file"]' in source and "compile" in inspect.getsource(gen_rst)


def test_sphinx_gallery_zips_keep_the_files_times():
    """Fix: ``normalize_zips`` (two builds give the same bytes)."""
    source = inspect.getsource(sphinx_gallery.utils)
    assert "zipf.write(" in source  # records each file's modification time
    assert "ZipInfo" not in source and "date_time" not in source


# ---- Sphinx's single page, built from a two-page project without the fixes -----------

PAGES = {
    "conf.py": 'html_theme = "basic"\nproject = "canary"\n',
    "index.rst": "Canary\n======\n\n.. toctree::\n\n   a\n   b\n",
    "a.rst": ".. _a-label:\n\nPage A\n======\n\nConclusion\n----------\n\nText.\n",
    "b.rst": "Page B\n======\n\nSee :ref:`a-label`.\n\nConclusion\n----------\n\nText.\n",
}


@pytest.fixture(scope="module")
def plain_sphinx(tmp_path_factory) -> dict[str, Path]:
    """The output folder of Sphinx's ``singlehtml`` builder (in process)."""
    source = tmp_path_factory.mktemp("plain-sphinx")
    for name, text in PAGES.items():
        (source / name).write_text(text, encoding="utf-8")
    built = {}
    for builder in ("singlehtml",):
        app = SphinxTestApp(builder, srcdir=source, freshenv=True)
        try:
            app.build()
        finally:
            app.cleanup()
        built[builder] = Path(app.outdir)
    return built


def test_sphinx_single_page_repeats_ids_and_doubles_anchors(plain_sphinx):
    """Fix: ``single_page_anchors`` (ids made unique; ``#document-a#label`` to ``#label``)."""
    page = (plain_sphinx["singlehtml"] / "index.html").read_text(encoding="utf-8")
    assert page.count('id="conclusion"') == 2
    assert 'href="#document-a#a-label"' in page
    assert markup_fixes.DOUBLE_ANCHOR.match("#document-a#a-label").groups() == ("a", "a-label")


def test_sphinx_single_page_links_an_index_and_a_search_it_does_not_write(plain_sphinx):
    """Fix: ``single_page_without_missing_pages`` (``hasdoc`` denies them)."""
    folder = plain_sphinx["singlehtml"]
    page = (folder / "index.html").read_text(encoding="utf-8")
    for name in ("genindex", "search"):
        assert re.search(rf'<link rel="(index|search)" [^>]*href="{name}\.html"', page), name
        assert not (folder / f"{name}.html").exists()


# ---- sphinx-gallery's cache and failing examples (docs/_ext/expected_crash.py) --------

EXAMPLE_BODIES = {"plot_ends.py": "x = 1\n", "plot_raises.py": "raise ValueError('boom')\n"}


def test_sphinx_gallery_caches_only_an_example_that_ran_to_its_end(tmp_path):
    """Workaround: ``expected_crash`` writes the ``.md5`` of a crash that matched its
    declaration itself (sphinx-gallery 0.22.1 writes none for an example that raised, so
    it would run again at every build). When this fails for ``plot_raises.py``,
    sphinx-gallery caches failed examples itself and the workaround can go."""
    from unittest.mock import Mock

    from sphinx.application import Sphinx
    from sphinx_gallery import gen_gallery

    app = Mock(spec=Sphinx, extensions=[], config={
        "source_suffix": {".rst": None}, "default_role": None, "rst_prolog": None,
        "rst_epilog": None})  # what sphinx-gallery's own tests give it
    gallery_conf = gen_gallery._fill_gallery_conf_defaults({}, app=app)
    gen_gallery._update_gallery_conf_builder_inited(gallery_conf, str(tmp_path))
    examples, gallery = tmp_path / "examples", tmp_path / "gallery"
    examples.mkdir()
    gallery.mkdir()
    gallery_conf["expected_failing_examples"] = {str(examples / "plot_raises.py")}
    outcomes = {}
    for name, body in EXAMPLE_BODIES.items():
        (examples / name).write_text(f'"""\nTitle\n=====\n\nText.\n"""\n\n{body}')
        outcomes[name] = set(gen_rst.generate_file_rst(name, gallery, examples, gallery_conf)[3])
    assert "passing" in outcomes["plot_ends.py"]
    assert "formatted_exception" in outcomes["plot_raises.py"]
    assert sorted(md5.name for md5 in gallery.glob("*.md5")) == ["plot_ends.py.md5"]
    # Run again: the example that raised runs again, the cached one does not.
    again = {name: set(gen_rst.generate_file_rst(name, gallery, examples, gallery_conf)[3])
             for name in EXAMPLE_BODIES}
    assert "stale" in again["plot_ends.py"]
    assert "formatted_exception" in again["plot_raises.py"]


def test_sphinx_gallery_reports_an_expected_failure_that_did_not_run_as_not_failing():
    """Workaround: ``expected_crash`` leaves a cached crash out of
    ``expected_failing_examples`` for the build that did not run it (sphinx-gallery 0.22.1
    would report it as "expected to fail, but not failing" and fail the build)."""
    from sphinx_gallery import gen_gallery

    example = str(Path("/examples/plot_raises.py").resolve())
    gallery_conf = {"src_dir": "/docs", "filename_pattern": "/plot_",
                    "expected_failing_examples": {example}, "failing_examples": {}}
    as_expected, unexpectedly, not_failing = gen_gallery._parse_failures(gallery_conf)
    assert (as_expected, unexpectedly, not_failing) == (set(), set(), {example})
    gallery_conf["expected_failing_examples"] = set()
    assert gen_gallery._parse_failures(gallery_conf) == (set(), set(), set())


def test_sphinx_gallery_replaces_a_gallery_zip_that_normalize_zips_rewrote(tmp_path):
    """Fix: ``normalize_zips`` puts back the modification time of a zip that ends the build
    with the bytes it started with (sphinx-gallery 0.22.1 writes the gallery's zips at every
    build and keeps the old file only when its new zip has the same bytes, which a zip with
    fixed times never has; Sphinx would then read the gallery's index again)."""
    example = tmp_path / "plot_a.py"
    example.write_text("x = 1\n")
    archive = tmp_path / "gallery.zip"
    sphinx_gallery.utils.zip_files([example], archive, tmp_path)
    kept = archive.read_bytes()
    sphinx_gallery.utils.zip_files([example], archive, tmp_path)
    assert archive.read_bytes() == kept  # the control: the same files give the same bytes
    markup_fixes.rebuild_zip(archive)  # what the fix leaves: one fixed time
    fixed = archive.read_bytes()
    assert fixed != kept
    sphinx_gallery.utils.zip_files([example], archive, tmp_path)
    assert archive.read_bytes() == kept  # replaced: the next build's fix writes it again
