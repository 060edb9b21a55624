"""Space in a recording: pooling neurons into groups, the controls that pooling needs, and how
similar the tuning of nearby neurons is.

Used by the chapters on grid averaging and on MouseNet. Grid cells come from
``neurolab.features.grid_cells``; everything here works on a group label per neuron, so a grid,
a random grouping of the same sizes and a random subset of single neurons are treated alike.

* ``grid_groups``: the occupied cells of an n_bins x n_bins grid per plane, as labels 0..n_groups-1.
* ``shuffled_groups``: the same group sizes with members drawn at random (pooling non-neighbours).
* ``random_neurons``: k single neurons drawn at random (as many features as a grid, no pooling).
* ``pooling_variants``: the three above as group labels, for one grid granularity.
* ``pool_units``: group means of any array with neurons on its last axis (repeats, trials).
* ``grid_means``: a response pattern as one image per plane (cell means, empty cells NaN).
* ``pool_recording``: a Recording whose "neurons" are group means (responses, spontaneous
  activity, synthetic ground truth), so every tool of the course runs on pooled units unchanged.
* ``signal_correlation_by_distance``: tuning similarity of neuron pairs against their distance,
  from the two repeats (trial-to-trial noise cancels out).
* ``model_summary``: a layer table (output shapes, parameters) of a PyTorch model.
* ``plot_voxel_planes``: one image per imaging plane of a voxelised trial (``neurolab.viz.plot_planes``
  draws neurons as points instead); ``plot_voxel_trials``: several trials, one row each.
* ``plot_pooled_maps``: one plane's single neurons next to the same plane pooled on grids.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import sparse

from neurolab.features import grid_cells, plane_index

__all__ = [
    "grid_groups",
    "shuffled_groups",
    "random_neurons",
    "pooling_variants",
    "group_sizes",
    "pool_units",
    "grid_means",
    "pool_recording",
    "signal_correlation_by_distance",
    "model_summary",
    "plot_voxel_planes",
    "plot_voxel_trials",
    "plot_pooled_maps",
]


def _check_labels(cell, n_neurons: int | None = None) -> np.ndarray:
    """Group labels as int64; -1 marks a neuron that belongs to no group."""
    cell = np.asarray(cell)
    if cell.ndim != 1 or cell.dtype.kind not in "iu":
        raise ValueError(
            f"group labels must be a 1-D integer array, got shape {cell.shape} dtype {cell.dtype}"
        )
    if n_neurons is not None and len(cell) != n_neurons:
        raise ValueError(f"{len(cell)} group labels for {n_neurons} neurons")
    if len(cell) and cell.min() < -1:
        raise ValueError("group labels must be >= 0 (or -1 for a neuron left out)")
    return cell.astype(np.int64)


def _n_groups(cell: np.ndarray) -> int:
    n_groups = int(cell.max()) + 1 if len(cell) else 0
    sizes = np.bincount(cell[cell >= 0], minlength=n_groups)
    if np.any(sizes == 0):
        raise ValueError(
            f"{int(np.sum(sizes == 0))} of {n_groups} group labels have no neuron; number groups 0..n-1"
        )
    return n_groups


def _averaging_matrix(cell: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    """(n_groups, n_neurons) sparse matrix whose rows average the groups (-1 neurons get no weight)."""
    member = np.flatnonzero(cell >= 0)
    sizes = np.bincount(cell[member], minlength=n_groups).astype(np.float64)
    weights = (1.0 / sizes[cell[member]]).astype(np.float32)  # float32: no upcast of float32 responses
    return sparse.csr_matrix((weights, (cell[member], member)), shape=(n_groups, len(cell)), dtype=np.float32)


def grid_groups(xyz, n_bins: int | None, n_planes: int | None = None) -> np.ndarray:
    """Group label of each neuron: its cell of an n_bins x n_bins x/y grid in its plane.

    xyz: (n_neurons, 3) positions. n_bins=None means no pooling: every neuron is its own group.
    Returns (n_neurons,) int64 labels 0..n_groups-1 numbering only the occupied cells, in the
    order of ``neurolab.features.grid_cells`` (plane, then x bin, then y bin).
    """
    xyz = np.asarray(xyz)
    if n_bins is None:
        return np.arange(len(xyz), dtype=np.int64)
    cell, _ = grid_cells(xyz, n_bins, n_planes)
    _, compact = np.unique(cell, return_inverse=True)
    return compact.astype(np.int64)


def group_sizes(cell) -> np.ndarray:
    """(n_groups,) number of neurons in each group of labels 0..n_groups-1 (-1: in no group)."""
    cell = _check_labels(cell)
    return np.bincount(cell[cell >= 0])


def shuffled_groups(cell, rng) -> np.ndarray:
    """Random groups with exactly the sizes of ``cell``: the labels permuted across neurons.

    cell: (n_neurons,) group labels; rng: numpy Generator. Group g keeps its size but its members
    are drawn at random from the whole recording, so pooling them averages non-neighbours.
    """
    cell = _check_labels(cell)
    return cell[rng.permutation(len(cell))]


def random_neurons(n_neurons: int, k: int, rng) -> np.ndarray:
    """k distinct neuron indices out of n_neurons, drawn at random and sorted: (k,) int64."""
    if not 1 <= k <= n_neurons:
        raise ValueError(f"k must be between 1 and n_neurons={n_neurons}, got {k}")
    return np.sort(rng.choice(n_neurons, size=k, replace=False)).astype(np.int64)


def pooling_variants(xyz, n_bins: int | None, rng) -> dict[str, np.ndarray]:
    """Three ways to turn the neurons into as many units as an n_bins grid has occupied cells.

    xyz: (n_neurons, 3); n_bins: grid size per plane (None: no pooling, only 'grid' is returned, one
    neuron per unit); rng: numpy Generator. Returns {name: (n_neurons,) group labels} for
    ``pool_units``:
    'grid': neighbours pooled (``grid_groups``);
    'random groups': groups of the same sizes, members drawn at random (``shuffled_groups``);
    'random neurons': as many single neurons drawn at random, each its own unit, the rest -1.
    """
    cell = grid_groups(xyz, n_bins)
    if n_bins is None:
        return {"grid": cell}
    n_groups = int(cell.max()) + 1
    single = np.full(len(cell), -1, dtype=np.int64)
    single[random_neurons(len(cell), n_groups, rng)] = np.arange(n_groups)
    return {"grid": cell, "random groups": shuffled_groups(cell, rng), "random neurons": single}


def pool_units(a, cell) -> np.ndarray:
    """Average the neurons of each group: (..., n_neurons) -> (..., n_groups) float32.

    a: responses with neurons on the last axis, e.g. repeats (2, n_images, n_neurons) or trials
    (n_trials, n_neurons); cell: (n_neurons,) group labels 0..n_groups-1, every label used; a
    neuron labelled -1 is left out. Column g of the result is the mean of the neurons labelled g.
    """
    a = np.asarray(a, dtype=np.float32)
    cell = _check_labels(cell, a.shape[-1])
    n_groups = _n_groups(cell)
    member = np.flatnonzero(cell >= 0)
    if len(member) == n_groups:  # every group is one neuron: a gather, no averaging needed
        order = np.empty(n_groups, dtype=np.int64)
        order[cell[member]] = member
        return np.ascontiguousarray(a[..., order])
    pool = _averaging_matrix(cell, n_groups)
    flat = a.reshape(-1, a.shape[-1])
    out = np.asarray(pool @ flat.T, dtype=np.float32).T
    return np.ascontiguousarray(out).reshape(*a.shape[:-1], n_groups)


def grid_means(values, xyz, n_bins: int, n_planes: int | None = None) -> np.ndarray:
    """One value per neuron drawn as a grid per plane: (n_planes, n_bins, n_bins) cell means.

    values: (n_neurons,) e.g. the response of every neuron to one image; xyz: (n_neurons, 3).
    Element [p, i, j] is the mean over the neurons of plane p in x bin i and y bin j (the cells of
    ``neurolab.features.grid_cells``); empty cells are NaN. Show plane p with
    ``imshow(out[p].T, origin="lower")`` so that x runs to the right and y upwards.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) != len(xyz):
        raise ValueError(f"values must have shape ({len(xyz)},), got {values.shape}")
    cell, shape = grid_cells(xyz, n_bins, n_planes)
    n_cells = int(np.prod(shape))
    counts = np.bincount(cell, minlength=n_cells)
    sums = np.bincount(cell, weights=values, minlength=n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means.reshape(shape)


def pool_recording(rec, cell):
    """A Recording whose units are the means of the neurons in each group.

    rec: a ``Recording``; cell: (n_neurons,) group labels 0..n_groups-1 (every label used; -1 leaves
    a neuron out).
    resp (n_trials, n_groups) and spont (n_timepoints, n_groups) are group means; xyz is the mean
    position of each group's neurons; on synthetic data ``truth.clean`` is pooled the same way, so
    the pooled recording keeps its noise-free responses. Pool *after* denoising to pool cleaned
    responses. Group g of the result is label g.
    """
    cell = _check_labels(cell, rec.n_neurons)
    pool = _averaging_matrix(cell, _n_groups(cell))
    mean_of = lambda a: pool_units(a, cell)  # noqa: E731
    truth = rec.truth
    if truth is not None:
        truth = dataclasses.replace(truth, clean=mean_of(truth.clean))
    xyz = np.asarray(pool.astype(np.float64) @ np.asarray(rec.xyz, dtype=np.float64), dtype=np.float32)
    return dataclasses.replace(rec, resp=mean_of(rec.resp), spont=mean_of(rec.spont), xyz=xyz, truth=truth)


def signal_correlation_by_distance(
    X, xyz, bin_edges_um=(0, 50, 100, 150, 200, 300, 400, 600, 800), max_neurons: int = 2000,
    same_plane: bool = True, rng=None,
):
    """How similar is the tuning of two neurons, as a function of their distance?

    The signal correlation of neurons i and j is the correlation, across images, of i's response to
    the first repeat with j's response to the second (symmetrised). Noise on one trial, private or
    shared, is independent of noise on another, so it cancels: what remains is tuning similarity.

    X: (2, n_images, n_neurons) repeats (``split_repeats``); xyz: (n_neurons, 3) positions (x, y in
    micrometres). bin_edges_um: edges of the x/y distance bins. max_neurons: a random subset of at
    most this many neurons is used (pairs grow as its square). same_plane: only pairs in one plane.
    rng: numpy Generator for the subset (default seed 0).
    Returns (centres: (n_bins,) um, mean_corr: (n_bins,), n_pairs: (n_bins,) int); empty bins are nan.
    """
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] != 2:
        raise ValueError(f"X must have shape (2, n_images, n_neurons), got {X.shape}")
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.shape != (X.shape[2], 3):
        raise ValueError(f"xyz has shape {xyz.shape}, expected ({X.shape[2]}, 3)")
    rng = np.random.default_rng(0) if rng is None else rng
    n = X.shape[2]
    idx = np.sort(rng.choice(n, size=min(n, max_neurons), replace=False))
    z = np.asarray(X[:, :, idx], dtype=np.float64)
    z = z - z.mean(axis=1, keepdims=True)
    z /= np.where(z.std(axis=1, keepdims=True) > 0, z.std(axis=1, keepdims=True), 1.0)
    corr = z[0].T @ z[1] / z.shape[1]
    corr = 0.5 * (corr + corr.T)
    pos = xyz[idx]
    dist = np.sqrt(((pos[:, None, :2] - pos[None, :, :2]) ** 2).sum(-1))
    pairs = np.triu(np.ones_like(dist, dtype=bool), k=1)
    if same_plane:
        plane = plane_index(xyz)[idx]
        pairs &= plane[:, None] == plane[None, :]
    edges = np.asarray(bin_edges_um, dtype=np.float64)
    which = np.digitize(dist[pairs], edges) - 1
    vals = corr[pairs]
    n_bins = len(edges) - 1
    inside = (which >= 0) & (which < n_bins)
    counts = np.bincount(which[inside], minlength=n_bins)
    sums = np.bincount(which[inside], weights=vals[inside], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / counts, np.nan)
    return 0.5 * (edges[:-1] + edges[1:]), mean, counts


def model_summary(model, input_shape):
    """A layer table of a PyTorch model, like fastai's ``Learner.summary``.

    input_shape: shape of one sample without the batch axis, e.g. (1, 11, 12, 12).
    Returns a pandas DataFrame with one row per leaf layer: layer (name), type, output shape
    (without batch) and parameters (trainable), in forward order. The total is
    ``table['parameters'].sum()``.
    """
    import pandas as pd
    import torch

    from neurolab.models import layer_shapes

    modules = dict(model.named_modules())
    shapes = layer_shapes(model, torch.zeros(2, *input_shape))
    rows = []
    for name, shape in shapes:
        mod = modules[name]
        params = sum(p.numel() for p in mod.parameters(recurse=False) if p.requires_grad)
        rows.append(
            {"layer": name, "type": type(mod).__name__, "output shape": list(shape), "parameters": params}
        )
    return pd.DataFrame(rows)


def plot_voxel_planes(volume, axes=None, vmax=None, cmap="RdBu_r", titles=True):
    """Show a voxelised trial as one image per imaging plane.

    volume: (n_planes, n_x, n_y) or (1, n_planes, n_x, n_y), e.g. ``voxelise(...)[trial]``.
    axes: a sequence of at least n_planes matplotlib Axes (default: a new row of subplots).
    vmax: colour limit (symmetric around 0; default the largest |value|). Returns (axes, image).
    """
    import matplotlib.pyplot as plt

    vol = np.asarray(volume)
    if vol.ndim == 4 and vol.shape[0] == 1:
        vol = vol[0]
    if vol.ndim != 3:
        raise ValueError(f"volume must be (n_planes, n_x, n_y), got {np.asarray(volume).shape}")
    n_planes = vol.shape[0]
    if axes is None:
        _, axes = plt.subplots(1, n_planes, figsize=(1.1 * n_planes, 1.5))
    axes = np.ravel(axes)
    if len(axes) < n_planes:
        raise ValueError(f"{len(axes)} axes for {n_planes} planes")
    vmax = float(np.max(np.abs(vol))) if vmax is None else float(vmax)
    vmax = vmax if vmax > 0 else 1.0
    for p, ax in enumerate(axes[:n_planes]):
        # x runs along the image's horizontal axis, y along its vertical axis
        im = ax.imshow(vol[p].T, origin="lower", cmap=cmap, vmin=-vmax, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles:
            ax.set_title(f"plane {p}", fontsize=7)
    for ax in axes[n_planes:]:
        ax.axis("off")
    return axes, im


def plot_voxel_trials(volumes, row_labels=(), vmax=None, cmap="RdBu_r", colorbar_label="mean response"):
    """Several voxelised trials, one row of plane images each, on one shared colour scale.

    volumes: (n_rows, 1, n_planes, n_x, n_y) or (n_rows, n_planes, n_x, n_y), e.g. ``V[[i, j, k]]``
    from ``voxelise``; row_labels: a label per row (drawn left of the row). vmax: colour limit,
    symmetric around 0 (default the 99th percentile of |value|). Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    vols = np.asarray(volumes)
    if vols.ndim == 5 and vols.shape[1] == 1:
        vols = vols[:, 0]
    if vols.ndim != 4:
        raise ValueError(f"volumes must be (n_rows, n_planes, n_x, n_y), got {np.asarray(volumes).shape}")
    n_rows, n_planes = vols.shape[:2]
    vmax = float(np.percentile(np.abs(vols), 99)) if vmax is None else float(vmax)
    size = (1.0 * n_planes + 1.2, 1.05 * n_rows + 0.4)
    fig, axes = plt.subplots(n_rows, n_planes, figsize=size, squeeze=False)
    # a fixed layout: constrained layout costs seconds with this many panels
    top = 1 - 0.3 / (n_rows + 0.4)
    fig.subplots_adjust(left=0.09, right=0.9, bottom=0.03, top=top, wspace=0.05, hspace=0.08)
    for row in range(n_rows):
        _, im = plot_voxel_planes(vols[row], axes=axes[row], vmax=vmax, cmap=cmap, titles=row == 0)
        if row < len(row_labels):
            axes[row, 0].set_ylabel(row_labels[row], fontsize=8)
    fig.colorbar(im, cax=fig.add_axes((0.92, 0.15, 0.012, 0.7)), label=colorbar_label)
    return fig


def plot_pooled_maps(values, xyz, plane: int, n_bins=(16, 8, 4), cmap="RdBu_r"):
    """One imaging plane as single neurons and pooled on grids, side by side.

    values: (n_neurons,) one number per neuron (e.g. the response to one image); xyz: (n_neurons, 3);
    plane: the plane to draw (``neurolab.features.plane_index``); n_bins: grid sizes, one panel each
    (cells of ``grid_means``, empty cells blank). Every panel has its own symmetric colour scale and
    colour bar, since averaging shrinks the range. Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    values = np.asarray(values, dtype=np.float64)
    xyz = np.asarray(xyz, dtype=np.float64)
    on = plane_index(xyz) == plane
    if not on.any():
        raise ValueError(f"no neuron in plane {plane}")
    extent = [xyz[:, 0].min(), xyz[:, 0].max(), xyz[:, 1].min(), xyz[:, 1].max()]
    n_panels = 1 + len(n_bins)
    fig, axes = plt.subplots(1, n_panels, figsize=(2.4 * n_panels, 2.6))
    fig.subplots_adjust(left=0.02, right=0.96, bottom=0.04, top=0.84, wspace=0.3)
    v = float(np.percentile(np.abs(values[on]), 98)) or 1.0
    sc = axes[0].scatter(xyz[on, 0], xyz[on, 1], c=values[on], s=4, cmap=cmap, vmin=-v, vmax=v, linewidths=0)
    axes[0].set_title(f"{on.sum():,} single neurons", fontsize=9)
    fig.colorbar(sc, ax=axes[0], fraction=0.046, pad=0.03)
    for ax, nb in zip(axes[1:], n_bins):
        img = grid_means(values, xyz, nb)[plane]
        v = float(np.nanmax(np.abs(img))) if np.isfinite(img).any() else 1.0
        im = ax.imshow(img.T, origin="lower", extent=extent, cmap=cmap, vmin=-v, vmax=v or 1.0)
        per_cell = on.sum() / max(int(np.isfinite(img).sum()), 1)
        ax.set_title(f"{nb} x {nb} grid, ~{per_cell:.0f} per cell", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    for ax in axes:
        ax.set(xlim=extent[:2], ylim=extent[2:], xticks=[], yticks=[], aspect="equal")
        ax.tick_params(labelsize=7)
    return fig
