"""Self-checks for the course's exercises: right or wrong, with a specific hint, no solution shown.

    from neurolab.exercises import check
    check("ex-01-reliable", best20, rel=rel)    # or by number: check("1.1", best20, rel=rel)

Every exercise of the book has a checker here, registered under its label (``ex-01-reliable``)
and its number (``1.1``: chapter 1, first exercise). ``check(exercise, *answer, **values)`` takes
the learner's answer (positionally, or by the names the exercise's stub uses) and the chapter's
objects the exercise works from (by keyword, with the names the chapter uses); ``describe(label)``
and ``help_for(label)`` say which. It returns a :class:`Feedback`, which is truthy only when the
answer passes and displays as one line in a notebook: ``✓`` and what was verified, or ``✗`` and a
hint aimed at the typical mistake (wrong shape, leaked split, grey trials counted, an off-by-one
index, the wrong chance level ...). A checker recomputes what it can from the given objects, so it
works on whatever data the chapter ran on, synthetic or real.

An answer still ``...`` (the student edition's stub) gives "not answered yet", never an exception:
a wrong answer is feedback, not an error. Calling ``check`` with an unknown exercise or without an
object it needs raises (``KeyError`` / ``TypeError``): that is a mistake in the call, not in the
answer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Feedback", "check", "describe", "exercises", "help_for"]


@dataclass
class Feedback:
    """The verdict on one answer. ``bool(feedback)`` is ``passed``."""

    exercise: str
    number: str
    passed: bool
    message: str
    answered: bool = True

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "✓" if self.passed else "✗"
        return f"{mark} Exercise {self.number} ({self.exercise}): {self.message}"

    __str__ = __repr__


@dataclass(frozen=True)
class _Checker:
    label: str
    number: str
    answers: tuple[str, ...]
    given: tuple[str, ...]
    func: Callable = field(repr=False)
    question: str = ""


_CHECKERS: dict[str, _Checker] = {}
_NUMBERS: dict[str, str] = {}


class Wrong(Exception):
    """Raised inside a checker: the answer fails, with this hint."""


def _exercise(label: str, number: str, answers: str, given: str = "", question: str = ""):
    """Register a checker ``func(**answers_and_given) -> str`` (what was verified)."""

    def register(func):
        checker = _Checker(label, number, tuple(answers.split()), tuple(given.split()), func, question)
        _CHECKERS[label] = checker
        _NUMBERS[number] = label
        return func

    return register


def _resolve(exercise: str) -> _Checker:
    key = str(exercise).strip()
    label = _NUMBERS.get(key, key)
    if label not in _CHECKERS:
        raise KeyError(f"no exercise {exercise!r}; known: {', '.join(sorted(_CHECKERS))}")
    return _CHECKERS[label]


def exercises() -> list[tuple[str, str]]:
    """[(number, label)] of every exercise with a checker, in book order."""
    def order(number: str):
        return tuple(int(part) for part in number.split("."))

    return sorted(((c.number, c.label) for c in _CHECKERS.values()), key=lambda nl: order(nl[0]))


def describe(exercise: str) -> dict:
    """{'label', 'number', 'answers', 'given', 'question'} of one exercise's checker."""
    c = _resolve(exercise)
    return {"label": c.label, "number": c.number, "answers": c.answers, "given": c.given,
            "question": c.question}


def help_for(exercise: str) -> str:
    """How to call ``check`` for one exercise, e.g. ``check("1.1", best20, rel=rel)``."""
    c = _resolve(exercise)
    args = [f'"{c.label}"', *c.answers[:1], *(f"{n}={n}" for n in c.answers[1:] + c.given)]
    return f"check({', '.join(args)})  # {c.question}" if c.question else f"check({', '.join(args)})"


def check(exercise: str, *answer, **values) -> Feedback:
    """Check an answer to ``exercise`` (a label such as "ex-03-unknown" or a number such as "3.2").

    answer: the answer, positionally (one object, the exercise's first answer name), or by name.
    values: the other answer names and the chapter objects the checker needs (see ``help_for``).
    Returns a Feedback (displayed as a ✓ / ✗ line with a hint).
    """
    c = _resolve(exercise)
    if len(answer) > 1:
        raise TypeError(f"check({c.label!r}, ...) takes one positional answer; pass the others by "
                        f"name: {help_for(c.label)}")
    if answer:
        if c.answers[0] in values:
            raise TypeError(f"{c.answers[0]} given both positionally and by name")
        values[c.answers[0]] = answer[0]
    unknown = sorted(set(values) - set(c.answers) - set(c.given))
    if unknown:
        raise TypeError(f"check({c.label!r}) got unexpected names {unknown}; call it as {help_for(c.label)}")
    missing_given = [n for n in c.given if n not in values]
    if missing_given:
        raise TypeError(f"check({c.label!r}) needs the chapter's {', '.join(missing_given)} too; "
                        f"call it as {help_for(c.label)}")
    missing = [n for n in c.answers if n not in values or values[n] is Ellipsis]
    if missing:
        return Feedback(c.label, c.number, False,
                        f"not answered yet: fill in {', '.join(missing)} (still `...`), then run the check again.",
                        answered=False)
    try:
        verified = c.func(**values)
    except Wrong as wrong:
        return Feedback(c.label, c.number, False, str(wrong))
    return Feedback(c.label, c.number, True, f"correct. {verified}".strip())


# ---------------------------------------------------------------------------------------------
# Small tools for the checkers


def _array(name: str, value, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    try:
        a = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - anything that is not array-like
        raise Wrong(f"`{name}` should be an array, got {type(value).__name__} ({error})") from None
    if a.dtype == object:
        raise Wrong(f"`{name}` should be a numeric array, got {type(value).__name__} of mixed objects")
    if ndim is not None and a.ndim != ndim:
        raise Wrong(f"`{name}` should be {ndim}-D, got shape {a.shape}")
    if shape is not None and a.shape != tuple(shape):
        raise Wrong(f"`{name}` should have shape {tuple(shape)}, got {a.shape}")
    return a


def _indices(name: str, value, n: int) -> np.ndarray:
    a = _array(name, value, ndim=1)
    if a.dtype == bool:
        raise Wrong(f"`{name}` is a boolean mask; give the indices (np.flatnonzero(mask))")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise Wrong(f"`{name}` holds non-integer values: give indices (e.g. from np.argsort), "
                        f"not the values themselves")
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise Wrong(f"`{name}` should hold integer indices, got dtype {a.dtype}")
    if len(a) and (a.min() < 0 or a.max() >= n):
        raise Wrong(f"`{name}` has indices outside 0..{n - 1}")
    return a.astype(np.int64)


def _number(name: str, value, lo: float = -np.inf, hi: float = np.inf) -> float:
    if hasattr(value, "accuracy") and hasattr(value, "balanced_accuracy"):
        raise Wrong(f"`{name}` is a result object; give the number (e.g. its .balanced_accuracy)")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise Wrong(f"`{name}` should be a number, got {type(value).__name__}") from None
    if not np.isfinite(x):
        raise Wrong(f"`{name}` is {x}: something upstream produced NaN or inf")
    if not lo <= x <= hi:
        if hi == 1 and 1 < x <= 100:
            raise Wrong(f"`{name}` = {x:g}: give a fraction between 0 and 1, not a percentage")
        raise Wrong(f"`{name}` = {x:g} should lie between {lo:g} and {hi:g}")
    return x


def _mapping(name: str, value, keys=None) -> Mapping:
    if not isinstance(value, Mapping):
        raise Wrong(f"`{name}` should be a dict, got {type(value).__name__}")
    if keys is not None:
        missing = [k for k in keys if k not in value]
        if missing:
            raise Wrong(f"`{name}` lacks the key(s) {missing}; it has {list(value)}")
    return value


def _rearranged(name: str, value, original: np.ndarray, unchanged: str) -> np.ndarray:
    """``value`` as an array of the original's shape that differs from it (else Wrong)."""
    a = _array(name, value, shape=original.shape)
    if np.array_equal(a, original):
        raise Wrong(f"`{name}` is {unchanged}")
    return a


def _close(a, b, tol: float = 1e-6) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# ---------------------------------------------------------------------------------------------
# Chapter 1: the data


@_exercise("ex-01-reliable", "1.1", "best20", "rel",
           "the indices of the 20 neurons with the highest repeat reliability")
def _reliable(best20, rel):
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


@_exercise("ex-01-counting", "1.2", "n_shown grey_trials", "istim",
           "showings per image (grey excluded) and the indices of the grey trials")
def _counting(n_shown, grey_trials, istim):
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


@_exercise("ex-01-threshold", "1.3", "frac3", "resp mu sd",
           "fraction of neurons above mu + 3 sd on each trial")
def _threshold(frac3, resp, mu, sd):
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


# ---------------------------------------------------------------------------------------------
# Chapter 2: denoising


def _sweep_like(name: str, value):
    from neurolab.sweeps import DenoiseSweep

    if not isinstance(value, DenoiseSweep):
        raise Wrong(f"`{name}` should be the DenoiseSweep that projection_sweep returns, got {type(value).__name__}")
    return value


@_exercise("ex-02-stimulus-zscore", "2.1", "by_stim", "rec",
           "a projection_sweep with no PCs removed, z-scored by the stimulus trials")
def _stimulus_zscore(by_stim, rec):
    from neurolab.sweeps import projection_sweep

    sweep = _sweep_like("by_stim", by_stim)
    if list(np.asarray(sweep.n_components)) != [0]:
        raise Wrong(f"remove no PCs here (ns=[0]); `by_stim` swept {np.asarray(sweep.n_components).tolist()}")
    none = np.zeros((0, rec.n_neurons), dtype=np.float32)

    def accuracy(a):
        a = np.asarray(a, dtype=np.float64)
        sd = a.std(axis=0)
        return projection_sweep(rec, none, [0], mean=a.mean(axis=0), scale=np.where(sd > 0, sd, 1.0)).at(0)

    got = sweep.at(0)
    tol = 2.5 / max(sweep.n_images, 1)
    stim = np.asarray(rec.resp)[np.asarray(rec.istim) >= 0]
    if abs(got - accuracy(stim)) <= tol:
        return f"Identity accuracy {_pct(got)} with stimulus z-scoring."
    if abs(got - accuracy(rec.spont)) <= tol:
        raise Wrong("`by_stim` uses the spontaneous statistics (rec.spont); take the mean and SD of each "
                    "neuron over the stimulus responses (rec.resp, axis=0)")
    raise Wrong("`by_stim` does not match z-scoring every neuron by its mean and SD over the image "
                "trials (mean=rec.resp.mean(axis=0), scale=rec.resp.std(axis=0))")


@_exercise("ex-02-random-control", "2.2", "control", "sweep NS rec",
           "the same sweep with random orthonormal directions removed instead of spontaneous PCs")
def _random_control(control, sweep, NS, rec):
    control = _sweep_like("control", control)
    ns = np.asarray(NS)
    if not np.array_equal(np.asarray(control.n_components), ns):
        raise Wrong(f"sweep the same numbers of directions as the chapter (NS = {ns.tolist()}); "
                    f"`control` swept {np.asarray(control.n_components).tolist()}")
    if 0 in ns and abs(control.at(0) - sweep.at(0)) > 1e-9:
        raise Wrong("with nothing removed `control` should equal the spontaneous sweep: z-score with the "
                    "same statistics (mean=sp.mean_, scale=sp.scale_)")
    n_max = int(ns.max())
    expected = n_max / rec.n_neurons  # a random subspace holds about its share of any variance
    removed = float(np.asarray(control.spont_variance_removed)[-1])
    if _close(control.identity_accuracy, sweep.identity_accuracy) and _close(
            control.spont_variance_removed, sweep.spont_variance_removed):
        raise Wrong("`control` is the spontaneous-PC sweep again; pass random_directions(rec.n_neurons, "
                    "max(NS), seed=...) as the directions")
    if removed > 3 * expected + 0.02:
        raise Wrong(f"the removed directions hold {_pct(removed)} of the spontaneous variance, far more than "
                    f"random directions would (about {_pct(expected)}): are they spontaneous PCs?")
    return (f"{n_max} random directions remove {_pct(removed)} of the spontaneous variance "
            f"(spontaneous PCs: {_pct(float(np.asarray(sweep.spont_variance_removed)[-1]))}).")


# ---------------------------------------------------------------------------------------------
# Chapter 3: tabular learning


def _results(name: str, value, names=None) -> Mapping:
    results = _mapping(name, value)
    for key, res in results.items():
        if not hasattr(res, "balanced_accuracy"):
            raise Wrong(f"`{name}[{key!r}]` should be a result of run_models, got {type(res).__name__}")
    if names is not None:
        missing = [n for n in names if n not in results]
        if missing:
            raise Wrong(f"`{name}` lacks {missing}: run the same models as the grouped run")
    return results


@_exercise("ex-03-grouped", "3.1", "trial_folds by_trial", "X y groups by_image",
           "a splitter that ignores images, and run_models' results with it")
def _grouped(trial_folds, by_trial, X, y, groups, by_image):
    from neurolab.pitfalls import straddle_fraction

    if not hasattr(trial_folds, "split"):
        raise Wrong("`trial_folds` should be a scikit-learn splitter, e.g. StratifiedKFold(5, shuffle=True, "
                    "random_state=SEED)")
    folds = list(trial_folds.split(X, y, groups))
    leak = straddle_fraction(folds, groups)
    if leak == 0:
        raise Wrong("these folds keep an image's repeats together (they use the groups); the exercise "
                    "needs folds that ignore images: StratifiedKFold over trials")
    results = _results("by_trial", by_trial, list(by_image))
    same = [n for n in by_image if np.array_equal(np.asarray(results[n].y_pred), np.asarray(by_image[n].y_pred))]
    if len(same) == len(by_image):
        raise Wrong("`by_trial` has exactly the predictions of the grouped run: pass cv=trial_folds to run_models")
    return f"{_pct(leak)} of test trials have their image's other repeat in training."


@_exercise("ex-03-unknown", "3.2", "yu with_unknown", "rec labels",
           "repeat-averaged labels with 'unknown' kept, and logistic regression on them")
def _unknown(yu, with_unknown, rec, labels):
    from neurolab.data import category_task

    yu = _array("yu", yu, ndim=1)
    _, ref, _ = category_task(rec, labels, average_repeats=True, drop_unknown=False)
    _, known, _ = category_task(rec, labels, average_repeats=True)
    if 0 not in yu:
        raise Wrong("`yu` has no class 0: 'unknown' is still dropped; build the task with drop_unknown=False")
    if len(yu) != len(ref):
        _, trials, _ = category_task(rec, labels, drop_unknown=False)
        if len(yu) == len(trials):
            raise Wrong("`yu` has one row per trial; this exercise is about the repeat-averaged task "
                        "(average_repeats=True)")
        raise Wrong(f"`yu` should have one row per image ({len(ref)}), got {len(yu)}")
    if not np.array_equal(yu, ref):
        raise Wrong("`yu` differs from the labels of category_task(rec, labels, average_repeats=True, "
                    "drop_unknown=False)")
    results = _results("with_unknown", with_unknown)
    if "logistic regression" not in results:
        raise Wrong("`with_unknown` should hold the logistic regression's result")
    n_classes = len(np.unique(ref))
    y_pred = np.asarray(getattr(results["logistic regression"], "y_pred", []))
    if len(y_pred) != len(ref):
        raise Wrong(f"the result holds predictions for {len(y_pred)} images, not the {len(ref)} of the task "
                    f"with 'unknown': run it on (Xu, yu, gu)")
    return (f"{n_classes} classes instead of {len(np.unique(known))}: balanced chance {_pct(1 / n_classes)} "
            f"instead of {_pct(1 / len(np.unique(known)))}.")


@_exercise("ex-03-averaging", "3.3", "change", "table",
           "balanced accuracy, repeat-averaged minus single trials, per learner")
def _averaging(change, table):
    import pandas as pd

    if not isinstance(change, pd.Series):
        raise Wrong(f"`change` should be a pandas Series indexed by learner, got {type(change).__name__}")
    bal = table[("balanced accuracy", "mean")].unstack("task")
    ref = (bal["repeat-averaged"] - bal["single trials"]).dropna()
    common = [n for n in change.index if n in ref.index]
    if not common:
        raise Wrong("`change` shares no learner names with `table`; index it by learner")
    missing = [n for n in ref.index if n not in change.index and n not in ("most frequent", "stratified guess")]
    if missing:
        raise Wrong(f"`change` lacks {missing}")
    got = change[common].astype(float)
    if _close(got, -ref[common]):
        raise Wrong("the sign is reversed: the change is repeat-averaged minus single trials")
    if not _close(got, ref[common], 1e-9):
        acc = table[("accuracy", "mean")].unstack("task")
        if _close(got, (acc["repeat-averaged"] - acc["single trials"])[common]):
            raise Wrong("`change` uses plain accuracy; the question is about balanced accuracy")
        raise Wrong("`change` differs from balanced accuracy (repeat-averaged) minus balanced accuracy (single trials)")
    top = ref.drop(["most frequent", "stratified guess"], errors="ignore").abs().idxmax()
    return f"Largest change: {top} ({100 * ref[top]:+.1f} points)."


# ---------------------------------------------------------------------------------------------
# Chapter 4: grid averaging


@_exercise("ex-04-budget", "4.1", "coarsest", "sweep category_chance all_cat",
           "the sweep row of the coarsest grid keeping a third of the category margin over chance")
def _budget(coarsest, sweep, category_chance, all_cat):
    rows = sweep[sweep.kind.isin(["grid", "all neurons"])]
    kept = (rows.category - category_chance) / (all_cat - category_chance)
    ok = rows[kept >= 1 / 3]
    ref = ok.iloc[ok.units.argmin()]
    units = getattr(coarsest, "units", None)
    if units is None:
        raise Wrong("`coarsest` should be a row of `sweep` (a pandas Series with .units, .grid ...)")
    if getattr(coarsest, "kind", "grid") not in ("grid", "all neurons"):
        raise Wrong(f"`coarsest` is a {coarsest.kind!r} row; compare the grids (kind 'grid')")
    if int(units) == int(ref.units):
        return f"{int(ref.units):,} units, ~{ref.neurons_per_unit:.0f} neurons per unit."
    raw = rows[rows.category / all_cat >= 1 / 3]
    if len(raw) and int(units) == int(raw.iloc[raw.units.argmin()].units):
        raise Wrong("measure the margin over chance, (category - chance) / (all - chance), not the raw "
                    "accuracy ratio: chance alone would keep a third")
    if int(units) > int(ref.units):
        raise Wrong("a coarser grid (fewer units) still keeps a third of the margin: look for the smallest "
                    "`units` among the rows that qualify")
    raise Wrong("that grid keeps less than a third of the all-neuron margin over chance")


@_exercise("ex-04-shuffle", "4.2", "shuffled_xyz Xs", "X xyz",
           "positions permuted across neurons, and 8 x 8 grid pooling on them")
def _grid_shuffle(shuffled_xyz, Xs, X, xyz):
    from neurolab.spatial import grid_groups, pool_units

    xyz = np.asarray(xyz)
    s = _rearranged("shuffled_xyz", shuffled_xyz, xyz, "the original positions: permute its rows")
    rows = lambda a: a[np.lexsort(a.T[::-1])]  # noqa: E731 - rows in a canonical order
    if not np.array_equal(rows(s), rows(xyz)):
        if np.array_equal(np.sort(s, axis=0), np.sort(xyz, axis=0)):
            raise Wrong("each coordinate was shuffled on its own, which invents new positions; permute whole "
                        "rows (neurons) with one permutation: xyz[rng.permutation(len(xyz))]")
        raise Wrong("`shuffled_xyz` should hold the same positions as xyz in another order (a permutation of the rows)")
    ref = pool_units(X, grid_groups(s, 8))
    got = _array("Xs", Xs)
    if got.shape != ref.shape:
        raise Wrong(f"`Xs` should have shape {ref.shape} (repeats, images, grid cells of an 8 x 8 grid per "
                    f"plane); got {got.shape}")
    if not _close(got, ref, 1e-4):
        if _close(got, pool_units(X, grid_groups(xyz, 8)), 1e-4):
            raise Wrong("`Xs` pools on the original positions; pass shuffled_xyz to grid_groups")
        raise Wrong("`Xs` differs from pool_units(X, grid_groups(shuffled_xyz, 8))")
    return f"{ref.shape[-1]} units on shuffled positions."


@_exercise("ex-04-planes", "4.3", "columns", "X xyz",
           "8 x 8 columns pooled through all planes, for both repeats")
def _planes(columns, X, xyz):
    from neurolab.features import grid_pool

    ref = np.stack([grid_pool(X[r], xyz, 8, per_plane=False)[0] for r in range(2)])
    got = _array("columns", columns)
    if got.shape != ref.shape:
        per_plane = grid_pool(X[0], xyz, 8, per_plane=True)[0]
        if got.shape[-1] == per_plane.shape[-1]:
            raise Wrong("`columns` has a cell per plane; pool through all planes with per_plane=False")
        raise Wrong(f"`columns` should have shape {ref.shape} (2 repeats, images, columns); got {got.shape}")
    if not _close(got, ref, 1e-4):
        raise Wrong("`columns` differs from grid_pool(X[r], xyz, 8, per_plane=False)[0] for r = 0, 1")
    return f"{ref.shape[-1]} columns."


# ---------------------------------------------------------------------------------------------
# Chapter 5: MouseNet


def _column_permutation(original: np.ndarray, shuffled: np.ndarray):
    """The permutation p with shuffled == original[:, p], or None."""
    keys = {original[:, j].tobytes(): j for j in range(original.shape[1])}
    p = [keys.get(shuffled[:, j].tobytes()) for j in range(shuffled.shape[1])]
    return None if any(j is None for j in p) else np.asarray(p)


@_exercise("ex-05-shuffle", "5.1", "scrambled lr_plain lr_scrambled", "flat",
           "voxels permuted the same way in every trial; logistic predictions before and after")
def _voxel_shuffle(scrambled, lr_plain, lr_scrambled, flat):
    flat = np.asarray(flat)
    s = _rearranged("scrambled", scrambled, flat, "`flat` unchanged: permute its columns (voxels)")
    perm = _column_permutation(flat, s)
    if perm is None:
        if np.array_equal(np.sort(s, axis=0), np.sort(flat, axis=0)):
            raise Wrong("the trials (rows) were permuted, not the voxels: index the columns, flat[:, perm]")
        if np.array_equal(np.sort(s, axis=1), np.sort(flat, axis=1)):
            raise Wrong("each trial got its own shuffle; draw ONE permutation and apply it to every trial "
                        "(flat[:, perm]) so a voxel keeps its data")
        raise Wrong("`scrambled` should be flat[:, perm] for one permutation perm of the voxels")
    a, b = np.asarray(lr_plain), np.asarray(lr_scrambled)
    if a.shape != b.shape:
        raise Wrong(f"`lr_plain` and `lr_scrambled` should be predictions for the same test trials; shapes "
                    f"{a.shape} and {b.shape}")
    agree = float(np.mean(a == b))
    if agree < 0.9:
        raise Wrong(f"the two logistic regressions agree on only {_pct(agree)} of test trials; fit each on its "
                    f"own (shuffled or not) training voxels and predict the matching test voxels")
    return f"One permutation of {len(perm)} voxels; logistic predictions agree on {_pct(agree)}."


@_exercise("ex-05-params", "5.2", "counts", "n_vox n_neu n_classes",
           "parameters of logistic regression on voxels and on neurons, and of MouseNet")
def _params(counts, n_vox, n_neu, n_classes):
    from neurolab.models import MouseNet, n_parameters

    counts = _mapping("counts", counts, ["logistic on voxels", "logistic on neurons", "MouseNet"])
    for key, n_inputs in (("logistic on voxels", n_vox), ("logistic on neurons", n_neu)):
        got = counts[key]
        if got == n_inputs * n_classes:
            raise Wrong(f"{key}: add the intercepts, one per class: (n_inputs + 1) * n_classes")
        if got == n_inputs + 1 or got == n_inputs:
            raise Wrong(f"{key}: multinomial logistic regression has a weight per input AND per class")
        if got != (n_inputs + 1) * n_classes:
            raise Wrong(f"{key}: {got:,} is not a weight per input and class plus an intercept per class")
    ref = n_parameters(MouseNet(n_classes))
    if counts["MouseNet"] != ref:
        raise Wrong(f"MouseNet for {n_classes} classes has {ref:,} parameters: count them with "
                    f"n_parameters(MouseNet(n_classes)) rather than by hand")
    return f"MouseNet {ref:,}, logistic on voxels {(n_vox + 1) * n_classes:,}."


# ---------------------------------------------------------------------------------------------
# Chapter 6: the autopsy


@_exercise("ex-06-shift-more", "6.1", "survival res10", "labels images",
           "fraction of labels surviving each shift, and the decoder with labels shifted by 10")
def _shift_more(survival, res10, labels, images):
    from neurolab.pitfalls import label_survival

    shifts = [1, 2, 5, 10, 20, 50, 100]
    survival = _mapping("survival", survival, shifts)
    for s in shifts:
        got = _number(f"survival[{s}]", survival[s], 0, 1)
        ref = label_survival(labels, s, images)
        if abs(got - ref) > 1e-9:
            if abs(got - (1 - ref)) < 1e-9:
                raise Wrong("`survival` holds the fraction of labels LOST; the question asks how many survive")
            if abs(got - label_survival(labels, s)) < 1e-9:
                raise Wrong("count only the images of this recording (pass `images`), not all 2,800")
            raise Wrong(f"survival[{s}] = {got:.3f}, expected {ref:.3f}: use pitfalls.label_survival(labels, shift, images)")
    if not hasattr(res10, "accuracy"):
        raise Wrong("`res10` should be the DecodeResult of cross_validate_decoder on the shifted labels")
    _number("res10.accuracy", res10.accuracy, 0, 1)
    return f"{_pct(survival[10])} of labels survive a shift of 10."


@_exercise("ex-06-straddle", "6.2", "straddle", "X y groups",
           "fraction of test trials whose other repeat is in training, for 2, 5 and 10 plain folds")
def _straddle(straddle, X, y, groups):
    from sklearn.model_selection import StratifiedKFold

    from neurolab.pitfalls import straddle_fraction

    straddle = _mapping("straddle", straddle, [2, 5, 10])
    for k in (2, 5, 10):
        got = _number(f"straddle[{k}]", straddle[k], 0, 1)
        ref = straddle_fraction(list(StratifiedKFold(k, shuffle=True, random_state=0).split(X, y)), groups)
        if got == 0:
            raise Wrong(f"straddle[{k}] is 0: those folds are grouped by image; use a plain "
                        f"StratifiedKFold({k}, shuffle=True) over trials")
        if abs(got - (1 - ref)) < 0.04 and abs(got - ref) > 0.04:
            raise Wrong("you measured the share whose other repeat is in the TEST fold; the leak is the other "
                        "repeat in the training set")
        if abs(got - ref) > 0.04:
            raise Wrong(f"straddle[{k}] = {got:.3f}, but plain {k}-fold splits give about {ref:.3f}: pass the "
                        f"folds and `groups` to pitfalls.straddle_fraction")
    return "About (k - 1) / k straddle: " + ", ".join(f"{k}: {_pct(float(straddle[k]))}" for k in (2, 5, 10))


@_exercise("ex-06-balanced-chance", "6.3", "balanced_chance", "y",
           "the chance level to compare a balanced accuracy with")
def _balanced_chance(balanced_chance, y):
    from neurolab.pitfalls import chance_levels

    levels = chance_levels(y)
    got = _number("balanced_chance", balanced_chance, 0, 1)
    if abs(got - levels["uniform"]) < 1e-9:
        return f"1 / {levels['n_classes']} classes = {_pct(got)}."
    if abs(got - levels["most_frequent"]) < 1e-9:
        raise Wrong("that is the most-frequent-class share, the chance level of plain accuracy; balanced "
                    "accuracy averages the recall of every class")
    if abs(got - levels["stratified"]) < 1e-9:
        raise Wrong("that is the accuracy of guessing with the class frequencies; what is its BALANCED accuracy?")
    raise Wrong("a dummy's per-class recalls average to one over the number of classes: compute that from y")


# ---------------------------------------------------------------------------------------------
# Chapter 7: identity and geometry


@_exercise("ex-07-fit-range", "7.1", "alphas", "ss",
           "{(lo, hi): alpha} of powerlaw(ss, fit_range=(lo, hi)) for ranks 5-50, 12-500, 50-1000")
def _fit_range(alphas, ss):
    from neurolab.geometry import powerlaw

    alphas = _mapping("alphas", alphas)
    n = len(np.asarray(ss))
    wanted = [(lo, min(hi, n)) for lo, hi in [(4, 50), (11, 500), (49, 1000)] if min(hi, n) - lo >= 2]
    one_based = [(lo + 1, hi) for lo, hi in wanted]
    if any(key in alphas for key in one_based) and not all(key in alphas for key in wanted):
        raise Wrong("fit_range is 0-based: ranks 5 to 50 are fit_range=(4, 50)")
    missing = [key for key in wanted if key not in alphas]
    if missing:
        raise Wrong(f"`alphas` lacks the range(s) {missing} (keys are the fit_range tuples, hi clipped to {n})")
    for key in wanted:
        got = _number(f"alphas[{key}]", alphas[key])
        ref = powerlaw(ss, fit_range=key)[0]
        if abs(got - ref) > 1e-6:
            raise Wrong(f"alphas[{key}] = {got:.3f}, but powerlaw(ss, fit_range={key}) gives {ref:.3f}")
    return "Alphas: " + ", ".join(f"{key}: {alphas[key]:.2f}" for key in wanted)


@_exercise("ex-07-signal", "7.2", "svf", "X0 X32",
           "signal variance fraction with 0 and 32 spontaneous PCs removed")
def _signal(svf, X0, X32):
    from neurolab.geometry import signal_variance_fraction

    svf = _mapping("svf", svf, [0, 32])
    ref = {0: signal_variance_fraction(X0), 32: signal_variance_fraction(X32)}
    got = {k: _number(f"svf[{k}]", svf[k], 0, 1) for k in (0, 32)}
    if abs(got[0] - ref[32]) < 1e-6 and abs(got[32] - ref[0]) < 1e-6 and abs(ref[0] - ref[32]) > 1e-6:
        raise Wrong("the two values are swapped: X0 has no PCs removed, X32 has 32")
    for k in (0, 32):
        if abs(got[k] - ref[k]) > 1e-6:
            raise Wrong(f"svf[{k}] = {got[k]:.3f}, expected {ref[k]:.3f}: signal_variance_fraction of the "
                        f"(2, n_images, n_neurons) repeats X{k}")
    return f"{_pct(ref[0])} -> {_pct(ref[32])}."


@_exercise("ex-07-fixed-c", "7.3", "fixed_acc", "CS",
           "{C: accuracy} with C fixed at the smallest and the largest value of the grid")
def _fixed_c(fixed_acc, CS):
    fixed_acc = _mapping("fixed_acc", fixed_acc)
    wanted = [float(CS[0]), float(CS[-1])]
    keys = {float(k): k for k in fixed_acc}
    missing = [c for c in wanted if not any(np.isclose(c, k) for k in keys)]
    if missing:
        raise Wrong(f"`fixed_acc` should have the keys CS[0] = {wanted[0]:g} and CS[-1] = {wanted[1]:g}; "
                    f"it has {sorted(keys)}")
    for k, original in keys.items():
        _number(f"fixed_acc[{k:g}]", fixed_acc[original], 0, 1)
    return "Both ends of the grid scored."


# ---------------------------------------------------------------------------------------------
# Chapter 8: point clouds


@_exercise("ex-08-shuffle", "8.1", "shuffled_score", "demo xyz",
           "fold-1 balanced accuracy of the trained PointNet with its positions permuted")
def _pc_shuffle(shuffled_score, demo, xyz):
    from neurolab.features import normalise_positions

    _number("shuffled_score", shuffled_score, 0, 1)
    model = getattr(demo, "model_", None)
    if model is not None and hasattr(model, "positions"):
        original = np.asarray(normalise_positions(xyz), dtype=np.float32)
        if not np.allclose(model.positions.detach().cpu().numpy(), original, atol=1e-6):
            raise Wrong("`demo` itself now has shuffled positions: copy the network first (copy.deepcopy of "
                        "demo.model_) and permute the copy's positions, so the chapter's model stays intact")
    return f"Score with shuffled positions: {_pct(float(shuffled_score))}."


@_exercise("ex-08-points", "8.2", "sizes curve", "X",
           "numbers of points tried (ending with all neurons) and the balanced accuracy at each")
def _points(sizes, curve, X):
    n = np.asarray(X).shape[1]
    s = _indices("sizes", np.asarray(sizes).ravel(), n + 1)
    if len(s) < 3:
        raise Wrong("try at least three numbers of points (e.g. 64, 256, 1,024 and all neurons)")
    if np.any(np.diff(s) <= 0):
        raise Wrong("`sizes` should increase (sorted, no repeats), so that the curve reads left to right")
    if s[-1] != n:
        raise Wrong(f"end `sizes` with all {n:,} neurons, the reference point of the curve")
    c = _array("curve", curve, ndim=1)
    if len(c) != len(s):
        raise Wrong(f"`curve` should have one score per size ({len(s)}), got {len(c)}")
    for i, value in enumerate(c):
        _number(f"curve[{i}]", value, 0, 1)
    return f"{len(s)} sizes, from {s[0]:,} to {n:,} points."


@_exercise("ex-08-pooling", "8.3", "max_only max_score", "",
           "a PointNet trained with pooling='max', and its fold-1 balanced accuracy")
def _pooling(max_only, max_score):
    _number("max_score", max_score, 0, 1)
    model = getattr(max_only, "model_", None)
    if model is None:
        raise Wrong("`max_only` should be the fitted FastaiClassifier (call .fit first)")
    pooling = getattr(model, "pooling", None)
    if pooling != "max":
        raise Wrong(f"the network pools with {pooling!r}; build it with pooling='max' "
                    f"(pointnet_builder(xyz, **(ARCH | {{'pooling': 'max'}})))")
    return f"Max pooling alone: {_pct(float(max_score))}."


# ---------------------------------------------------------------------------------------------
# Chapter 9: the ceiling


@_exercise("ex-09-strength", "9.1", "ladder", "",
           "{category_strength: {'oracle', 'noise-free', 'single trials': balanced accuracy}}")
def _strength(ladder):
    from neurolab.synthetic import SyntheticParams

    ladder = _mapping("ladder", ladder)
    default = SyntheticParams().category_strength
    strengths = sorted(float(s) for s in ladder)
    if not any(np.isclose(s, default) for s in strengths):
        raise Wrong(f"include the default strength ({default:g}) as the reference")
    if max(strengths) <= default:
        raise Wrong("try at least one category_strength larger than the default")
    for s, scores in ladder.items():
        scores = _mapping(f"ladder[{s}]", scores, ["oracle", "noise-free", "single trials"])
        for name in ("oracle", "noise-free", "single trials"):
            _number(f"ladder[{s}][{name!r}]", scores[name], 0, 1)
    by = {float(s): v for s, v in ladder.items()}
    lo, hi = by[min(by)], by[max(by)]
    if hi["oracle"] + 0.05 < lo["oracle"]:
        raise Wrong("the oracle got worse with a stronger category: are the strengths and scores paired up right?")
    return f"Oracle {_pct(lo['oracle'])} -> {_pct(hi['oracle'])} from strength {min(by):g} to {max(by):g}."


@_exercise("ex-09-gap", "9.2", "ceiling gap_total", "acc_single",
           "the ceiling and the gap from single trials to it")
def _gap(ceiling, gap_total, acc_single):
    ceiling = float(ceiling)
    gap = float(gap_total)
    if np.isfinite(ceiling) and not 0 <= ceiling <= 1:
        raise Wrong(f"`ceiling` = {ceiling:g} should be an accuracy between 0 and 1")
    if np.isnan(ceiling):
        if not np.isnan(gap):
            raise Wrong("with no ceiling (nan) there is no gap either")
        return "No ceiling on this run."
    if abs(gap + (ceiling - acc_single)) < 1e-9 and abs(gap) > 1e-12:
        raise Wrong("the sign is reversed: the gap is ceiling - acc_single")
    if abs(gap - (ceiling - acc_single)) > 1e-9:
        raise Wrong("`gap_total` should be ceiling - acc_single, in the same units (fractions)")
    return f"Gap {100 * gap:.1f} points."


@_exercise("ex-09-dims", "9.3", "dims", "rec",
           "{k: balanced accuracy of the oracle with the first k latent dimensions}, k up to all")
def _dims(dims, rec):
    dims = _mapping("dims", dims)
    if rec.truth is None:
        return "Real data: nothing to check (the exercise needs synthetic data)."
    n = rec.truth.latents.shape[1]
    if n not in dims:
        raise Wrong(f"include all {n} latent dimensions (rec.truth.latents.shape[1]) as the last k")
    if 1 not in dims:
        raise Wrong("include k = 1")
    for k in dims:
        _number(f"dims[{k}]", dims[k], 0, 1)
    if dims[n] + 0.05 < dims[1]:
        raise Wrong("the oracle with all dimensions scores below the one with 1: are k and scores paired up right?")
    return f"1 dimension {_pct(dims[1])}, all {n} {_pct(dims[n])}."


def _signature_names(func) -> set[str]:
    return set(inspect.signature(func).parameters)


# Each checker's parameters are exactly its answers and given names (checked at import).
for _c in _CHECKERS.values():
    assert _signature_names(_c.func) == set(_c.answers) | set(_c.given), _c.label
del _c
