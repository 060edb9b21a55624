"""Standard plots of the course (matplotlib) and the 3D neuron view (plotly / ipyvolume)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_decoding(results: dict, metric: str = "balanced_accuracy", ax=None, title: str | None = None):
    """Every decoder against its chance level, with fold-to-fold error bars.

    results: {name: DecodeResult}; metric: 'accuracy' or 'balanced_accuracy'.
    Bars show the mean over folds with +-1 SEM; a black tick marks each decoder's chance level
    (most-frequent dummy on the same folds) and the permutation p-value is written above the bar.
    Returns the matplotlib Axes.
    """
    if metric not in ("accuracy", "balanced_accuracy"):
        raise ValueError(f"metric must be 'accuracy' or 'balanced_accuracy', not {metric!r}")
    ax = ax or plt.subplots(figsize=(1.2 + 1.1 * len(results), 3.2))[1]
    names = list(results)
    x = np.arange(len(names))
    folds = [getattr(r, f"fold_{metric}") for r in results.values()]
    means = [f.mean() for f in folds]
    sems = [f.std(ddof=1) / np.sqrt(len(f)) if len(f) > 1 else 0 for f in folds]
    chance = [getattr(r, f"chance_{metric}") for r in results.values()]
    ax.bar(x, means, yerr=sems, color="tab:blue", alpha=0.8, capsize=3, label="decoder (±1 SEM over folds)")
    ax.hlines(chance, x - 0.4, x + 0.4, color="k", lw=2, label="chance (same folds)")
    for xi, m, s, r in zip(x, means, sems, results.values()):
        if np.isfinite(r.p_value):
            ax.text(xi, m + s + 0.01, f"p={r.p_value:.2g}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_ylim(0, max(max(means) + max(sems) + 0.08, max(chance) + 0.08))
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    if title:
        ax.set_title(title)
    return ax
