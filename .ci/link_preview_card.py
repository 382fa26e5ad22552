"""Draw ``docs/_static/link-preview.png``, the card every page's link preview shows.

Run once by hand (``.venv/bin/python .ci/link_preview_card.py``) when the card's words
change; the site's build only copies the PNG (conf.py: ``ogp_image``). 1200 × 630 pixels,
the size link previews use.
"""

from pathlib import Path

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from PIL import Image  # noqa: E402

CARD = Path(__file__).resolve().parents[1] / "docs" / "_static" / "link-preview.png"
TORCH_RED, INK, GREY = "#ee4c2c", "#1a1a1a", "#555555"


def draw(path: Path) -> None:
    figure = plt.figure(figsize=(12, 6.3), dpi=100)
    figure.patch.set_facecolor("#ffffff")
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(0, 1200)
    axes.set_ylim(0, 630)
    badge = FancyBboxPatch((72, 462), 96, 96, boxstyle="round,pad=0,rounding_size=18",
                           color=TORCH_RED)
    axes.add_patch(badge)
    axes.text(120, 507, "{}", ha="center", va="center", color="white", fontsize=40,
              family="DejaVu Sans Mono")
    axes.text(196, 510, "ModuleDict, corrected", va="center", fontsize=46, weight="bold",
              color=INK)
    axes.text(72, 380, "Item access returns the registered module.", fontsize=30, color=INK)
    axes.text(72, 320, "Gradients are the same whichever lookup you use.", fontsize=30,
              color=INK)
    axes.text(72, 190, "A guide to torch.nn.ModuleDict in which every snippet", fontsize=24,
              color=GREY)
    axes.text(72, 150, "runs when the site is built: outputs are captured, not typed.",
              fontsize=24, color=GREY)
    axes.add_patch(plt.Rectangle((0, 0), 1200, 14, color=TORCH_RED))
    figure.savefig(path, dpi=100, metadata={"Software": None})
    # Few colours: a palette PNG is a fifth of the size.
    Image.open(path).convert("RGB").quantize(64).save(path, optimize=True)


if __name__ == "__main__":
    draw(CARD)
