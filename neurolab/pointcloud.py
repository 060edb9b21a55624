"""Decoding from the recording as a point cloud: each neuron a point (x, y, z, response).

The network itself is ``neurolab.models.PointNet`` (a shared per-point MLP and a symmetric pooling,
Qi et al. 2017). This module adds what a fair comparison of it with other decoders needs:

* ``SubsetPointNet``: a ``PointNet`` that is *evaluated* the way it is trained. ``PointNet`` trains
  on a random subset of ``n_points`` neurons per batch but predicts from all neurons, and a maximum
  over 11,000 points is not distributed like a maximum over 1,024 (it is larger), so the pooled
  features a trained head sees at test time would differ from those it learned on. ``SubsetPointNet``
  predicts from ``eval_subsets`` fixed, disjoint random subsets of ``eval_points`` neurons each and
  averages their logits: deterministic, consistent with training, and its cost is bounded.
* ``pointnet_builder``: the ``build(n_features, n_classes)`` callable ``FastaiClassifier`` wants.
* ``linear_decoder``: the logistic-regression baseline, its penalty scaled to the number of features
  (``SerialLogisticRegression``: fitted with one thread, many times faster on a busy machine).
* ``timed_cv``: ``cross_validate_decoder`` plus its wall time; ``cross_validate_many``: several
  decoders on the same folds, run side by side in separate single-threaded processes.
* ``comparison_table`` and ``verdict``: the numbers of a comparison, and the sentence they support.
* ``plot_point_cloud``: one trial as a 3D scatter (matplotlib), all neurons and a training subset.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from neurolab.decode import sem
from neurolab.models import PointNet, n_parameters

__all__ = [
    "SerialLogisticRegression",
    "SubsetPointNet",
    "comparison_table",
    "cross_validate_many",
    "linear_decoder",
    "linear_parameters",
    "parameter_count",
    "plot_point_cloud",
    "pointnet_builder",
    "subset_indices",
    "timed_cv",
    "verdict",
]


def subset_indices(n_neurons: int, n_points: int | None, n_subsets: int | None, seed: int = 0) -> list[np.ndarray]:
    """Disjoint random subsets of ``range(n_neurons)``, fixed by ``seed``.

    n_points: neurons per subset (None, or >= n_neurons: one subset holding every neuron).
    n_subsets: how many subsets; None = as many as partition all neurons (the last ones may be one
    neuron smaller, as ``np.array_split`` makes them). At most ``n_neurons // n_points`` subsets of
    the full size fit; asking for more gives that many.
    Returns a list of (n_points,) int64 index arrays, each sorted ascending.
    """
    if n_neurons < 1:
        raise ValueError(f"n_neurons must be >= 1, got {n_neurons}")
    if n_points is None or n_points >= n_neurons:
        return [np.arange(n_neurons, dtype=np.int64)]
    if n_points < 1:
        raise ValueError(f"n_points must be >= 1 or None, got {n_points}")
    if n_subsets is not None and n_subsets < 1:
        raise ValueError(f"n_subsets must be >= 1 or None, got {n_subsets}")
    order = np.random.default_rng(seed).permutation(n_neurons)
    if n_subsets is None:
        parts = np.array_split(order, int(np.ceil(n_neurons / n_points)))
    else:
        k = min(n_subsets, n_neurons // n_points)
        parts = [order[i * n_points : (i + 1) * n_points] for i in range(k)]
    return [np.sort(p).astype(np.int64) for p in parts]


class SubsetPointNet(PointNet):
    """``PointNet`` that predicts from fixed subsets of neurons the size it was trained on.

    positions: (n_neurons, 3) neuron positions (any units; normalised to [-1, 1] inside).
    n_classes, widths, head, n_points, pooling, dropout, use_positions, use_intensity: as ``PointNet``.
    eval_points: neurons per evaluation subset, default ``n_points`` (None: all neurons at once).
    eval_subsets: number of disjoint evaluation subsets whose logits are averaged; None = partition
        every neuron into subsets of about ``eval_points``.
    eval_seed: seed of the evaluation subsets (the same seed, the same subsets, every call).

    Training is ``PointNet``'s: a fresh random subset of ``n_points`` neurons every batch. Input
    (batch, n_neurons) responses; output (batch, n_classes) logits. Changing ``eval_points`` or
    ``eval_subsets`` after training is allowed (e.g. to ask how many points a trained model needs).
    """

    def __init__(self, positions, n_classes: int, *, eval_points: int | None = -1,
                 eval_subsets: int | None = 4, eval_seed: int = 0, **kwargs):
        super().__init__(positions, n_classes, **kwargs)
        self.eval_points = self.n_points if eval_points == -1 else eval_points
        self.eval_subsets = eval_subsets
        self.eval_seed = eval_seed

    def forward(self, resp):
        if self.training:
            return super().forward(resp)
        n = resp.shape[1]
        if n != len(self.positions):
            raise ValueError(f"got responses of {n} neurons; the model has {len(self.positions)} positions")
        subsets = subset_indices(n, self.eval_points, self.eval_subsets, self.eval_seed)
        logits = 0
        for idx in subsets:
            idx_t = torch.from_numpy(idx).to(resp.device)
            logits = logits + self.point_logits(resp[:, idx_t], self.positions[idx_t])
        return logits / len(subsets)


def pointnet_builder(positions, **kwargs):
    """``build(n_features, n_classes) -> SubsetPointNet(positions, n_classes, **kwargs)`` for
    ``FastaiClassifier``; checks that the data has one column per position."""
    positions = np.asarray(positions, dtype=np.float32)

    def build(n_features: int, n_classes: int) -> SubsetPointNet:
        if n_features != len(positions):
            raise ValueError(f"X has {n_features} columns but there are {len(positions)} neuron positions")
        return SubsetPointNet(positions, n_classes, **kwargs)

    return build


class SerialLogisticRegression(LogisticRegression):
    """scikit-learn's ``LogisticRegression``, fitted with one thread (BLAS and OpenMP).

    L-BFGS on 10^4 parameters makes thousands of tiny BLAS calls. With two BLAS threads on a busy
    two-core machine every call becomes a scheduler round trip: one fit of the voxel decoder took
    28 s with two threads and 2 s with one (measured). Same parameters and results as the parent.
    """

    def fit(self, X, y, sample_weight=None):
        with threadpool_limits(limits=1):
            return super().fit(X, y, sample_weight=sample_weight)


def linear_decoder(n_features: int, strength: float = 10.0, tol: float = 1e-2, max_iter: int = 500):
    """Standardise, then multinomial logistic regression with an L2 penalty that grows with width.

    C = strength / n_features: rescaling every feature by 1/sqrt(n_features) (so that a sample's
    squared norm is about 1 whatever the number of features) and using C = strength is the same
    model, so 11,000 neurons and 1,584 voxels are regularised alike. ``strength`` is fixed in
    advance, not tuned on the test folds. ``tol`` 1e-2 stops L-BFGS early: on the full synthetic
    recording's voxels it gave the same cross-validated score as 1e-3 (to 3 decimals) at half the
    cost, which matters for a permutation test. Returns a scikit-learn Pipeline (StandardScaler,
    SerialLogisticRegression).
    """
    if n_features < 1:
        raise ValueError(f"n_features must be >= 1, got {n_features}")
    return make_pipeline(
        StandardScaler(), SerialLogisticRegression(C=strength / n_features, tol=tol, max_iter=max_iter)
    )


def timed_cv(estimator, X, y, groups, **kwargs):
    """``cross_validate_decoder(estimator, X, y, groups, **kwargs)`` and its wall time in seconds.

    Returns (DecodeResult, seconds). The time covers every fold and every permutation run.
    """
    from neurolab.decode import cross_validate_decoder

    start = time.perf_counter()
    result = cross_validate_decoder(estimator, X, y, groups, **kwargs)
    return result, time.perf_counter() - start


def _timed_cv_job(estimator, X, y, groups, kwargs):
    import warnings

    warnings.filterwarnings("ignore", message="The least populated class")  # tiny classes, smoke size
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # torch.jit notices of fastai imports
    torch.set_num_threads(1)
    return timed_cv(estimator, X, y, groups, **kwargs)


def cross_validate_many(decoders: dict, y, groups, n_jobs: int = 2, **kwargs) -> tuple[dict, dict]:
    """``timed_cv`` for several decoders on the same rows and folds, ``n_jobs`` at a time.

    decoders: {name: (estimator, X)} or {name: (estimator, X, {extra keyword arguments})}, e.g.
    ``{"MouseNet": (clf, V), "logistic": (lr, V, {"n_permutations": 19})}``; every X has the same
    rows, labelled by y (n_samples,) with image ids groups (n_samples,). kwargs (cv, random_state,
    ...) go to every ``cross_validate_decoder`` call, so all decoders share the folds.
    n_jobs: decoders run in that many separate processes (joblib), each with one thread, so two
    single-threaded decoders use two cores; 1 runs them one after the other in this process. The
    results do not depend on n_jobs (every fit is seeded).
    Returns ({name: DecodeResult}, {name: seconds}) in the order of ``decoders``; the seconds are
    each decoder's own wall time, measured inside its process.
    """
    jobs = []
    for name, spec in decoders.items():
        if len(spec) not in (2, 3):
            raise ValueError(f"decoder {name!r}: expected (estimator, X) or (estimator, X, kwargs)")
        estimator, X = spec[:2]
        extra = dict(spec[2]) if len(spec) == 3 else {}
        jobs.append((estimator, X, y, groups, kwargs | extra))
    if n_jobs == 1:
        done = [timed_cv(e, X, y_, g, **kw) for e, X, y_, g, kw in jobs]
    else:
        from joblib import Parallel, delayed

        done = Parallel(n_jobs=n_jobs, backend="loky", inner_max_num_threads=1)(
            delayed(_timed_cv_job)(*job) for job in jobs
        )
    results = {name: r for name, (r, _) in zip(decoders, done)}
    seconds = {name: t for name, (_, t) in zip(decoders, done)}
    return results, seconds


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


def verdict(results: dict, metric: str = "balanced_accuracy") -> tuple[str, str, bool]:
    """Which decoder wins, and is the lead larger than the error bars?

    results: {name: DecodeResult}. The winner has the highest mean score over folds; it wins
    *clearly* when its mean minus one SEM exceeds the runner-up's mean plus one SEM (the +-1 SEM
    bars do not overlap), otherwise the two are within their error bars.
    Returns (winner, runner_up, clear). With one decoder, runner_up is '' and clear is True.
    """
    if not results:
        raise ValueError("verdict needs at least one result")
    stats = {n: (float(np.mean(getattr(r, f"fold_{metric}"))), sem(getattr(r, f"fold_{metric}")))
             for n, r in results.items()}
    ranked = sorted(stats, key=lambda n: stats[n][0], reverse=True)
    if len(ranked) == 1:
        return ranked[0], "", True
    (m1, s1), (m2, s2) = stats[ranked[0]], stats[ranked[1]]
    s1, s2 = np.nan_to_num(s1), np.nan_to_num(s2)
    return ranked[0], ranked[1], bool(m1 - s1 > m2 + s2)


def linear_parameters(n_features: int, n_classes: int) -> int:
    """Parameters of a multinomial logistic regression: a weight per feature and class, plus biases."""
    return n_features * n_classes + n_classes


def plot_point_cloud(xyz, values, n_points: int | None = None, seed: int = 0, max_points: int = 4000,
                     clim=None, cmap: str = "viridis", fig=None):
    """One trial as a point cloud: every neuron at its position, coloured by its response.

    xyz: (n_neurons, 3) positions (x, y in micrometres, z = depth; drawn deeper = lower);
    values: (n_neurons,) the response of each neuron. Left: the whole cloud (at most ``max_points``
    drawn, a fixed random subset); right, when ``n_points`` is given: the ``n_points`` neurons one
    training batch of a ``PointNet`` would sample (seed ``seed``), what the network actually sees.
    Colour limits default to the 1st/99th percentiles. Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    xyz = np.asarray(xyz, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or values.shape != (len(xyz),):
        raise ValueError(f"need xyz (n, 3) and values (n,); got {xyz.shape} and {values.shape}")
    if clim is None:
        clim = tuple(np.percentile(values, [1, 99]))
        if not clim[1] > clim[0]:
            clim = (values.min(), values.max() + 1e-9)
    rng = np.random.default_rng(seed)
    panels = [("every neuron", rng.permutation(len(xyz))[: min(max_points, len(xyz))])]
    if n_points is not None:
        panels.append((f"{min(n_points, len(xyz)):,} sampled points", rng.permutation(len(xyz))[:n_points]))
    fig = fig or plt.figure(figsize=(4.6 * len(panels) + 0.6, 4.2))
    for k, (title, idx) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1, projection="3d")
        sc = ax.scatter(xyz[idx, 0], xyz[idx, 1], -xyz[idx, 2], c=values[idx], s=3, cmap=cmap,
                        vmin=clim[0], vmax=clim[1], linewidths=0, depthshade=False)
        ax.set_title(f"{title} (of {len(xyz):,})" if k == 0 else title, fontsize=9)
        ax.set_xlabel("x", fontsize=8, labelpad=-8)
        ax.set_ylabel("y", fontsize=8, labelpad=-8)
        ax.set_zlabel("-depth", fontsize=8, labelpad=-8)
        ax.tick_params(labelsize=6, pad=-3)
        ax.view_init(elev=22, azim=-60)
    fig.colorbar(sc, ax=fig.axes, shrink=0.6, pad=0.04, label="response (denoised)")
    return fig


def parameter_count(model_or_builder, n_features: int | None = None, n_classes: int | None = None) -> int:
    """Trainable parameters of a torch module, or of the module ``build(n_features, n_classes)`` makes."""
    if isinstance(model_or_builder, torch.nn.Module):
        return n_parameters(model_or_builder)
    return n_parameters(model_or_builder(n_features, n_classes))
