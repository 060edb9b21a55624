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
  a split; ``straddle_fraction`` measures it (``neurolab.decoding.CorrelationNearestNeighbour`` is
  a classifier that exploits it by memorising images; ``cross_validate_decoder(folds=...)`` scores
  any decoder on given folds).
* ``task_with_grey_class``: grey-screen trials kept as one more "category".
* ``chance_levels``: the three chance levels that get confused (most frequent, uniform, stratified).
* ``accuracy_tests`` and ``verdict``: paired tests of a pipeline against its chance level and the
  honest pipeline (image by image, never error bars), and one phrase that sums them up.

The honest analyses these are compared with live in the library (``neurolab.decoding``,
``neurolab.geometry``); this module holds only the mistakes.
"""

from __future__ import annotations

import numpy as np

from neurolab._validation import check_labels, check_rng
from neurolab.decoding.cv import grouped_folds
from neurolab.geometry import repeat_reliability
from neurolab.recording import Recording, split_repeats

__all__ = [
    "chance_levels",
    "label_survival",
    "leaky_folds",
    "run_lengths",
    "sanity_checks",
    "shifted_labels",
    "straddle_fraction",
    "task_with_grey_class",
    "accuracy_tests",
    "shared_samples",
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
    (``axis=1``, neurons) left at zero, chosen at random by ``rng`` (a numpy Generator or an int seed).
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
    filled[check_rng(rng).choice(n, int(round(frac * n)), replace=False)] = False
    out = np.zeros(resp.shape, dtype=np.float32)  # preallocated ...
    if axis == 0:
        out[filled] = resp[filled]  # ... and filled for some trials only
    else:
        out[:, filled] = resp[:, filled]  # ... or for some neurons only
    return out


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


def leaky_folds(y, cv: int = 5, rng=0) -> list[tuple[np.ndarray, np.ndarray]]:
    """THE BUG: stratified folds by presentation, ignoring which image each trial showed.

    y: (n_samples,) labels. These are exactly the folds ``cross_validate_decoder`` uses when it is
    given ``groups=np.arange(len(y))`` (every presentation its own group), so that call *is* the
    leaky pipeline. The two repeats of an image then land on opposite sides of a split about
    (cv - 1) / cv of the time (``straddle_fraction``). Returns a list of (train, test) indices.
    """
    y = np.asarray(y)
    return grouped_folds(y, np.arange(len(y)), cv, rng)


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
    labels = check_labels(labels)
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


def accuracy_tests(result, y, groups, reference=None, y_reference=None, n_permutations: int = 999,
                   rng=0):
    """Paired tests of one pipeline's accuracy: against always answering its most frequent class,
    and against a reference pipeline on the same samples (their labels may differ, e.g. shifted).

    result, reference: DecodeResult (or out-of-fold predictions) on the same samples, in the same
    order; y, y_reference: the labels each was scored against (``y_reference`` defaults to ``y``);
    groups: image of each sample (an image's repeats are swapped together). Each test swaps, image
    by image, whether each sample was answered right by one pipeline or the other
    (``neurolab.decoding.paired_test`` on the two correctness vectors), so it compares accuracies
    even when the two pipelines were scored against different labels.

    Returns (vs_chance, vs_reference): two ``PairedTest`` (the second None without a reference).
    """
    from neurolab.decoding.cv import chance_test, paired_test

    y, groups = np.asarray(y), np.asarray(groups)
    pred = np.asarray(getattr(result, "y_pred", result))
    vs_chance = chance_test(pred, y, groups, metric="accuracy", n_permutations=n_permutations, rng=rng)
    if reference is None:
        return vs_chance, None
    ref_y = y if y_reference is None else np.asarray(y_reference)
    ref_pred = np.asarray(getattr(reference, "y_pred", reference))
    if ref_pred.shape != pred.shape:
        raise ValueError(f"the reference answered {ref_pred.shape} samples, this pipeline {pred.shape}: "
                         f"a paired test needs the same samples")
    right, ref_right = (pred == y).astype(np.int8), (ref_pred == ref_y).astype(np.int8)
    ones = np.ones_like(right)
    vs_reference = paired_test(right, ref_right, ones, groups, metric="accuracy",
                               n_permutations=n_permutations, rng=rng)
    return vs_chance, vs_reference


def verdict(vs_chance, vs_reference=None, alpha: float = 0.05) -> str:
    """One phrase for a pipeline from its paired tests (``accuracy_tests``): 'above chance',
    'at chance' or 'below chance', then, against the reference, 'inflated', 'deflated' or 'as
    honest'. A difference counts when its p-value is at most ``alpha``; with n permutations the
    smallest p is 1 / (n + 1), so fewer than 1 / alpha - 1 can never count.
    """

    def side(test, up: str, down: str, same: str) -> str:
        if test.p_value <= alpha and test.difference > 0:
            return up
        if test.p_value <= alpha and test.difference < 0:
            return down
        return same

    words = side(vs_chance, "above chance", "below chance", "at chance")
    if vs_reference is None:
        return words
    return f"{words}, {side(vs_reference, 'inflated', 'deflated', 'as honest')}"


def shared_samples(keep_a, keep_b) -> tuple[np.ndarray, np.ndarray]:
    """Rows of two tasks cut from the same trials by different masks that hold the same trial.

    keep_a, keep_b: (n_trials,) booleans, the trials each task kept (in trial order, as
    ``category_task`` keeps them). Returns (rows_a, rows_b): for every trial kept by both, its row
    in task a and in task b, so that two pipelines can be compared on the samples they share.
    """
    keep_a, keep_b = np.asarray(keep_a, dtype=bool), np.asarray(keep_b, dtype=bool)
    if keep_a.shape != keep_b.shape or keep_a.ndim != 1:
        raise ValueError(f"keep_a {keep_a.shape} and keep_b {keep_b.shape} must be (n_trials,) masks")
    both = keep_a & keep_b
    return np.flatnonzero(both[keep_a]), np.flatnonzero(both[keep_b])
