"""Tabular learners for category decoding: a model zoo, a fast grouped cross-validation, a table.

Every model is meant as the scikit-learn pipeline ``make_pipeline(PCA(n), StandardScaler(), model)``
evaluated by ``neurolab.decode.cross_validate_decoder`` (5 folds grouped by image, a most-frequent
dummy on the same folds, labels shuffled between images for the permutation p-value). Run that way
at full size (5,600 trials x 11,000 neurons), the PCA of each training fold would be refitted for
every model and every permutation, although it never sees a label. ``run_models`` fits the PCA and
the scaler once per training fold (``fit_transform`` on the training rows, ``transform`` on the test
rows, exactly what the pipeline does) and shares the reduced features between models and
permutations. Its folds, predictions, scores, chance levels and label shuffles are those of
``cross_validate_decoder`` on the full pipelines (a unit test checks it), computed once instead of
many times.

* ``make_reducer(n_components, seed)``: the label-free PCA + StandardScaler front end.
* ``tabular_models(seed, size, epochs)``: the classifiers, applied to reduced features.
* ``run_models(models, X, y, groups, n_permutations, reducer)`` -> {name: ``TabularResult``}.
* ``results_table(results)`` -> a pandas DataFrame of every number, 'n/a' where no p was computed.
* ``category_signal_fraction(rec, labels)``: how much of the repeatable response is category.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline, make_pipeline

from neurolab.decode import DecodeResult, grouped_folds, permute_within_groups

__all__ = [
    "MODEL_SIZES",
    "LabelEncoded",
    "TabularResult",
    "category_signal_fraction",
    "make_reducer",
    "quiet_warnings",
    "results_table",
    "run_models",
    "single_threaded",
    "tabular_models",
]

MODEL_SIZES: dict[str, dict] = {
    "smoke": dict(n_trees=20, max_depth=4, n_boost=10, xgb_rounds=10),
    "course": dict(n_trees=50, max_depth=8, n_boost=30, xgb_rounds=30),
    "full": dict(n_trees=50, max_depth=8, n_boost=30, xgb_rounds=30),
}
"""Model sizes per course SIZE: trees of the random forest and their depth, AdaBoost stumps,
XGBoost boosting rounds (each round grows one depth-3 tree per class)."""

# Harmless warnings of small or shuffled data: a rare class with fewer images than folds (smoke
# size), and fastai's validation metric meeting a class absent from its small validation split.
_HARMLESS = (
    (UserWarning, r"The least populated class in y has only"),
    (UserWarning, r"y_pred contains classes not in y_true"),
    (UserWarning, r"The groups parameter is ignored by"),  # a splitter without groups, on purpose
)


@contextlib.contextmanager
def single_threaded():
    """Limit BLAS/OpenMP pools (threadpoolctl) and torch's intra-op pool to one thread, then restore."""
    import sys

    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        with threadpool_limits(1):
            if torch is not None:
                torch.set_num_threads(1)
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)


@contextlib.contextmanager
def quiet_warnings():
    """Silence the known-harmless warnings listed in ``_HARMLESS`` (and nothing else)."""
    with warnings.catch_warnings():
        for category, message in _HARMLESS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


class LabelEncoded(ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` on labels re-coded 0..n_classes-1 and decode its predictions.

    XGBoost's classifier only accepts consecutive integer labels; the category labels are 1..11
    (and, under a label shuffle, a training fold may miss a rare class).
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        self.estimator_ = clone(self.estimator).fit(X, y_idx)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        pred = np.asarray(self.estimator_.predict(X)).astype(np.int64).ravel()
        return self.classes_[pred]


def make_reducer(n_components: int, seed: int = 0) -> Pipeline:
    """The label-free front end of every model: PCA to n_components, then z-score each component.

    Randomized SVD with 2 power iterations instead of scikit-learn's default 7 for this shape: on
    the full synthetic recording, logistic regression on the result decoded as well as with 3
    iterations, and a fit took under half the time of the default (about 1 s for 3,900 x 11,000).
    """
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        PCA(n_components, svd_solver="randomized", iterated_power=2, random_state=seed), StandardScaler()
    )


def tabular_models(seed: int = 0, size: str = "full", epochs: int = 5) -> dict:
    """The model zoo, {name: scikit-learn classifier}; each takes reduced features (n, n_components).

    Two dummies (most frequent class; random guesses in the class proportions), L2 logistic
    regression, a random forest, AdaBoost on decision stumps, XGBoost (histogram trees, depth 3) and
    fastai's tabular MLP (two hidden layers, 200 and 100 units) trained for ``epochs`` one-cycle epochs
    (batches of 256, peak learning rate 0.01).
    Sizes (trees, rounds) follow ``MODEL_SIZES[size]``. Every model runs on one thread (and
    ``run_models`` limits BLAS, OpenMP and torch to one thread): on a small shared machine, spinning
    thread pools cost far more than they gain (XGBoost with 2 threads on 2 busy cores ran >15x slower).
    """
    from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from xgboost import XGBClassifier

    from neurolab.models import FastaiClassifier, TabularMLP

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
            bs=256, seed=seed,
        ),
    }


@dataclass
class TabularResult(DecodeResult):
    """A ``DecodeResult`` with the cost of getting it.

    n_permutations: label shuffles run. seconds: wall time of the cross-validation and permutations
    (the shared PCA of each fold not included).
    """

    n_permutations: int = 0
    seconds: float = 0.0

    def summary(self) -> dict:
        return super().summary() | {
            "n_permutations": self.n_permutations,
            "seconds": self.seconds,
        }


def _fold_features(X, folds, reducer):
    """[(Z_train, Z_test)] per fold: reducer fitted on the training rows only."""
    if reducer is None:
        return [(X[tr], X[te]) for tr, te in folds]
    out = []
    for tr, te in folds:
        red = clone(reducer)
        z_train = np.asarray(red.fit_transform(X[tr]), dtype=np.float32)
        out.append((z_train, np.asarray(red.transform(X[te]), dtype=np.float32)))
    return out


def _oof(estimator, y, folds, feats) -> np.ndarray:
    y_pred = np.empty_like(y)
    for (tr, te), (z_train, z_test) in zip(folds, feats):
        y_pred[te] = clone(estimator).fit(z_train, y[tr]).predict(z_test)
    return y_pred


def _balanced_accuracy(y_true, y_pred) -> float:
    """Mean recall over the classes present in y_true (= sklearn's balanced_accuracy_score, faster)."""
    _, codes = np.unique(y_true, return_inverse=True)
    recall = np.bincount(codes, weights=y_pred == y_true) / np.bincount(codes)
    return float(np.mean(recall))


def _scores(y, y_pred, folds):
    """Per-fold accuracy and balanced accuracy, (n_folds,) each."""
    acc = np.array([np.mean(y[te] == y_pred[te]) for _, te in folds])
    bal = np.array([_balanced_accuracy(y[te], y_pred[te]) for _, te in folds])
    return acc, bal


def run_models(
    models: dict,
    X,
    y,
    groups,
    n_permutations=0,
    reducer=None,
    cv=5,
    random_state: int = 0,
    n_jobs: int = 1,
) -> dict[str, TabularResult]:
    """Cross-validate every model on the same grouped folds, sharing each fold's reduced features.

    models: {name: classifier} applied after ``reducer`` (e.g. ``tabular_models()``).
    X: (n_samples, n_features) responses; y: (n_samples,) class; groups: (n_samples,) image id, so
    an image's repeats never straddle train and test (folds from ``neurolab.decode.grouped_folds``).
    n_permutations: an int for every model, or {name: int} (missing names: 0, p = nan). Labels are
        shuffled between images (``permute_within_groups``), the same shuffles for every model.
    reducer: an unfitted transformer (``make_reducer``), fitted on each training fold only; None
        feeds X as it is.
    cv: number of folds grouped by image (``grouped_folds(y, groups, cv, random_state)``), or any
        scikit-learn splitter, called as ``cv.split(X, y, groups)`` (e.g. ``StratifiedKFold``,
        which ignores the groups: only for showing what goes wrong without them).
    n_jobs: models cross-validated at once, each in a worker process (joblib) with one thread;
        the results do not depend on it (but for rounding in the reducer, which then uses every
        core). 2 suits a two-core machine; on small data the workers' start-up (a few seconds)
        outweighs the gain.
    Runs single-threaded (``single_threaded``), except the reducer's fits when n_jobs > 1.
    Returns {name: TabularResult}. Folds, predictions, scores and chance levels are identical to
    ``cross_validate_decoder`` run on ``make_pipeline(reducer, model)`` with the same cv and
    random_state, and so are the label shuffles; a shuffle is scored by the mean over folds, the
    statistic the observed score is.
    """
    X, y, groups = np.asarray(X), np.asarray(y), np.asarray(groups)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (n_samples, n_features) matching y; got X {X.shape}, y {y.shape}")
    if isinstance(n_permutations, dict):
        unknown = sorted(set(n_permutations) - set(models))
        if unknown:
            raise ValueError(f"n_permutations names models that are not in models: {unknown}")
        n_perm = {name: int(n_permutations.get(name, 0)) for name in models}
    else:
        n_perm = dict.fromkeys(models, int(n_permutations))
    if min(n_perm.values(), default=0) < 0:
        raise ValueError("n_permutations must be >= 0")

    with quiet_warnings(), single_threaded() if n_jobs == 1 else contextlib.nullcontext():
        # with n_jobs > 1 both cores are this call's: the reducer's BLAS may use them too
        if isinstance(cv, (int, np.integer)):
            folds = grouped_folds(y, groups, int(cv), random_state)
        else:
            folds = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
        feats = _fold_features(X, folds, reducer)
    with quiet_warnings(), single_threaded():
        chance_acc, chance_bal = _scores(
            y, _oof(DummyClassifier(strategy="most_frequent"), y, folds, feats), folds
        )
        # the same label shuffles for every model (as cross_validate_decoder draws them)
        rng = np.random.default_rng(random_state)
        shuffles = [permute_within_groups(y, groups, rng) for _ in range(max(n_perm.values(), default=0))]

        chance = (float(chance_acc.mean()), float(chance_bal.mean()))
        jobs = [(model, y, folds, feats, shuffles[: n_perm[name]], chance) for name, model in models.items()]
        if n_jobs == 1 or len(jobs) < 2:
            done = [_cross_validate_model(*job) for job in jobs]
        else:
            from joblib import Parallel, delayed

            done = Parallel(n_jobs=n_jobs)(delayed(_cross_validate_model)(*job) for job in jobs)
    return dict(zip(models, done))


def _cross_validate_model(model, y, folds, feats, shuffles, chance) -> TabularResult:
    """One model of ``run_models``: out-of-fold predictions, fold scores, and a score per shuffle."""
    with quiet_warnings(), single_threaded():  # again: this may run in a worker process
        start = time.perf_counter()
        y_pred = _oof(model, y, folds, feats)
        acc, bal = _scores(y, y_pred, folds)
        k = len(shuffles)
        perm_acc, perm_bal = np.empty(k), np.empty(k)
        for i, y_perm in enumerate(shuffles):
            # the same statistic as the observed score: the mean over folds
            perm_fold_acc, perm_fold_bal = _scores(y_perm, _oof(model, y_perm, folds, feats), folds)
            perm_acc[i], perm_bal[i] = perm_fold_acc.mean(), perm_fold_bal.mean()
        return TabularResult(
            accuracy=float(acc.mean()),
            balanced_accuracy=float(bal.mean()),
            fold_accuracy=acc,
            fold_balanced_accuracy=bal,
            chance_accuracy=chance[0],
            chance_balanced_accuracy=chance[1],
            p_value=_p(perm_acc, acc.mean()),
            permutation_scores=perm_acc,
            y_pred=y_pred,
            p_value_balanced=_p(perm_bal, bal.mean()),
            permutation_scores_balanced=perm_bal,
            n_permutations=k,
            seconds=time.perf_counter() - start,
        )


def _p(null, observed) -> float:
    """(1 + #{null >= observed}) / (1 + n), nan if n = 0."""
    return float((1 + np.sum(null >= observed)) / (1 + len(null))) if len(null) else float("nan")


def results_table(results: dict):
    """Every number of a set of results as a pandas DataFrame, one row per model.

    results: {name: DecodeResult} for one task, or {task: {name: DecodeResult}} for several (the
    rows are then indexed by (task, model)).
    Columns (two levels): 'accuracy' and 'balanced accuracy', each with 'mean' (over folds), 'SEM'
    (over folds), 'chance' (most-frequent dummy on the same folds; for balanced accuracy this is
    1 / n_classes) and 'p' (permutation p-value as text, 'n/a' where no permutations were run);
    'cost' with 'permutations' and 'seconds'.
    """
    import pandas as pd

    first = next(iter(results.values()), None)
    if isinstance(first, dict):
        return pd.concat({task: results_table(r) for task, r in results.items()}, names=["task", "model"])
    rows = {}
    for name, r in results.items():
        s = r.summary()
        rows[name] = {
            ("accuracy", "mean"): s["accuracy"],
            ("accuracy", "SEM"): s["accuracy_sem"],
            ("accuracy", "chance"): s["chance_accuracy"],
            ("accuracy", "p"): _fmt_p(s["p_value"]),
            ("balanced accuracy", "mean"): s["balanced_accuracy"],
            ("balanced accuracy", "SEM"): s["balanced_accuracy_sem"],
            ("balanced accuracy", "chance"): s["chance_balanced_accuracy"],
            ("balanced accuracy", "p"): _fmt_p(s.get("p_value_balanced", float("nan"))),
            ("cost", "permutations"): int(s.get("n_permutations", len(r.permutation_scores))),
            ("cost", "seconds"): s.get("seconds", float("nan")),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    table.index.name = "model"
    return table


def _fmt_p(p) -> str:
    return "n/a" if not np.isfinite(p) else f"{p:.3g}"


def category_signal_fraction(
    rec, labels, drop_unknown: bool = True, n_shuffles: int = 20, seed: int = 0
) -> dict:
    """How much of the repeatable (stimulus) response is shared by images of one category?

    The stimulus-driven variance of the population is the covariance of its two repeats across
    images, summed over neurons (trial noise is independent between repeats, so it drops out). The
    category part is the same covariance between the class means of the two repeats, each class
    weighted by its number of images. Shuffling labels between images gives the value expected
    with no category signal at all (finite classes always explain a little, about
    (n_classes - 1) / (n_images - 1)).

    rec: a Recording (denoised or not); labels: (2800,) class per image (0 = 'unknown').
    Returns a dict of floats: signal_fraction (stimulus share of single-trial variance,
    ``geometry.signal_variance_fraction``), category_fraction (category share of the stimulus
    variance), null_mean and null_95 (mean and 95th percentile of that share under label
    shuffles), p (shuffle p-value), single_trial_fraction (signal_fraction * category_fraction),
    n_images, n_classes.
    """
    from scipy import sparse

    from neurolab.geometry import signal_variance_fraction
    from neurolab.recording import split_repeats

    X, images = split_repeats(rec)
    y = np.asarray(labels)[images]
    if drop_unknown:
        X, y = X[:, y != 0], y[y != 0]
    signal_fraction = signal_variance_fraction(X)
    Xc = X - X.mean(axis=1, keepdims=True)
    # cross-repeat covariance, summed over neurons and images
    total = float(np.einsum("ij,ij->", Xc[0], Xc[1], dtype=np.float64))
    classes, y_idx = np.unique(y, return_inverse=True)
    n = len(y_idx)

    def between(codes):
        counts = np.bincount(codes, minlength=len(classes)).astype(np.float64)
        onehot = sparse.csr_matrix((np.ones(n, np.float32), (codes, np.arange(n))), shape=(len(classes), n))
        m0, m1 = (np.asarray(onehot @ Xc[r], dtype=np.float64) for r in (0, 1))  # class sums
        keep = counts > 0
        return float(np.sum((m0[keep] * m1[keep]).sum(axis=1) / counts[keep]))

    frac = between(y_idx) / total
    rng = np.random.default_rng(seed)
    null = np.array([between(rng.permutation(y_idx)) / total for _ in range(n_shuffles)])
    return {
        "signal_fraction": float(signal_fraction),
        "category_fraction": float(frac),
        "null_mean": float(null.mean()) if n_shuffles else float("nan"),
        "null_95": float(np.percentile(null, 95)) if n_shuffles else float("nan"),
        "p": _p(null, frac),
        "single_trial_fraction": float(signal_fraction * frac),
        "n_images": int(len(y)),
        "n_classes": int(len(classes)),
    }
