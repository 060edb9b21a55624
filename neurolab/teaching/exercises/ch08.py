"""Self-checks of chapter 8: point clouds."""

from __future__ import annotations

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _array, _indices, _number, _pct, exercise


@exercise("ex-08-shuffle", "8.1",
          "fold-1 balanced accuracy of the trained PointNet with its positions permuted")
def _pc_shuffle(shuffled_score, *, demo, xyz):
    from neurolab.spatial import normalise_positions

    _number("shuffled_score", shuffled_score, 0, 1)
    model = getattr(demo, "model_", None)
    if model is not None and hasattr(model, "positions"):
        original = np.asarray(normalise_positions(xyz), dtype=np.float32)
        if not np.allclose(model.positions.detach().cpu().numpy(), original, atol=1e-6):
            raise Wrong("`demo` itself now has shuffled positions: copy the network first (copy.deepcopy of "
                        "demo.model_) and permute the copy's positions, so the chapter's model stays intact")
    return f"Score with shuffled positions: {_pct(float(shuffled_score))}."


@exercise("ex-08-points", "8.2",
          "numbers of points tried (ending with all neurons) and the balanced accuracy at each")
def _points(sizes, curve, *, X):
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


@exercise("ex-08-pooling", "8.3",
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
