"""The ceiling plot: decoders against ceilings and chance."""

from __future__ import annotations

import numpy as np

from neurolab._stats import sem

__all__ = ["plot_ceilings"]

_LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))


def plot_ceilings(results: dict, ceilings: dict, chance: float, metric: str = "balanced_accuracy",
                  ax=None, colors: dict | None = None, title: str | None = None):
    """Every decoder against every ceiling and chance, on one axis.

    Parameters
    ----------
    results : dict of {str: DecodeResult}
        Drawn left to right as points with +-1 SEM over folds (the permutation p-value of
        ``metric`` written beside a point where one was computed).
    ceilings : dict of {str: float}
        Horizontal lines, named with their value in a legend beside the axis, highest first
        (non-finite values, ceilings that could not be computed, are skipped).
    chance : float
        The chance level of ``metric``, a black horizontal line.
    colors : dict of {str: colour}, optional
        Matplotlib colours of the points (default tab:blue).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if metric not in ("accuracy", "balanced_accuracy"):
        raise ValueError(f"metric must be 'accuracy' or 'balanced_accuracy', not {metric!r}")
    ax = ax or plt.subplots(figsize=(2.5 + 0.8 * len(results), 4.2))[1]
    names = list(results)
    x = np.arange(len(names))
    for xi, name in zip(x, names):
        folds = np.asarray(getattr(results[name], f"fold_{metric}"), dtype=float)
        m, s = folds.mean(), sem(folds)
        color = (colors or {}).get(name, "tab:blue")
        ax.errorbar(xi, m, yerr=s if np.isfinite(s) else None, fmt="o", color=color, capsize=4, ms=7)
        # the p-value of the metric drawn (balanced accuracy has its own, where it was computed)
        p_name = "p_value_balanced" if metric == "balanced_accuracy" else "p_value"
        p = getattr(results[name], p_name, float("nan"))
        if np.isfinite(p):
            ax.annotate(f"p={p:.2g}", (xi, m), xytext=(8, -3), textcoords="offset points", fontsize=7)
    right = len(names) - 0.5
    ax.axhline(chance, color="k", lw=1.5)
    ax.text(right, chance, " chance", va="center", ha="left", fontsize=8)
    finite = {k: float(v) for k, v in ceilings.items() if np.isfinite(v)}
    finite = dict(sorted(finite.items(), key=lambda kv: -kv[1]))  # the legend reads like the lines
    palette = plt.get_cmap("Dark2")
    for i, (name, value) in enumerate(finite.items()):
        ax.axhline(value, color=palette(i % 8), lw=1.4, ls=_LINE_STYLES[i % len(_LINE_STYLES)],
                   label=f"{name}: {value:.1%}")
    ax.set_xticks(x, names, rotation=35, ha="right")
    ax.set_xlim(-0.5, right)
    top = max([chance, *finite.values(), *[np.max(getattr(r, f"fold_{metric}")) for r in results.values()]])
    ax.set_ylim(0, min(1.08, top + 0.1))
    ax.set_ylabel(metric.replace("_", " "))
    if finite:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title="ceilings",
                  title_fontsize=8)
    if title:
        ax.set_title(title)
    return ax
