"""Self-checks of chapter 7: identity and geometry."""

from __future__ import annotations

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _mapping, _number, _pct, exercise


@exercise("ex-07-fit-range", "7.1",
          "{(lo, hi): alpha} of powerlaw(ss, fit_range=(lo, hi)) for ranks 5-50, 12-500, 50-1000")
def _fit_range(alphas, *, ss):
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


@exercise("ex-07-signal", "7.2",
          "signal variance fraction with 0 and 32 spontaneous PCs removed")
def _signal(svf, *, X0, X32):
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


@exercise("ex-07-fixed-c", "7.3",
          "{C: accuracy} with C fixed at the smallest and the largest value of the grid")
def _fixed_c(fixed_acc, *, CS):
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
