"""Preprocessing: remove the spontaneous-activity subspace, then centre, as Stringer et al. do.

* ``SpontaneousPCs``: z-score each neuron by its spontaneous statistics and project out the top
  principal components of spontaneous activity (a scikit-learn transformer; everything it uses is
  learned in ``fit`` from spontaneous activity alone, so ``transform`` of one trial equals that
  row of ``transform`` of all).
* ``centre``: subtract each neuron's mean over the trials given: an explicit, separate step.
* ``denoise_recording``: both, applied to a whole ``Recording`` (the course's standard step).
* ``truncate``: a fitted ``SpontaneousPCs`` that removes only its first n components.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted, validate_data

from neurolab._validation import OUTLIER_FACTOR, outliers, seed_of

__all__ = ["SILENT_FRACTION", "SpontaneousPCs", "centre", "denoise_recording", "fitted_spontaneous_pcs",
           "truncate"]

SILENT_FRACTION = 1e-3
"""A neuron whose spontaneous SD is below this fraction of the median SD counts as silent."""


class SpontaneousPCs(TransformerMixin, BaseEstimator):
    """Z-score by spontaneous activity and project out its top principal components.

    Ongoing (grey-screen) activity is dominated by a few shared dimensions linked to the animal's
    behaviour; the same fluctuations ride on top of every stimulus trial. Fitting their principal
    components on spontaneous activity alone (no stimulus, so no label can leak) and removing them
    from the responses is the preprocessing of Stringer et al. (2019).

    Parameters
    ----------
    n_components : int, default=32
        Number of spontaneous PCs to project out (0 = z-score only).
    rng : int or numpy.random.Generator, default=0
        Seed of the randomized SVD.

    Attributes
    ----------
    mean_ : ndarray of shape (n_neurons,)
        Mean spontaneous activity of each neuron (float32).
    scale_ : ndarray of shape (n_neurons,)
        Its standard deviation (float32). A neuron silent or constant during spontaneous activity
        (SD below ``SILENT_FRACTION`` of the median SD) gets the median SD instead, with a warning
        that says how many: dividing by its near-zero SD would blow its responses up a millionfold
        and swamp every other neuron.
    silent_ : ndarray of shape (n_neurons,)
        bool, True for those neurons.
    components_ : ndarray of shape (n_components, n_neurons)
        Orthonormal spontaneous PCs of the z-scored data (float32).
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Share of the z-scored spontaneous variance of each PC.
    n_features_in_ : int
        Number of neurons seen in ``fit``.

    Notes
    -----
    ``transform`` does not centre the responses: centring over trials is a separate step
    (``centre``), which ``denoise_recording`` applies.
    """

    def __init__(self, n_components: int = 32, rng=0):
        self.n_components = n_components
        self.rng = rng

    def fit(self, X, y=None):
        """Learn the z-scoring statistics and the PCs of spontaneous activity.

        Parameters
        ----------
        X : array-like of shape (n_timepoints, n_neurons)
            Spontaneous activity.
        y : Ignored

        Returns
        -------
        self : object
        """
        X = validate_data(self, X, dtype=np.float32, ensure_min_samples=2)
        n_time, n_neurons = X.shape
        if not 0 <= self.n_components <= min(n_time, n_neurons):
            raise ValueError(
                f"n_components={self.n_components} must be between 0 and "
                f"min(n_timepoints, n_neurons)={min(n_time, n_neurons)}"
            )
        self.mean_ = X.mean(axis=0, dtype=np.float64).astype(np.float32)  # float64 sums cannot overflow
        std = X.std(axis=0, dtype=np.float64).astype(np.float32)
        typical = float(np.median(std))
        if not typical > 0:
            raise ValueError(
                f"spontaneous activity is constant for at least half of the {n_neurons} neurons "
                "(median SD 0): there is nothing to z-score by; check the file's stim.spont"
            )
        self.silent_ = std < SILENT_FRACTION * typical
        _warn_silent(self.silent_, typical)
        self.scale_ = np.where(self.silent_, typical, std).astype(np.float32)
        z = (X - self.mean_) / self.scale_
        if self.n_components > 0:
            _, s, vt = randomized_svd(
                z, self.n_components, n_oversamples=20, n_iter=5, random_state=seed_of(self.rng)
            )
            self.components_ = vt.astype(np.float32)
            self.explained_variance_ratio_ = (s**2) / float(np.sum(z.astype(np.float64) ** 2))
        else:
            self.components_ = np.zeros((0, n_neurons), np.float32)
            self.explained_variance_ratio_ = np.zeros(0)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # responses are float32 throughout
        return tags

    def transform(self, X):
        """Z-score by the spontaneous statistics and remove the spontaneous PCs.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_neurons)
            Stimulus responses.

        Returns
        -------
        Z : ndarray of shape (n_trials, n_neurons)
            float32; row i depends on row i of X alone.
        """
        check_is_fitted(self, "components_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        z = (X - self.mean_) / self.scale_
        if len(self.components_):
            z -= (z @ self.components_.T) @ self.components_
        return z


def _warn_silent(silent: np.ndarray, typical: float) -> None:
    if silent.any():
        warnings.warn(
            f"{int(silent.sum())} of {len(silent)} neurons are silent or constant during "
            f"spontaneous activity (SD below {SILENT_FRACTION:g} x the median SD); they are "
            f"scaled by the median SD ({typical:.3g}) instead of their own",
            stacklevel=4,
        )


_FITTED = ("mean_", "scale_", "silent_", "components_", "explained_variance_ratio_")
MEMO_MIN_SIZE = 1_000_000
"""Spontaneous blocks with fewer values than this are fitted every time (faster than the cache)."""


def fitted_spontaneous_pcs(spont, n_components: int = 32, rng=0) -> SpontaneousPCs:
    """``SpontaneousPCs(n_components, rng).fit(spont)``, from the disk cache when it holds it.

    Every chapter denoises the same recording the same way, and the randomized SVD of its
    spontaneous block is most of that cost. The fitted statistics (a few MB) are stored under
    ``<cache_dir()>/memo/spontaneous_pcs/``, keyed by the SHA256 of ``spont``, the settings, the
    number of BLAS threads (float32 products round with it) and the package version, and checked
    against a digest on every read; what is read is exactly what ``fit`` returned. Only int seeds
    and blocks of at least ``MEMO_MIN_SIZE`` values are cached; ``NEUROLAB_MEMO=0`` switches it off.
    """
    from neurolab._store import memo_read, memo_write

    sp = SpontaneousPCs(n_components, rng=rng)
    spont = np.asarray(spont)
    key = None
    if spont.size >= MEMO_MIN_SIZE and not isinstance(rng, np.random.Generator) and spont.dtype.kind == "f":
        from neurolab.synthetic.cache import blas_threads

        key = {"spont": spont, "n_components": n_components, "seed": seed_of(rng), "blas_threads": blas_threads()}
        stored = memo_read("spontaneous_pcs", key)
        if stored is not None:
            for name in _FITTED:
                setattr(sp, name, stored[name])
            sp.n_features_in_ = spont.shape[1]
            silent = sp.silent_
            _warn_silent(silent, float(sp.scale_[silent][0]) if silent.any() else 0.0)
            return sp
    sp.fit(spont)
    if key is not None:
        memo_write("spontaneous_pcs", key, {name: getattr(sp, name) for name in _FITTED})
    return sp


def centre(a) -> np.ndarray:
    """Each neuron's mean over the rows removed: (n_trials, n_neurons) -> float32 of that shape."""
    a = np.array(a, dtype=np.float32)
    a -= a.mean(axis=0, dtype=np.float64).astype(np.float32)
    return a


def denoise_recording(rec, n_components: int = 32, rng=0):
    """The standard preprocessing applied to a whole Recording.

    Fits ``SpontaneousPCs(n_components)`` on ``rec.spont``, transforms ``rec.resp`` and centres it
    (``centre``). Spontaneous activity holds no stimulus, and centring uses no label, so doing this
    once before cross-validation leaks nothing about the labels. On synthetic data the noise-free
    responses ``truth.clean`` go through the same transform (and are centred over images), so a
    decoder of them is compared with decoders of the trials in the same units.

    Returns
    -------
    rec : Recording
        A copy whose ``resp`` (n_trials, n_neurons) is z-scored, cleaned and centred.
    transformer : SpontaneousPCs
        The fitted transformer.
    """
    for label, array in (("resp", rec.resp), ("spont", rec.spont)):
        count, where, value, scale = outliers(array)
        if count:
            warnings.warn(f"recording {rec.name!r}: {label} holds {count} value(s) more than {OUTLIER_FACTOR:g} "
                          f"times the typical neuron's largest magnitude ({scale:.3g}); the largest, "
                          f"{value:.3g} at index {where}, will dominate every neuron's mean and every "
                          "correlation: check the data", stacklevel=2)
    sp = fitted_spontaneous_pcs(rec.spont, n_components, rng)
    z = sp.transform(rec.resp)
    z -= z.mean(axis=0, dtype=np.float64).astype(np.float32)
    truth = rec.truth
    if truth is not None:  # the noise-free responses in the units the decoders see
        clean = sp.transform(truth.clean)
        clean -= clean.mean(axis=0, dtype=np.float64).astype(np.float32)
        truth = dataclasses.replace(truth, clean=clean)
    return dataclasses.replace(rec, resp=z, truth=truth), sp


def truncate(transformer: SpontaneousPCs, n_components: int) -> SpontaneousPCs:
    """A copy of a fitted ``SpontaneousPCs`` that removes only its first ``n_components`` PCs.

    Same z-scoring statistics, ``components_[:n]``. The PCs of a randomized SVD fitted with more
    components agree with a smaller fit up to the SVD's accuracy (the larger fit is, if anything,
    the more accurate), so one fit at the largest n serves a whole sweep.
    """
    if not hasattr(transformer, "components_"):
        raise ValueError("truncate needs a fitted SpontaneousPCs (call .fit(spont) first)")
    k = len(transformer.components_)
    if not 0 <= n_components <= k:
        raise ValueError(f"n_components={n_components} must be between 0 and the {k} fitted components")
    out = copy.copy(transformer)
    out.n_components = int(n_components)
    out.components_ = transformer.components_[:n_components]
    out.explained_variance_ratio_ = transformer.explained_variance_ratio_[:n_components]
    return out
