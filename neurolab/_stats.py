"""Small statistics shared by the analyses: permutation p-values and fold standard errors."""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_PERMUTATIONS", "check_permutations", "p_value", "sem"]

MAX_PERMUTATIONS = 100_000
"""The most permutations (shuffles, swaps) any test runs: p down to 1e-5, far below any threshold
a page prints; more only costs time (1e7 runs for minutes, 1e10 would need tens of GiB)."""


def check_permutations(value, name: str = "n_permutations", low: int = 0) -> int:
    """``value`` as an int in low..MAX_PERMUTATIONS, else a ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if not low <= value <= MAX_PERMUTATIONS:
        raise ValueError(f"{name} must be between {low} and {MAX_PERMUTATIONS:,} (p down to "
                         f"{1 / (MAX_PERMUTATIONS + 1):.0e}), got {value:,}")
    return int(value)


def p_value(null, observed) -> float:
    """Permutation p-value (1 + #{null >= observed}) / (1 + n); nan if there is no null (n = 0).

    A NaN in the null or a NaN observed value is an error: it would silently count as 'below'.
    """
    null = np.asarray(null, dtype=float)
    if null.ndim != 1:
        raise ValueError(f"p_value: the null must be 1-D (one value per permutation), got shape {null.shape}")
    observed = float(observed)
    if np.isnan(observed):
        raise ValueError("p_value: the observed value is NaN, so no p-value can be computed")
    if np.isnan(null).any():
        raise ValueError(f"p_value: {int(np.isnan(null).sum())} of the {len(null)} null values are NaN "
                         "(a permutation whose score could not be computed); no p-value is trustworthy")
    return float((1 + np.sum(null >= observed)) / (1 + len(null))) if len(null) else float("nan")


def sem(a) -> float:
    """Standard error of the mean of fold scores ``a`` (n_folds,): SD (ddof 1) / sqrt(n); nan for n < 2."""
    a = np.asarray(a, dtype=float)
    return float(a.std(ddof=1) / np.sqrt(len(a))) if len(a) > 1 else float("nan")
