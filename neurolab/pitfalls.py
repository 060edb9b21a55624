"""Mistakes on purpose, and the checks that catch them (chapters 6 and 7).

Chapter 6 reruns a category-decoding analysis with one bug at a time. Each bug is a small function
here, named for what it does, so that a chapter can show its effect with a number and the tests can
prove that it does exactly that and nothing else:

* ``shifted_labels``: the class of image ``i + shift`` given to image ``i`` (an index that was
  already 0-based treated as 1-based, or the reverse); ``label_survival`` and ``run_lengths`` say
  why the damage is subtle (the class file lists images in long runs of one class).
* ``zero_fill_bug``: a preallocated response array that was never filled for part of the trials or
  neurons; ``repeat_reliability`` and ``sanity_checks`` catch it.
* ``leaky_folds``: cross-validation by presentation, so the repeats of an image sit on both sides of
  a split; ``straddle_fraction`` measures it, ``CorrelationNearestNeighbour`` is a classifier
  that exploits it by memorising images, and ``evaluate_folds`` scores any decoder on given folds.
* ``task_with_grey_class``: grey-screen trials kept as one more "category".
* ``chance_levels``: the three chance levels that get confused (most frequent, uniform, stratified).
* ``verdict``: one phrase for a score against its chance level and against the honest pipeline.

Chapter 7 (what the data does hold) uses the honest helpers at the end: ``identity_vs_neurons``,
``shuffle_identity``, ``latent_spectrum``, ``CachedPCA`` and ``fold_models``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.decomposition import PCA
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from neurolab.decode import DecodeResult, cross_validate_decoder, grouped_folds, identity_accuracy
from neurolab.recording import N_IMAGES, Recording, split_repeats

__all__ = [
    "CachedPCA",
    "CorrelationNearestNeighbour",
    "chance_levels",
    "evaluate_folds",
    "fold_models",
    "identity_vs_neurons",
    "label_survival",
    "latent_spectrum",
    "leaky_folds",
    "repeat_reliability",
    "run_lengths",
    "sanity_checks",
    "shifted_labels",
    "shuffle_identity",
    "straddle_fraction",
    "task_with_grey_class",
    "verdict",
    "zero_fill_bug",
]


# ---------------------------------------------------------------------------------------------
# Bug 1: labels shifted by one image


def shifted_labels(istim, labels, shift: int = -1) -> np.ndarray:
    """THE BUG: the class of image ``istim + shift`` instead of image ``istim``.

    istim: (n,) int, 0-based image indices (no grey trials); labels: (n_images_total,) class of
    every image (``load_classes()[0]``, length 2800). ``shift=-1`` is ``labels[istim - 1]`` (an
    index that was already 0-based treated as 1-based: Python silently wraps ``-1`` to the last
    image), ``shift=+1`` is ``labels[istim + 1]`` (the reverse mistake; wrapped here too, where
    Python would raise an IndexError for the last image only). ``shift=0`` is correct.
    Pass ``istim=np.arange(len(labels))`` to get a whole shifted class table for ``category_task``.
    Returns (n,) labels, same dtype as ``labels``.
    """
    istim = np.asarray(istim)
    labels = np.asarray(labels)
    if istim.size and (istim.min() < 0 or istim.max() >= len(labels)):
        raise ValueError(
            f"istim must hold 0-based image indices in 0..{len(labels) - 1} (grey trials removed); "
            f"got values from {istim.min()} to {istim.max()}"
        )
    return labels[(istim + int(shift)) % len(labels)]


def run_lengths(labels) -> np.ndarray:
    """Lengths of the runs of equal consecutive values in ``labels`` (1-D), in order.

    The class file lists images mostly class by class, so its runs are long; that is why a label
    table shifted by one image is still mostly right. Returns (n_runs,) int; they sum to len(labels).
    """
    labels = np.asarray(labels).ravel()
    if labels.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    return np.diff(np.r_[starts, labels.size]).astype(np.int64)


def label_survival(labels, shift: int, images=None) -> float:
    """Fraction of images whose class is unchanged when labels are shifted by ``shift`` images.

    labels: (n_images_total,) class table; images: the 0-based images to count (default all).
    Equals ``mean(shifted_labels(images, labels, shift) == labels[images])``.
    """
    labels = np.asarray(labels)
    images = np.arange(len(labels)) if images is None else np.asarray(images)
    return float(np.mean(shifted_labels(images, labels, shift) == labels[images]))


# ---------------------------------------------------------------------------------------------
# Bug 2: a copy that never happened


def zero_fill_bug(resp, frac: float, rng, axis: int = 0) -> np.ndarray:
    """THE BUG: a preallocated ``np.zeros`` array filled for only part of the trials or neurons.

    Typical causes: a loop that stops early, a file that failed to read inside ``try/except: pass``,
    or ``out[idx][:, cols] = values`` (fancy indexing returns a copy, so nothing is written).
    resp: (n_trials, n_neurons); frac: fraction in [0, 1] of rows (``axis=0``, trials) or columns
    (``axis=1``, neurons) left at zero, chosen at random by ``rng`` (a numpy Generator).
    Returns a new float32 array of the same shape; the rest is copied unchanged.
    """
    resp = np.asarray(resp)
    if resp.ndim != 2:
        raise ValueError(f"resp must be 2-D (trials, neurons), got shape {resp.shape}")
    if not 0.0 <= frac <= 1.0:
        raise ValueError(f"frac must be in [0, 1], got {frac}")
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 (trials) or 1 (neurons), got {axis}")
    n = resp.shape[axis]
    filled = np.ones(n, dtype=bool)
    filled[rng.choice(n, int(round(frac * n)), replace=False)] = False
    out = np.zeros(resp.shape, dtype=np.float32)  # preallocated ...
    if axis == 0:
        out[filled] = resp[filled]  # ... and filled for some trials only
    else:
        out[:, filled] = resp[:, filled]  # ... or for some neurons only
    return out


def repeat_reliability(X) -> np.ndarray:
    """Per-neuron correlation, across images, between the responses to repeat 1 and repeat 2.

    X: (2, n_images, n_neurons) from ``split_repeats``. A neuron that carries image information has
    a positive value; a neuron whose responses are all equal (e.g. never copied, all zeros) has no
    defined correlation and gets NaN. Returns (n_neurons,) float64.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3 or X.shape[0] != 2:
        raise ValueError(f"X must have shape (2, n_images, n_neurons), got {X.shape}")
    a = X[0] - X[0].mean(axis=0)
    b = X[1] - X[1].mean(axis=0)
    denom = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (a * b).sum(axis=0) / np.where(denom > 0, denom, 1.0), np.nan)


def sanity_checks(rec: Recording) -> dict:
    """Cheap checks that catch a broken response matrix before any decoding.

    Returns a dict of floats: ``zero_trials`` and ``zero_neurons`` (fractions of stimulus trials /
    neurons whose responses are all exactly 0), ``constant_neurons`` (fraction with zero variance
    over stimulus trials), ``median_reliability`` (median of ``repeat_reliability`` over neurons
    where it is defined; NaN if none) and ``unreliable_neurons`` (fraction with NaN or <= 0).
    """
    resp = rec.resp[~rec.is_grey]
    zero = resp == 0
    X, _ = split_repeats(rec)
    rel = repeat_reliability(X)
    defined = np.isfinite(rel)
    return {
        "zero_trials": float(np.mean(zero.all(axis=1))),
        "zero_neurons": float(np.mean(zero.all(axis=0))),
        "constant_neurons": float(np.mean(resp.std(axis=0) == 0)),
        "median_reliability": float(np.median(rel[defined])) if defined.any() else float("nan"),
        "unreliable_neurons": float(np.mean(~defined | (np.where(defined, rel, 0) <= 0))),
    }


# ---------------------------------------------------------------------------------------------
# Bug 3: folds that split an image's repeats


def leaky_folds(y, cv: int = 5, random_state: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """THE BUG: stratified folds by presentation, ignoring which image each trial showed.

    y: (n_samples,) labels. These are exactly the folds ``cross_validate_decoder`` uses when it is
    given ``groups=np.arange(len(y))`` (every presentation its own group), so that call *is* the
    leaky pipeline. The two repeats of an image then land on opposite sides of a split about
    (cv - 1) / cv of the time (``straddle_fraction``). Returns a list of (train, test) indices.
    """
    y = np.asarray(y)
    return grouped_folds(y, np.arange(len(y)), cv, random_state)


def straddle_fraction(folds, groups) -> float:
    """Fraction of test samples whose group (image) also has a sample in that fold's training set.

    folds: list of (train, test) index arrays; groups: (n_samples,) image ids. 0 for grouped folds.
    """
    groups = np.asarray(groups)
    leaked = total = 0
    for train, test in folds:
        leaked += int(np.isin(groups[test], groups[train]).sum())
        total += len(test)
    return leaked / total if total else float("nan")


class CorrelationNearestNeighbour(ClassifierMixin, BaseEstimator):
    """1-nearest-neighbour by Pearson correlation: a classifier that memorises every training trial.

    Each test response gets the label of the single training response it correlates with best
    (the rule of ``identity_accuracy``, applied across trials). It learns nothing about categories
    as such; it scores above chance only if a test trial's nearest training trial shares its
    label, which is exactly what happens when that trial's repeat is in the training set.

    Attributes (after ``fit``): ``train_`` (n_train, n_features) float32 row-standardised training
    responses, ``labels_`` (n_train,) their labels, ``classes_``.
    """

    def __init__(self, batch_size: int = 2048):
        self.batch_size = batch_size

    def fit(self, X, y):
        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError(f"X must be (n_samples, n_features) matching y; got {X.shape}, {y.shape}")
        self.train_ = _row_standardise(X)
        self.labels_ = y.copy()
        self.classes_ = unique_labels(y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        check_is_fitted(self, "train_")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have {self.n_features_in_} features, got shape {X.shape}")
        nearest = np.empty(len(X), dtype=np.int64)
        for start in range(0, len(X), self.batch_size):
            block = _row_standardise(X[start : start + self.batch_size])
            nearest[start : start + len(block)] = np.argmax(block @ self.train_.T, axis=1)
        return self.labels_[nearest]


def evaluate_folds(estimator, X, y, folds) -> DecodeResult:
    """Cross-validate ``estimator`` on the folds given, with its chance level on the same folds.

    The same scores as ``cross_validate_decoder`` (which draws grouped folds itself), for folds
    drawn elsewhere: leaky folds, to show the bug, or one set of grouped folds reused by several
    pipelines on the same samples (drawing grouped folds for thousands of images takes seconds).
    X: (n_samples, n_features); y: (n_samples,); folds: list of (train, test) index arrays covering
    every sample once. No permutation test here (``p_value`` is NaN): use ``cross_validate_decoder``.
    """
    return cross_validate_decoder(estimator, X, y, folds=folds)


def _row_standardise(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    a = a - a.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(norm > 0, norm, 1.0)


# ---------------------------------------------------------------------------------------------
# Bug 4: grey screens (and 'unknown') as categories


def task_with_grey_class(rec: Recording, labels, drop_unknown: bool = True):
    """THE BUG: ``category_task`` with grey-screen trials kept as one more class.

    rec: a Recording loaded with ``keep_grey=True``; labels: (2800,) class table (0 = 'unknown').
    Grey trials get the label ``labels.max() + 1`` (the 13th class of the 12-class file) and each
    its own group (negative ids, so they never collide with an image index).
    drop_unknown: leave out 'unknown' images (class 0), as the honest task does.
    Returns X (n_samples, n_neurons) float32, y (n_samples,) int64, groups (n_samples,) int64, and
    the grey label (int).
    """
    labels = np.asarray(labels)
    if labels.shape != (N_IMAGES,):
        raise ValueError(f"labels must have shape ({N_IMAGES},), got {labels.shape}")
    grey_label = int(labels.max()) + 1
    grey = rec.is_grey
    y = np.where(grey, grey_label, labels[np.where(grey, 0, rec.istim)]).astype(np.int64)
    groups = np.where(grey, -1 - np.cumsum(grey), rec.istim).astype(np.int64)
    keep = (y != 0) if drop_unknown else np.ones(len(y), dtype=bool)
    X = np.ascontiguousarray(rec.resp[keep], dtype=np.float32)
    return X, y[keep], groups[keep], grey_label


# ---------------------------------------------------------------------------------------------
# Bug 5: the wrong chance level


def chance_levels(y) -> dict:
    """The chance levels of a classification task with labels ``y`` (n_samples,).

    most_frequent: accuracy of always answering the largest class (the right bar for accuracy);
    uniform: 1 / n_classes (the right bar for *balanced* accuracy, and the wrong one for accuracy
    when classes are unequal); stratified: sum of squared class shares, the expected accuracy of
    guessing at random with the class frequencies. Returns floats and ``n_classes`` (int).
    """
    _, counts = np.unique(np.asarray(y), return_counts=True)
    share = counts / counts.sum()
    return {
        "n_classes": int(len(counts)),
        "most_frequent": float(share.max()),
        "uniform": float(1.0 / len(counts)),
        "stratified": float(np.sum(share**2)),
    }


def verdict(score: float, sem: float, chance: float, honest: float | None = None,
            honest_sem: float = 0.0, n_sem: float = 2.0) -> str:
    """One phrase for a cross-validated score: against its chance level, then against the honest one.

    score, sem: mean and standard error over folds; chance: the right chance level for that score.
    honest, honest_sem: the honest pipeline's score (None to skip the comparison).
    A difference counts when it exceeds ``n_sem`` combined standard errors. Returns e.g.
    'above chance, inflated' or 'at chance'.
    """
    sem = float(sem) if np.isfinite(sem) else 0.0
    words = "above chance" if score - chance > n_sem * sem else "at chance"
    if score < chance - n_sem * sem:
        words = "below chance"
    if honest is None:
        return words
    honest_sem = float(honest_sem) if np.isfinite(honest_sem) else 0.0
    margin = n_sem * np.hypot(sem, honest_sem)
    if score > honest + margin:
        return f"{words}, inflated"
    if score < honest - margin:
        return f"{words}, deflated"
    return f"{words}, as honest"


# ---------------------------------------------------------------------------------------------
# Honest helpers for chapter 7


def identity_vs_neurons(X, ns, n_draws: int = 3, seed: int = 0) -> np.ndarray:
    """Identity accuracy (``identity_accuracy``) of random subsets of neurons.

    X: (2, n_images, n_neurons); ns: neuron counts (each <= n_neurons); n_draws: random subsets per
    count (a count equal to n_neurons has a single possible subset and is computed once).
    Returns (len(ns), n_draws) float64; entries not computed are NaN.
    """
    X = np.asarray(X)
    n_neurons = X.shape[2]
    rng = np.random.default_rng(seed)
    out = np.full((len(ns), n_draws), np.nan)
    for i, n in enumerate(ns):
        n = int(n)
        if not 1 <= n <= n_neurons:
            raise ValueError(f"neuron counts must be in 1..{n_neurons}, got {n}")
        for d in range(1 if n == n_neurons else n_draws):
            idx = np.sort(rng.choice(n_neurons, n, replace=False))
            out[i, d] = identity_accuracy(X[:, :, idx])
    return out


def shuffle_identity(X, rng) -> np.ndarray:
    """Control: pair each image's first repeat with the second repeat of a random other image.

    X: (2, n_images, n_neurons); rng: numpy Generator. The rows of repeat 2 are permuted with no
    image left in place (a derangement), so any variance shared between the repeats that survives
    is not stimulus-specific. Returns a new array.
    """
    X = np.asarray(X)
    n = X.shape[1]
    if n < 2:
        raise ValueError("need at least 2 images to shuffle identities")
    perm = rng.permutation(n)
    fixed = np.flatnonzero(perm == np.arange(n))
    for i in fixed:  # swap any fixed point with a neighbour: a derangement
        j = (i + 1) % n
        perm[i], perm[j] = perm[j], perm[i]
    return np.stack([X[0], X[1][perm]])


def latent_spectrum(truth) -> np.ndarray:
    """The generator's own stimulus spectrum: eigenvalues of the covariance of its image latents.

    truth: ``Recording.truth`` of a synthetic recording (``latents`` (n_images, n_latents)).
    Returns (min(n_images, n_latents),) float64, descending, summed over images like ``cvpca``.
    Raises ValueError for real data (truth None): the true spectrum of a real brain is unknown.
    """
    if truth is None:
        raise ValueError("real recordings have no ground truth: their latent spectrum is unknown")
    z = np.asarray(truth.latents, dtype=np.float64)
    z = z - z.mean(axis=0)
    s = np.linalg.svd(z, compute_uv=False)
    return s**2


class CachedPCA(PCA):
    """``sklearn.decomposition.PCA`` whose fits and projections are remembered for identical input.

    PCA never sees labels, so in a permutation test (labels shuffled, folds unchanged) each fold's
    PCA, and its projection of that fold's training and test data, is the same for every shuffle.
    This class keys each fit on the PCA parameters and a SHA-1 digest of the training data's bytes
    (shape and dtype included), and each projection on the digest of the data projected; a repeat
    is looked up instead of recomputed, so a permutation test pays for each fold's PCA once.
    Results are identical to ``PCA``'s. The cache is shared by all instances (``clone`` makes new
    ones), holds the last ``max_entries`` fits, and is emptied by ``CachedPCA.clear_cache()``.
    """

    _cache: "OrderedDict[str, dict]" = OrderedDict()
    max_entries = 16
    max_projections = 8  # remembered projections per fit (its training data, test folds, ...)

    def fit(self, X, y=None):
        self._fit_cached(np.ascontiguousarray(X))
        return self

    def fit_transform(self, X, y=None):
        X = np.ascontiguousarray(X)
        digest = self._fit_cached(X)
        return self._project(X, digest)

    def transform(self, X):
        check_is_fitted(self, "components_")
        X = np.ascontiguousarray(X)
        return self._project(X, _digest(X))

    def _fit_cached(self, X) -> str:
        digest = _digest(X)
        key = repr(sorted(self.get_params().items())) + digest
        entry = self._cache.get(key)
        if entry is None:
            super().fit(X)
            params = self.get_params()
            learned = {k: v for k, v in vars(self).items() if k not in params and k != "_entry"}
            entry = {"fit": learned, "projections": OrderedDict()}
            self._cache[key] = entry
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
            for k, v in entry["fit"].items():
                setattr(self, k, v)
        self._entry = entry
        return digest

    def _project(self, X, digest: str) -> np.ndarray:
        store = self._entry["projections"] if hasattr(self, "_entry") else None
        if store is None:
            return super().transform(X)
        if digest not in store:
            store[digest] = super().transform(X)
            while len(store) > self.max_projections:
                store.popitem(last=False)
        return store[digest].copy()

    @classmethod
    def clear_cache(cls) -> None:
        cls._cache.clear()


def _digest(X: np.ndarray) -> str:
    """SHA-1 of a contiguous array's shape, dtype and bytes (a fingerprint, not a security measure)."""
    h = hashlib.sha1(repr((X.shape, X.dtype.str)).encode())
    h.update(memoryview(X).cast("B"))
    return h.hexdigest()


def fold_models(estimator, X, y, groups, cv: int = 5, random_state: int = 0) -> list:
    """The estimator fitted on the training part of each fold of ``grouped_folds(y, groups, cv,
    random_state)``: the same folds as ``cross_validate_decoder`` with the same arguments, so the
    fitted models (e.g. the C that a nested search chose) can be inspected. Returns a list."""
    X, y = np.asarray(X), np.asarray(y)
    return [clone(estimator).fit(X[train], y[train]) for train, _ in grouped_folds(y, groups, cv, random_state)]
