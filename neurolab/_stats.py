"""Small statistics shared by the analyses: permutation p-values and fold standard errors."""

from __future__ import annotations

import numpy as np

__all__ = ["p_value", "sem"]


def p_value(null, observed) -> float:
    """Permutation p-value (1 + #{null >= observed}) / (1 + n); nan if there is no null (n = 0)."""
    null = np.asarray(null)
    return float((1 + np.sum(null >= observed)) / (1 + len(null))) if len(null) else float("nan")


def sem(a) -> float:
    """Standard error of the mean of fold scores ``a`` (n_folds,): SD (ddof 1) / sqrt(n); nan for n < 2."""
    a = np.asarray(a, dtype=float)
    return float(a.std(ddof=1) / np.sqrt(len(a))) if len(a) > 1 else float("nan")
