"""Spatial features of a recording: grid pooling, voxels for 3D convolution, point clouds."""

from __future__ import annotations

import numpy as np
from scipy import sparse


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
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"xyz must have shape (n_neurons, 3), got {xyz.shape}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    bx, by = _xy_bins(xyz[:, :2], n_bins).T
    if not per_plane:
        return bx * n_bins + by, (n_bins, n_bins)
    plane = plane_index(xyz, n_planes)
    n_p = int(plane.max()) + 1 if n_planes is None else n_planes
    return (plane * n_bins + bx) * n_bins + by, (n_p, n_bins, n_bins)


def pooling_matrix(cell: np.ndarray, n_cells: int) -> sparse.csr_matrix:
    """(n_neurons, n_cells) sparse matrix whose product with responses averages each cell."""
    counts = np.bincount(cell, minlength=n_cells).astype(np.float64)
    weights = 1.0 / counts[cell]
    return sparse.csr_matrix((weights, (np.arange(len(cell)), cell)), shape=(len(cell), n_cells))


def grid_pool(resp, xyz, n_bins: int, n_planes: int | None = None, per_plane: bool = True):
    """Average neurons within grid cells.

    resp: (n_trials, n_neurons) float32; xyz: (n_neurons, 3).
    Returns (pooled: (n_trials, n_occupied_cells) float32, occupied: (n_occupied_cells,) flat cell
    indices into the grid of ``grid_cells``); empty cells are dropped.
    """
    resp = np.asarray(resp, dtype=np.float32)
    cell, shape = grid_cells(xyz, n_bins, n_planes, per_plane)
    occupied, compact = np.unique(cell, return_inverse=True)
    pooled = (pooling_matrix(compact, len(occupied)).T @ resp.T).T
    return np.ascontiguousarray(pooled, dtype=np.float32), occupied


def voxelise(resp, xyz, shape=(11, 12, 12)) -> np.ndarray:
    """Mean response per voxel: (n_trials, 1, n_planes, n_x_bins, n_y_bins) float32, empty voxels 0.

    resp: (n_trials, n_neurons); xyz: (n_neurons, 3); shape: (n_planes, n_bins, n_bins).
    The channel axis makes the result a batch for ``torch.nn.Conv3d``.
    """
    n_planes, n_bins, n_bins_y = shape
    if n_bins != n_bins_y:
        raise ValueError(f"voxel grid must be square in x/y, got {shape}")
    resp = np.asarray(resp, dtype=np.float32)
    cell, grid_shape = grid_cells(xyz, n_bins, n_planes)
    n_cells = int(np.prod(grid_shape))
    vox = (pooling_matrix(cell, n_cells).T @ resp.T).T
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
    ``PointCloudDataset`` builds points batch by batch instead.
    """
    resp = np.asarray(resp, dtype=np.float32)
    pos = normalise_positions(xyz)
    out = np.empty((len(resp), pos.shape[0], 4), np.float32)
    out[..., :3] = pos
    out[..., 3] = resp
    return out
