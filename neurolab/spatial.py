"""Space in a recording: where the neurons are, and pooling them by place.

Everything works on a group label per neuron, so a grid, a random grouping of the same sizes and
a random subset of single neurons are treated alike; one pooling operation (``pool_units``) serves
them all, and ``voxelise`` is the same averaging onto a dense grid with empty voxels kept.

* ``plane_index`` / ``grid_cells``: the imaging plane and the x/y grid cell of each neuron.
* ``grid_groups``: the occupied cells of an n_bins x n_bins grid (per plane, or through all planes)
  as labels 0..n_groups-1.
* ``shuffled_groups``, ``random_neurons``, ``pooling_variants``: the controls pooling needs.
* ``pool_units``: group means of any array with neurons on its last axis (repeats, trials).
* ``grid_means``: a response pattern as one image per plane (cell means, empty cells NaN).
* ``pool_recording``: a Recording whose "neurons" are group means.
* ``voxelise``: responses on the (planes, x, y) voxel grid of a 3D CNN.
* ``normalise_positions`` / ``point_cloud``: neurons as points (x, y, z, response).
* ``signal_correlation_by_distance``: tuning similarity of neuron pairs against their distance.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import sparse

from neurolab._validation import check_positions, check_repeats, check_rng

__all__ = [
    "grid_cells",
    "grid_groups",
    "grid_means",
    "grid_table",
    "group_sizes",
    "normalise_positions",
    "plane_index",
    "point_cloud",
    "pool_recording",
    "pool_units",
    "pooling_variants",
    "random_neurons",
    "shuffled_groups",
    "signal_correlation_by_distance",
    "voxelise",
]


def plane_index(xyz, n_planes: int | None = None) -> np.ndarray:
    """Imaging plane of each neuron: (n_neurons,) int in 0..n_planes-1, ordered by depth.

    xyz: (n_neurons, 3). If the depths take at most n_planes distinct values (as in a multi-plane
    recording) each distinct depth is one plane; otherwise depth is cut into n_planes equal bins.
    """
    z = np.asarray(xyz, dtype=np.float64)[:, 2]
    depths, idx = np.unique(z, return_inverse=True)
    if n_planes is None or len(depths) <= n_planes:
        return idx.astype(np.int64)
    edges = np.linspace(z.min(), z.max(), n_planes + 1)[1:-1]
    return np.searchsorted(edges, z, side="right").astype(np.int64)


def _xy_bins(xy: np.ndarray, n_bins: int) -> np.ndarray:
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    scaled = (xy - lo) / np.where(hi > lo, hi - lo, 1.0)
    return np.minimum((scaled * n_bins).astype(np.int64), n_bins - 1)


def grid_cells(xyz, n_bins: int, n_planes: int | None = None, per_plane: bool = True):
    """Assign neurons to grid cells: an n_bins x n_bins grid over x/y, one per plane if per_plane.

    xyz: (n_neurons, 3). Returns (cell: (n_neurons,) int, shape: tuple) where cell indexes the
    flattened grid of the given shape, (n_planes, n_bins, n_bins) or (n_bins, n_bins).
    """
    xyz = check_positions(xyz)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be an int >= 1, got {n_bins!r}")
    bx, by = _xy_bins(xyz[:, :2], n_bins).T
    if not per_plane:
        return bx * n_bins + by, (n_bins, n_bins)
    plane = plane_index(xyz, n_planes)
    n_p = int(plane.max()) + 1 if n_planes is None else n_planes
    return (plane * n_bins + bx) * n_bins + by, (n_p, n_bins, n_bins)


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


def _averaging_matrix(cell: np.ndarray, n_groups: int, dtype=np.float32) -> sparse.csr_matrix:
    """(n_groups, n_neurons) sparse matrix whose rows average the groups (-1 neurons get no weight).

    A group with no neuron is a row of zeros. float32 weights keep float32 responses float32.
    """
    member = np.flatnonzero(cell >= 0)
    sizes = np.bincount(cell[member], minlength=n_groups).astype(np.float64)
    weights = (1.0 / sizes[cell[member]]).astype(dtype)
    return sparse.csr_matrix((weights, (cell[member], member)), shape=(n_groups, len(cell)), dtype=dtype)


def grid_groups(xyz, n_bins: int | None, n_planes: int | None = None, per_plane: bool = True) -> np.ndarray:
    """Group label of each neuron: its cell of an n_bins x n_bins x/y grid in its plane.

    xyz: (n_neurons, 3) positions. n_bins=None means no pooling: every neuron is its own group.
    per_plane=False: one grid through all planes (a column of cortex is one cell).
    Returns (n_neurons,) int64 labels 0..n_groups-1 numbering only the occupied cells, in the
    order of ``grid_cells`` (plane, then x bin, then y bin).
    """
    xyz = np.asarray(xyz)
    if n_bins is None:
        return np.arange(len(xyz), dtype=np.int64)
    cell, _ = grid_cells(xyz, n_bins, n_planes, per_plane)
    _, compact = np.unique(cell, return_inverse=True)
    return compact.astype(np.int64)


def group_sizes(cell) -> np.ndarray:
    """(n_groups,) number of neurons in each group of labels 0..n_groups-1 (-1: in no group)."""
    cell = _check_labels(cell)
    return np.bincount(cell[cell >= 0])


def shuffled_groups(cell, rng) -> np.ndarray:
    """Random groups with exactly the sizes of ``cell``: the labels permuted across neurons.

    cell: (n_neurons,) group labels; rng: int seed or numpy Generator. Group g keeps its size but its members
    are drawn at random from the whole recording, so pooling them averages non-neighbours.
    """
    cell = _check_labels(cell)
    return cell[check_rng(rng).permutation(len(cell))]


def random_neurons(n_neurons: int, k: int, rng) -> np.ndarray:
    """k distinct neuron indices out of n_neurons, drawn at random and sorted: (k,) int64."""
    if not 1 <= k <= n_neurons:
        raise ValueError(f"k must be between 1 and n_neurons={n_neurons}, got {k}")
    return np.sort(check_rng(rng).choice(n_neurons, size=k, replace=False)).astype(np.int64)


def pooling_variants(xyz, n_bins: int | None, rng) -> dict[str, np.ndarray]:
    """Three ways to turn the neurons into as many units as an n_bins grid has occupied cells.

    xyz: (n_neurons, 3); n_bins: grid size per plane (None: no pooling, only 'grid' is returned, one
    neuron per unit); rng: int seed or numpy Generator. Returns {name: (n_neurons,) group labels} for
    ``pool_units``:
    'grid': neighbours pooled (``grid_groups``);
    'random groups': groups of the same sizes, members drawn at random (``shuffled_groups``);
    'random neurons': as many single neurons drawn at random, each its own unit, the rest -1.
    """
    rng = check_rng(rng)
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
    ``grid_cells``); empty cells are NaN. Show plane p with
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


def grid_table(resp, xyz, n_bins: int, n_planes: int | None = None) -> np.ndarray:
    """Responses as a table with one column per grid cell: (n_trials, n_neurons) -> (n_trials, n_cells).

    Column ``(p * n_bins + i) * n_bins + j`` is the mean response of the neurons of plane ``p`` in
    x bin ``i`` and y bin ``j`` (``grid_cells``); a cell with no neuron is 0, as the write-up's
    tables filled it. The columns mean the same place in every recording, but not the same neurons:
    two mice's tables can be stacked row-wise, and then one column holds different neurons in each.
    """
    cell, shape = grid_cells(xyz, n_bins, n_planes)
    resp = np.asarray(resp, dtype=np.float32)
    if resp.ndim != 2 or resp.shape[1] != len(cell):
        raise ValueError(f"resp must have shape (n_trials, {len(cell)}), got {resp.shape}")
    pool = _averaging_matrix(cell, int(np.prod(shape)))
    return np.ascontiguousarray(np.asarray(pool @ resp.T, dtype=np.float32).T)


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
    same_plane: bool = True, rng=0, normalise: bool = True, min_reliability: float = 0.05,
):
    """How similar is the tuning of two neurons, as a function of their distance?

    The cross-repeat correlation of neurons i and j is the correlation, across images, of i's
    response to the first repeat with j's response to the second (symmetrised). Noise on one trial,
    private or shared, is independent of noise on another, so it cancels in the covariance; but the
    variances in the denominator still hold the noise, so the cross-repeat correlation equals the
    signal correlation times sqrt(rel_i * rel_j), where rel is each neuron's repeat correlation
    (its reliability). With ``normalise`` (default) that factor is divided out, which gives the
    signal correlation itself; neurons with reliability at or below ``min_reliability`` are left
    out, because dividing by a near-zero reliability only amplifies noise.

    X: (2, n_images, n_neurons) repeats (``split_repeats``); xyz: (n_neurons, 3) positions (x, y in
    micrometres). bin_edges_um: edges of the x/y distance bins. max_neurons: a random subset of at
    most this many neurons is used (pairs grow as its square). same_plane: only pairs in one plane.
    rng: int seed or numpy Generator for the subset.
    Returns (centres: (n_bins,) um, mean_corr: (n_bins,), n_pairs: (n_bins,) int); empty bins are nan.
    """
    X = check_repeats(X)
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.shape != (X.shape[2], 3):
        raise ValueError(f"xyz has shape {xyz.shape}, expected ({X.shape[2]}, 3)")
    rng = check_rng(rng)
    n = X.shape[2]
    idx = np.sort(rng.choice(n, size=min(n, max_neurons), replace=False))
    z = np.asarray(X[:, :, idx], dtype=np.float64)
    z = z - z.mean(axis=1, keepdims=True)
    z /= np.where(z.std(axis=1, keepdims=True) > 0, z.std(axis=1, keepdims=True), 1.0)
    corr = z[0].T @ z[1] / z.shape[1]
    corr = 0.5 * (corr + corr.T)
    if normalise:
        # the cross-repeat correlation is the signal correlation times sqrt(rel_i * rel_j)
        # (rel: each neuron's own repeat correlation); undo that attenuation, and leave out
        # neurons too unreliable for the division to mean anything
        rel = np.diag(corr).copy()
        ok = rel > min_reliability
        scale = np.sqrt(np.where(ok, rel, np.nan))
        corr = corr / np.outer(scale, scale)
    pos = xyz[idx]
    dist = np.sqrt(((pos[:, None, :2] - pos[None, :, :2]) ** 2).sum(-1))
    pairs = np.triu(np.ones_like(dist, dtype=bool), k=1) & np.isfinite(corr)
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


def voxelise(resp, xyz, shape=(11, 12, 12)) -> np.ndarray:
    """Mean response per voxel: (n_trials, 1, n_planes, n_x_bins, n_y_bins) float32, empty voxels 0.

    resp: (n_trials, n_neurons); xyz: (n_neurons, 3); shape: (n_planes, n_bins, n_bins).
    The channel axis makes the result a batch for ``torch.nn.Conv3d``.
    """
    if len(shape) != 3 or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in shape):
        raise ValueError(f"shape must be three ints >= 1 (n_planes, n_bins, n_bins), got {shape!r}")
    n_planes, n_bins, n_bins_y = shape
    if n_bins != n_bins_y:
        raise ValueError(f"voxel grid must be square in x/y, got {shape}")
    resp = np.asarray(resp, dtype=np.float32)
    xyz = check_positions(xyz)
    if resp.ndim != 2 or resp.shape[1] != len(xyz):
        raise ValueError(f"resp must have shape (n_trials, {len(xyz)}) to match xyz, got {resp.shape}")
    cell, grid_shape = grid_cells(xyz, n_bins, n_planes)
    n_cells = int(np.prod(grid_shape))
    vox = (_averaging_matrix(cell, n_cells, np.float64) @ resp.T).T  # empty voxels: 0
    return np.ascontiguousarray(vox, dtype=np.float32).reshape(len(resp), 1, *grid_shape)


def normalise_positions(xyz) -> np.ndarray:
    """Positions scaled to [-1, 1] on each axis: (n_neurons, 3) float32."""
    xyz = np.asarray(xyz, dtype=np.float32)
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    return (2 * (xyz - lo) / np.where(hi > lo, hi - lo, 1) - 1).astype(np.float32)


def point_cloud(resp, xyz) -> np.ndarray:
    """Each neuron as a point (x, y, z, response): (n_trials, n_neurons, 4) float32.

    Positions are normalised to [-1, 1]; the response is the fourth coordinate (standardise the
    responses first, e.g. with ``SpontaneousPCs``). Memory grows as 16 bytes per neuron per trial;
    ``neurolab.nn.PointNet`` builds points batch by batch instead.
    """
    resp = np.asarray(resp, dtype=np.float32)
    pos = normalise_positions(xyz)
    out = np.empty((len(resp), pos.shape[0], 4), np.float32)
    out[..., :3] = pos
    out[..., 3] = resp
    return out
