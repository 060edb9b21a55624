"""The category-decoding problem of a recording as (X, y, groups), in its variants.

Every task returns X (n_samples, n_features) float32, y (n_samples,) int64 class labels and groups
(n_samples,) int64 image ids, so that cross-validation can keep an image's repeats on one side of
every split. Labels are always passed in (``neurolab.io.load_classes()[0]``): nothing here reads a
file.
"""

from __future__ import annotations

import numpy as np

from neurolab._validation import check_labels
from neurolab.recording import GREY, Recording, split_repeats

__all__ = ["category_task", "repeat_task", "truth_task"]


def _drop_unknown(X, y, images, drop_unknown: bool):
    keep = y != 0 if drop_unknown else np.ones(len(y), dtype=bool)
    return np.ascontiguousarray(X[keep], dtype=np.float32), y[keep], np.asarray(images[keep], dtype=np.int64)


def category_task(rec: Recording, labels, average_repeats: bool = False, drop_unknown: bool = True):
    """One row per trial (or per image): which category was shown?

    Parameters
    ----------
    rec : Recording
        Grey trials, if kept, are always excluded: a grey screen is not a category.
    labels : array-like of shape (2800,)
        Class of each image (0 = 'unknown').
    average_repeats : bool
        One row per image, the mean of its repeats, instead of one row per trial.
    drop_unknown : bool
        Leave out images of class 0 ('unknown'), which is not a category.

    Returns
    -------
    X : ndarray of shape (n_samples, n_neurons)
    y : ndarray of shape (n_samples,)
    groups : ndarray of shape (n_samples,)
    """
    labels = check_labels(labels)
    if average_repeats:
        X, images = split_repeats(rec)
        X = X.mean(axis=0)
    else:
        keep = rec.istim != GREY
        X, images = rec.resp[keep], rec.istim[keep]
    return _drop_unknown(X, labels[images], images, drop_unknown)


def repeat_task(rec: Recording, labels, repeats="mean", drop_unknown: bool = True):
    """One row per image: one repeat, or the mean of both.

    repeats: 'mean' (as ``category_task(average_repeats=True)``), 0 (the first presentation of
    every image) or 1 (the second). Images shown fewer than twice are left out (``split_repeats``).
    Returns (X (n_images, n_neurons), y, groups) as ``category_task``.
    """
    labels = check_labels(labels)
    X2, images = split_repeats(rec)
    if isinstance(repeats, str) and repeats == "mean":
        X = X2.mean(axis=0)
    elif repeats in (0, 1):
        X = X2[int(repeats)]
    else:
        raise ValueError(f"repeats must be 'mean', 0 or 1, not {repeats!r}")
    return _drop_unknown(X, labels[images], images, drop_unknown)


def truth_task(rec: Recording, what: str = "clean", labels=None, drop_unknown: bool = True):
    """The category task on the generative truth of a synthetic recording.

    what: 'clean' -> X = ``truth.clean`` (n_images, n_neurons), the noise-free responses;
    'latents' -> X = ``truth.latents`` (n_images, n_latents), the images' latent features.
    labels: (2800,) class per image (default ``truth.labels``, the labels the data were made with).
    One row per image; groups = image id. Raises ValueError for real data (truth None).
    """
    truth = rec.truth
    if truth is None:
        raise ValueError(f"recording {rec.name!r} has no generative truth (real data): no {what!r} task")
    if what not in ("clean", "latents"):
        raise ValueError(f"what must be 'clean' or 'latents', not {what!r}")
    labels = check_labels(truth.labels if labels is None else labels)
    images = np.asarray(truth.image_ids, dtype=np.int64)
    X = np.asarray(truth.clean if what == "clean" else truth.latents)
    return _drop_unknown(X, labels[images], images, drop_unknown)
