"""The singular value decay of the modes of attention weight tensors, as a PNG (matplotlib, Agg;
no display needed): `python -m tucker ranks|compress --plot FILE.png`.

`plot_singular_values(rows, path, tolerance=None, rank_label="rank kept", title=None)` draws six panels, one per
mode (pre-softmax head, query, key; post-softmax head, output, value), each with one curve per
attention op: sigma_k / sigma_1 against k on a log scale, a filled marker on the last direction kept
(the op's rank of that mode) and, given a tolerance, the line sigma_k = tolerance * sigma_1 that
decides numerical ranks. Values below `FLOOR` (exact zeros, rounding noise of the Gram method,
which resolves about 1e-7 * sigma_1) are drawn on the floor.

`rows` are dicts as `tucker.ranks` returns them: "pre" / "post" (the ranks to mark),
"pre_singular_values" / "post_singular_values" (three arrays each) and a label ("function", else
"location").
"""

import os

import numpy as np

__all__ = ["plot_singular_values", "check_png_path", "FLOOR"]

FLOOR = 1e-12
RESOLUTION = 1e-7
MODES = (("pre", 0, "head"), ("pre", 1, "query"), ("pre", 2, "key"),
         ("post", 0, "head"), ("post", 1, "output"), ("post", 2, "value"))


def check_png_path(path):
    """Raises ValueError unless `path` names a .png file in an existing, writable directory."""
    path = os.fspath(path)
    if not path.lower().endswith(".png"):
        raise ValueError(f"the plot is a PNG: {path!r} must end in .png")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"cannot write the plot {path!r}: no such directory {folder!r}")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write the plot {path!r}: directory {folder!r} is not writable")
    if os.path.isdir(path):
        raise ValueError(f"cannot write the plot {path!r}: it is a directory")


def _label(row):
    where = row.get("location", "?").rsplit(":", 2)
    line = f" (line {where[1]})" if len(where) == 3 else ""
    return f"@{row['function']}{line}" if row.get("function") else row.get("location", "?")


def plot_singular_values(rows, path, *, tolerance=None, rank_label="rank kept", title=None):
    """Writes the PNG described in the module docstring to `path`; returns `path`. Raises
    ValueError for an empty `rows` or a bad path, ImportError without matplotlib."""
    if not rows:
        raise ValueError("nothing to plot: no attention op with constant weights")
    check_png_path(path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("the plot needs matplotlib (Debian: apt install python3-matplotlib)") from e

    fig = Figure(figsize=(11, 6.2), dpi=80, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3, sharey=True)
    colors = [f"C{i % 10}" for i in range(len(rows))]
    for ax, (tensor, mode, name) in zip(axes.flat, MODES):
        for row, color in zip(rows, colors):
            s = np.asarray(row[f"{tensor}_singular_values"][mode], dtype=np.float64)
            if s.size == 0:
                continue
            rel = s / s[0] if s[0] > 0 else np.zeros_like(s)
            rel = np.maximum(rel, FLOOR)
            k = np.arange(1, s.size + 1)
            ax.semilogy(k, rel, "o-", color=color, markersize=3, linewidth=1, label=_label(row))
            r = min(int(row[tensor][mode]), s.size)  # a compressed query mode may add a bias row
            if r >= 1:
                ax.semilogy([r], [rel[r - 1]], "o", color=color, markersize=8,
                            markeredgecolor="black", markeredgewidth=0.8)
        if tolerance is not None and tolerance > 0:
            ax.axhline(tolerance, color="crimson", linestyle="--", linewidth=1)
        ax.axhspan(FLOOR / 3, RESOLUTION, color="0.92", zorder=0)
        ax.set_ylim(FLOOR / 3, 3)
        ax.set_title(f"{tensor}-softmax · {name}", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if mode == 0:
            ax.set_ylabel("σₖ / σ₁")
        if tensor == "post":
            ax.set_xlabel("k")
    marker = f"large marker: {rank_label}"
    tol = f"; dashed: tolerance {tolerance:g}" if tolerance is not None and tolerance > 0 else ""
    fig.suptitle((title + "\n" if title else "") + f"singular values of each mode ({marker}{tol}; "
                 f"grey: below the {RESOLUTION:g}·σ₁ the analysis resolves)", fontsize=10)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if len(rows) > 1:
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 0.93), fontsize=8)
    fig.savefig(path, format="png", bbox_inches="tight")
    return path
