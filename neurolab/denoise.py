"""Remove the spontaneous-activity subspace from stimulus responses."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted


class SpontaneousPCs(TransformerMixin, BaseEstimator):
    """Z-score by spontaneous activity and project out its top principal components.

    Ongoing (grey-screen) activity is dominated by a few shared dimensions linked to the animal's
    behaviour; the same fluctuations ride on top of every stimulus trial. Fitting their principal
    components on spontaneous activity alone (no stimulus, so no label can leak) and removing them
    from the responses is the preprocessing of Stringer et al. (2019).

    Parameters
    ----------
    n_components : int, number of spontaneous PCs to project out (0 = z-score only).
    random_state : int, seed of the randomized SVD.

    Attributes (after ``fit``)
    --------------------------
    mean_ : (n_neurons,) float32, mean spontaneous activity of each neuron.
    scale_ : (n_neurons,) float32, its standard deviation (floored to avoid division by zero).
    components_ : (n_components, n_neurons) float32, orthonormal spontaneous PCs of the z-scored data.
    explained_variance_ratio_ : (n_components,) float, share of z-scored spontaneous variance of each PC.
    """

    def __init__(self, n_components: int = 32, random_state: int = 0):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, spont, y=None):
        """Learn z-scoring statistics and PCs from spont: (n_timepoints, n_neurons)."""
        spont = _as_2d_float32(spont, "spont")
        n_time, n_neurons = spont.shape
        if not 0 <= self.n_components <= min(n_time, n_neurons):
            raise ValueError(
                f"n_components={self.n_components} must be between 0 and "
                f"min(n_timepoints, n_neurons)={min(n_time, n_neurons)}"
            )
        self.mean_ = spont.mean(axis=0)
        std = spont.std(axis=0)
        self.scale_ = np.maximum(std, 1e-6 * max(float(std.max()), 1e-12)).astype(np.float32)
        z = (spont - self.mean_) / self.scale_
        if self.n_components > 0:
            _, s, vt = randomized_svd(
                z, self.n_components, n_oversamples=20, n_iter=5, random_state=self.random_state
            )
            self.components_ = vt.astype(np.float32)
            self.explained_variance_ratio_ = (s**2) / float(np.sum(z.astype(np.float64) ** 2))
        else:
            self.components_ = np.zeros((0, n_neurons), np.float32)
            self.explained_variance_ratio_ = np.zeros(0)
        self.n_features_in_ = n_neurons
        return self

    def transform(self, resp):
        """Z-score resp: (n_trials, n_neurons) by the spontaneous statistics, remove the PCs and
        mean-centre each neuron over the trials given. Returns (n_trials, n_neurons) float32."""
        check_is_fitted(self, "components_")
        resp = _as_2d_float32(resp, "resp")
        if resp.shape[1] != self.n_features_in_:
            raise ValueError(
                f"resp has {resp.shape[1]} neurons but SpontaneousPCs was fitted on {self.n_features_in_}"
            )
        z = (resp - self.mean_) / self.scale_
        if len(self.components_):
            z -= (z @ self.components_.T) @ self.components_
        z -= z.mean(axis=0)
        return z


def _as_2d_float32(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, neurons), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or Inf values")
    return a


def denoise_recording(rec, n_components: int = 32, random_state: int = 0):
    """The standard preprocessing applied to a whole Recording.

    Fits ``SpontaneousPCs(n_components)`` on ``rec.spont`` and returns (a copy of rec whose ``resp``
    is z-scored, cleaned and centred, the fitted transformer). Spontaneous activity holds no
    stimulus, so doing this once before cross-validation leaks nothing about the labels.
    """
    import dataclasses

    sp = SpontaneousPCs(n_components, random_state=random_state).fit(rec.spont)
    return dataclasses.replace(rec, resp=sp.transform(rec.resp)), sp
