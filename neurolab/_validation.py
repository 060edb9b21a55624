"""Every check of what the public functions are given, written once.

Each check returns the value in the form the caller computes with, or raises an error that names
the parameter, the value it got and what would be valid.
"""

from __future__ import annotations

import numbers

import numpy as np

from neurolab.recording import N_IMAGES

__all__ = ["as_2d", "check_finite", "check_labels", "check_positions", "check_repeats", "check_rng", "seed_of"]


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


def check_repeats(X, name: str = "X") -> np.ndarray:
    """``X`` as an array of shape (2, n_images, n_neurons): two repeats of every image, finite."""
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] != 2:
        raise ValueError(f"{name} must have shape (2, n_images, n_neurons), got {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    check_finite(X, name)
    return X


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
