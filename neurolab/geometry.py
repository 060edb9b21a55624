"""Geometry of stimulus responses: cross-validated PCA, power laws, signal variance."""

from __future__ import annotations

import numpy as np


def _check_repeats(X) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] != 2:
        raise ValueError(f"X must have shape (2, n_stimuli, n_neurons), got {X.shape}")
    return X


def cvpca(X, n_components: int | None = None) -> np.ndarray:
    """Cross-validated PCA spectrum (Stringer et al. 2019).

    Principal axes are found on the first repeat alone; the variance along each axis that is
    shared by both repeats is the covariance of the two repeats' projections, so noise (which is
    independent between repeats) averages out instead of inflating the spectrum.

    X: (2, n_stimuli, n_neurons), responses to the same stimuli on two repeats, each neuron centred.
    Returns ss: (n_components,) float64, stimulus-related variance per component (summed over
    stimuli), components ordered by their variance on repeat 1. Defaults to min(n_stimuli, n_neurons).

    The stimulus-by-stimulus Gram matrices are used, so the cost is O(n_stimuli^2 n_neurons) and one
    eigendecomposition of an (n_stimuli, n_stimuli) matrix.
    """
    X = _check_repeats(X)
    x0 = np.asarray(X[0], dtype=np.float32)
    x1 = np.asarray(X[1], dtype=np.float32)
    n_stim, n_neurons = x0.shape
    k_max = min(n_stim, n_neurons)
    k = k_max if n_components is None else int(n_components)
    if not 1 <= k <= k_max:
        raise ValueError(f"n_components must be in 1..{k_max}, got {n_components}")
    if n_neurons >= n_stim:
        # Principal axes of repeat 1 in stimulus space: x0 x0^T = U S^2 U^T; neuron-space axes are
        # v_k = x0^T u_k / s_k, so the repeat-1 x repeat-2 covariance along v_k is u_k^T x0 x1^T u_k.
        gram = (x0 @ x0.T).astype(np.float64)
        cross = (x0 @ x1.T).astype(np.float64)
        evals, u = np.linalg.eigh(gram)
        u = u[:, ::-1][:, :k]
        return np.sum(u * (cross @ u), axis=0)
    cov = (x0.T @ x0).astype(np.float64)
    evals, v = np.linalg.eigh(cov)
    v = v[:, ::-1][:, :k]
    return np.sum((x0 @ v) * (x1 @ v), axis=0, dtype=np.float64)


def powerlaw(ss, fit_range=(11, 500)) -> tuple[float, np.ndarray]:
    """Fit ss[k] ~ k^-alpha in log-log space, as in Stringer et al. (2019).

    ss: (n,) variance per component (rank k = 1..n). The fit uses ranks fit_range[0]..fit_range[1]-1
    (clipped to n), with least-squares weights 1/k so that each decade counts equally; |ss| is used
    for the log, as negative cross-validated variances are noise.
    Returns (alpha, fitted) with fitted: (n,) the power law evaluated at every rank.
    """
    ss = np.asarray(ss, dtype=np.float64)
    n = ss.size
    lo, hi = int(fit_range[0]), min(int(fit_range[1]), n)
    if hi - lo < 2:
        raise ValueError(f"fit_range {fit_range} leaves fewer than 2 components out of {n}")
    ranks = np.arange(lo, hi, dtype=np.float64) + 1.0  # fit_range is 0-based, ranks start at 1
    y = np.log(np.abs(ss[lo:hi]) + np.finfo(float).tiny)
    design = np.column_stack([-np.log(ranks), np.ones_like(ranks)])
    w = 1.0 / ranks
    coef = np.linalg.solve(design.T @ (design * w[:, None]), design.T @ (w * y))
    alpha, intercept = float(coef[0]), float(coef[1])
    all_ranks = np.arange(1, n + 1, dtype=np.float64)
    return alpha, np.exp(intercept - alpha * np.log(all_ranks))


def signal_variance_fraction(X, per_neuron: bool = False):
    """Fraction of response variance that is stimulus-related (repeatable).

    X: (2, n_stimuli, n_neurons). Signal variance of a neuron is the covariance across stimuli of its
    two repeats; total variance is the mean of the two repeats' variances. Returns the population
    fraction sum(signal) / sum(total) (a float), or (n_neurons,) per-neuron fractions.
    """
    X = _check_repeats(X).astype(np.float64)
    xc = X - X.mean(axis=1, keepdims=True)
    signal = np.mean(xc[0] * xc[1], axis=0)
    total = 0.5 * (np.mean(xc[0] ** 2, axis=0) + np.mean(xc[1] ** 2, axis=0))
    if per_neuron:
        return signal / np.where(total > 0, total, np.nan)
    return float(signal.sum() / total.sum())


def shuffle_repeats(X, rng) -> np.ndarray:
    """Swap repeat 1 and repeat 2 for a random half of the stimuli (the paper's shuffle control
    leaves cvPCA unbiased, so it checks that the spectrum is not an artefact of repeat order).
    X: (2, n_stimuli, n_neurons); rng: numpy Generator. Returns a new array."""
    X = _check_repeats(X)
    flip = rng.random(X.shape[1]) < 0.5
    out = X.copy()
    out[0, flip], out[1, flip] = X[1, flip], X[0, flip]
    return out
