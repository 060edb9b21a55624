"""The one cross-validation engine of the course.

Every decoder of every chapter is scored here, the same way:

* folds grouped by image (``grouped_folds``), so an image's repeats never straddle a split, or
  folds handed in (``folds=``), checked to test every sample once and never on a training sample;
* accuracy and balanced accuracy per fold (``fold_scores``), their mean the result;
* chance: a most-frequent dummy on the same folds (balanced chance is 1 / n_classes);
* a permutation p-value: labels shuffled between the images of each test fold
  (``permute_within_folds``), so that every shuffle keeps the folds exactly as stratified as the
  real labels (folds drawn on the true labels and reused on unstratified shuffles would compare
  the score with a null of worse-balanced folds); the whole cross-validation is rerun per shuffle
  and scored by the same statistic, the mean over folds;
* an optional label-free ``reducer`` (e.g. PCA + scaling) fitted once per training fold and shared
  by every model and every shuffle, which gives exactly what ``make_pipeline(reducer, model)``
  would give, at a fraction of the cost.

``cross_validate(models, X, y, groups)`` runs several models on the same folds and shuffles;
``cross_validate_decoder(estimator, ...)`` is the one-model form; ``cross_validate_many`` runs
decoders that see different features of the same samples side by side in separate processes.
``results_table`` lays any of their results out as a table.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import StratifiedGroupKFold

from neurolab._stats import check_permutations, p_value, sem
from neurolab._store import digest_arrays, memo_read, memo_write
from neurolab._validation import check_rng, seed_of

__all__ = [
    "DecodeResult",
    "balanced_accuracy",
    "chance_test",
    "comparison_table",
    "cross_validate",
    "cross_validate_decoder",
    "cross_validate_many",
    "fold_models",
    "fold_scores",
    "grouped_folds",
    "p_value",
    "permute_within_folds",
    "permute_within_groups",
    "PairedTest",
    "paired_test",
    "quiet_warnings",
    "rank_decoders",
    "results_table",
    "sem",
    "single_threaded",
]

# Harmless warnings of small or shuffled data: a rare class with fewer images than folds (smoke
# size), and fastai's validation metric meeting a class absent from its small validation split.
_HARMLESS = (
    (UserWarning, r"The least populated class in y has only"),
    (UserWarning, r"y_pred contains classes not in y_true"),
    (UserWarning, r"The groups parameter is ignored by"),  # a splitter without groups, on purpose
)


@contextlib.contextmanager
def quiet_warnings():
    """Silence the known-harmless warnings listed in ``_HARMLESS`` (and nothing else)."""
    with warnings.catch_warnings():
        for category, message in _HARMLESS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


@contextlib.contextmanager
def single_threaded():
    """Limit BLAS/OpenMP pools (threadpoolctl) and torch's intra-op pool to one thread, then restore."""
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


@dataclass
class DecodeResult:
    """Outcome of a cross-validation (all accuracies are fractions in [0, 1]).

    Attributes
    ----------
    accuracy, balanced_accuracy : float
        Mean over folds.
    fold_accuracy, fold_balanced_accuracy : ndarray of shape (n_folds,)
        Per-fold scores.
    chance_accuracy, chance_balanced_accuracy : float
        The same scores of a most-frequent dummy classifier on the same folds.
    p_value, p_value_balanced : float
        Permutation p-values (labels shuffled between groups); nan when none were run.
    permutation_scores, permutation_scores_balanced : ndarray of shape (n_permutations,)
        The mean over folds under each label shuffle.
    y_pred : ndarray of shape (n_samples,)
        Out-of-fold predictions.
    n_permutations : int
        Label shuffles run.
    seconds : float
        Wall time of the model's folds and shuffles (a shared reducer's fits not included).
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
    n_permutations: int = 0
    seconds: float = 0.0

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
            "n_permutations": self.n_permutations,
            "seconds": self.seconds,
        }


def grouped_folds(y, groups, cv: int = 5, rng=0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that keep every group (image) on one side of each split.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    groups : array-like of shape (n_samples,)
        Image id of each sample.
    cv : int
        Number of folds.
    rng : int or numpy.random.Generator
        Seed of the shuffle.

    Returns
    -------
    list of (train, test) index arrays
    """
    y, groups = _check_labels_groups(y, groups, "grouped_folds")
    splitter = StratifiedGroupKFold(n_splits=cv, shuffle=True, random_state=seed_of(rng))
    return list(splitter.split(np.zeros(len(y)), y, groups))


def permute_within_folds(y, groups, folds, rng) -> np.ndarray:
    """Shuffle labels between the images of each test fold (a restricted permutation).

    Every sample of an image keeps sharing one label, and every fold keeps exactly its labels (the
    same number of each class), so each training set keeps its class counts too: the folds, drawn
    stratified on the real labels, are as stratified for every shuffle. Under the null hypothesis
    (labels carry nothing about the responses) these arrangements are as likely as the real one.

    y, groups: (n_samples,) labels and images; folds: list of (train, test) index arrays covering
    every sample once as a test sample (e.g. ``grouped_folds``); rng: Generator or int seed.
    Returns (n_samples,) shuffled labels.
    """
    y, groups = _check_labels_groups(y, groups, "permute_within_folds")
    folds = _checked_folds(folds, len(y))
    generator = check_rng(rng)
    out = y.copy()
    for _, test in folds:
        test = np.asarray(test)
        out[test] = permute_within_groups(y[test], groups[test], generator)
    return out


def permute_within_groups(y, groups, rng) -> np.ndarray:
    """Shuffle labels between groups: every sample of a group gets the same new label.

    Repeats of one image share a label, so a fair null shuffles image labels, not trial labels.
    rng: a numpy Generator (or an int seed). Returns (n_samples,) shuffled labels.
    """
    y, groups = _check_labels_groups(y, groups, "permute_within_groups")
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    group_labels = y[first]
    if np.any(y != group_labels[inverse]):
        raise ValueError("every sample of a group must have the same label to shuffle between groups")
    return check_rng(rng).permutation(group_labels)[inverse]


def _check_labels_groups(y, groups, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels and groups of one length, 1-D, without NaN (a NaN label is a class of its own to numpy,
    and a NaN group matches no other sample, so each would quietly change the test)."""
    y, groups = np.asarray(y), np.asarray(groups)
    if y.ndim != 1 or y.shape != groups.shape:
        raise ValueError(f"{where}: y {y.shape} and groups {groups.shape} must be 1-D and of equal length")
    for name, a in (("y", y), ("groups", groups)):
        if a.dtype.kind == "f" and np.isnan(a).any():
            raise ValueError(f"{where}: {name} holds {int(np.isnan(a).sum())} NaN values (the first at "
                             f"index {int(np.flatnonzero(np.isnan(a))[0])}); every sample needs a label "
                             "and an image")
        if a.dtype.kind == "O":
            raise ValueError(f"{where}: {name} must be numbers or strings, not Python objects")
    return y, groups


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean recall over the classes present in y_true (= sklearn's ``balanced_accuracy_score``)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    _, codes = np.unique(y_true, return_inverse=True)
    recall = np.bincount(codes, weights=y_pred == y_true) / np.bincount(codes)
    return float(np.mean(recall))


def fold_scores(y, y_pred, folds) -> tuple[np.ndarray, np.ndarray]:
    """Per-fold accuracy and balanced accuracy of out-of-fold predictions: (n_folds,) each."""
    acc = np.array([np.mean(y[te] == y_pred[te]) for _, te in folds])
    bal = np.array([balanced_accuracy(y[te], y_pred[te]) for _, te in folds])
    return acc, bal


def _checked_folds(folds, n_samples: int) -> list[tuple[np.ndarray, np.ndarray]]:
    try:
        folds = [(np.asarray(train), np.asarray(test)) for train, test in folds]
    except (TypeError, ValueError) as error:
        raise ValueError(f"folds must be a list of (train, test) index arrays ({error})") from None
    if not folds:
        raise ValueError("folds is empty: give (train, test) index arrays whose test sets cover every sample")
    for k, (train, test) in enumerate(folds):
        for name, a in (("train", train), ("test", test)):
            if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
                raise ValueError(f"folds: fold {k}'s {name} set must be a 1-D array of integer indices, "
                                 f"got dtype {a.dtype} and shape {a.shape}")
            if a.size and (a.min() < 0 or a.max() >= n_samples):
                raise ValueError(f"folds: fold {k}'s {name} set holds indices outside 0..{n_samples - 1}")
    tested = np.concatenate([test for _, test in folds])
    if len(tested) != n_samples or len(np.unique(tested)) != n_samples:
        covered = len(np.unique(tested))
        raise ValueError(f"folds: the test sets must cover every sample exactly once (they test "
                         f"{covered} of {n_samples} samples, {len(tested) - covered} more than once)")
    for k, (train, test) in enumerate(folds):
        if np.intersect1d(train, test).size:
            raise ValueError(f"folds: fold {k} trains on samples it tests (its train and test sets overlap)")
    return folds


def _fold_features(X, folds, reducer):
    """[(Z_train, Z_test)] per fold: the reducer fitted on the training rows only."""
    if reducer is None:
        return [(X[tr], X[te]) for tr, te in folds]
    out = []
    for tr, te in folds:
        red = clone(reducer)
        z_train = np.asarray(red.fit_transform(X[tr]), dtype=np.float32)
        out.append((z_train, np.asarray(red.transform(X[te]), dtype=np.float32)))
    return out


def _takes_groups(estimator) -> bool:
    """Whether ``estimator.fit`` accepts the samples' groups (e.g. a network's validation split)."""
    import inspect

    return "groups" in inspect.signature(estimator.fit).parameters


def _oof(estimator, y, folds, feats, groups=None) -> np.ndarray:
    y_pred = np.empty_like(y)
    pass_groups = groups is not None and _takes_groups(estimator)
    for (tr, te), (z_train, z_test) in zip(folds, feats):
        extra = {"groups": groups[tr]} if pass_groups else {}
        y_pred[te] = clone(estimator).fit(z_train, y[tr], **extra).predict(z_test)
    return y_pred


def cross_validate(
    models: dict,
    X,
    y,
    groups=None,
    *,
    cv=5,
    folds=None,
    reducer=None,
    n_permutations=0,
    rng=0,
    n_jobs: int = 1,
) -> dict[str, DecodeResult]:
    """Cross-validate every model on the same folds, with chance and a permutation p-value.

    Parameters
    ----------
    models : dict of {str: classifier}
        scikit-learn classifiers (cloned for every fit), applied after ``reducer``.
    X : array-like of shape (n_samples, n_features)
        Responses (or any features).
    y : array-like of shape (n_samples,)
        Class labels.
    groups : array-like of shape (n_samples,), optional
        Image id of each sample: folds keep an image's repeats together and label shuffles move
        whole images. Needed unless ``folds`` are given and no permutations are run.
    cv : int or splitter
        Number of grouped folds (``grouped_folds(y, groups, cv, rng)``), or any scikit-learn
        splitter, called as ``cv.split(X, y, groups)`` (e.g. ``StratifiedKFold``, which ignores the
        groups: only for showing what goes wrong without them).
    folds : list of (train, test) index arrays, optional
        Folds to use instead of drawing them; every sample tested once, never trained on in its fold.
    reducer : transformer, optional
        Label-free front end (e.g. ``make_reducer``), fitted on each training fold once and shared
        by every model and shuffle.
    n_permutations : int or dict of {str: int}
        Label shuffles per model (a dict: missing names get 0, p = nan). The same shuffles for
        every model, drawn from ``rng``.
    rng : int or numpy.random.Generator
        Seed of the folds and of the shuffles.
    n_jobs : int
        Models cross-validated at once, each in a worker process (joblib) with one thread; the
        results do not depend on it.

    Returns
    -------
    results : dict
        {name: DecodeResult}, in the order of ``models``.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (n_samples, n_features) matching y; got X {X.shape}, y {y.shape}")
    if isinstance(n_permutations, dict):
        unknown = sorted(set(n_permutations) - set(models))
        if unknown:
            raise ValueError(f"n_permutations names models that are not in models: {unknown}")
        n_perm = {name: n_permutations.get(name, 0) for name in models}
    else:
        n_perm = dict.fromkeys(models, n_permutations)
    n_perm = {name: check_permutations(k, f"n_permutations (for {name!r})") for name, k in n_perm.items()}
    if groups is None and (folds is None or max(n_perm.values(), default=0)):
        raise ValueError("groups (the image of each sample) are needed to draw grouped folds and to "
                         "shuffle labels between images")
    if groups is not None:
        y, groups = _check_labels_groups(y, groups, "cross_validate")
    seed = seed_of(rng)

    with quiet_warnings(), single_threaded() if n_jobs == 1 else contextlib.nullcontext():
        # with n_jobs > 1 both cores are this call's: the reducer's BLAS may use them too
        if folds is not None:
            folds = _checked_folds(folds, len(y))
        elif isinstance(cv, (int, np.integer)):
            folds = grouped_folds(y, groups, int(cv), seed)
        else:
            folds = _checked_folds(cv.split(X, y, groups), len(y))
        feats = _fold_features(X, folds, reducer)
    with quiet_warnings(), single_threaded():
        chance_acc, chance_bal = fold_scores(
            y, _oof(DummyClassifier(strategy="most_frequent"), y, folds, feats), folds
        )
        generator = np.random.default_rng(seed)
        shuffles = [permute_within_folds(y, groups, folds, generator)
                    for _ in range(max(n_perm.values(), default=0))]
        chance = (float(chance_acc.mean()), float(chance_bal.mean()))
        jobs = [(model, y, folds, feats, shuffles[: n_perm[name]], chance, groups)
                for name, model in models.items()]
        if n_jobs == 1 or len(jobs) < 2:
            done = [_cross_validate_model(*job) for job in jobs]
        else:
            from joblib import Parallel, delayed

            done = Parallel(n_jobs=n_jobs)(delayed(_cross_validate_model)(*job) for job in jobs)
    return dict(zip(models, done))


NULL_MEMO_MIN_FITS = 100
"""A permutation null of at least this many fits (shuffles x folds) is remembered in the data cache."""


def _plain(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, np.integer, np.floating)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, dict) and all(isinstance(k, str) and _plain(v) for k, v in value.items())


def _null_key(model, folds, feats, shuffles, groups) -> dict | None:
    """The content key of a permutation null (``_store.memo_read``): the model's class and
    parameters, the features of every fold, the folds and the shuffled labels; None when a
    parameter is not plain data (an object whose text would not identify it) or the null is small.

    A rebuild of the book, or another cell with the same inputs, reads the null instead of
    refitting every shuffle; the scores are the ones those fits gave, bit for bit."""
    if not shuffles or len(shuffles) * len(folds) < NULL_MEMO_MIN_FITS:
        return None
    import sklearn

    params = model.get_params(deep=True)
    steps = {name: type(value).__qualname__ for name, value in params.items() if hasattr(value, "get_params")}
    plain = {name: value for name, value in params.items() if name not in steps}
    if not _plain(plain):
        return None
    arrays = {}
    for i, ((tr, te), (z_train, z_test)) in enumerate(zip(folds, feats)):
        arrays |= {f"train{i}": np.asarray(tr), f"test{i}": np.asarray(te),
                   f"z_train{i}": np.asarray(z_train), f"z_test{i}": np.asarray(z_test)}
    return {"model": f"{type(model).__module__}.{type(model).__qualname__}", "params": plain, "steps": steps,
            "features": digest_arrays(arrays), "shuffles": np.stack(shuffles),
            "groups": np.asarray(groups) if groups is not None else np.zeros(0), "sklearn": sklearn.__version__}


def _cross_validate_model(model, y, folds, feats, shuffles, chance, groups=None) -> DecodeResult:
    """One model: out-of-fold predictions, fold scores, and a score per shuffle."""
    with quiet_warnings(), single_threaded():  # again: this may run in a worker process
        start = time.perf_counter()
        y_pred = _oof(model, y, folds, feats, groups)
        acc, bal = fold_scores(y, y_pred, folds)
        k = len(shuffles)
        key = _null_key(model, folds, feats, shuffles, groups)
        stored = memo_read("permutation_null", key) if key is not None else None
        if stored is not None:
            perm_acc, perm_bal = stored["accuracy"], stored["balanced_accuracy"]
        else:
            perm_acc, perm_bal = np.empty(k), np.empty(k)
            for i, y_perm in enumerate(shuffles):
                # the same statistic as the observed score: the mean over folds
                perm_fold_acc, perm_fold_bal = fold_scores(y_perm, _oof(model, y_perm, folds, feats, groups), folds)
                perm_acc[i], perm_bal[i] = perm_fold_acc.mean(), perm_fold_bal.mean()
            if key is not None:
                memo_write("permutation_null", key, {"accuracy": perm_acc, "balanced_accuracy": perm_bal})
        return DecodeResult(
            accuracy=float(acc.mean()),
            balanced_accuracy=float(bal.mean()),
            fold_accuracy=acc,
            fold_balanced_accuracy=bal,
            chance_accuracy=chance[0],
            chance_balanced_accuracy=chance[1],
            p_value=p_value(perm_acc, acc.mean()),
            permutation_scores=perm_acc,
            y_pred=y_pred,
            p_value_balanced=p_value(perm_bal, bal.mean()),
            permutation_scores_balanced=perm_bal,
            n_permutations=k,
            seconds=time.perf_counter() - start,
        )


def cross_validate_decoder(estimator, X, y, groups=None, *, cv=5, folds=None, reducer=None,
                           n_permutations: int = 0, rng=0) -> DecodeResult:
    """``cross_validate`` of one estimator: see there for every parameter.

    Returns
    -------
    DecodeResult
    """
    return cross_validate({"model": estimator}, X, y, groups, cv=cv, folds=folds, reducer=reducer,
                          n_permutations=n_permutations, rng=rng)["model"]


def _decoder_job(estimator, X, y, groups, kwargs):
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # torch.jit notices of fastai imports
    return cross_validate_decoder(estimator, X, y, groups, **kwargs)


def cross_validate_many(decoders: dict, y, groups, n_jobs: int = 2, **kwargs) -> dict[str, DecodeResult]:
    """``cross_validate_decoder`` for decoders that see different features of the same samples.

    Parameters
    ----------
    decoders : dict
        {name: (estimator, X)} or {name: (estimator, X, {extra keyword arguments})}; every X has
        the same rows, labelled by ``y`` with image ids ``groups``.
    y, groups : array-like of shape (n_samples,)
    n_jobs : int
        Decoders run in that many separate single-threaded processes (joblib); 1 runs them one
        after the other here. The results do not depend on it.
    **kwargs
        Passed to every call (``cv``, ``rng``, ...), so all decoders share the folds.

    Returns
    -------
    results : dict
        {name: DecodeResult}, in the order of ``decoders``; each result's ``seconds`` is its own
        wall time.
    """
    jobs = []
    for name, spec in decoders.items():
        if len(spec) not in (2, 3):
            raise ValueError(f"decoder {name!r}: expected (estimator, X) or (estimator, X, kwargs)")
        estimator, X = spec[:2]
        extra = dict(spec[2]) if len(spec) == 3 else {}
        jobs.append((estimator, X, y, groups, kwargs | extra))
    if n_jobs == 1:
        done = [_decoder_job(*job) for job in jobs]
    else:
        from joblib import Parallel, delayed

        done = Parallel(n_jobs=n_jobs, backend="loky", inner_max_num_threads=1)(
            delayed(_decoder_job)(*job) for job in jobs
        )
    return dict(zip(decoders, done))


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
            ("balanced accuracy", "p"): _fmt_p(s["p_value_balanced"]),
            ("cost", "permutations"): int(s["n_permutations"]),
            ("cost", "seconds"): s["seconds"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    table.index.name = "model"
    return table


def _fmt_p(p) -> str:
    return "n/a" if not np.isfinite(p) else f"{p:.3g}"


def comparison_table(results: dict, n_params: dict | None = None, seconds: dict | None = None,
                     metric: str = "balanced_accuracy"):
    """One row per decoder: mean and SEM over folds, chance, p, parameters, wall time.

    results: {name: DecodeResult}; n_params, seconds: {name: number} (missing names left blank).
    Returns a pandas DataFrame indexed by name, columns: score, sem, chance, p_value, parameters,
    seconds (score and chance in ``metric``, as fractions; p_value is the permutation p of that
    metric, NaN where no permutation test was run).
    """
    import pandas as pd

    rows = {}
    for name, r in results.items():
        folds = getattr(r, f"fold_{metric}")
        rows[name] = {
            "score": float(np.mean(folds)),
            "sem": sem(folds),
            "chance": float(getattr(r, f"chance_{metric}")),
            "p_value": float(getattr(r, "p_value_balanced", np.nan) if metric == "balanced_accuracy"
                             else r.p_value),
            "parameters": (n_params or {}).get(name, np.nan),
            "seconds": (seconds or {}).get(name, np.nan),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "decoder"
    return table


@dataclass(frozen=True)
class PairedTest:
    """A paired permutation test of two decoders on the same samples.

    Attributes
    ----------
    difference : float
        metric(a) - metric(b), over all out-of-fold predictions pooled.
    p_value : float
        Two-sided: the share, out of n_permutations + 1, of shuffles (the observed one counted)
        whose difference is at least as large in absolute value as the observed one.
    n_permutations : int
    metric : str
    """

    difference: float
    p_value: float
    n_permutations: int
    metric: str


def paired_test(a, b, y, groups, metric: str = "balanced_accuracy", n_permutations: int = 999,
                rng=0) -> PairedTest:
    """Do two decoders differ on the same images? A paired permutation test, images as the unit.

    Cross-validation folds share their training data, so the spread of fold scores is no test of
    a difference between decoders (nor is the overlap of their error bars). This test asks instead
    how often the difference could arise if the two decoders were interchangeable: for every image
    it swaps, with probability one half, the two decoders' predictions for all of that image's
    samples (its repeats move together) and recomputes the difference.

    Parameters
    ----------
    a, b : DecodeResult or array-like of shape (n_samples,)
        Out-of-fold predictions of the two decoders on the same samples (``y_pred``).
    y : array-like of shape (n_samples,)
        True labels.
    groups : array-like of shape (n_samples,)
        Image of each sample.
    metric : {'balanced_accuracy', 'accuracy'}
    n_permutations : int
        Swaps drawn; 999 resolve p down to 0.001.
    rng : int or numpy.random.Generator

    Returns
    -------
    PairedTest
    """
    pred_a = np.asarray(getattr(a, "y_pred", a))
    pred_b = np.asarray(getattr(b, "y_pred", b))
    y, groups = np.asarray(y), np.asarray(groups)
    if not pred_a.shape == pred_b.shape == y.shape == groups.shape or y.ndim != 1:
        raise ValueError(f"predictions {pred_a.shape} and {pred_b.shape}, y {y.shape} and groups "
                         f"{groups.shape} must all be of shape (n_samples,): the same samples")
    if metric not in ("balanced_accuracy", "accuracy"):
        raise ValueError(f"metric must be 'balanced_accuracy' or 'accuracy', not {metric!r}")
    n_permutations = check_permutations(n_permutations, low=1)
    y, groups = _check_labels_groups(y, groups, "paired_test")
    for name, pred in (("a", pred_a), ("b", pred_b)):
        if pred.dtype.kind == "f" and np.isnan(pred).any():
            raise ValueError(f"paired_test: the predictions {name} hold NaN values")
    if len(y) == 0:
        raise ValueError("paired_test: no samples to compare")
    score = balanced_accuracy if metric == "balanced_accuracy" else (lambda t, p: float(np.mean(t == p)))
    observed = score(y, pred_a) - score(y, pred_b)
    _, image = np.unique(groups, return_inverse=True)
    generator = check_rng(rng)
    null = np.empty(n_permutations)
    for i in range(n_permutations):
        swap = (generator.random(image.max() + 1) < 0.5)[image]
        null[i] = score(y, np.where(swap, pred_b, pred_a)) - score(y, np.where(swap, pred_a, pred_b))
    p = (1 + np.sum(np.abs(null) >= abs(observed) - 1e-12)) / (1 + n_permutations)
    return PairedTest(float(observed), float(p), int(n_permutations), metric)


def chance_test(a, y, groups, metric: str = "balanced_accuracy", n_permutations: int = 999,
                rng=0) -> PairedTest:
    """Is a decoder above chance? ``paired_test`` against always answering the most frequent class.

    For a decoder too costly for its own permutation test (a network retrains per shuffle): its
    out-of-fold answers ``a`` (DecodeResult or array of shape (n_samples,)) are paired, image by
    image, with the answers of a decoder that ignores its input. Returns a ``PairedTest`` whose
    ``difference`` is the decoder's score minus that answer's.
    """
    y = np.asarray(y)
    classes, codes = np.unique(y, return_inverse=True)
    majority = np.full(y.shape, classes[np.bincount(codes).argmax()], dtype=y.dtype)
    return paired_test(a, majority, y, groups, metric, n_permutations, rng)


def rank_decoders(results: dict, y, groups, metric: str = "balanced_accuracy", n_permutations: int = 999,
                  alpha: float = 0.05, rng=0) -> tuple[str, str, bool, float]:
    """Which decoder wins, and does it beat the runner-up by a paired test?

    results: {name: DecodeResult} on the same samples; y, groups: their labels and images. The
    winner has the highest mean score over folds; it wins *clearly* when ``paired_test`` against
    the runner-up gives p < alpha. Returns (winner, runner_up, clear, p); with one decoder,
    ('name', '', True, nan).
    """
    if not results:
        raise ValueError("rank_decoders needs at least one result")
    means = {n: float(np.mean(getattr(r, f"fold_{metric}"))) for n, r in results.items()}
    ranked = sorted(means, key=means.get, reverse=True)
    if len(ranked) == 1:
        return ranked[0], "", True, float("nan")
    test = paired_test(results[ranked[0]], results[ranked[1]], y, groups, metric, n_permutations, rng)
    return ranked[0], ranked[1], bool(test.p_value < alpha), test.p_value


def fold_models(estimator, X, y, groups, cv: int = 5, rng=0) -> list:
    """The estimator fitted on the training part of each fold of ``grouped_folds(y, groups, cv,
    rng)``: the same folds as ``cross_validate_decoder`` with the same arguments, so the
    fitted models (e.g. the C that a nested search chose) can be inspected. Returns a list."""
    X, y = np.asarray(X), np.asarray(y)
    return [clone(estimator).fit(X[train], y[train]) for train, _ in grouped_folds(y, groups, cv, rng)]
