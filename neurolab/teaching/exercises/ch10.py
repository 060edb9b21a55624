"""Self-checks of chapter 10: the whole dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurolab.teaching.exercises._core import Wrong, _number, exercise


def _identity(rows, n_pcs: int) -> pd.Series:
    """Identity accuracy by recording (names without 'twin:') at ``n_pcs``, from a sweep's rows."""
    frame = rows[(rows.analysis == "identity") & (rows.n_pcs == n_pcs)]
    series = frame.set_index("recording")["identity_accuracy"]
    series.index = [name.removeprefix("twin:") for name in series.index]
    return series


@exercise("ex-10-spread", "10.1",
          "the recording with the highest identity accuracy, and how many SDs above the mean it is")
def _spread(best, z, *, rows):
    accuracy = _identity(rows, int(rows[rows.analysis == "identity"].n_pcs.max()))
    if not isinstance(best, str):
        raise Wrong(f"`best` should be a recording's name (a str, as in table.index), got {type(best).__name__}")
    name = best.removeprefix("twin:")
    if name not in accuracy.index:
        raise Wrong(f"`best` = {best!r} is not one of the recordings: {', '.join(accuracy.index)}")
    if name != accuracy.idxmax():
        if name == accuracy.idxmin():
            raise Wrong("that is the recording with the LOWEST identity accuracy: use idxmax")
        raise Wrong("another recording has a higher identity accuracy; compare every recording's value")
    z = _number("z", z)
    if len(accuracy) < 2:
        return "one recording: no spread to measure."
    want = (accuracy.max() - accuracy.mean()) / accuracy.std(ddof=1)
    population = (accuracy.max() - accuracy.mean()) / accuracy.std(ddof=0)
    if np.isclose(z, population, rtol=1e-6) and not np.isclose(want, population, rtol=1e-6):
        raise Wrong("that SD divides by n (ddof=0): across a handful of recordings use ddof=1")
    if np.isclose(z, accuracy.max() - accuracy.mean(), rtol=1e-6):
        raise Wrong("`z` is the difference in accuracy; divide it by the SD across recordings")
    if not np.isclose(z, want, rtol=1e-6):
        raise Wrong("`z` should be (best - mean) / SD across recordings (ddof=1)")
    return f"{name}, {z:.2f} SD above the mean of {len(accuracy)} recordings."


@exercise("ex-10-alpha-identity", "10.2",
          "the correlation across recordings between the power-law exponent and identity accuracy")
def _alpha_identity(r, n, *, table):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise Wrong(f"`n` should be the number of recordings (an int), got {n!r}")
    if int(n) != len(table):
        raise Wrong(f"`n` should count the recordings (rows of `table`): {len(table)}, not {n}")
    if len(table) < 3:
        if isinstance(r, (float, np.floating)) and np.isnan(r):
            return f"{len(table)} recording(s): too few for a correlation, so r is nan."
        raise Wrong(f"with {len(table)} recording(s) no correlation can be estimated: set r to nan")
    r = _number("r", r, -1, 1)
    want = float(table["alpha"].corr(table["identity_accuracy"]))
    spearman = float(table["alpha"].corr(table["identity_accuracy"], method="spearman"))
    if np.isclose(r, spearman, atol=1e-9) and not np.isclose(r, want, atol=1e-9):
        raise Wrong("that is Spearman's rank correlation; the question asks for Pearson's")
    if not np.isclose(r, want, atol=1e-9):
        raise Wrong("`r` should be the Pearson correlation of table.alpha and table.identity_accuracy")
    return f"r = {want:+.2f} across {len(table)} recordings."
