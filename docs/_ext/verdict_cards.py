"""A thumbnail of its own for every example: a card that states its finding.

An example that draws no figure would get sphinx-gallery's placeholder thumbnail. It
gets a card showing its title instead (the title states the finding), drawn with
matplotlib after sphinx-gallery wrote the gallery, with fixed metadata so two builds
give the same bytes.
"""

from __future__ import annotations

import io
import re
import textwrap

import guide

CARD_SIZE = (400, 280)  # sphinx-gallery's default thumbnail_size


def draw_card(title: str) -> bytes:
    """A PNG card stating the example's finding (its title), identical on every build."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    width, height = CARD_SIZE
    figure = Figure(figsize=(width / 100, height / 100), dpi=100)
    figure.patch.set_facecolor("#f6f8fa")
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(0, width)
    axes.set_ylim(0, height)
    axes.add_patch(
        FancyBboxPatch(
            (6, 6),
            width - 12,
            height - 12,
            boxstyle="round,pad=0,rounding_size=14",
            facecolor="#ffffff",
            edgecolor="#8c959f",
            linewidth=2,
        )
    )
    axes.add_patch(
        FancyBboxPatch(
            (6, height - 22),
            width - 12,
            16,
            boxstyle="square,pad=0",
            facecolor="#2962ff",
            edgecolor="none",
        )
    )
    text = title.replace("``", "")
    for size, chars in ((30, 20), (27, 23), (24, 26), (21, 30), (19, 34), (17, 38)):
        lines = textwrap.wrap(text, chars)
        if len(lines) * size * 1.35 <= height - 60:
            break
    axes.text(
        24,
        (height - 22) / 2,
        "\n".join(lines),
        fontsize=size * 0.72,
        fontweight="bold",
        color="#1f2328",
        va="center",
        ha="left",
        linespacing=1.3,
        family="DejaVu Sans",
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def install_verdict_cards(app) -> None:
    """Give every example without a figure of its own a card as its thumbnail."""
    for _, page in guide.examples(app):
        rst = page.read_text(encoding="utf-8") if page.is_file() else ""
        if not rst or re.search(rf"images/sphx_glr_{page.stem}_\d+\.png", rst):
            continue  # not written (filename_pattern), or a figure of its own
        thumb = page.parent / "images" / "thumb" / f"sphx_glr_{page.stem}_thumb.png"
        png = draw_card(guide.title(rst))
        if not thumb.is_file() or thumb.read_bytes() != png:
            thumb.parent.mkdir(parents=True, exist_ok=True)
            thumb.write_bytes(png)


def setup(app):
    # After sphinx-gallery writes the gallery (priority 500).
    app.connect("builder-inited", install_verdict_cards, priority=800)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
