"""Which image was shown? Decoding image identity from one repeat to the other."""

from __future__ import annotations

import numpy as np

from neurolab._validation import check_int, check_repeats, check_rng

__all__ = ["RULES", "identity_accuracy", "identity_scores", "identity_vs_neurons", "row_zscore", "shuffle_identity"]


def row_zscore(a) -> np.ndarray:
    """Each row centred and scaled to unit norm (float32), so that a dot product is a correlation.

    a: (n_rows, n_features). A constant row stays all zeros.
    """
    a = np.asarray(a, dtype=np.float32)
    a = a - a.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(norm > 0, norm, 1.0)


RULES = ("correlation", "zscore", "dot")
"""Identity decoders: 'correlation' (this course's default: Pearson correlation across neurons),
'zscore' (the authors' ``decoder/decode2800.m``: every neuron z-scored across images within each
repeat, then correlation) and 'dot' (the authors' ``python/powerlaws.ipynb``: the plain dot product
of the responses, centred per neuron by the preprocessing; the rule that printed 0.412 on recording
M170714_MP032_2017-09-14)."""


def identity_scores(X, rule: str = "correlation") -> np.ndarray:
    """How well every test response matches every template.

    Parameters
    ----------
    X : array-like of shape (2, n_images, n_neurons)
        Repeat 1 gives the templates, repeat 2 the test responses.
    rule : {'correlation', 'zscore', 'dot'}
        See ``RULES``.

    Returns
    -------
    scores : ndarray of shape (n_images, n_images)
        [i, j] = the match of test response i with template j (the best j is the decoded image).
        With 'dot', as in the notebook, the first showing of image i is matched against the
        second showing of image j.

    Raises ValueError for fewer than 2 images or 2 neurons: with one neuron every correlation is 0,
    so the 'decoded' image would be the first one, and an accuracy at chance would mean nothing.
    """
    X = check_repeats(X, min_images=2, min_neurons=2)
    if rule == "correlation":
        return row_zscore(X[1]) @ row_zscore(X[0]).T
    if rule == "zscore":
        z = np.asarray(X, dtype=np.float32)
        z = (z - z.mean(axis=1, keepdims=True)) / np.where(z.std(axis=1, keepdims=True) > 0,
                                                             z.std(axis=1, keepdims=True), 1.0)
        return row_zscore(z[1]) @ row_zscore(z[0]).T
    if rule == "dot":  # as the notebook: each first showing against every second showing
        return np.asarray(X[0], dtype=np.float32) @ np.asarray(X[1], dtype=np.float32).T
    raise ValueError(f"rule must be one of {RULES}, got {rule!r}")


def identity_accuracy(X, return_pred: bool = False, rule: str = "correlation"):
    """Which of n images was shown? Nearest template from repeat 2 to repeat 1.

    Parameters
    ----------
    X : array-like of shape (2, n_images, n_neurons)
    return_pred : bool
        Also return the predicted image index of every test response.
    rule : {'correlation', 'zscore', 'dot'}
        How a test response is matched to a template (``RULES``): the three decoders of the
        course and of the authors' code give different accuracies on the same data.

    Returns
    -------
    accuracy : float
        Chance is 1 / n_images.
    pred : ndarray of shape (n_images,), only with ``return_pred``
    """
    pred = np.argmax(identity_scores(X, rule), axis=1)
    acc = float(np.mean(pred == np.arange(len(pred))))
    return (acc, pred) if return_pred else acc


def identity_vs_neurons(X, ns, n_draws: int = 3, rng=0) -> np.ndarray:
    """Identity accuracy (``identity_accuracy``) of random subsets of neurons.

    Parameters
    ----------
    X : array-like of shape (2, n_images, n_neurons)
    ns : sequence of int
        Neuron counts (each <= n_neurons).
    n_draws : int
        Random subsets per count (a count equal to n_neurons has one subset, computed once).
    rng : int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (len(ns), n_draws)
        float64; entries not computed are NaN.
    """
    X = check_repeats(X, min_images=2, min_neurons=2)
    n_neurons = X.shape[2]
    n_draws = check_int(n_draws, "n_draws", 1)
    if isinstance(ns, (str, bytes)) or not hasattr(ns, "__len__") or len(ns) == 0:
        raise ValueError(f"ns must be a non-empty sequence of neuron counts, got {ns!r}")
    ns = [check_int(n, "ns (neuron counts)", 2, n_neurons) for n in ns]
    rng = check_rng(rng)
    out = np.full((len(ns), n_draws), np.nan)
    for i, n in enumerate(ns):
        for d in range(1 if n == n_neurons else n_draws):
            idx = np.sort(rng.choice(n_neurons, n, replace=False))
            out[i, d] = identity_accuracy(X[:, :, idx])
    return out


def shuffle_identity(X, rng) -> np.ndarray:
    """Control: pair each image's first repeat with the second repeat of a random other image.

    X: (2, n_images, n_neurons); rng: numpy Generator or int seed. The rows of repeat 2 are
    permuted with no image left in place (a derangement), so any variance shared between the
    repeats that survives is not stimulus-specific. Returns a new array of the same shape.
    """
    X = check_repeats(X)
    n = X.shape[1]
    if n < 2:
        raise ValueError("need at least 2 images to shuffle identities")
    perm = check_rng(rng).permutation(n)
    fixed = np.flatnonzero(perm == np.arange(n))
    for i in fixed:  # swap any fixed point with a neighbour: a derangement
        j = (i + 1) % n
        perm[i], perm[j] = perm[j], perm[i]
    return np.stack([X[0], X[1][perm]])
