"""Self-checks of chapter 9: the ceiling."""

from __future__ import annotations

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _mapping, _number, _pct, exercise


@exercise("ex-09-strength", "9.1",
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


@exercise("ex-09-gap", "9.2",
          "the ceiling and the gap from single trials to it")
def _gap(ceiling, gap_total, *, acc_single):
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


@exercise("ex-09-dims", "9.3",
          "{k: balanced accuracy of the oracle with the first k latent dimensions}, k up to all")
def _dims(dims, *, rec):
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
