"""The autograd graph behind a tensor: walked once, drawn once (the myths page).

``walk`` lists the nodes reachable from ``tensor.grad_fn`` through ``next_functions``,
breadth first, and the edges between them. ``draw`` lays the graph out, loss at the top.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

def walk(tensor) -> tuple[list, list[tuple[int, int]]]:
    """The graph's nodes in the order a breadth-first walk meets them, and its edges."""
    nodes, edges = [tensor.grad_fn], []
    for node in nodes:  # the list grows while we walk it
        for child, _ in node.next_functions:
            if child is None:  # an input that needs no gradient
                continue
            if child not in nodes:
                nodes.append(child)
            edges.append((nodes.index(node), nodes.index(child)))
    return nodes, edges


def describe(tensor, named_parameters) -> tuple[list[str], list[tuple[int, int]]]:
    """Node labels (a leaf is named after its parameter) and edges, comparable across models."""
    names = {p: name for name, p in named_parameters}
    nodes, edges = walk(tensor)
    labels = [names[n.variable] if hasattr(n, "variable") else type(n).__name__ for n in nodes]
    return labels, edges


def draw(labels: list[str], edges: list[tuple[int, int]], title: str):
    """One graph on a white card with a border (readable on light and dark pages).

    Saved at 200 dpi, 5.2 inches wide: shown 358 px wide on a 390 px phone, 12-point labels
    are 11.5 px tall; guide.css caps the figure at 34rem on a desktop (16 px). No quote characters
    go into ``title``: sphinx-gallery turns it into the image's alt text.
    """
    plt.rcParams["savefig.dpi"] = 200
    depth = [0] * len(labels)
    for parent, child in edges:
        depth[child] = max(depth[child], depth[parent] + 1)
    rows = {d: [i for i in range(len(labels)) if depth[i] == d] for d in set(depth)}
    pos = {i: ((k + 0.5) / len(row), -d) for d, row in rows.items() for k, i in enumerate(row)}
    fig, ax = plt.subplots(figsize=(5.2, 4.4), facecolor="white", edgecolor="#888888",
                           linewidth=2)
    for parent, child in edges:
        ax.annotate("", xy=pos[child], xytext=pos[parent],
                    arrowprops={"arrowstyle": "->", "shrinkA": 13, "shrinkB": 13})
    for i, label in enumerate(labels):
        leaf = "." in label  # a parameter's name, so an AccumulateGrad node
        text = label.removeprefix("layers.") if leaf else label
        ax.text(*pos[i], text, ha="center", va="center", fontsize=12, color="black",
                bbox={"boxstyle": "round", "facecolor": "#cfe8cf" if leaf else "#dbe4f5"})
    ax.set_title(title, fontsize=12, color="black")
    ax.set_xlim(0, 1)
    ax.set_ylim(-max(depth) - 0.5, 0.5)
    ax.axis("off")
    fig.tight_layout()
    return fig
