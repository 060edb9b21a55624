"""Every check of what the public functions are given, written once.

Each check returns the value in the form the caller computes with, or raises an error that names
the parameter, the value it got and what would be valid.
"""

from __future__ import annotations

import numbers

import numpy as np

from neurolab.recording import N_IMAGES

__all__ = ["OUTLIER_FACTOR", "as_2d", "check_finite", "check_int", "check_labels", "check_positions",
           "check_repeats", "check_rng", "outliers", "seed_of"]

OUTLIER_FACTOR = 1e4
"""A value counts as an outlier when its magnitude exceeds this many times the typical neuron's
largest magnitude (the median over neurons of each neuron's maximum |value|): four orders of
magnitude beyond the rest (a unit error, a fill value such as -1e30, corruption). One such response
swamps every neuron's mean and every correlation; the brightest real neuron is a few times, not
thousands of times, the typical one."""


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """A numpy Generator from ``rng``: an int seed (>= 0) or a ``numpy.random.Generator``.

    Scientific Python SPEC 7: one ``rng`` argument; an int gives the same numbers on every run.
    ``None``, floats, strings and booleans are refused: a run must be repeatable, and ``1.7``,
    ``"1"`` or ``True`` are not seeds.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(seed_of(rng, name))


def seed_of(rng, name: str = "rng") -> int:
    """An int seed for code that takes one (scikit-learn's ``random_state``, a cache key).

    An int is returned as it is, so ``rng=0`` gives exactly what ``random_state=0`` gave; a
    Generator gives a fresh draw from it.
    """
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**31 - 1))
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            f"{name} must be an int seed or a numpy.random.Generator, got {rng!r} "
            f"({type(rng).__name__})"
        )
    if rng < 0:
        raise ValueError(f"{name} must be a non-negative int seed, got {rng}")
    return int(rng)


def check_repeats(X, name: str = "X", min_images: int = 1, min_neurons: int = 1) -> np.ndarray:
    """``X`` as an array of shape (2, n_images, n_neurons): two repeats of every image, finite, with
    at least ``min_images`` images and ``min_neurons`` neurons."""
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] != 2:
        raise ValueError(f"{name} must have shape (2, n_images, n_neurons), got {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.shape[1] < min_images or X.shape[2] < min_neurons:
        raise ValueError(f"{name} has {X.shape[1]} images and {X.shape[2]} neurons (shape {X.shape}); this "
                         f"needs at least {min_images} images and {min_neurons} neurons")
    check_finite(X, name)
    return X


def check_int(value, name: str, low: int = 0, high: int | None = None) -> int:
    """``value`` as an int in low..high (an int, not 2.5 nor True), else a ValueError naming it."""
    bound = f">= {low}" if high is None else f"in {low}..{high}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int {bound}, got {value!r} ({type(value).__name__})")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an int {bound}, got {value}")
    return int(value)


def outliers(a, factor: float = OUTLIER_FACTOR) -> tuple[int, tuple, float, float]:
    """Values many orders of magnitude beyond the rest of ``a`` (n_samples, n_neurons).

    Returns (count, index of the largest, its value, the typical scale): the scale is the median
    over neurons of each neuron's largest magnitude, and a value counts when its magnitude exceeds
    ``factor`` times that (0, (), nan, scale when none does; nothing is flagged when the typical
    neuron is all zeros). Two passes over the array, no copy of it.
    """
    a = np.asarray(a)
    if a.ndim != 2 or a.size == 0 or a.dtype.kind not in "iuf":
        return 0, (), float("nan"), float("nan")
    peak = np.maximum(a.max(axis=0).astype(np.float64), -a.min(axis=0).astype(np.float64))
    scale = float(np.median(peak))
    limit = factor * scale
    if not scale > 0 or not np.isfinite(limit) or peak.max() <= limit:
        return 0, (), float("nan"), scale
    count = int(np.count_nonzero(np.abs(a[:, peak > limit], dtype=np.float64) > limit))
    column = int(np.argmax(peak))
    row = int(np.argmax(np.abs(a[:, column].astype(np.float64))))
    return count, (row, column), float(a[row, column]), scale


def check_finite(a: np.ndarray, name: str) -> None:
    """Refuse NaN and Inf at the door, naming how many and where the first one is."""
    finite = np.isfinite(a)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{name} holds {int(np.isnan(a).sum())} NaN and {int(np.isinf(a).sum())} Inf values "
            f"(the first at index {where}); one of them would turn every score into chance or NaN"
        )


def check_labels(labels, name: str = "labels") -> np.ndarray:
    """``labels`` as int64 of shape (2800,): the class of every image of the set (0 = 'unknown')."""
    if labels is None:
        raise TypeError(
            f"{name} is required: the class of each of the {N_IMAGES} images, e.g. "
            "neurolab.io.load_classes()[0]"
        )
    labels = np.asarray(labels)
    if labels.shape != (N_IMAGES,):
        raise ValueError(f"{name} must have shape ({N_IMAGES},), got {labels.shape}")
    if labels.dtype.kind not in "iu" or (len(labels) and labels.min() < 0):
        raise ValueError(f"{name} must hold non-negative integer class indices, got dtype {labels.dtype}")
    return labels.astype(np.int64, copy=False)


def check_positions(xyz, name: str = "xyz") -> np.ndarray:
    """Neuron positions as float64 of shape (n_neurons, 3), at least one neuron, all finite."""
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"{name} must have shape (n_neurons, 3), got {xyz.shape}")
    if len(xyz) == 0:
        raise ValueError(f"{name} holds no neuron (shape {xyz.shape}): nothing to place on a grid")
    check_finite(xyz, name)
    return xyz


def as_2d(a, name: str, dtype=np.float32, finite: bool = True) -> np.ndarray:
    """``a`` as a 2-D array of ``dtype`` (samples, features); NaN or Inf refused when ``finite``."""
    a = np.asarray(a, dtype=dtype)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, neurons), got shape {a.shape}")
    if finite:
        check_finite(a, name)
    return a
