"""Small log-log PNG plots of cost against size (matplotlib, non-interactive backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

__all__ = ["loglog"]


def loglog(path: Path, panels: Sequence[tuple[str, str, str, Mapping[str, tuple[Sequence[float], Sequence[float]]]]],
           ) -> Path:
    """Draw one or more log-log panels into ``path`` and return it.

    Each panel is ``(title, x label, y label, {series name: (sizes, values)})``; series with no
    finite positive values are left out.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (title, xlabel, ylabel, series) in zip(axes[0], panels):
        for name, (xs, ys) in series.items():
            pairs = [(x, y) for x, y in zip(xs, ys) if y is not None and y > 0 and y == y]
            if pairs:
                ax.loglog(*zip(*pairs), marker="o", markersize=3, label=name)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
