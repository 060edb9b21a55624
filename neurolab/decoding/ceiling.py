"""How far is a category decoder from what the data could give? Ceilings, and the gap to them.

Ceilings, from the most to the least privileged:

* **Oracle** (synthetic data only). The generator draws each image's latent features as
  ``N(0, diag(lam)) + class_means[label]`` and rescales them (``neurolab.synthetic``). Knowing the
  class means and the covariance, the Bayes-optimal classifier of a latent vector is a nearest
  class mean in the Mahalanobis metric of that covariance (``OracleClassifier``; its fit learns
  nothing from the images but the set of classes). Its cross-validated score on the images' true
  latents (``oracle_result``) is the category information present at the source.
* **True latents / noise-free responses** (synthetic data only). A decoder trained and tested on
  ``truth.latents`` (it must learn the classes from the training images, but sees no neurons and
  no noise) or on ``truth.clean``, the response every neuron would give without trial noise
  (``truth_task``): what learning, and then reading the neurons, cost before any trial noise.
* **Data-driven** (any recording). The same decoder on single trials and on the mean of the two
  repeats, on nested random subsets of neurons (``ceiling_curves``), extrapolated to infinitely
  many repeats and neurons (``extrapolate``). The extrapolation maps balanced accuracy to a
  discriminability d' (``dprime_from_accuracy``: the m-alternative forced choice model) and
  assumes that the noise-to-signal ratio 1/d'^2 falls linearly in 1/repeats (independent trial
  noise averages out) and in 1/neurons (information-limiting noise leaves a floor,
  Moreno-Bote et al. 2014); scores not clearly above chance are left out of the fit, and a fit that
  the data do not bound returns nan with the reason. On synthetic data it can be checked against
  the noise-free ceiling.

``neurolab.viz.plot_ceilings`` draws decoders against ceilings and chance; ``gap_to_ceiling`` turns a score and a ceiling into the numbers a verdict needs.
Scores are fractions in [0, 1]; balanced accuracy unless said otherwise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from neurolab._stats import sem
from neurolab._validation import check_labels, check_rng, seed_of
from neurolab.decoding.cv import cross_validate, cross_validate_decoder
from neurolab.decoding.estimators import make_reducer
from neurolab.decoding.tasks import category_task, repeat_task, truth_task
from neurolab.recording import Recording
from neurolab.synthetic import latent_scale, latent_variances

__all__ = [
    "Extrapolation",
    "LatentModel",
    "OracleClassifier",
    "accuracy_from_dprime",
    "ceiling_curves",
    "dprime_from_accuracy",
    "extrapolate",
    "gap_to_ceiling",
    "latent_model",
    "nested_subsets",
    "oracle_result",
]


# ---------------------------------------------------------------------------------------------
# The oracle: Bayes-optimal classification with the generative model known


@dataclass(frozen=True)
class LatentModel:
    """The class-conditional distribution of the stored latents of a synthetic recording.

    means: (n_classes, n_latents) float64, the mean latent vector of each class (row c = class c;
        'unknown', class 0, has mean 0).
    var: (n_latents,) float64, the variance of every latent feature within a class (the covariance
        is diagonal, the same for every class).
    scale: the factor the generator divided the latents by (so ``means = category_means / scale``
        and ``var = lam / scale**2``).
    """

    means: np.ndarray
    var: np.ndarray
    scale: float


def latent_model(truth) -> LatentModel:
    """The generative model of ``truth.latents``, rebuilt from the generator's settings.

    truth: ``Recording.truth`` of a synthetic recording (``truth.params`` holds ``n_latents`` and
    ``latent_alpha``; ``category_means``, ``category_strength``, ``labels``, ``image_ids``).
    The generator draws ``f = N(0, diag(lam)) + category_means[label]`` with
    ``lam = k**-latent_alpha / sum`` and stores ``f / scale`` with
    ``scale = sqrt(1 + category_strength * share of images not 'unknown')``.
    Raises ValueError for real data (truth None): nobody knows a brain's generative model.
    """
    if truth is None:
        raise ValueError("a real recording has no generative truth: the oracle ceiling needs synthetic data")
    p = truth.params
    n_latents = int(p.get("n_latents", truth.latents.shape[1]))
    if n_latents != truth.latents.shape[1]:
        raise ValueError(f"truth.params says {n_latents} latents, truth.latents has {truth.latents.shape[1]}")
    lam = latent_variances(n_latents, p["latent_alpha"])
    scale = float(latent_scale(truth.category_strength, np.asarray(truth.labels)[np.asarray(truth.image_ids)]))
    means = np.asarray(truth.category_means, dtype=np.float64) / scale
    return LatentModel(means=means, var=lam / scale**2, scale=scale)


class OracleClassifier(ClassifierMixin, BaseEstimator):
    """The Bayes-optimal classifier for Gaussian classes with known means and diagonal covariance.

    ``fit(X, y)`` learns only which classes exist (``classes_``, those in y) and, for 'empirical',
    their frequencies: everything else is given, so cross-validating it measures how well the
    classes can be told apart at all, not how well they can be learned.

    Parameters
    ----------
    means : array-like of shape (n_classes, n_features)
        Mean of each class; row c for class label c (labels index rows).
    var : array-like of shape (n_features,)
        The shared within-class variance of each feature (> 0).
    priors : {'uniform', 'empirical'}
        'uniform' maximises balanced accuracy (the mean recall); 'empirical' (the class
        frequencies of the training labels) maximises accuracy.
    """

    def __init__(self, means, var, priors: str = "uniform"):
        self.means = means
        self.var = var
        self.priors = priors

    def fit(self, X, y):
        """Learn which classes exist (and, for 'empirical' priors, how often).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Integer labels that index the rows of ``means``.

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        means, var = np.asarray(self.means, dtype=np.float64), np.asarray(self.var, dtype=np.float64)
        if means.ndim != 2 or var.shape != (means.shape[1],):
            raise ValueError(f"means must be (n_classes, n_features) and var (n_features,); got {means.shape}, {var.shape}")
        if np.any(var <= 0):
            raise ValueError("var must be positive")
        if X.ndim != 2 or X.shape[1] != means.shape[1]:
            raise ValueError(f"X must have shape (n_samples, {means.shape[1]}), got {X.shape}")
        if self.priors not in ("uniform", "empirical"):
            raise ValueError(f"priors must be 'uniform' or 'empirical', not {self.priors!r}")
        self.classes_, counts = np.unique(y, return_counts=True)
        if self.classes_.min() < 0 or self.classes_.max() >= len(means):
            raise ValueError(f"labels must index the {len(means)} rows of means; got {self.classes_.tolist()}")
        share = counts / counts.sum()
        self.log_prior_ = np.log(share) if self.priors == "empirical" else np.zeros(len(share))
        return self

    def decision_function(self, X) -> np.ndarray:
        """(n_samples, n_classes) log posterior up to a constant, columns ordered as ``classes_``."""
        check_is_fitted(self, "classes_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        w = 1.0 / np.asarray(self.var, dtype=np.float64)
        mu = np.asarray(self.means, dtype=np.float64)[self.classes_]
        # -0.5 * sum_k (x_k - mu_ck)^2 / var_k, expanded so that no (n, classes, features) array is built
        cross = (X * w) @ mu.T
        quad = 0.5 * ((mu**2) @ w)
        return cross - quad[None, :] + self.log_prior_[None, :]

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample: ndarray of shape (n_samples,)."""
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]


def oracle_result(rec: Recording, n_dims: int | None = None, priors: str = "uniform", cv: int = 5,
                  n_permutations: int = 0, rng=0):
    """Cross-validate the ``OracleClassifier`` on the true latents of a synthetic recording.

    rec: a synthetic Recording (its own labels, ``truth.labels``; 'unknown' images left out).
    n_dims: use only the first n_dims latent features (the ones with the largest variance), or all.
    The folds are ``decode.grouped_folds`` on images, like every decoder of the course, and the
    chance level is the dummy on the same folds. Returns a ``DecodeResult``.
    Raises ValueError for real data (truth None).
    """
    model = latent_model(rec.truth)
    k = model.var.size if n_dims is None else int(n_dims)
    if not 1 <= k <= model.var.size:
        raise ValueError(f"n_dims must be between 1 and {model.var.size}, got {n_dims}")
    Z, y, groups = truth_task(rec, "latents")
    oracle = OracleClassifier(model.means[:, :k], model.var[:k], priors=priors)
    return cross_validate_decoder(oracle, Z[:, :k], y, groups, cv=cv, n_permutations=n_permutations, rng=rng)


def nested_subsets(n_neurons: int, fractions, rng=0) -> dict[float, np.ndarray]:
    """Random neuron subsets, each contained in the next larger one: {fraction: sorted indices}.

    fractions: values in (0, 1]; fraction f keeps round(f * n_neurons) neurons (at least 1), the
    first ones of a single random permutation (rng), so a larger subset adds neurons to a smaller
    one instead of drawing new ones (differences between sizes are then not subset luck).
    """
    fractions = [float(f) for f in fractions]
    if not fractions or min(fractions) <= 0 or max(fractions) > 1:
        raise ValueError(f"fractions must be in (0, 1], got {fractions}")
    order = check_rng(rng).permutation(n_neurons)
    return {f: np.sort(order[: max(1, int(round(f * n_neurons)))]).astype(np.int64) for f in fractions}


def ceiling_curves(
    rec: Recording,
    labels,
    fractions=(0.1, 0.3, 1.0),
    model=None,
    n_components: int = 64,
    cv: int = 5,
    rng=0,
    inputs=("single trials", "2 repeats averaged", "noise-free"),
    known: dict | None = None,
):
    """Balanced accuracy of one decoder against the number of neurons, for several inputs.

    Each run is ``cross_validate`` (5 folds grouped by image, a dummy on the same folds).

    Parameters
    ----------
    rec : Recording
        Preprocessed as the decoders see it (e.g. ``denoise_recording``, which puts
        ``truth.clean`` through the same preprocessing; synthetic only).
    labels : array-like of shape (2800,)
        Class of each image.
    fractions : sequence of float
        Neuron subsets (``nested_subsets`` of rec's neurons, drawn with ``rng``).
    model : classifier, optional
        The classifier after the reducer; default ``LogisticRegression(C=0.1, max_iter=300,
        tol=1e-3)``, the logistic regression of ``tabular_models``.
    n_components : int
        PCA size of the reducer (``make_reducer``), capped by the numbers of neurons and rows.
    cv : int
        Number of grouped folds.
    rng : int or numpy.random.Generator
    inputs : sequence of str
        Any of 'single trials' (every presentation a row, grouped by image), '2 repeats averaged'
        (one row per image, the mean of its two repeats) and 'noise-free' (one row per image,
        ``truth.clean``; skipped on real data).
    known : dict, optional
        {(input, fraction): DecodeResult} already computed with the same model, reducer, seed and
        folds, reused instead of recomputed.

    Returns
    -------
    pandas.DataFrame
        One row per (input, fraction): input, fraction, n_neurons, balanced_accuracy,
        balanced_accuracy_sem (over folds), chance (balanced: 1 / n_classes), accuracy, and the
        ``DecodeResult`` in column 'result'.
    """
    import pandas as pd

    labels = check_labels(labels)
    seed = seed_of(rng)
    known_inputs = ("single trials", "2 repeats averaged", "noise-free")
    unknown = [i for i in inputs if i not in known_inputs]
    if unknown:
        raise ValueError(f"unknown inputs {unknown}; choose from {known_inputs}")
    if model is None:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=0.1, max_iter=300, tol=1e-3)
    rows = []
    for frac, idx in nested_subsets(rec.n_neurons, fractions, seed).items():
        sub = rec.subset_neurons(idx)
        tasks = {}
        if "single trials" in inputs:
            tasks["single trials"] = category_task(sub, labels)
        if "2 repeats averaged" in inputs:
            tasks["2 repeats averaged"] = repeat_task(sub, labels, "mean")
        if "noise-free" in inputs and sub.truth is not None:
            tasks["noise-free"] = truth_task(sub, "clean", labels)
        for name, (X, y, groups) in tasks.items():
            res = (known or {}).get((name, frac))
            if res is None:
                k = int(min(n_components, X.shape[1], int(0.8 * len(X)) - 1))
                res = cross_validate({"m": model}, X, y, groups, reducer=make_reducer(k, seed), cv=cv,
                                     rng=seed)["m"]
            f = res.fold_balanced_accuracy
            rows.append(dict(input=name, fraction=frac, n_neurons=len(idx),
                             balanced_accuracy=float(f.mean()), balanced_accuracy_sem=sem(f),
                             chance=float(res.chance_balanced_accuracy), accuracy=float(res.accuracy),
                             result=res))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Accuracy <-> discriminability, and extrapolation

_T = np.linspace(-10.0, 22.0, 4001)  # integration grid for the m-AFC integral
_D_MAX = 12.0


def accuracy_from_dprime(dprime, n_classes: int) -> np.ndarray:
    """Proportion correct of an ideal observer choosing among ``n_classes`` equally likely classes.

    The m-alternative forced choice model: every class is a unit-variance Gaussian, the true one at
    distance ``dprime`` from the others, all equally far apart;
    P(correct) = integral of phi(t - d') * Phi(t)**(n_classes - 1) dt. It is 1 / n_classes at
    d' = 0 and tends to 1. dprime: scalar or array (>= 0). Returns an array of the same shape.
    """
    from scipy.stats import norm

    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    d = np.atleast_1d(np.asarray(dprime, dtype=np.float64))
    if np.any(d < 0):
        raise ValueError("d' must be >= 0")
    cdf = norm.cdf(_T) ** (n_classes - 1)
    pdf = norm.pdf(_T[None, :] - np.minimum(d, _D_MAX)[:, None])
    out = np.trapezoid(pdf * cdf[None, :], _T, axis=1)
    return np.clip(out, 1.0 / n_classes, 1.0).reshape(np.shape(dprime))


_D_GRID = np.linspace(0.0, _D_MAX, 2401)


@functools.lru_cache(maxsize=32)
def _accuracy_table(n_classes: int) -> np.ndarray:
    """accuracy_from_dprime on _D_GRID, made strictly increasing for interpolation (cached)."""
    table = accuracy_from_dprime(_D_GRID, n_classes)
    table = np.maximum.accumulate(table + np.arange(len(table)) * 1e-15)
    table.setflags(write=False)
    return table


def dprime_from_accuracy(accuracy, n_classes: int) -> np.ndarray:
    """The d' of the m-alternative model (``accuracy_from_dprime``) that gives ``accuracy``.

    accuracy: balanced accuracy (mean recall: every class counts equally, as in the model), scalar
    or array. At or below chance (1 / n_classes) d' is 0; accuracies beyond the model's reach at
    d' = 12 are given d' = 12 (both ends are clipped, never extrapolated).
    """
    acc = np.asarray(accuracy, dtype=np.float64)
    table = _accuracy_table(int(n_classes))
    return np.interp(acc, table, _D_GRID)


@dataclass(frozen=True)
class Extrapolation:
    """A straight-line fit of the noise-to-signal ratio 1/d'^2 against x (1/repeats or 1/neurons).

    Attributes
    ----------
    accuracy : float
        The balanced accuracy the line predicts at x = 0 (infinitely many repeats or neurons);
        nan when the data do not give one (``reason`` says why).
    dprime : float
        The d' at x = 0 (nan likewise).
    intercept, slope : float
        Of 1/d'^2 = intercept + slope * x (nan if fewer than two points).
    n_points : int
        Points clearly above chance that entered the fit.
    reason : str
        '' when ``accuracy`` is finite; otherwise 'too few points above chance' or 'unbounded'
        (the line reaches 1/d'^2 <= 0 before x = 0: the points improve faster than noise averaging
        allows, so the data set no ceiling).
    """

    accuracy: float
    dprime: float
    intercept: float
    slope: float
    n_points: int
    reason: str = ""

    def curve(self, x, n_classes: int) -> np.ndarray:
        """The fitted accuracy at x (array), nan where the line gives 1/d'^2 <= 0 or no fit exists."""
        inv = self.intercept + self.slope * np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(inv > 0, 1.0 / np.sqrt(np.where(inv > 0, inv, 1.0)), np.nan)
        out = np.full(d.shape, np.nan)
        ok = np.isfinite(d)
        out[ok] = accuracy_from_dprime(d[ok], n_classes)
        return out


def extrapolate(x, accuracy, n_classes: int, sem=None, n_sem: float = 2.0) -> Extrapolation:
    """Extrapolate balanced accuracy to x = 0 by a line through 1/d'^2 against x.

    Noise that averages out (trial noise over repeats, private noise over neurons) makes the
    noise-to-signal ratio 1/d'^2 a linear function of x; what remains at x = 0 is the noise no
    amount of averaging removes. Near chance d' is dominated by noise and 1/d'^2 explodes, so a
    point enters the fit only if it is clearly above chance.

    Parameters
    ----------
    x : array-like of shape (n,)
        E.g. 1 / repeats averaged, or 1 / neurons.
    accuracy : array-like of shape (n,)
        Balanced accuracy at each x.
    n_classes : int
    sem : array-like of shape (n,), optional
        Standard errors of the accuracies (over folds); a point enters the fit if
        accuracy - n_sem * sem > 1 / n_classes (with sem None, any point above chance).
    n_sem : float

    Returns
    -------
    Extrapolation
    """
    x = np.asarray(x, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    if x.shape != acc.shape or x.ndim != 1:
        raise ValueError(f"x and accuracy must be 1-D of equal length, got {x.shape} and {acc.shape}")
    margin = np.zeros_like(acc) if sem is None else n_sem * np.nan_to_num(np.asarray(sem, dtype=np.float64))
    if margin.shape != acc.shape:
        raise ValueError(f"sem must have the shape of accuracy {acc.shape}, got {margin.shape}")
    d = dprime_from_accuracy(acc, n_classes)
    ok = (acc - margin > 1.0 / n_classes) & (d > 1e-3) & np.isfinite(x)
    nan = float("nan")
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return Extrapolation(nan, nan, nan, nan, int(ok.sum()), "too few points above chance")
    slope, intercept = np.polyfit(x[ok], 1.0 / d[ok] ** 2, 1)
    if intercept <= 1.0 / _D_MAX**2:
        return Extrapolation(nan, nan, float(intercept), float(slope), int(ok.sum()), "unbounded")
    d0 = 1.0 / np.sqrt(intercept)
    return Extrapolation(float(accuracy_from_dprime(d0, n_classes)), float(d0), float(intercept), float(slope),
                         int(ok.sum()))


# ---------------------------------------------------------------------------------------------
# Verdict and figure


def gap_to_ceiling(score: float, ceiling: float, chance: float) -> dict:
    """How close a score is to a ceiling.

    Returns
    -------
    dict
        'ratio': score / ceiling (the fraction of the ceiling reached); 'share_above_chance':
        (score - chance) / (ceiling - chance), 0 at chance and 1 at the ceiling (nan if the
        ceiling is not above chance); 'gap': ceiling - score, in accuracy units.
    """
    score, ceiling, chance = float(score), float(ceiling), float(chance)
    room = ceiling - chance
    return {
        "ratio": score / ceiling if ceiling > 0 else float("nan"),
        "share_above_chance": (score - chance) / room if room > 0 else float("nan"),
        "gap": ceiling - score,
    }
