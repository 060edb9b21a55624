import numpy as np
import pytest
import torch

from neurolab.nn import (
    DEVICE_ENV,
    FastaiClassifier,
    MouseNet,
    PointNet,
    TabularMLP,
    choose_device,
    layer_shapes,
    n_parameters,
)


def test_mousenet_reproduces_the_original_architecture():
    net = MouseNet(n_classes=13)
    assert n_parameters(net) == 42_909
    shapes = [s for name, s in layer_shapes(net, torch.zeros(2, 1, 11, 12, 12)) if "features" in name or "classifier" in name]
    assert (16, 11, 6, 6) in shapes and (32, 6, 3, 3) in shapes
    assert shapes[-3:] == [(32, 2, 1, 1), (64,), (13,)]
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv3d)]
    assert [c.bias for c in convs] == [None, None, None]
    assert all(c.kernel_size == (3, 3, 3) and c.padding == (1, 1, 1) for c in convs)
    assert [c.stride for c in convs] == [(1, 2, 2), (2, 2, 2), (1, 1, 1)]
    assert net(torch.zeros(4, 11 * 12 * 12)).shape == (4, 13)  # flat input is reshaped


def test_pointnet_is_invariant_to_neuron_order_in_eval_mode():
    rng = np.random.default_rng(0)
    pos = rng.random((50, 3))
    net = PointNet(pos, n_classes=3, n_points=None).eval()
    x = torch.randn(5, 50)
    perm = torch.randperm(50)
    net_perm = PointNet(pos[perm.numpy()], n_classes=3, n_points=None).eval()
    net_perm.load_state_dict(net.state_dict() | {"positions": net_perm.positions})
    torch.testing.assert_close(net(x), net_perm(x[:, perm]), rtol=1e-4, atol=1e-5)


def test_pointnet_subsamples_only_in_training_and_can_drop_inputs():
    pos = np.random.default_rng(1).random((300, 3))
    net = PointNet(pos, n_classes=4, n_points=32)
    assert net.train()(torch.randn(8, 300)).shape == (8, 4)
    no_pos = PointNet(pos, n_classes=4, use_positions=False)
    assert torch.all(no_pos.positions == 0)
    with pytest.raises(ValueError, match="pooling"):
        PointNet(pos, 4, pooling="sum")


def _separable(n=400, d=30, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.standard_normal((n, d)).astype(np.float32)
    X[:, :5] += 2.0 * y[:, None]
    return X, np.array(["a", "b", "c"])[y]


def test_fastai_classifier_learns_and_is_reproducible():
    X, y = _separable()
    make = lambda nf, nc: TabularMLP(nf, nc, layers=(32,))  # noqa: E731
    a = FastaiClassifier(make, epochs=10, lr=1e-2, rng=0).fit(X[:300], y[:300])
    assert set(a.classes_) == {"a", "b", "c"}
    assert np.mean(a.predict(X[300:]) == y[300:]) > 0.8
    b = FastaiClassifier(make, epochs=10, lr=1e-2, rng=0).fit(X[:300], y[:300])
    np.testing.assert_allclose(a.predict_proba(X[300:]), b.predict_proba(X[300:]), atol=1e-6)
    assert a.predict_proba(X[300:]).shape == (100, 3)


def test_same_seed_same_numbers_on_the_cpu():
    """Run to run on the CPU: the same rng gives bit-identical probabilities; another rng differs."""
    X, y = _separable(seed=2)
    make = lambda nf, nc: TabularMLP(nf, nc, layers=(16,))  # noqa: E731
    fits = [FastaiClassifier(make, epochs=3, lr=1e-2, rng=rng, device="cpu").fit(X[:300], y[:300])
            for rng in (5, 5, 6)]
    probs = [f.predict_proba(X[300:]) for f in fits]
    np.testing.assert_array_equal(probs[0], probs[1])
    assert not np.array_equal(probs[0], probs[2])
    assert all(f.device_.type == "cpu" for f in fits)


def test_device_choice(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device().type == expected
    assert choose_device("cpu").type == "cpu"
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert choose_device().type == "cpu"
    with pytest.raises(ValueError, match="not a torch device"):
        choose_device("abacus")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            choose_device("cuda")
        monkeypatch.setenv(DEVICE_ENV, "cuda")
        with pytest.raises(ValueError, match=DEVICE_ENV):
            FastaiClassifier(lambda nf, nc: TabularMLP(nf, nc, layers=(4,)), epochs=1).fit(*_separable(n=40))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (runs where one is present)")
def test_trains_on_the_gpu_and_predicts_anywhere():
    X, y = _separable()
    make = lambda nf, nc: TabularMLP(nf, nc, layers=(32,))  # noqa: E731
    gpu = FastaiClassifier(make, epochs=10, lr=1e-2, rng=0, device="cuda").fit(X[:300], y[:300])
    assert gpu.device_.type == "cuda"
    assert next(gpu.model_.parameters()).device.type == "cpu"  # handed back for pickling and clones
    assert np.mean(gpu.predict(X[300:]) == y[300:]) > 0.8
    cpu = FastaiClassifier(make, epochs=10, lr=1e-2, rng=0, device="cpu").fit(X[:300], y[:300])
    agree = np.mean(gpu.predict(X[300:]) == cpu.predict(X[300:]))
    assert agree > 0.9  # the same model up to floating-point order


def test_the_validation_split_never_splits_an_images_repeats():
    """Given groups, whole images are held out for validation: no image on both sides."""
    from neurolab.nn.train import _validation_split

    groups = np.repeat(np.arange(50), 2)  # two repeats of 50 images
    valid, train = _validation_split(len(groups), groups, 0.1, np.random.default_rng(0))
    assert not set(groups[valid]) & set(groups[train])
    assert sorted(np.r_[valid, train]) == list(range(100)) and 8 <= len(valid) <= 14
    X, y = _separable(n=100)
    seen = {}

    class Recorder(TabularMLP):
        def __init__(self, nf, nc):
            super().__init__(nf, nc, layers=(8,))

    clf = FastaiClassifier(Recorder, epochs=1, rng=0)
    clf.fit(X, y, groups=groups)
    dls = clf.learner_.dls
    seen["valid"] = len(dls.valid.dataset)
    assert seen["valid"] == len(_validation_split(100, groups, 0.1, np.random.default_rng(0))[0])


def test_the_engine_passes_groups_to_a_network():
    from neurolab.decoding import cross_validate_decoder

    X, y = _separable(n=120)
    groups = np.repeat(np.arange(60), 2)
    y = np.repeat(y[::2], 2)  # repeats share the class of their image
    calls = []

    class Spy(FastaiClassifier):
        def fit(self, X, y, groups=None):
            calls.append(None if groups is None else len(groups))
            return super().fit(X, y, groups=groups)

    cross_validate_decoder(Spy(lambda nf, nc: TabularMLP(nf, nc, layers=(8,)), epochs=1), X, y, groups, cv=3)
    assert calls and all(c is not None for c in calls)
