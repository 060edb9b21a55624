"""Plots of space: voxelised trials, pooled maps, neurons as a point cloud."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from neurolab._validation import check_rng
from neurolab.spatial import grid_means, plane_index

__all__ = ["plot_point_cloud", "plot_pooled_maps", "plot_voxel_planes", "plot_voxel_trials"]


def plot_voxel_planes(volume, axes=None, vmax=None, cmap="RdBu_r", titles=True):
    """Show a voxelised trial as one image per imaging plane.

    Parameters
    ----------
    volume : array-like of shape (n_planes, n_x, n_y) or (1, n_planes, n_x, n_y)
        E.g. ``voxelise(...)[trial]``.
    axes : sequence of matplotlib Axes, optional
        At least n_planes of them (default: a new row of subplots).
    vmax : float, optional
        Colour limit, symmetric around 0 (default the largest absolute value).

    Returns
    -------
    (axes, image)
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

    Parameters
    ----------
    volumes : array-like of shape (n_rows, 1, n_planes, n_x, n_y) or (n_rows, n_planes, n_x, n_y)
        E.g. ``V[[i, j, k]]`` from ``voxelise``.
    row_labels : sequence of str
        A label per row, drawn left of the row.
    vmax : float, optional
        Colour limit, symmetric around 0 (default the 99th percentile of the absolute values).

    Returns
    -------
    matplotlib.figure.Figure
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
    plane: the plane to draw (``neurolab.spatial.plane_index``); n_bins: grid sizes, one panel each
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


def plot_point_cloud(xyz, values, n_points: int | None = None, rng=0, max_points: int = 4000,
                     clim=None, cmap: str = "viridis", fig=None):
    """One trial as a point cloud: every neuron at its position, coloured by its response.

    xyz: (n_neurons, 3) positions (x, y in micrometres, z = depth; drawn deeper = lower);
    values: (n_neurons,) the response of each neuron. Left: the whole cloud (at most ``max_points``
    drawn, a fixed random subset); right, when ``n_points`` is given: the ``n_points`` neurons one
    training batch of a ``PointNet`` would sample (drawn with ``rng``), what the network actually sees.
    Colour limits default to the 1st/99th percentiles. Returns the matplotlib Figure.
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or values.shape != (len(xyz),):
        raise ValueError(f"need xyz (n, 3) and values (n,); got {xyz.shape} and {values.shape}")
    if clim is None:
        clim = tuple(np.percentile(values, [1, 99]))
        if not clim[1] > clim[0]:
            clim = (values.min(), values.max() + 1e-9)
    rng = check_rng(rng)
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
