"""neurolab.ceiling: the oracle is the Bayes rule of the generator, the accuracy <-> d' model is the
m-alternative forced choice, extrapolation recovers a known limit, and the curves run on synthetic
and real-style (truth-less) recordings."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy.stats import norm

from neurolab.decoding import (
    OracleClassifier,
    category_task,
    ceiling_curves,
    cross_validate_decoder,
    dprime_from_accuracy,
    extrapolate,
    gap_to_ceiling,
    latent_model,
    nested_subsets,
    oracle_result,
    repeat_task,
    truth_task,
)
from neurolab.decoding.ceiling import accuracy_from_dprime
from neurolab.recording import N_IMAGES
from neurolab.synthetic import make_recording
from neurolab.viz import plot_ceilings


def _labels(seed=0, n_classes=4):
    """Class of each of the 2,800 images (0 = 'unknown' for about a tenth)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(1, n_classes + 1, N_IMAGES)
    labels[rng.random(N_IMAGES) < 0.1] = 0
    return labels


@pytest.fixture(scope="module")
def rec():
    return make_recording("smoke", rng=1, labels=_labels(), n_neurons=120, n_latents=60, n_spont=200,
                          image_step=10, category_strength=0.5)


def test_latent_model_rebuilds_the_generator(rec):
    model = latent_model(rec.truth)
    images = rec.truth.image_ids
    y = rec.truth.labels[images]
    resid = rec.truth.latents.astype(np.float64) - model.means[y]
    # standardised residuals have unit variance (per image, averaged over the features)
    z2 = (resid**2 / model.var).mean(axis=1)
    assert z2.mean() == pytest.approx(1.0, abs=0.1)
    assert np.all(model.means[0] == 0)  # 'unknown' carries no category offset
    assert model.scale == pytest.approx(np.sqrt(1 + 0.5 * np.mean(y != 0)))


def test_latent_model_refuses_real_data(rec):
    with pytest.raises(ValueError, match="no generative truth"):
        latent_model(None)
    with pytest.raises(ValueError, match="real data"):
        truth_task(dataclasses.replace(rec, truth=None))


def test_oracle_is_the_gaussian_bayes_rule():
    rng = np.random.default_rng(0)
    means = rng.standard_normal((5, 7))
    var = rng.uniform(0.5, 2.0, 7)
    X = rng.standard_normal((200, 7)) * 2
    y = rng.choice([1, 2, 4], 200, p=[0.6, 0.3, 0.1])
    for priors in ("uniform", "empirical"):
        clf = OracleClassifier(means, var, priors=priors).fit(X, y)
        assert clf.classes_.tolist() == [1, 2, 4]
        loglik = -0.5 * (((X[:, None, :] - means[None, [1, 2, 4], :]) ** 2) / var).sum(-1)
        if priors == "empirical":
            loglik += np.log(np.array([np.mean(y == c) for c in (1, 2, 4)]))
        np.testing.assert_array_equal(clf.predict(X), np.array([1, 2, 4])[loglik.argmax(1)])


def test_oracle_validates_its_inputs():
    with pytest.raises(ValueError, match="index"):
        OracleClassifier(np.zeros((3, 2)), np.ones(2)).fit(np.zeros((4, 2)), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="shape"):
        OracleClassifier(np.zeros((3, 2)), np.ones(2)).fit(np.zeros((4, 3)), [0, 1, 2, 1])
    with pytest.raises(ValueError, match="positive"):
        OracleClassifier(np.zeros((3, 2)), np.zeros(2)).fit(np.zeros((4, 2)), [0, 1, 2, 1])


def test_oracle_on_the_m_afc_model_scores_its_predicted_accuracy():
    # classes at d' * (unit vectors), unit variance: exactly the m-alternative forced-choice model
    k, d, n = 6, 1.5, 30_000
    rng = np.random.default_rng(1)
    y = rng.integers(0, k, n)
    X = rng.standard_normal((n, k)) + d * np.eye(k)[y]
    acc = np.mean(OracleClassifier(d * np.eye(k), np.ones(k)).fit(X, y).predict(X) == y)
    assert acc == pytest.approx(float(accuracy_from_dprime(d, k)), abs=0.01)


def test_oracle_result_is_near_perfect_with_a_strong_category(rec):
    res = oracle_result(rec)
    assert res.balanced_accuracy > 0.9 > res.chance_balanced_accuracy
    assert oracle_result(rec, n_dims=1).balanced_accuracy < res.balanced_accuracy
    with pytest.raises(ValueError, match="n_dims"):
        oracle_result(rec, n_dims=0)


def test_accuracy_and_dprime_are_inverse_and_match_two_classes():
    d = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(accuracy_from_dprime(d, 2), norm.cdf(d / np.sqrt(2)), atol=1e-6)
    for k in (2, 5, 11):
        acc = accuracy_from_dprime(d, k)
        assert acc[0] == pytest.approx(1 / k, abs=1e-6)
        assert np.all(np.diff(acc) > 0)
        np.testing.assert_allclose(dprime_from_accuracy(acc[1:], k), d[1:], atol=1e-3)
    assert dprime_from_accuracy(0.01, 11) == 0.0  # below chance: no discriminability
    with pytest.raises(ValueError):
        accuracy_from_dprime(-1.0, 3)


def test_extrapolate_recovers_a_known_limit():
    k, a, b = 11, 0.05, 0.4
    x = np.array([1.0, 0.5, 0.25])
    acc = accuracy_from_dprime(1 / np.sqrt(a + b * x), k)
    ex = extrapolate(x, acc, k)
    assert ex.intercept == pytest.approx(a, rel=1e-3)
    assert ex.slope == pytest.approx(b, rel=1e-3)
    assert ex.accuracy == pytest.approx(float(accuracy_from_dprime(1 / np.sqrt(a), k)), abs=1e-4)
    assert ex.n_points == 3 and ex.reason == ""
    np.testing.assert_allclose(ex.curve(x, k), acc, atol=1e-4)


def test_extrapolate_without_enough_points_or_with_runaway_gains():
    k = 11
    ex = extrapolate([1.0, 0.5], [1 / k, 0.5], k)  # one point above chance
    assert np.isnan(ex.accuracy) and ex.reason == "too few points above chance"
    # a point above chance but within two SEMs of it does not count
    assert extrapolate([1.0, 0.5], [0.12, 0.5], k, sem=[0.02, 0.02]).n_points == 1
    assert extrapolate([1.0, 0.5], [0.12, 0.5], k, sem=[0.01, 0.02]).n_points == 2
    # d'^2 more than doubling when the noise halves: the line crosses zero, no ceiling
    ex = extrapolate([1.0, 0.5], accuracy_from_dprime(np.array([1.0, 2.0]), k), k)
    assert ex.reason == "unbounded" and np.isnan(ex.accuracy)
    assert np.isnan(ex.curve([0.0], k)[0]) and np.isfinite(ex.curve([1.0], k)[0])
    with pytest.raises(ValueError):
        extrapolate([1.0, 0.5, 0.2], [0.3, 0.4], k)


def test_repeat_task_rows(rec):
    Xm, ym, gm = repeat_task(rec, rec.truth.labels, "mean")
    Xa, ya, ga = category_task(rec, rec.truth.labels, average_repeats=True)
    np.testing.assert_allclose(Xm, Xa)
    np.testing.assert_array_equal(gm, ga)
    X0, _, g0 = repeat_task(rec, rec.truth.labels, 0)
    X1, _, _ = repeat_task(rec, rec.truth.labels, 1)
    np.testing.assert_allclose((X0 + X1) / 2, Xm, atol=1e-6)
    assert np.all(ym != 0) and len(np.unique(g0)) == len(g0)
    with pytest.raises(ValueError, match="repeats"):
        repeat_task(rec, rec.truth.labels, 2)


def test_truth_task_rows_follow_the_images(rec):
    X, y, g = truth_task(rec, "clean")
    keep = rec.truth.labels[rec.truth.image_ids] != 0
    np.testing.assert_array_equal(g, rec.truth.image_ids[keep])
    np.testing.assert_allclose(X, rec.truth.clean[keep])
    Z, _, _ = truth_task(rec, "latents")
    assert Z.shape == (keep.sum(), rec.truth.latents.shape[1])


def test_nested_subsets_are_nested():
    subsets = nested_subsets(100, (0.1, 0.35, 1.0), rng=3)
    assert [len(s) for s in subsets.values()] == [10, 35, 100]
    assert set(subsets[0.1]) <= set(subsets[0.35]) <= set(subsets[1.0])
    with pytest.raises(ValueError):
        nested_subsets(100, (0.0, 1.0))


def test_ceiling_curves_on_synthetic_and_truthless_recordings(rec):
    df = ceiling_curves(rec, rec.truth.labels, fractions=(0.5, 1.0), n_components=8)
    assert set(df["input"]) == {"single trials", "2 repeats averaged", "noise-free"}
    assert len(df) == 6 and df["n_neurons"].max() == rec.n_neurons
    assert np.all((df.balanced_accuracy >= 0) & (df.balanced_accuracy <= 1))
    full_clean = df[(df["input"] == "noise-free") & (df.fraction == 1.0)].balanced_accuracy.iloc[0]
    full_single = df[(df["input"] == "single trials") & (df.fraction == 1.0)].balanced_accuracy.iloc[0]
    assert full_clean > full_single  # no trial noise, better decoding
    # a known result is reused, not recomputed
    sentinel = df.result.iloc[0]
    again = ceiling_curves(rec, rec.truth.labels, fractions=(1.0,), n_components=8, inputs=("single trials",),
                           known={("single trials", 1.0): sentinel})
    assert again.result.iloc[0] is sentinel
    real = dataclasses.replace(rec, truth=None)
    df_real = ceiling_curves(real, rec.truth.labels, fractions=(1.0,), n_components=8)
    assert set(df_real["input"]) == {"single trials", "2 repeats averaged"}
    with pytest.raises(ValueError, match="unknown inputs"):
        ceiling_curves(rec, rec.truth.labels, inputs=("noise",))


def test_gap_to_ceiling():
    gap = gap_to_ceiling(0.6, 0.9, 0.1)
    assert gap["ratio"] == pytest.approx(2 / 3)
    assert gap["share_above_chance"] == pytest.approx(0.625)
    assert gap["gap"] == pytest.approx(0.3)
    assert np.isnan(gap_to_ceiling(0.1, 0.1, 0.1)["share_above_chance"])


def test_plot_ceilings_draws_points_and_lines(rec):
    X, y, g = truth_task(rec, "latents")
    from sklearn.dummy import DummyClassifier

    results = {"dummy": cross_validate_decoder(DummyClassifier(), X, y, g), "oracle": oracle_result(rec)}
    ax = plot_ceilings(results, {"top": 0.95, "missing": float("nan")}, chance=0.25)
    assert len(ax.get_xticklabels()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["top: 95.0%"]
    with pytest.raises(ValueError):
        plot_ceilings(results, {}, 0.25, metric="f1")
