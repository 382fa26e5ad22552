"""A thumbnail of its own for every example: a card that states its finding.

An example that draws no figure would get sphinx-gallery's placeholder thumbnail. It
gets a card showing its title instead (the title states the finding), drawn with
matplotlib, with fixed metadata so two builds give the same bytes. Runs on every build,
after sphinx-gallery has written the gallery (it regenerates only the pages of the
examples it re-runs, and writes its placeholder over the card when it does). A card is
drawn only when it would differ from the thumbnail there: ``<thumb>.card`` records the
digest of what it was drawn from (the title, this module, matplotlib's version) and of
the PNG it wrote, so a build with nothing changed draws none and imports no matplotlib.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import textwrap
from importlib.metadata import version
from pathlib import Path

from guide import gallery_dirs

def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def _galleries(app) -> list[Path]:
    return [g for g in gallery_dirs(app) if g.is_dir()]


CARD_SIZE = (400, 280)  # sphinx-gallery's default thumbnail_size
TITLE = re.compile(r"^\.\. _sphx_glr_.+?:\n\n+(.+)\n=+\n", re.MULTILINE)


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
    for gallery in _galleries(app):
        for page in sorted(gallery.rglob("*.rst")):
            if page.name in ("index.rst",) or not page.with_suffix(".py").is_file():
                continue
            rst = page.read_text(encoding="utf-8")
            name = page.stem
            if re.search(rf"images/sphx_glr_{re.escape(name)}_\d+\.png", rst):
                continue  # a figure of its own: sphinx-gallery made its thumbnail
            title = TITLE.search(rst)
            if title is None:
                raise ValueError(f"{page}: no example title for its verdict card")
            thumb = page.parent / "images" / "thumb" / f"sphx_glr_{name}_thumb.png"
            thumb.parent.mkdir(parents=True, exist_ok=True)
            _install(thumb, title.group(1).strip())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _install(thumb: Path, title: str) -> None:
    """Draw the card for ``title`` into ``thumb`` unless the card there is that one."""
    drawn_from = _sha256(json.dumps(
        [title, _sha256(Path(__file__).read_bytes()), version("matplotlib")]).encode())
    record = thumb.with_name(thumb.name + ".card")
    if thumb.is_file() and record.is_file():
        known = json.loads(record.read_text())
        if known == {"drawn_from": drawn_from, "png": _sha256(thumb.read_bytes())}:
            return
    png = draw_card(title)
    _write_if_changed(thumb, png)
    record.write_text(json.dumps({"drawn_from": drawn_from, "png": _sha256(png)}) + "\n")


def setup(app):
    # After sphinx-gallery writes the gallery (priority 500).
    app.connect("builder-inited", install_verdict_cards, priority=800)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
