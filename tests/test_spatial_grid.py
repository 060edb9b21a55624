import numpy as np
import pytest

from neurolab.spatial import (
    grid_cells,
    grid_groups,
    normalise_positions,
    plane_index,
    point_cloud,
    pool_units,
    voxelise,
)


def grid_pool(resp, xyz, n_bins, per_plane=True):
    return pool_units(resp, grid_groups(xyz, n_bins, per_plane=per_plane))


@pytest.fixture
def layout():
    rng = np.random.default_rng(0)
    xyz = np.column_stack([rng.uniform(0, 1000, (800, 2)), rng.integers(0, 11, 800) * 35.0]).astype(np.float32)
    resp = rng.random((9, 800)).astype(np.float32)
    return resp, xyz


def test_plane_index_uses_distinct_depths_or_bins():
    z = np.array([70.0, 0.0, 35.0, 0.0])
    assert plane_index(np.column_stack([np.zeros((4, 2)), z])).tolist() == [2, 0, 1, 0]
    zc = np.linspace(0, 100, 50)
    idx = plane_index(np.column_stack([np.zeros((50, 2)), zc]), n_planes=5)
    assert idx.min() == 0 and idx.max() == 4 and np.all(np.diff(idx) >= 0)


def test_voxelise_averages_each_voxel(layout):
    resp, xyz = layout
    vox = voxelise(resp, xyz, (11, 12, 12))
    assert vox.shape == (9, 1, 11, 12, 12) and vox.dtype == np.float32
    cell, shape = grid_cells(xyz, 12, 11)
    flat = vox.reshape(9, -1)
    for c in np.unique(cell)[:20]:
        np.testing.assert_allclose(flat[:, c], resp[:, cell == c].mean(axis=1), rtol=1e-5)
    empty = np.setdiff1d(np.arange(flat.shape[1]), cell)
    assert np.all(flat[:, empty] == 0)


def test_pooling_one_bin_per_plane_is_plane_mean_and_fine_grid_keeps_neurons(layout):
    resp, xyz = layout
    pooled = grid_pool(resp, xyz, n_bins=1)
    planes = plane_index(xyz)
    assert pooled.shape == (9, 11)
    np.testing.assert_allclose(pooled[:, 3], resp[:, planes == 3].mean(axis=1), rtol=1e-5)
    fine = grid_pool(resp, xyz, n_bins=200)
    assert fine.shape[1] > 0.9 * 800  # almost one neuron per cell
    # pooling preserves the population mean weighted by cell size
    pooled2 = grid_pool(resp, xyz, n_bins=2, per_plane=False)
    assert pooled2.shape == (9, 4)


def test_grid_cells_validate_input():
    with pytest.raises(ValueError, match=r"\(n_neurons, 3\)"):
        grid_cells(np.zeros((5, 2)), 3)
    with pytest.raises(ValueError, match="n_bins"):
        grid_cells(np.zeros((5, 3)), 0)


def test_point_cloud_positions_in_unit_cube_and_intensity_last(layout):
    resp, xyz = layout
    pc = point_cloud(resp, xyz)
    assert pc.shape == (9, 800, 4)
    assert pc[..., :3].min() >= -1 and pc[..., :3].max() <= 1
    np.testing.assert_array_equal(pc[..., 3], resp)
    np.testing.assert_array_equal(pc[0, :, :3], normalise_positions(xyz))
