"""Self-checks of chapter 5: MouseNet."""

from __future__ import annotations

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _mapping, _pct, _rearranged, exercise


def _column_permutation(original: np.ndarray, shuffled: np.ndarray):
    """The permutation p with shuffled == original[:, p], or None."""
    keys = {original[:, j].tobytes(): j for j in range(original.shape[1])}
    p = [keys.get(shuffled[:, j].tobytes()) for j in range(shuffled.shape[1])]
    return None if any(j is None for j in p) else np.asarray(p)


@exercise("ex-05-shuffle", "5.1",
          "voxels permuted the same way in every trial; logistic predictions before and after")
def _voxel_shuffle(scrambled, lr_plain, lr_scrambled, *, flat):
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


@exercise("ex-05-params", "5.2",
          "parameters of logistic regression on voxels and on neurons, and of MouseNet")
def _params(counts, *, n_vox, n_neu, n_classes):
    from neurolab.nn import MouseNet, n_parameters

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
