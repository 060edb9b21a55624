"""Self-checks of chapter 6: the autopsy."""

from __future__ import annotations

from neurolab.teaching.exercises._core import Wrong, _mapping, _number, _pct, exercise


@exercise("ex-06-shift-more", "6.1",
          "fraction of labels surviving each shift, and the decoder with labels shifted by 10")
def _shift_more(survival, res10, *, labels, images):
    from neurolab.teaching.pitfalls import label_survival

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


@exercise("ex-06-straddle", "6.2",
          "fraction of test trials whose other repeat is in training, for 2, 5 and 10 plain folds")
def _straddle(straddle, *, X, y, groups):
    from sklearn.model_selection import StratifiedKFold

    from neurolab.teaching.pitfalls import straddle_fraction

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


@exercise("ex-06-balanced-chance", "6.3",
          "the chance level to compare a balanced accuracy with")
def _balanced_chance(balanced_chance, *, y):
    from neurolab.teaching.pitfalls import chance_levels

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
