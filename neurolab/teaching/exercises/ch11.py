"""Self-checks of chapter 11: what would it take?"""

from __future__ import annotations

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _number, exercise


def _lr_above(sweep):
    rows = sweep[sweep.decoder == "logistic regression"]
    return rows[(rows.p_value <= 0.05) & (rows.difference > 0)]


@exercise("ex-11-threshold", "11.1",
          "the smallest planted strength at which single-trial logistic regression is above chance, "
          "and the category share measured there")
def _threshold(threshold, share_at_threshold, *, sweep):
    found = _lr_above(sweep)
    if not len(found):
        if isinstance(threshold, float) and np.isnan(threshold):
            return "no strength of this sweep lifts it above chance, so nan is right."
        raise Wrong("in this sweep logistic regression never leaves chance: the answer is nan")
    want = float(found.category_strength.min())
    threshold = _number("threshold", threshold, 0)
    lr = sweep[sweep.decoder == "logistic regression"]
    if np.isclose(threshold, float(lr.category_strength.min())) and not np.isclose(threshold, want):
        raise Wrong("that is the smallest strength of the sweep, not the smallest above chance: "
                    "filter on the p-value and the sign of the difference first")
    others = sweep[(sweep.p_value <= 0.05) & (sweep.difference > 0)]
    oracle = others[others.decoder == "oracle"].category_strength
    if len(oracle) and np.isclose(threshold, float(oracle.min())) and not np.isclose(threshold, want):
        raise Wrong("that is where the oracle leaves chance; the question is about logistic regression")
    if not np.isclose(threshold, want):
        raise Wrong("not the smallest strength at which logistic regression's paired test gives p <= 0.05 "
                    "with a positive difference")
    share = _number("share_at_threshold", share_at_threshold, 0, 1)
    measured = float(found.set_index("category_strength").category_fraction[want])
    if np.isclose(share, want) and not np.isclose(measured, want):
        raise Wrong("`share_at_threshold` is the strength again: give the category_fraction column")
    if not np.isclose(share, measured, rtol=1e-6):
        raise Wrong("`share_at_threshold` should be the category_fraction measured at that strength")
    return f"strength {want:g}, where the measured category share is {measured:.4f}."


@exercise("ex-11-repeats", "11.2",
          "what averaging two repeats adds at the most neurons, and what more neurons add on single trials")
def _repeats(gain_repeats, gain_neurons, *, by_neurons):
    acc = by_neurons.pivot(index="n_neurons", columns="decoder", values="balanced_accuracy")
    largest, smallest = acc.index.max(), acc.index.min()
    want_r = acc.loc[largest, "logistic regression, repeats averaged"] - acc.loc[largest, "logistic regression"]
    want_n = acc.loc[largest, "logistic regression"] - acc.loc[smallest, "logistic regression"]
    gain_repeats = _number("gain_repeats", gain_repeats, -1, 1)
    gain_neurons = _number("gain_neurons", gain_neurons, -1, 1)
    if np.isclose(gain_repeats, -want_r) and not np.isclose(want_r, 0):
        raise Wrong("`gain_repeats` has the wrong sign: averaged minus single trials")
    if np.isclose(gain_repeats, 100 * want_r) and not np.isclose(want_r, 0):
        raise Wrong("give `gain_repeats` as a fraction (0.05), not in percentage points (5)")
    smallest_r = acc.loc[smallest, "logistic regression, repeats averaged"] - acc.loc[smallest, "logistic regression"]
    if np.isclose(gain_repeats, smallest_r) and not np.isclose(want_r, smallest_r):
        raise Wrong("that is the gain at the fewest neurons; the question asks at the most")
    if not np.isclose(gain_repeats, want_r, atol=1e-9):
        raise Wrong("`gain_repeats` should be the averaged regression's balanced accuracy minus the "
                    "single-trial one, at the largest number of neurons")
    if np.isclose(gain_neurons, -want_n) and not np.isclose(want_n, 0):
        raise Wrong("`gain_neurons` has the wrong sign: most neurons minus fewest")
    if not np.isclose(gain_neurons, want_n, atol=1e-9):
        raise Wrong("`gain_neurons` should be single-trial logistic regression at the most neurons minus "
                    "at the fewest")
    return f"averaging adds {100 * want_r:+.1f} points, the extra neurons {100 * want_n:+.1f}."
