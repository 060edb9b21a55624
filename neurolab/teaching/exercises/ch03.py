"""Self-checks of chapter 3: tabular learning."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _array, _close, _mapping, _pct, exercise


def _results(name: str, value, names=None) -> Mapping:
    results = _mapping(name, value)
    for key, res in results.items():
        if not hasattr(res, "balanced_accuracy"):
            raise Wrong(f"`{name}[{key!r}]` should be a result of cross_validate, got {type(res).__name__}")
    if names is not None:
        missing = [n for n in names if n not in results]
        if missing:
            raise Wrong(f"`{name}` lacks {missing}: run the same models as the grouped run")
    return results


@exercise("ex-03-grouped", "3.1",
          "a splitter that ignores images, and cross_validate's results with it")
def _grouped(trial_folds, by_trial, *, X, y, groups, by_image):
    from neurolab.teaching.pitfalls import straddle_fraction

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
        raise Wrong("`by_trial` has exactly the predictions of the grouped run: pass cv=trial_folds to cross_validate")
    return f"{_pct(leak)} of test trials have their image's other repeat in training."


@exercise("ex-03-unknown", "3.2",
          "repeat-averaged labels with 'unknown' kept, and logistic regression on them")
def _unknown(yu, with_unknown, *, rec, labels):
    from neurolab.decoding import category_task

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


@exercise("ex-03-averaging", "3.3",
          "balanced accuracy, repeat-averaged minus single trials, per learner")
def _averaging(change, *, table):
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
