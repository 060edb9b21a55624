"""Estimators for category decoding, in scikit-learn's conventions.

* ``make_reducer(n_components, rng)``: the label-free PCA + StandardScaler front end.
* ``tabular_models(rng, size, epochs)``: the write-up's model zoo, applied to reduced features.
* ``LabelEncoded``: labels re-coded 0..n-1 for estimators that need it (XGBoost).
* ``linear_decoder`` / ``SerialLogisticRegression``: the logistic-regression baseline, its
  penalty scaled to the number of features, fitted on one thread.
* ``CorrelationNearestNeighbour``: a 1-nearest-neighbour classifier that memorises trials.
* ``CachedPCA``: a PCA that remembers fits and projections of identical data (permutation tests).
* ``ridge_logistic_cv`` / ``chosen_c``: logistic regression with its L2 strength chosen by an inner
  cross-validation, the same model on every scikit-learn the course supports (1.6 and later).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from neurolab._validation import seed_of
from neurolab.decoding.identity import row_zscore

__all__ = [
    "MODEL_SIZES",
    "CachedPCA",
    "CorrelationNearestNeighbour",
    "LabelEncoded",
    "SerialLogisticRegression",
    "linear_decoder",
    "chosen_c",
    "linear_parameters",
    "make_reducer",
    "ridge_logistic_cv",
    "tabular_models",
]

MODEL_SIZES: dict[str, dict] = {
    "smoke": dict(n_trees=20, max_depth=4, n_boost=10, xgb_rounds=10),
    "course": dict(n_trees=50, max_depth=8, n_boost=30, xgb_rounds=30),
    "full": dict(n_trees=50, max_depth=8, n_boost=30, xgb_rounds=30),
}
"""Model sizes per course SIZE: trees of the random forest and their depth, AdaBoost stumps,
XGBoost boosting rounds (each round grows one depth-3 tree per class)."""


class LabelEncoded(ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` on labels re-coded 0..n_classes-1 and decode its predictions.

    XGBoost's classifier only accepts consecutive integer labels; the category labels are 1..11
    (and, under a label shuffle, a training fold may miss a rare class).
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        """Fit the wrapped estimator on labels coded 0..n_classes-1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        self.estimator_ = clone(self.estimator).fit(X, y_idx)
        return self

    def predict(self, X):
        """Predicted labels, in the original coding: ndarray of shape (n_samples,)."""
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False)
        pred = np.asarray(self.estimator_.predict(X)).astype(np.int64).ravel()
        return self.classes_[pred]


def make_reducer(n_components: int, rng=0) -> Pipeline:
    """The label-free front end of every model: PCA to n_components, then z-score each component.

    Randomized SVD with 2 power iterations instead of scikit-learn's default 7 for this shape: on
    the full synthetic recording, logistic regression on the result decoded as well as with 3
    iterations, and a fit took under half the time of the default (about 1 s for 3,900 x 11,000).
    """
    return make_pipeline(
        PCA(n_components, svd_solver="randomized", iterated_power=2, random_state=seed_of(rng)),
        StandardScaler(),
    )


def tabular_models(rng=0, size: str = "full", epochs: int = 5) -> dict:
    """The model zoo, {name: scikit-learn classifier}; each takes reduced features (n, n_components).

    Two dummies (most frequent class; random guesses in the class proportions), L2 logistic
    regression, a random forest, AdaBoost on decision stumps, XGBoost (histogram trees, depth 3) and
    fastai's tabular MLP (two hidden layers, 200 and 100 units) trained for ``epochs`` one-cycle epochs
    (batches of 256, peak learning rate 0.01).
    Sizes (trees, rounds) follow ``MODEL_SIZES[size]``. Every model runs on one thread (and
    ``neurolab.decoding.cross_validate`` limits BLAS, OpenMP and torch to one thread): on a small shared machine, spinning
    thread pools cost far more than they gain (XGBoost with 2 threads on 2 busy cores ran >15x slower).
    """
    from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
    from xgboost import XGBClassifier

    from neurolab.nn import FastaiClassifier, TabularMLP

    seed = seed_of(rng)
    if size not in MODEL_SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {sorted(MODEL_SIZES)}")
    s = MODEL_SIZES[size]
    return {
        "most frequent": DummyClassifier(strategy="most_frequent"),
        "stratified guess": DummyClassifier(strategy="stratified", random_state=seed),
        "logistic regression": LogisticRegression(C=0.1, max_iter=300, tol=1e-3),
        "random forest": RandomForestClassifier(
            s["n_trees"], max_depth=s["max_depth"], max_features="sqrt", n_jobs=1, random_state=seed
        ),
        "AdaBoost": AdaBoostClassifier(n_estimators=s["n_boost"], random_state=seed),
        "XGBoost": LabelEncoded(
            XGBClassifier(
                n_estimators=s["xgb_rounds"], max_depth=3, learning_rate=0.3, tree_method="hist",
                max_bin=32, n_jobs=1, random_state=seed, verbosity=0,
            )
        ),
        "fastai MLP": FastaiClassifier(
            partial(TabularMLP, layers=(200, 100), dropout=0.1), epochs=epochs, lr=1e-2, wd=0.1,
            bs=256, rng=seed,
        ),
    }


class SerialLogisticRegression(LogisticRegression):
    """scikit-learn's ``LogisticRegression``, fitted with one thread (BLAS and OpenMP).

    L-BFGS on 10^4 parameters makes thousands of tiny BLAS calls. With two BLAS threads on a busy
    two-core machine every call becomes a scheduler round trip: one fit of the voxel decoder took
    28 s with two threads and 2 s with one (measured). Same parameters and results as the parent.
    """

    def fit(self, X, y, sample_weight=None):
        with threadpool_limits(limits=1):
            return super().fit(X, y, sample_weight=sample_weight)


def linear_decoder(n_features: int, strength: float = 10.0, tol: float = 1e-2, max_iter: int = 500):
    """Standardise, then multinomial logistic regression with an L2 penalty that grows with width.

    C = strength / n_features: rescaling every feature by 1/sqrt(n_features) (so that a sample's
    squared norm is about 1 whatever the number of features) and using C = strength is the same
    model, so 11,000 neurons and 1,584 voxels are regularised alike. ``strength`` is fixed in
    advance, not tuned on the test folds. ``tol`` 1e-2 stops L-BFGS early: on the full synthetic
    recording's voxels it gave the same cross-validated score as 1e-3 (to 3 decimals) at half the
    cost, which matters for a permutation test. Returns a scikit-learn Pipeline (StandardScaler,
    SerialLogisticRegression).
    """
    if n_features < 1:
        raise ValueError(f"n_features must be >= 1, got {n_features}")
    return make_pipeline(
        StandardScaler(), SerialLogisticRegression(C=strength / n_features, tol=tol, max_iter=max_iter)
    )


def ridge_logistic_cv(Cs, cv, *, scoring="neg_log_loss", **kwargs):
    """Logistic regression with an L2 penalty, its strength chosen among ``Cs`` by an inner ``cv``.

    On scikit-learn 1.8 and later this is ``LogisticRegressionCV`` (``l1_ratios=(0,)``,
    ``use_legacy_attributes=False``: one chosen ``C_``). Earlier versions (Colab's 1.6) break on an
    inner fold that lacks a class, which the course's small classes produce; there it is the same
    model built from parts: ``GridSearchCV`` over ``LogisticRegression(C)`` with the same folds and
    score (the log loss over all classes, ``neg_log_loss_all_classes``), refitted on all the
    data with the chosen ``C``. Read the chosen strength with :func:`chosen_c` on either.

    Parameters
    ----------
    Cs : sequence of float, or int
        Candidate inverse strengths (an int ``n``: ``n`` values from 1e-4 to 1e4, as scikit-learn).
    cv : int or cross-validation splitter
        The inner folds.
    scoring : str
        Only ``"neg_log_loss"`` and ``"accuracy"`` are translated for the older versions.
    **kwargs
        ``max_iter``, ``tol``, ... of the logistic regression.
    """
    import inspect

    from sklearn.model_selection import GridSearchCV

    if "use_legacy_attributes" in inspect.signature(LogisticRegressionCV).parameters:  # >= 1.8
        return LogisticRegressionCV(Cs=Cs, cv=cv, scoring=scoring, l1_ratios=(0.0,),
                                    use_legacy_attributes=False, **kwargs)
    grid = np.logspace(-4, 4, Cs) if isinstance(Cs, (int, np.integer)) else np.asarray(Cs, dtype=float)
    scorer = {"neg_log_loss": neg_log_loss_all_classes, "accuracy": "accuracy"}[scoring]
    return GridSearchCV(LogisticRegression(**kwargs), {"C": list(grid)}, cv=cv, scoring=scorer, refit=True)


def neg_log_loss_all_classes(estimator, X, y) -> float:
    """Scorer: minus the log loss over every class of ``y`` and of the model, a class the model
    never saw getting probability ~0, so that a fold lacking a class scores instead of raising."""
    from sklearn.metrics import log_loss

    proba, classes = estimator.predict_proba(X), estimator.classes_
    labels = np.union1d(classes, y)
    full = np.full((len(proba), len(labels)), 1e-15)
    full[:, np.searchsorted(labels, classes)] = proba
    return -log_loss(y, full / full.sum(axis=1, keepdims=True), labels=labels)


def chosen_c(model) -> float:
    """The regularisation strength chosen by a fitted :func:`ridge_logistic_cv` model (or a
    pipeline ending in one): one number, whichever scikit-learn fitted it."""
    final = model[-1] if isinstance(model, Pipeline) else model
    if hasattr(final, "best_params_"):
        return float(final.best_params_["C"])
    check_is_fitted(final, "C_")
    return float(np.ravel(final.C_)[0])


def linear_parameters(n_features: int, n_classes: int) -> int:
    """Parameters of a multinomial logistic regression: a weight per feature and class, plus biases."""
    return n_features * n_classes + n_classes


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
        """Store the row-standardised training responses and their labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.train_ = row_zscore(X)
        self.labels_ = y.copy()
        self.classes_ = unique_labels(y)
        return self

    def predict(self, X):
        """The label of the most correlated training response: ndarray of shape (n_samples,)."""
        check_is_fitted(self, "train_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        nearest = np.empty(len(X), dtype=np.int64)
        for start in range(0, len(X), self.batch_size):
            block = row_zscore(X[start : start + self.batch_size])
            nearest[start : start + len(block)] = np.argmax(block @ self.train_.T, axis=1)
        return self.labels_[nearest]


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

    _cache: OrderedDict[str, dict] = OrderedDict()
    max_entries = 16
    max_projections = 8  # remembered projections per fit (its training data, test folds, ...)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # the cache keys on a dense array's bytes
        return tags

    def fit(self, X, y=None):
        self._fit_cached(_dense(X))
        return self

    def fit_transform(self, X, y=None):
        X = _dense(X)
        digest = self._fit_cached(X)
        return self._project(X, digest)

    def transform(self, X):
        check_is_fitted(self, "components_")
        X = _dense(X)
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


def _dense(X) -> np.ndarray:
    """X as a C-contiguous float array (sparse and empty input refused with scikit-learn's errors)."""
    return np.ascontiguousarray(check_array(X, dtype=[np.float64, np.float32]))


def _digest(X: np.ndarray) -> str:
    """SHA-1 of a contiguous array's shape, dtype and bytes (a fingerprint, not a security measure)."""
    h = hashlib.sha1(repr((X.shape, X.dtype.str)).encode())
    h.update(memoryview(X).cast("B"))
    return h.hexdigest()
