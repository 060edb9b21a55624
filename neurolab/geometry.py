"""Geometry of stimulus responses: cross-validated PCA, power laws, signal variance, reliability.

Everything here works on the two repeats of every image, X of shape (2, n_images, n_neurons)
(``neurolab.recording.split_repeats``): what repeats is stimulus, what does not is noise.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from neurolab._stats import check_permutations, p_value
from neurolab._validation import check_int, check_labels, check_rng
from neurolab._validation import check_repeats as _check_repeats
from neurolab.recording import split_repeats

__all__ = [
    "category_signal_fraction",
    "cvpca",
    "powerlaw",
    "repeat_reliability",
    "shuffle_repeats",
    "signal_variance_fraction",
]


def _top_eigh(sym: np.ndarray, k: int, method: str, n_iter: int = 4, oversample: int = 20, seed: int = 0):
    """Top-k eigenpairs of a symmetric PSD matrix, largest first: (evals (k,), vecs (n, k))."""
    n = len(sym)
    if method == "auto":
        method = "exact" if n <= 4000 or k + oversample >= n // 2 else "randomized"
    if method == "exact":
        # the full divide-and-conquer decomposition beats LAPACK's subset drivers here (n <= 4,000)
        evals, vecs = scipy.linalg.eigh(sym, driver="evd", check_finite=False)
        return evals[::-1][:k], vecs[:, ::-1][:, :k]
    if method != "randomized":
        raise ValueError(f"method must be 'auto', 'exact' or 'randomized', not {method!r}")
    # Subspace iteration on the Gram matrix, each step one (n, n) x (n, k) product renormalised by
    # an LU factorisation (cheap, like scikit-learn's randomized SVD); the final basis is made
    # orthonormal by Cholesky QR, twice for accuracy (LAPACK's QR is slow on tall matrices), and
    # the eigenpairs are read off the small projected matrix (Rayleigh-Ritz).
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n, k + oversample)).astype(sym.dtype)
    for _ in range(n_iter):
        q = scipy.linalg.lu(sym @ q, permute_l=True, check_finite=False)[0]
    for _ in range(2):
        chol = np.linalg.cholesky((q.T @ q).astype(np.float64)).astype(q.dtype)
        q = scipy.linalg.solve_triangular(chol, q.T, lower=True, check_finite=False).T
    evals, small = np.linalg.eigh((q.T @ (sym @ q)).astype(np.float64))
    return evals[::-1][:k], q @ small[:, ::-1][:, :k].astype(q.dtype)


def cvpca(X, n_components: int | None = None, method: str = "auto") -> np.ndarray:
    """Cross-validated PCA spectrum, as in Stringer et al. (2019).

    Principal axes are found on the first repeat alone; the variance along each axis that both
    repeats share is the covariance of their projections, so noise (independent between repeats)
    averages out instead of inflating the spectrum. The axes are those of the paper's code:
    scikit-learn's PCA of repeat 1 with neurons as samples (each stimulus centred across neurons).

    X: (2, n_stimuli, n_neurons), responses to the same stimuli on two repeats.
    n_components: number of components, default min(1024, n_stimuli, n_neurons) like the paper.
    method: 'exact' eigendecomposition, 'randomized' subspace iteration (seeded, like the paper's
    randomized PCA, 4 power iterations), or "auto" (exact up to 4,000 stimuli: at 2,800 the
    partial eigendecomposition is as fast as the iteration, and exact).
    Returns ss: (n_components,) float64, stimulus-related variance per component (summed over
    stimuli), components ordered by their variance on repeat 1.

    Everything happens in the (n_stimuli, n_stimuli) Gram matrix of repeat 1: one symmetric product
    over the neurons, the top eigenvectors of a small matrix, and two thin projections -- instead
    of several passes of a randomized SVD over the (n_neurons, n_stimuli) data.
    """
    X = _check_repeats(X, min_images=2, min_neurons=2)
    x0 = np.ascontiguousarray(X[0], dtype=np.float32)
    x1 = np.ascontiguousarray(X[1], dtype=np.float32)
    n_stim, n_neurons = x0.shape
    k_max = min(n_stim, n_neurons)
    k = min(1024, k_max) if n_components is None else check_int(n_components, "n_components", 1, k_max)
    gram = x0 @ x0.T  # (n_stim, n_stim): a symmetric rank update in BLAS
    m = x0.mean(axis=1, dtype=np.float64)
    centred = gram - np.float32(n_neurons) * np.outer(m, m).astype(np.float32)  # x0 centred across neurons
    evals, u = _top_eigh(centred, k, method)
    if not evals[0] > 0:
        raise ValueError(f"X[0] has no variance across its {n_neurons} neurons (every response to each image "
                         "is the same, e.g. all zeros): there is no spectrum to measure")
    evals = np.maximum(evals, np.finfo(np.float32).tiny)  # a zero direction contributes 0, not inf
    u = np.ascontiguousarray(u, dtype=np.float32)
    # Neuron-space axis k is x0^T u_k / s_k (s_k^2 = evals[k]); the two repeats' projections on it,
    # summed over stimuli: (x0 x0^T u_k) . (x1 x0^T u_k) / s_k^2.
    proj0 = (gram @ u).astype(np.float64)
    proj1 = (x1 @ (x0.T @ u)).astype(np.float64)
    return np.sum(proj0 * proj1, axis=0) / evals.astype(np.float64)


def powerlaw(ss, fit_range=(11, 500)) -> tuple[float, np.ndarray]:
    """Fit ss[k] ~ k^-alpha in log-log space, as in Stringer et al. (2019).

    ``fit_range`` holds 0-based (start, stop) indices into ``ss``, as the authors'
    ``utils.get_powerlaw`` takes them: the default (11, 500) fits ranks 12 to 500, like their
    ``python/powerlaws.ipynb`` (clipped to n). Least-squares weights 1/k make each decade count
    equally; the absolute value is used for the log, as negative cross-validated variances are
    noise.

    Parameters
    ----------
    ss : array-like of shape (n,)
        Variance per component (rank k = 1..n).
    fit_range : (int, int)

    Returns
    -------
    alpha : float
    fitted : ndarray of shape (n,)
        The power law evaluated at every rank.
    """
    ss = np.asarray(ss, dtype=np.float64)
    if ss.ndim != 1:
        raise ValueError(f"ss must be 1-D (one variance per component), got shape {ss.shape}")
    if not np.isfinite(ss).all():
        raise ValueError(f"ss holds {int((~np.isfinite(ss)).sum())} NaN or Inf values (the first at rank "
                         f"{int(np.flatnonzero(~np.isfinite(ss))[0]) + 1}): no power law can be fitted")
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
    X = _check_repeats(X, min_images=2).astype(np.float64)
    xc = X - X.mean(axis=1, keepdims=True)
    signal = np.mean(xc[0] * xc[1], axis=0)
    total = 0.5 * (np.mean(xc[0] ** 2, axis=0) + np.mean(xc[1] ** 2, axis=0))
    if per_neuron:
        return signal / np.where(total > 0, total, np.nan)
    if not total.sum() > 0:
        raise ValueError("X is constant across images for every neuron: no variance, so no signal fraction")
    return float(signal.sum() / total.sum())


def shuffle_repeats(X, rng) -> np.ndarray:
    """Swap repeat 1 and repeat 2 for a random half of the stimuli (the paper's shuffle control
    leaves cvPCA unbiased, so it checks that the spectrum is not an artefact of repeat order).
    X: (2, n_stimuli, n_neurons); rng: numpy Generator. Returns a new array."""
    X = _check_repeats(X)
    flip = check_rng(rng).random(X.shape[1]) < 0.5
    out = X.copy()
    out[0, flip], out[1, flip] = X[1, flip], X[0, flip]
    return out


def repeat_reliability(X) -> np.ndarray:
    """Per-neuron correlation, across images, between the responses to repeat 1 and repeat 2.

    X: (2, n_images, n_neurons) from ``split_repeats``. A neuron that carries image information has
    a positive value; a neuron whose responses are all equal (e.g. never copied, all zeros) has no
    defined correlation and gets NaN. Returns (n_neurons,) float64.
    """
    X = _check_repeats(X).astype(np.float64)
    a = X[0] - X[0].mean(axis=0)
    b = X[1] - X[1].mean(axis=0)
    denom = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (a * b).sum(axis=0) / np.where(denom > 0, denom, 1.0), np.nan)


def category_signal_fraction(
    rec, labels, drop_unknown: bool = True, n_shuffles: int = 20, rng=0
) -> dict:
    """How much of the repeatable (stimulus) response is shared by images of one category?

    The stimulus-driven variance of the population is the covariance of its two repeats across
    images, summed over neurons (trial noise is independent between repeats, so it drops out). The
    category part is the same covariance between the class means of the two repeats, each class
    weighted by its number of images. Shuffling labels between images gives the value expected
    with no category signal at all (finite classes always explain a little, about
    (n_classes - 1) / (n_images - 1)).

    rec: a Recording (denoised or not); labels: (2800,) class per image (0 = 'unknown').
    Returns a dict of floats: signal_fraction (stimulus share of single-trial variance,
    ``geometry.signal_variance_fraction``), category_fraction (category share of the stimulus
    variance), null_mean and null_95 (mean and 95th percentile of that share under label
    shuffles), p (shuffle p-value), single_trial_fraction (signal_fraction * category_fraction),
    n_images, n_classes.
    """
    from scipy import sparse

    X, images = split_repeats(rec)
    y = check_labels(labels)[images]
    if drop_unknown:
        X, y = X[:, y != 0], y[y != 0]
    signal_fraction = signal_variance_fraction(X)
    Xc = X - X.mean(axis=1, keepdims=True)
    # cross-repeat covariance, summed over neurons and images
    total = float(np.einsum("ij,ij->", Xc[0], Xc[1], dtype=np.float64))
    classes, y_idx = np.unique(y, return_inverse=True)
    n = len(y_idx)

    def between(codes):
        counts = np.bincount(codes, minlength=len(classes)).astype(np.float64)
        onehot = sparse.csr_matrix((np.ones(n, np.float32), (codes, np.arange(n))), shape=(len(classes), n))
        m0, m1 = (np.asarray(onehot @ Xc[r], dtype=np.float64) for r in (0, 1))  # class sums
        keep = counts > 0
        return float(np.sum((m0[keep] * m1[keep]).sum(axis=1) / counts[keep]))

    n_shuffles = check_permutations(n_shuffles, "n_shuffles")
    if not total > 0:
        raise ValueError("category_signal_fraction: the responses share no variance between repeats (they "
                         "are constant, or the repeats are unrelated with a non-positive covariance "
                         f"{total:.3g}): there is no stimulus variance to divide")
    frac = between(y_idx) / total
    rng = check_rng(rng)
    null = np.array([between(rng.permutation(y_idx)) / total for _ in range(n_shuffles)])
    return {
        "signal_fraction": float(signal_fraction),
        "category_fraction": float(frac),
        "null_mean": float(null.mean()) if n_shuffles else float("nan"),
        "null_95": float(np.percentile(null, 95)) if n_shuffles else float("nan"),
        "p": p_value(null, frac),
        "single_trial_fraction": float(signal_fraction * frac),
        "n_images": int(len(y)),
        "n_classes": int(len(classes)),
    }
