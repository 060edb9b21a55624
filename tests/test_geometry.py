import numpy as np
import pytest

from neurolab.geometry import cvpca, powerlaw, shuffle_repeats, signal_variance_fraction


def _powerlaw_repeats(n_stim=600, n_neurons=800, alpha=1.0, noise=1.0, seed=0):
    """Two repeats sharing a signal whose covariance spectrum is 200 k^-alpha, plus private noise."""
    rng = np.random.default_rng(seed)
    k = min(n_stim, n_neurons)
    spec = 200.0 * np.arange(1, k + 1) ** -alpha
    q, _ = np.linalg.qr(rng.standard_normal((n_neurons, k)))  # orthonormal neuron-space axes
    s = rng.standard_normal((n_stim, k)) * np.sqrt(spec)
    s -= s.mean(0)
    signal = s @ q.T
    X = np.stack([signal + noise * rng.standard_normal(signal.shape) for _ in range(2)])
    return X.astype(np.float32), spec * n_stim


def test_powerlaw_recovers_exponent_of_exact_power_law():
    ss = np.arange(1, 1001) ** -1.3
    alpha, fitted = powerlaw(ss, fit_range=(10, 500))
    assert alpha == pytest.approx(1.3, abs=1e-9)
    np.testing.assert_allclose(fitted, ss, rtol=1e-9)


def test_powerlaw_rejects_too_short_range():
    with pytest.raises(ValueError, match="fit_range"):
        powerlaw(np.ones(5), fit_range=(11, 500))


def test_cvpca_is_unbiased_by_noise_where_plain_pca_is_not():
    X, spec = _powerlaw_repeats(noise=2.0)
    ss = cvpca(X)
    # signal spectrum recovered within sampling error in the top components despite strong noise
    np.testing.assert_allclose(ss[:20], spec[:20], rtol=0.35)
    alpha, _ = powerlaw(ss, fit_range=(5, 100))
    assert alpha == pytest.approx(1.0, abs=0.15)
    # the noisy single-repeat spectrum is flattened by noise: its tail is far above the signal
    plain = np.linalg.svd(X[0], compute_uv=False) ** 2
    assert plain[300] > 5 * spec[300]


def test_cvpca_matches_the_papers_recipe():
    from sklearn.decomposition import PCA

    X, _ = _powerlaw_repeats(n_stim=300, n_neurons=400, noise=0.5)
    pca = PCA(n_components=200, svd_solver="full").fit(X[0].T)
    axes = X[0].T @ (pca.components_.T / pca.singular_values_)
    paper = np.sum((X[0] @ axes) * (X[1] @ axes), axis=0)
    np.testing.assert_allclose(cvpca(X, n_components=200), paper, rtol=2e-3, atol=1e-3 * paper[0])
    assert len(cvpca(X)) == 300  # default: min(1024, n_stimuli, n_neurons)
    fast = cvpca(X, n_components=100, method="randomized")
    np.testing.assert_allclose(fast[:50], paper[:50], rtol=0.02, atol=1e-3 * paper[0])
    with pytest.raises(ValueError, match="method"):
        cvpca(X, method="magic")


def test_cvpca_of_independent_repeats_is_near_zero():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 300, 400)).astype(np.float32)
    ss = cvpca(X)
    assert abs(ss[:50].sum()) < 0.1 * np.sum(X[0] ** 2) / 300 * 50 / 10


def test_cvpca_validates_shape_and_components():
    with pytest.raises(ValueError, match=r"\(2, n_images, n_neurons\)"):
        cvpca(np.zeros((3, 10, 10)))
    with pytest.raises(ValueError, match="n_components"):
        cvpca(np.zeros((2, 10, 20)), n_components=11)


def test_signal_variance_fraction_matches_construction():
    rng = np.random.default_rng(2)
    signal = rng.standard_normal((4000, 50))
    X = np.stack([signal + 2.0 * rng.standard_normal(signal.shape) for _ in range(2)])
    # signal variance 1, noise variance 4 -> fraction 0.2
    assert signal_variance_fraction(X) == pytest.approx(0.2, abs=0.02)
    per = signal_variance_fraction(X, per_neuron=True)
    assert per.shape == (50,) and np.all(np.abs(per - 0.2) < 0.08)


def test_shuffle_repeats_swaps_half_and_keeps_spectrum():
    X, _ = _powerlaw_repeats(noise=1.0)
    Xs = shuffle_repeats(X, np.random.default_rng(0))
    swapped = np.all(Xs[0] == X[1], axis=1)
    assert 0.35 < swapped.mean() < 0.65
    a, _ = powerlaw(cvpca(X), fit_range=(5, 100))
    b, _ = powerlaw(cvpca(Xs), fit_range=(5, 100))
    assert a == pytest.approx(b, abs=0.1)
