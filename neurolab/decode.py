"""Decoders and honest evaluation: identity decoding and grouped cross-validation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import StratifiedGroupKFold


def _row_zscore(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    a = a - a.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(norm > 0, norm, 1.0)


def identity_scores(X) -> np.ndarray:
    """Correlation between every test response and every template.

    X: (2, n_images, n_neurons); repeat 1 gives the templates, repeat 2 the test responses.
    Returns (n_images, n_images) float32: [i, j] = corr(test response i, template j).
    """
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] != 2:
        raise ValueError(f"X must have shape (2, n_images, n_neurons), got {X.shape}")
    return _row_zscore(X[1]) @ _row_zscore(X[0]).T


def identity_accuracy(X, return_pred: bool = False):
    """Which of n images was shown? Correlation nearest-neighbour from repeat 2 to repeat 1.

    X: (2, n_images, n_neurons). Each response to the second repeat is assigned to the image whose
    first-repeat response it correlates with best; chance is 1 / n_images.
    Returns the accuracy (float), and with return_pred the predicted image index per test response.
    """
    pred = np.argmax(identity_scores(X), axis=1)
    acc = float(np.mean(pred == np.arange(len(pred))))
    return (acc, pred) if return_pred else acc


@dataclass
class DecodeResult:
    """Outcome of ``cross_validate_decoder`` (all accuracies are fractions in [0, 1]).

    accuracy, balanced_accuracy: mean over folds.
    fold_accuracy, fold_balanced_accuracy: (n_folds,) per-fold scores.
    chance_accuracy, chance_balanced_accuracy: the same scores of a most-frequent dummy classifier
        on the same folds (balanced chance is 1 / n_classes).
    p_value: permutation p-value for accuracy (labels shuffled between groups), or nan if none run.
    p_value_balanced: the same for balanced accuracy.
    permutation_scores: (n_permutations,) accuracy (mean over folds) under each label shuffle.
    permutation_scores_balanced: (n_permutations,) balanced accuracy under each label shuffle.
    y_pred: (n_samples,) out-of-fold predictions.
    """

    accuracy: float
    balanced_accuracy: float
    fold_accuracy: np.ndarray
    fold_balanced_accuracy: np.ndarray
    chance_accuracy: float
    chance_balanced_accuracy: float
    p_value: float
    permutation_scores: np.ndarray = field(repr=False)
    y_pred: np.ndarray = field(repr=False)
    p_value_balanced: float = float("nan")
    permutation_scores_balanced: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> dict:
        """Scalar results as a dict (handy for tables)."""
        return {
            "accuracy": self.accuracy,
            "accuracy_sem": sem(self.fold_accuracy),
            "balanced_accuracy": self.balanced_accuracy,
            "balanced_accuracy_sem": sem(self.fold_balanced_accuracy),
            "chance_accuracy": self.chance_accuracy,
            "chance_balanced_accuracy": self.chance_balanced_accuracy,
            "p_value": self.p_value,
            "p_value_balanced": self.p_value_balanced,
        }


def sem(a) -> float:
    """Standard error of the mean of fold scores ``a`` (n_folds,): SD (ddof 1) / sqrt(n); nan for n < 2."""
    a = np.asarray(a, dtype=float)
    return float(a.std(ddof=1) / np.sqrt(len(a))) if len(a) > 1 else float("nan")


def grouped_folds(y, groups, cv: int = 5, random_state: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that keep every group (image) on one side of each split.

    y: (n_samples,) labels; groups: (n_samples,) image ids. Returns a list of (train, test) indices.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    if y.shape != groups.shape or y.ndim != 1:
        raise ValueError(f"y {y.shape} and groups {groups.shape} must be 1-D and of equal length")
    splitter = StratifiedGroupKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def _oof_predict(estimator, X, y, folds) -> np.ndarray:
    y_pred = np.empty_like(y)
    for train, test in folds:
        model = clone(estimator).fit(X[train], y[train])
        y_pred[test] = model.predict(X[test])
    return y_pred


def _fold_scores(y, y_pred, folds):
    acc = np.array([accuracy_score(y[t], y_pred[t]) for _, t in folds])
    bal = np.array([balanced_accuracy_score(y[t], y_pred[t]) for _, t in folds])
    return acc, bal


def permute_within_groups(y, groups, rng) -> np.ndarray:
    """Shuffle labels between groups: every sample of a group gets the same new label.

    Repeats of one image share a label, so a fair null shuffles image labels, not trial labels.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    uniq, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    group_labels = y[first]
    if np.any(y != group_labels[inverse]):
        raise ValueError("every sample of a group must have the same label to shuffle between groups")
    return rng.permutation(group_labels)[inverse]


def cross_validate_decoder(
    estimator,
    X,
    y,
    groups=None,
    cv: int = 5,
    n_permutations: int = 0,
    random_state: int = 0,
    folds=None,
) -> DecodeResult:
    """Grouped, stratified cross-validation with its chance level and a permutation p-value.

    estimator: a scikit-learn classifier (cloned for every fold).
    X: (n_samples, n_features); y: (n_samples,) class labels; groups: (n_samples,) image ids, so that
    the repeats of one image never straddle train and test. The chance level is a most-frequent
    DummyClassifier on the same folds. With n_permutations > 0 the whole cross-validation is rerun
    with labels shuffled between images; p = (1 + #{shuffled >= observed}) / (1 + n_permutations).
    folds: (train, test) index arrays to use instead of drawing ``grouped_folds(y, groups, cv,
    random_state)`` (their test sets must cover every sample once; groups then only serve the
    permutation test).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (n_samples, n_features) matching y; got X {X.shape}, y {y.shape}")
    if groups is None and (folds is None or n_permutations):
        raise ValueError("groups (the image of each sample) are needed to draw grouped folds and to "
                         "shuffle labels between images")
    groups = None if groups is None else np.asarray(groups)
    if folds is None:
        folds = grouped_folds(y, groups, cv, random_state)
    else:
        folds = [(np.asarray(train), np.asarray(test)) for train, test in folds]
        tested = np.concatenate([test for _, test in folds])
        if len(tested) != len(y) or len(np.unique(tested)) != len(y):
            raise ValueError("the test sets of the folds must cover every sample exactly once")
    y_pred = _oof_predict(estimator, X, y, folds)
    acc, bal = _fold_scores(y, y_pred, folds)
    dummy = _oof_predict(DummyClassifier(strategy="most_frequent"), X, y, folds)
    chance_acc, chance_bal = _fold_scores(y, dummy, folds)

    rng = np.random.default_rng(random_state)
    perm_acc, perm_bal = np.empty(n_permutations), np.empty(n_permutations)
    for i in range(n_permutations):  # scored exactly like the observed result: mean over folds
        y_perm = permute_within_groups(y, groups, rng)
        a, b = _fold_scores(y_perm, _oof_predict(estimator, X, y_perm, folds), folds)
        perm_acc[i], perm_bal[i] = a.mean(), b.mean()

    def p_value(null, observed):
        return (1 + np.sum(null >= observed)) / (1 + n_permutations) if n_permutations else np.nan
    return DecodeResult(
        accuracy=float(acc.mean()),
        balanced_accuracy=float(bal.mean()),
        fold_accuracy=acc,
        fold_balanced_accuracy=bal,
        chance_accuracy=float(chance_acc.mean()),
        chance_balanced_accuracy=float(chance_bal.mean()),
        p_value=float(p_value(perm_acc, acc.mean())),
        p_value_balanced=float(p_value(perm_bal, bal.mean())),
        permutation_scores=perm_acc,
        permutation_scores_balanced=perm_bal,
        y_pred=y_pred,
    )
