import numpy as np
import pytest

from neurolab.nn import MouseNet, model_summary
from neurolab.recording import Recording, SyntheticTruth
from neurolab.spatial import (
    grid_cells,
    grid_groups,
    grid_means,
    group_sizes,
    pool_recording,
    pool_units,
    pooling_variants,
    random_neurons,
    shuffled_groups,
    signal_correlation_by_distance,
)
from neurolab.viz import plot_pooled_maps, plot_voxel_planes, plot_voxel_trials


@pytest.fixture
def layout():
    rng = np.random.default_rng(0)
    n = 900
    xyz = np.column_stack([rng.uniform(0, 1000, (n, 2)), rng.integers(0, 11, n) * 35.0]).astype(np.float32)
    resp = rng.standard_normal((12, n)).astype(np.float32)
    return resp, xyz


def test_grid_groups_number_occupied_cells_and_pool_to_cell_means(layout):
    resp, xyz = layout
    cell = grid_groups(xyz, 4)
    assert cell.min() == 0 and np.all(group_sizes(cell) > 0)
    cells, _ = grid_cells(xyz, 4)
    want = np.stack([resp[:, cells == c].mean(axis=1) for c in np.unique(cells)], axis=1)
    np.testing.assert_allclose(pool_units(resp, cell), want, rtol=1e-5, atol=1e-6)
    assert np.array_equal(grid_groups(xyz, None), np.arange(len(xyz)))
    assert group_sizes(grid_groups(xyz, 1)).shape == (11,)  # one group per plane


def test_pool_units_averages_on_the_last_axis():
    a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    cell = np.array([1, 0, 1, 0])
    out = pool_units(a, cell)
    assert out.shape == (2, 3, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], a[..., [1, 3]].mean(-1))
    np.testing.assert_allclose(out[..., 1], a[..., [0, 2]].mean(-1))
    with pytest.raises(ValueError, match="no neuron"):
        pool_units(a, np.array([0, 0, 2, 2]))
    with pytest.raises(ValueError, match="4 neurons"):
        pool_units(a, np.array([0, 1, 0]))


def test_shuffled_groups_keep_sizes_but_mix_members(layout):
    _, xyz = layout
    cell = grid_groups(xyz, 4)
    shuffled = shuffled_groups(cell, np.random.default_rng(1))
    np.testing.assert_array_equal(group_sizes(shuffled), group_sizes(cell))
    assert np.mean(shuffled == cell) < 0.2
    # members of a shuffled group are spread over the field, members of a grid cell are not
    g = int(np.argmax(group_sizes(cell)))
    assert np.ptp(xyz[shuffled == g, 0]) > 2 * np.ptp(xyz[cell == g, 0])


def test_random_neurons_distinct_sorted_and_validated():
    idx = random_neurons(100, 30, np.random.default_rng(0))
    assert len(np.unique(idx)) == 30 and np.all(np.diff(idx) > 0)
    with pytest.raises(ValueError, match="k must be"):
        random_neurons(10, 11, np.random.default_rng(0))


def test_grid_means_places_values_in_cells():
    xyz = np.array([[0, 0, 0], [10, 10, 0], [0, 10, 0], [10, 0, 35]], dtype=np.float32)
    img = grid_means(np.array([1.0, 3.0, 5.0, 7.0]), xyz, 2)
    assert img.shape == (2, 2, 2)
    assert img[0, 0, 0] == 1.0 and img[0, 1, 1] == 3.0 and img[0, 0, 1] == 5.0
    assert img[1, 1, 0] == 7.0 and np.isnan(img[0, 1, 0])


def test_pool_recording_pools_every_array_consistently(layout):
    resp, xyz = layout
    rng = np.random.default_rng(2)
    n = resp.shape[1]
    truth = SyntheticTruth(
        clean=rng.random((6, n)).astype(np.float32), latents=np.zeros((6, 2), np.float32),
        category_means=np.zeros((2, 2), np.float32), labels=np.zeros(2800, int),
        image_ids=np.arange(6), category_strength=0.0,
    )
    rec = Recording(resp=resp, istim=np.tile(np.arange(6), 2), spont=rng.random((5, n)).astype(np.float32),
                    xyz=xyz, name="t", source="synthetic", truth=truth)
    cell = grid_groups(xyz, 2)
    pooled = pool_recording(rec, cell)
    k = int(cell.max()) + 1
    assert pooled.resp.shape == (12, k) and pooled.spont.shape == (5, k) and pooled.xyz.shape == (k, 3)
    np.testing.assert_allclose(pooled.resp[:, 3], resp[:, cell == 3].mean(1), rtol=1e-5)
    np.testing.assert_allclose(pooled.truth.clean[:, 3], truth.clean[:, cell == 3].mean(1), rtol=1e-5)
    np.testing.assert_allclose(pooled.xyz[3], xyz[cell == 3].mean(0), rtol=1e-5)


def test_signal_correlation_is_high_for_neighbours_when_tuning_is_smooth():
    rng = np.random.default_rng(3)
    n, n_img = 600, 400
    xy = rng.uniform(0, 1000, (n, 2))
    xyz = np.column_stack([xy, np.zeros(n)])
    # tuning = a smooth function of x (period 400 um) plus nothing else; independent noise per repeat
    phase = 2 * np.pi * xy[:, 0] / 400
    feats = rng.standard_normal((n_img, 2))
    tuning = feats @ np.stack([np.cos(phase), np.sin(phase)])
    X = np.stack([tuning + rng.standard_normal((n_img, n)) for _ in range(2)])
    centres, corr, counts = signal_correlation_by_distance(X, xyz, bin_edges_um=(0, 25, 200, 400), rng=rng)
    assert centres.tolist() == [12.5, 112.5, 300.0] and np.all(counts > 0)
    assert corr[0] > 0.3 and corr[0] > corr[1] > corr[2]
    # neighbours share their tuning exactly (signal correlation ~1), but every neuron is half noise
    # (reliability 0.5): the raw cross-repeat correlation is attenuated by that factor
    _, raw, _ = signal_correlation_by_distance(X, xyz, bin_edges_um=(0, 25, 200, 400), rng=rng,
                                               normalise=False)
    assert corr[0] > 0.85 and 0.35 < raw[0] < 0.6
    # pure noise: no cross-repeat correlation at any distance
    noise = rng.standard_normal((2, n_img, n))
    _, corr0, _ = signal_correlation_by_distance(noise, xyz, bin_edges_um=(0, 25, 400), rng=rng,
                                                 normalise=False)
    assert np.all(np.abs(corr0) < 0.02)
    with pytest.raises(ValueError, match=r"\(2, n_images, n_neurons\)"):
        signal_correlation_by_distance(X[0], xyz)


def test_model_summary_of_mousenet_matches_the_original():
    table = model_summary(MouseNet(13), (1, 11, 12, 12))
    assert table["parameters"].sum() == 42_909
    assert [s for s in table["output shape"]][-3:] == [[32, 2, 1, 1], [64], [13]]
    assert table["type"].iloc[0] == "Conv3d" and table["parameters"].iloc[0] == 432


def test_plot_voxel_planes_draws_one_image_per_plane():
    import matplotlib

    matplotlib.use("Agg")
    vol = np.random.default_rng(0).standard_normal((1, 11, 12, 12))
    axes, im = plot_voxel_planes(vol)
    assert len(axes) == 11 and im.get_array().shape == (12, 12)
    with pytest.raises(ValueError, match="n_planes"):
        plot_voxel_planes(np.zeros((12, 12)))


def test_pooling_variants_have_the_same_number_of_units(layout):
    resp, xyz = layout
    variants = pooling_variants(xyz, 4, np.random.default_rng(0))
    assert list(variants) == ["grid", "random groups", "random neurons"]
    n_units = {name: pool_units(resp, cell).shape[1] for name, cell in variants.items()}
    assert len(set(n_units.values())) == 1
    single = variants["random neurons"]
    chosen = np.flatnonzero(single >= 0)
    np.testing.assert_array_equal(pool_units(resp, single), resp[:, chosen])  # single neurons, unpooled
    assert list(pooling_variants(xyz, None, np.random.default_rng(0))) == ["grid"]


def test_plot_helpers_draw_every_panel(layout):
    import matplotlib

    matplotlib.use("Agg")
    resp, xyz = layout
    fig = plot_pooled_maps(resp[0], xyz, plane=3, n_bins=(8, 4))
    assert len([ax for ax in fig.axes if ax.get_images() or ax.collections]) >= 3
    vols = np.random.default_rng(0).standard_normal((3, 1, 11, 12, 12))
    fig = plot_voxel_trials(vols, ["a", "b", "c"])
    assert sum(1 for ax in fig.axes if ax.get_images()) == 33
    with pytest.raises(ValueError, match="no neuron"):
        plot_pooled_maps(resp[0], xyz, plane=40)


def test_grid_table_has_one_fixed_column_per_cell():
    from neurolab.spatial import grid_cells, grid_table

    rng = np.random.default_rng(0)
    xyz = np.c_[rng.uniform(0, 1000, 300), rng.uniform(0, 1000, 300), rng.choice([0.0, 35.0], 300)]
    resp = rng.normal(size=(20, 300)).astype(np.float32)
    table = grid_table(resp, xyz, 4, n_planes=2)
    assert table.shape == (20, 2 * 4 * 4)
    cell, _ = grid_cells(xyz, 4, 2)
    for c in (0, 7, 31):
        members = cell == c
        expected = resp[:, members].mean(axis=1) if members.any() else np.zeros(20)
        assert np.allclose(table[:, c], expected, atol=1e-5)
    with pytest.raises(ValueError, match="resp must have shape"):
        grid_table(resp[:, :10], xyz, 4)
