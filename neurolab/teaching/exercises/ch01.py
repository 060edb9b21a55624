"""Self-checks of chapter 1: the data."""

from __future__ import annotations

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _array, _close, _indices, _pct, exercise


@exercise("ex-01-reliable", "1.1",
          "the indices of the 20 neurons with the highest repeat reliability")
def _reliable(best20, *, rel):
    rel = np.asarray(rel, dtype=float)
    idx = _indices("best20", best20, len(rel))
    if len(idx) != 20:
        raise Wrong(f"`best20` should hold 20 neuron indices, got {len(idx)}")
    if len(np.unique(idx)) != 20:
        raise Wrong("`best20` repeats a neuron: take 20 different ones")
    order = np.sort(np.nan_to_num(rel, nan=-np.inf))
    top20, bottom20 = order[-20], order[19]
    picked = np.nan_to_num(rel[idx], nan=-np.inf)
    if np.all(picked <= bottom20) and bottom20 < top20:
        raise Wrong("these are the 20 LEAST reliable neurons: np.argsort sorts in ascending order; "
                    "take the end of it (np.argsort(rel)[::-1][:20] or np.argsort(-rel)[:20])")
    outside = int(np.sum(picked < top20))
    if outside:
        raise Wrong(f"{outside} of your 20 neurons are not among the 20 most reliable "
                    f"(the 20th highest `rel` is {top20:.3f}); sort by `rel`, not by index or position")
    return f"Their reliability runs from {picked.min():.3f} to {picked.max():.3f}."


@exercise("ex-01-counting", "1.2",
          "showings per image (grey excluded) and the indices of the grey trials")
def _counting(n_shown, grey_trials, *, istim):
    from neurolab.recording import GREY

    istim = np.asarray(istim)
    images = istim[istim != GREY]
    ref = np.bincount(images)
    grey = np.flatnonzero(istim == GREY)
    counts = _array("n_shown", n_shown, ndim=1)
    if counts.dtype.kind == "f" and np.all(counts == np.round(counts)):
        counts = counts.astype(np.int64)
    n_grey = len(grey)
    if len(counts) == len(ref) + 1 and n_grey and counts[0] == n_grey and np.array_equal(counts[1:], ref):
        raise Wrong("the first entry of `n_shown` counts the grey trials (istim == GREY == -1): "
                    "keep only istim != GREY before counting")
    if counts.sum() == len(istim) and n_grey:
        raise Wrong(f"`n_shown` adds up to all {len(istim)} trials, grey ones included; count only the "
                    f"{len(images)} image trials (istim != GREY)")
    if len(counts) < len(ref) or not np.array_equal(counts[: len(ref)], ref) or np.any(counts[len(ref):]):
        if len(counts) == len(np.unique(images)) and np.array_equal(np.sort(counts), np.sort(ref[ref > 0])):
            raise Wrong("`n_shown` lists the counts of the images that were shown only; index it by image "
                        "(np.bincount(images) has one entry per image index, 0 for images never shown)")
        raise Wrong("`n_shown[i]` should be how often image i was shown: np.bincount of the image "
                    "indices of the non-grey trials")
    g = _array("grey_trials", grey_trials)
    if g.dtype == bool:
        raise Wrong("`grey_trials` is a boolean mask; give the trial indices (np.flatnonzero(mask))")
    g = _indices("grey_trials", g.ravel(), len(istim) + 1)
    if n_grey and len(g) == n_grey and np.array_equal(g, grey + 1):
        raise Wrong("`grey_trials` is off by one: trial indices are 0-based in Python")
    if not np.array_equal(np.sort(g), grey):
        raise Wrong(f"`grey_trials` should be the {n_grey} trial indices where istim == GREY (-1), got "
                    f"{len(g)} indices")
    return (f"{int(np.sum(ref == 2))} images shown exactly twice; {n_grey} grey trials.")


@exercise("ex-01-threshold", "1.3",
          "fraction of neurons above mu + 3 sd on each trial")
def _threshold(frac3, *, resp, mu, sd):
    resp = np.asarray(resp)
    f = _array("frac3", frac3)
    if f.shape == (resp.shape[1],):
        raise Wrong("`frac3` has one value per neuron; the question is per trial: the fraction of "
                    "neurons above threshold on each trial (mean over axis=1)")
    if f.shape != (resp.shape[0],):
        raise Wrong(f"`frac3` should have one value per trial, shape ({resp.shape[0]},); got {f.shape}")
    ref = (resp > (mu + 3 * sd)).mean(axis=1)
    if _close(f, ref, 1e-5):
        return f"Median over trials {_pct(float(np.median(ref)))}."
    if _close(f / 100, ref, 1e-5):
        raise Wrong("`frac3` is in percent; give fractions between 0 and 1")
    if _close(f, (resp > (mu + 2 * sd)).mean(axis=1), 1e-5):
        raise Wrong("`frac3` matches the 2 SD threshold; the question asks for mu + 3 * sd")
    if _close(f, (resp > (mu + 3)).mean(axis=1), 1e-5):
        raise Wrong("the threshold is 3 standard deviations above the mean: mu + 3 * sd, not mu + 3")
    if _close(f, (np.abs(resp - mu) > 3 * sd).mean(axis=1), 1e-5):
        raise Wrong("count only responses ABOVE mu + 3 * sd (driven neurons), not deviations in both directions")
    raise Wrong("`frac3` differs from the fraction of neurons with resp > mu + 3 * sd on each trial")
