import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from neurolab.decoding import (  # noqa: E402
    DecodeResult,
    SerialLogisticRegression,
    comparison_table,
    cross_validate_decoder,
    cross_validate_many,
    linear_decoder,
    linear_parameters,
    rank_decoders,
)
from neurolab.nn import (  # noqa: E402
    FastaiClassifier,
    PointNet,
    SubsetPointNet,
    n_parameters,
    parameter_count,
    pointnet_builder,
    subset_indices,
)
from neurolab.viz import plot_point_cloud  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _result(folds, chance=0.1, p=np.nan):
    folds = np.asarray(folds, dtype=float)
    return DecodeResult(
        accuracy=folds.mean(), balanced_accuracy=folds.mean(), fold_accuracy=folds,
        fold_balanced_accuracy=folds, chance_accuracy=chance, chance_balanced_accuracy=chance,
        p_value=p, permutation_scores=np.zeros(0), y_pred=np.zeros(0), p_value_balanced=p,
    )


# ------------------------------------------------------------------------------ evaluation subsets
def test_subset_indices_are_disjoint_fixed_and_sized():
    parts = subset_indices(1000, 128, 4, rng=3)
    assert len(parts) == 4 and all(len(p) == 128 for p in parts)
    assert len(np.unique(np.concatenate(parts))) == 4 * 128
    assert all(np.all(np.diff(p) > 0) for p in parts)
    again = subset_indices(1000, 128, 4, rng=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))
    other = subset_indices(1000, 128, 4, rng=4)
    assert not np.array_equal(parts[0], other[0])


def test_subset_indices_partition_caps_and_all():
    parts = subset_indices(1000, 300, None)
    assert len(parts) == 4 and sorted(np.concatenate(parts).tolist()) == list(range(1000))
    assert len(subset_indices(1000, 300, 10)) == 3  # only 3 disjoint subsets of 300 fit
    (everything,) = subset_indices(50, None, 4)
    assert everything.tolist() == list(range(50))
    (everything,) = subset_indices(50, 80, 4)
    assert len(everything) == 50
    with pytest.raises(ValueError, match="n_points"):
        subset_indices(50, 0, 1)


# ------------------------------------------------------------------------------ SubsetPointNet
def test_subset_pointnet_matches_pointnet_with_every_neuron_and_is_deterministic():
    rng = np.random.default_rng(0)
    pos = rng.random((60, 3))
    base = PointNet(pos, n_classes=3, n_points=None).eval()
    net = SubsetPointNet(pos, n_classes=3, n_points=None, eval_subsets=4).eval()
    net.load_state_dict(base.state_dict())
    x = torch.randn(5, 60)
    torch.testing.assert_close(net(x), base(x), rtol=1e-4, atol=1e-5)
    sub = SubsetPointNet(pos, n_classes=3, n_points=20, eval_subsets=2).eval()
    torch.testing.assert_close(sub(x), sub(x), rtol=1e-4, atol=1e-5)


def test_subset_pointnet_averages_the_logits_of_its_subsets():
    rng = np.random.default_rng(1)
    pos = rng.random((90, 3))
    net = SubsetPointNet(pos, n_classes=4, n_points=30, eval_subsets=3, eval_rng=7).eval()
    x = torch.randn(6, 90)
    expected = 0
    for idx in subset_indices(90, 30, 3, rng=7):
        i = torch.from_numpy(idx)
        expected = expected + net.point_logits(x[:, i], net.positions[i])
    torch.testing.assert_close(net(x), expected / 3, rtol=1e-4, atol=1e-5)
    net.eval_points = None  # all neurons at once, as PointNet does
    torch.testing.assert_close(net(x), net.point_logits(x, net.positions), rtol=1e-4, atol=1e-5)


def test_subset_pointnet_is_invariant_to_neuron_order_when_using_every_neuron():
    rng = np.random.default_rng(2)
    pos = rng.random((40, 3))
    perm = rng.permutation(40)
    a = SubsetPointNet(pos, 3, n_points=None).eval()
    b = SubsetPointNet(pos[perm], 3, n_points=None).eval()
    b.load_state_dict(a.state_dict() | {"positions": b.positions})
    x = torch.randn(4, 40)
    torch.testing.assert_close(a(x), b(x[:, perm]), rtol=1e-4, atol=1e-5)


def test_subset_pointnet_without_intensity_ignores_responses():
    pos = np.random.default_rng(3).random((50, 3))
    net = SubsetPointNet(pos, 3, n_points=20, use_intensity=False).eval()
    torch.testing.assert_close(net(torch.randn(3, 50)), net(torch.randn(3, 50)), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="positions"):
        net(torch.randn(3, 49))


def test_subset_pointnet_trains_like_pointnet_and_builder_checks_width():
    pos = np.random.default_rng(4).random((120, 3))
    build = pointnet_builder(pos, widths=(8, 16), head=(8,), n_points=32)
    net = build(120, 5)
    assert isinstance(net, SubsetPointNet) and net.train()(torch.randn(8, 120)).shape == (8, 5)
    assert parameter_count(build, 120, 5) == n_parameters(net)
    with pytest.raises(ValueError, match="columns"):
        build(100, 5)


def test_subset_pointnet_learns_a_spatial_signal_with_fastai():
    """Class = which half of the field responds: a point cloud task a PointNet must solve."""
    rng = np.random.default_rng(5)
    n, n_neurons = 300, 200
    pos = np.column_stack([rng.uniform(0, 1000, (n_neurons, 2)), rng.integers(0, 3, n_neurons) * 35.0])
    y = rng.integers(0, 2, n)
    left = pos[:, 0] < 500
    X = rng.standard_normal((n, n_neurons)).astype(np.float32)
    X[:, left] += np.where(y == 0, 1.5, 0.0)[:, None]
    X[:, ~left] += np.where(y == 1, 1.5, 0.0)[:, None]
    clf = FastaiClassifier(pointnet_builder(pos, widths=(16, 32), head=(16,), n_points=64), epochs=8,
                           lr=1e-2, rng=0).fit(X[:200], y[:200])
    assert np.mean(clf.predict(X[200:]) == y[200:]) > 0.8


# ------------------------------------------------------------------------------ linear baseline
def test_linear_decoder_scales_its_penalty_with_the_number_of_features():
    a, b = linear_decoder(100), linear_decoder(1000, strength=5.0)
    assert a[-1].C == pytest.approx(0.1) and b[-1].C == pytest.approx(0.005)
    assert isinstance(a[-1], SerialLogisticRegression) and a[-1].tol == pytest.approx(1e-2)
    assert linear_parameters(1000, 11) == 11_011
    with pytest.raises(ValueError):
        linear_decoder(0)


def test_a_result_carries_its_wall_time():
    rng = np.random.default_rng(6)
    y = np.repeat(np.arange(3), 20)
    X = rng.standard_normal((60, 5)) + 3 * y[:, None]
    res = cross_validate_decoder(linear_decoder(5), X, y, np.arange(60), cv=3)
    assert res.balanced_accuracy > 0.8 and len(res.fold_accuracy) == 3 and res.seconds > 0


# ------------------------------------------------------------------------------ table and verdict
def test_comparison_table_rows_and_columns():
    results = {"a": _result([0.5, 0.6, 0.7], p=0.01), "b": _result([0.1, 0.1, 0.1])}
    table = comparison_table(results, n_params={"a": 10}, seconds={"a": 1.5, "b": 2.0})
    assert list(table.index) == ["a", "b"]
    assert list(table.columns) == ["score", "sem", "chance", "p_value", "parameters", "seconds"]
    assert table.loc["a", "score"] == pytest.approx(0.6)
    assert table.loc["a", "sem"] == pytest.approx(0.1 / np.sqrt(3))
    assert np.isnan(table.loc["b", "parameters"]) and np.isnan(table.loc["b", "p_value"])


def test_rank_decoders_calls_a_clear_win_by_a_paired_test():
    rng = np.random.default_rng(0)
    y = np.repeat(rng.integers(0, 4, 100), 2)
    groups = np.repeat(np.arange(100), 2)

    def result(pred):
        acc = np.mean(pred == y)
        return DecodeResult(accuracy=acc, balanced_accuracy=acc, fold_accuracy=np.array([acc]),
                            fold_balanced_accuracy=np.array([acc]), chance_accuracy=0.25,
                            chance_balanced_accuracy=0.25, p_value=np.nan, permutation_scores=np.zeros(0),
                            y_pred=pred)

    good = np.where(rng.random(200) < 0.8, y, (y + 1) % 4)
    poor = np.where(rng.random(200) < 0.3, y, (y + 1) % 4)
    close = good.copy()
    close[:4] = (y[:4] + 1) % 4  # two images' worth of answers changed
    winner, runner_up, clear, p = rank_decoders({"poor": result(poor), "good": result(good)}, y, groups)
    assert (winner, runner_up, clear) == ("good", "poor", True) and p < 0.01
    winner, runner_up, clear, p = rank_decoders({"good": result(good), "close": result(close)}, y, groups)
    assert not clear and p > 0.05
    assert rank_decoders({"only": result(good)}, y, groups)[:3] == ("only", "", True)
    with pytest.raises(ValueError):
        rank_decoders({}, y, groups)


# ------------------------------------------------------------------------------ picture
def test_plot_point_cloud_draws_the_cloud_and_the_sample():
    rng = np.random.default_rng(7)
    xyz = np.column_stack([rng.uniform(0, 1000, (300, 2)), rng.integers(0, 4, 300) * 35.0])
    fig = plot_point_cloud(xyz, rng.standard_normal(300), n_points=50)
    axes3d = [ax for ax in fig.axes if ax.name == "3d"]
    assert len(axes3d) == 2
    assert len(axes3d[1].collections[0].get_offsets()) == 50
    fig = plot_point_cloud(xyz, rng.standard_normal(300), max_points=100)
    assert len([ax for ax in fig.axes if ax.name == "3d"]) == 1
    with pytest.raises(ValueError):
        plot_point_cloud(xyz, np.zeros(10))


def test_cross_validate_many_shares_folds_and_does_not_depend_on_n_jobs():
    rng = np.random.default_rng(8)
    y = np.repeat(np.arange(3), 30)
    X = rng.standard_normal((90, 6)) + 2 * y[:, None]
    Z = rng.standard_normal((90, 4))
    decoders = {"signal": (linear_decoder(6), X, {"n_permutations": 3}), "noise": (linear_decoder(4), Z)}
    serial = cross_validate_many(decoders, y, np.arange(90), n_jobs=1, cv=3, rng=1)
    parallel = cross_validate_many(decoders, y, np.arange(90), n_jobs=2, cv=3, rng=1)
    assert list(serial) == list(parallel) == ["signal", "noise"]
    assert all(r.seconds > 0 for r in serial.values())
    for name in serial:
        np.testing.assert_array_equal(serial[name].y_pred, parallel[name].y_pred)
        np.testing.assert_allclose(serial[name].fold_balanced_accuracy, parallel[name].fold_balanced_accuracy)
    assert len(serial["signal"].permutation_scores) == 3 and len(serial["noise"].permutation_scores) == 0
    assert serial["signal"].balanced_accuracy > 0.8
    direct = cross_validate_decoder(linear_decoder(4), Z, y, np.arange(90), cv=3, rng=1)
    np.testing.assert_array_equal(direct.y_pred, serial["noise"].y_pred)
    with pytest.raises(ValueError, match="expected"):
        cross_validate_many({"bad": (linear_decoder(4),)}, y, np.arange(90))
