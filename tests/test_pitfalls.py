"""Each deliberate bug of neurolab.teaching.pitfalls does what it says, and each check catches it."""

import dataclasses

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestCentroid

from neurolab.decoding import (
    CachedPCA,
    CorrelationNearestNeighbour,
    category_task,
    cross_validate_decoder,
    fold_models,
    grouped_folds,
    identity_vs_neurons,
    shuffle_identity,
)
from neurolab.geometry import repeat_reliability
from neurolab.recording import GREY, N_IMAGES, Recording, split_repeats
from neurolab.synthetic import latent_spectrum
from neurolab.teaching import pitfalls


def _labels_in_runs(seed=0):
    """A 2800-image class table in runs, like the real one (0 = 'unknown')."""
    rng = np.random.default_rng(seed)
    runs = rng.integers(1, 30, 400)
    classes = rng.integers(0, 6, 400)
    return np.repeat(classes, runs)[:N_IMAGES]


def _recording(n_images=120, n_neurons=80, n_grey=0, category=1.0, seed=0, labels=None):
    """A tiny recording: images 0..n_images-1 shown twice, responses = image pattern + class + noise."""
    rng = np.random.default_rng(seed)
    labels = _labels_in_runs(seed) if labels is None else labels
    img = rng.standard_normal((n_images, n_neurons))
    cls = rng.standard_normal((labels.max() + 1, n_neurons)) * category
    clean = img + cls[labels[:n_images]]
    istim = np.concatenate([rng.permutation(n_images), rng.permutation(n_images)])
    resp = clean[istim] + 0.5 * rng.standard_normal((len(istim), n_neurons))
    if n_grey:
        resp = np.vstack([resp, 0.1 * rng.standard_normal((n_grey, n_neurons)) - 3.0])
        istim = np.concatenate([istim, np.full(n_grey, GREY)])
    rec = Recording(
        resp=resp.astype(np.float32), istim=istim.astype(np.int64),
        spont=rng.standard_normal((50, n_neurons)).astype(np.float32),
        xyz=rng.uniform(0, 100, (n_neurons, 3)).astype(np.float32), name="toy", source="synthetic",
    )
    return rec, labels


# ----------------------------------------------------------------------------- shifted labels
def test_shifted_labels_is_the_off_by_one_bug():
    labels = np.arange(N_IMAGES) * 10
    istim = np.array([0, 1, 5, N_IMAGES - 1])
    assert np.array_equal(pitfalls.shifted_labels(istim, labels, 0), labels[istim])
    assert np.array_equal(pitfalls.shifted_labels(istim, labels, -1), labels[istim - 1])  # wraps like Python
    assert np.array_equal(pitfalls.shifted_labels(istim, labels, +1), [10, 20, 60, 0])
    with pytest.raises(ValueError, match="0-based"):
        pitfalls.shifted_labels(np.array([GREY, 3]), labels, 1)


def test_run_lengths_and_label_survival():
    labels = np.array([1, 1, 1, 2, 2, 3, 1, 1])
    assert np.array_equal(pitfalls.run_lengths(labels), [3, 2, 1, 2])
    assert pitfalls.run_lengths(labels).sum() == len(labels)
    # shift +1 keeps a label when the next image has the same class: 1,1,_,2,_,_,1,_(wraps to 1)
    assert pitfalls.label_survival(labels, 1) == pytest.approx(5 / 8)
    real_like = _labels_in_runs()
    survive = pitfalls.label_survival(real_like, -1)
    n_runs = len(pitfalls.run_lengths(real_like))
    assert survive == pytest.approx(1 - (n_runs - 1) / N_IMAGES, abs=1.5 / N_IMAGES)  # + the wrap
    assert survive > 0.8  # long runs: most labels survive a shift by one


def test_shifted_labels_lower_decoding_accuracy():
    rec, labels = _recording(category=1.5)
    honest = cross_validate_decoder(NearestCentroid(), *category_task(rec, labels, drop_unknown=False))
    table = pitfalls.shifted_labels(np.arange(N_IMAGES), labels, 15)
    shifted = cross_validate_decoder(NearestCentroid(), *category_task(rec, table, drop_unknown=False))
    assert shifted.accuracy < honest.accuracy - 0.1


# ----------------------------------------------------------------------------- zero-fill bug
@pytest.mark.parametrize("axis", [0, 1])
def test_zero_fill_bug_zeroes_exactly_frac_of_rows_or_columns(axis):
    rng = np.random.default_rng(0)
    resp = rng.uniform(0.1, 1.0, (50, 40)).astype(np.float32)
    out = pitfalls.zero_fill_bug(resp, 0.3, np.random.default_rng(1), axis=axis)
    assert out.shape == resp.shape and out.dtype == np.float32 and out is not resp
    zero = (out == 0).all(axis=1 - axis)
    assert zero.sum() == round(0.3 * resp.shape[axis])
    kept = ~zero
    if axis == 0:
        assert np.array_equal(out[kept], resp[kept])
    else:
        assert np.array_equal(out[:, kept], resp[:, kept])
    assert (resp > 0).all()  # the input is untouched
    assert (pitfalls.zero_fill_bug(resp, 1.0, rng, axis) == 0).all()
    assert np.array_equal(pitfalls.zero_fill_bug(resp, 0.0, rng, axis), resp)
    with pytest.raises(ValueError):
        pitfalls.zero_fill_bug(resp, 1.5, rng)


def test_sanity_checks_catch_the_zero_fill_bug():
    rec, _ = _recording()
    healthy = pitfalls.sanity_checks(rec)
    assert healthy["zero_trials"] == 0 and healthy["zero_neurons"] == 0
    assert healthy["median_reliability"] > 0.5 and healthy["unreliable_neurons"] == 0
    bad_n = dataclasses.replace(rec, resp=pitfalls.zero_fill_bug(rec.resp, 0.5, np.random.default_rng(0), 1))
    checks = pitfalls.sanity_checks(bad_n)
    assert checks["zero_neurons"] == pytest.approx(0.5) and checks["constant_neurons"] == pytest.approx(0.5)
    assert checks["unreliable_neurons"] == pytest.approx(0.5)
    bad_t = dataclasses.replace(rec, resp=pitfalls.zero_fill_bug(rec.resp, 0.25, np.random.default_rng(0), 0))
    assert pitfalls.sanity_checks(bad_t)["zero_trials"] == pytest.approx(0.25)


def test_repeat_reliability_nan_for_constant_neurons():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((100, 3))
    X = np.stack([a, a + 0.01 * rng.standard_normal(a.shape)])
    X[:, :, 2] = 0.0
    rel = repeat_reliability(X)
    assert rel[:2] == pytest.approx(1.0, abs=0.01) and np.isnan(rel[2])


def test_mostly_zeroed_responses_decode_near_chance():
    rec, labels = _recording(category=1.5)
    X, y, groups = category_task(rec, labels, drop_unknown=False)
    honest = cross_validate_decoder(NearestCentroid(), X, y, groups)
    bug = dataclasses.replace(rec, resp=pitfalls.zero_fill_bug(rec.resp, 0.9, np.random.default_rng(0), 0))
    res = cross_validate_decoder(NearestCentroid(), *category_task(bug, labels, drop_unknown=False))
    assert honest.accuracy > 0.8
    assert res.accuracy < honest.chance_accuracy + 0.2


# ----------------------------------------------------------------------------- leaky folds
def test_leaky_folds_split_repeats_and_match_trial_groups():
    rec, labels = _recording()
    X, y, groups = category_task(rec, labels, drop_unknown=False)
    leaky = pitfalls.leaky_folds(y, 5, 0)
    same = grouped_folds(y, np.arange(len(y)), 5, 0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(leaky, same))
    assert 0.6 < pitfalls.straddle_fraction(leaky, groups) < 0.95
    assert pitfalls.straddle_fraction(grouped_folds(y, groups, 5, 0), groups) == 0.0


def test_memoriser_scores_above_chance_with_leaky_folds_and_no_category():
    rec, labels = _recording(category=0.0, n_images=150)  # no category signal at all
    X, y, groups = category_task(rec, labels, drop_unknown=False)
    y_random = np.random.default_rng(0).integers(0, 5, N_IMAGES)[groups]  # random class per image
    nn = CorrelationNearestNeighbour()
    grouped = cross_validate_decoder(nn, X, y_random, folds=grouped_folds(y_random, groups, 5, 0))
    leaky = cross_validate_decoder(nn, X, y_random, folds=pitfalls.leaky_folds(y_random, 5, 0))
    assert leaky.accuracy > grouped.accuracy + 0.3
    assert grouped.accuracy < grouped.chance_accuracy + 0.1


def test_correlation_nearest_neighbour_memorises():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 20))
    y = np.arange(30) % 4
    nn = CorrelationNearestNeighbour(batch_size=7).fit(X, y)
    assert np.array_equal(nn.predict(3 * X + 1), y)  # correlation: gain and offset do not matter
    assert list(nn.classes_) == [0, 1, 2, 3]


def test_evaluate_folds_matches_cross_validate_decoder():
    rec, labels = _recording(category=1.0)
    X, y, groups = category_task(rec, labels, drop_unknown=False)
    ref = cross_validate_decoder(NearestCentroid(), X, y, groups, rng=3)
    res = cross_validate_decoder(NearestCentroid(), X, y, folds=grouped_folds(y, groups, 5, 3))
    assert res.accuracy == pytest.approx(ref.accuracy)
    assert res.balanced_accuracy == pytest.approx(ref.balanced_accuracy)
    assert res.chance_accuracy == pytest.approx(ref.chance_accuracy)
    assert np.array_equal(res.y_pred, ref.y_pred) and np.isnan(res.p_value)
    with pytest.raises(ValueError, match="cover every sample"):
        cross_validate_decoder(NearestCentroid(), X, y, folds=grouped_folds(y, groups, 5, 3)[:4])


# ----------------------------------------------------------------------------- grey class, chance
def test_task_with_grey_class_adds_grey_trials_as_an_easy_class():
    rec, labels = _recording(n_grey=30, category=0.5)
    X, y, groups, grey_label = pitfalls.task_with_grey_class(rec, labels)
    assert grey_label == labels.max() + 1
    assert (y == grey_label).sum() == 30 and not (y == 0).any()
    assert len(np.unique(groups[y == grey_label])) == 30 and (groups[y == grey_label] < 0).all()
    res = cross_validate_decoder(NearestCentroid(), X, y, groups)
    assert np.mean(res.y_pred[y == grey_label] == grey_label) > 0.95  # trivially recognised
    Xh, yh, gh = category_task(rec, labels)
    assert len(yh) == len(y) - 30  # the honest task never includes them
    with_unknown = pitfalls.task_with_grey_class(rec, labels, drop_unknown=False)[1]
    assert (with_unknown == 0).sum() == (labels[rec.istim[rec.istim != GREY]] == 0).sum()


def test_chance_levels_and_verdict():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    levels = pitfalls.chance_levels(y)
    assert levels == pytest.approx(
        {"n_classes": 3, "most_frequent": 0.6, "uniform": 1 / 3, "stratified": 0.36 + 0.09 + 0.01}
    )
    # paired tests image by image: a pipeline right on 90% of 200 images against one right on 60%
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(200), 2)
    y = rng.integers(0, 3, size=400)
    y[:150] = 0  # class 0 is the largest: the majority answer is right on its share
    good = np.where(rng.random(400) < 0.9, y, (y + 1) % 3)
    fair = np.where(rng.random(400) < 0.6, y, (y + 1) % 3)
    vs_chance, vs_fair = pitfalls.accuracy_tests(good, y, groups, reference=fair, n_permutations=199)
    assert pitfalls.verdict(vs_chance, vs_fair) == "above chance, inflated"
    vs_chance, vs_good = pitfalls.accuracy_tests(fair, y, groups, reference=good, n_permutations=199)
    assert pitfalls.verdict(vs_chance, vs_good).endswith("deflated")
    same = pitfalls.accuracy_tests(good, y, groups, reference=good.copy(), n_permutations=199)
    assert pitfalls.verdict(*same) == "above chance, as honest"
    majority = np.zeros(400, dtype=y.dtype)
    assert pitfalls.verdict(pitfalls.accuracy_tests(majority, y, groups)[0]) == "at chance"
    # labels that differ (a shifted copy) are compared through what each pipeline got right
    shifted = np.roll(y, 2)
    vs_chance, vs_ref = pitfalls.accuracy_tests(good, shifted, groups, reference=good, y_reference=y,
                                                n_permutations=199)
    assert vs_ref.difference < 0 and pitfalls.verdict(vs_chance, vs_ref).endswith("deflated")
    # too few permutations can never count at alpha = 0.05
    few = pitfalls.accuracy_tests(good, y, groups, reference=fair, n_permutations=9)
    assert pitfalls.verdict(*few) == "at chance, as honest"
    with pytest.raises(ValueError, match="same samples"):
        pitfalls.accuracy_tests(good, y, groups, reference=fair[:10])


# ----------------------------------------------------------------------------- chapter 7 helpers
def test_identity_vs_neurons_shape_and_growth():
    rec, _ = _recording(n_images=100, n_neurons=200)
    X, _ = split_repeats(rec)
    acc = identity_vs_neurons(X, [5, 50, 200], n_draws=3, rng=0)
    assert acc.shape == (3, 3)
    assert np.isnan(acc[2, 1:]).all() and np.isfinite(acc[:2]).all()
    assert np.nanmean(acc[0]) < np.nanmean(acc[1]) <= acc[2, 0] + 0.05
    with pytest.raises(ValueError):
        identity_vs_neurons(X, [500])


def test_shuffle_identity_is_a_derangement_of_repeat_two():
    X = np.arange(2 * 7 * 3, dtype=float).reshape(2, 7, 3)
    for seed in range(20):
        out = shuffle_identity(X, np.random.default_rng(seed))
        assert np.array_equal(out[0], X[0])
        rows = [int(np.flatnonzero((X[1] == r).all(axis=1))[0]) for r in out[1]]
        assert sorted(rows) == list(range(7)) and all(r != i for i, r in enumerate(rows))


def test_latent_spectrum_needs_truth():
    with pytest.raises(ValueError, match="no ground truth"):
        latent_spectrum(None)

    class Truth:
        latents = np.random.default_rng(0).standard_normal((500, 4)) * np.array([4.0, 2.0, 1.0, 0.5])

    lam = latent_spectrum(Truth)
    assert lam.shape == (4,) and np.all(np.diff(lam) < 0)
    assert lam / lam.sum() == pytest.approx(np.array([16, 4, 1, 0.25]) / 21.25, rel=0.2)


def test_cached_pca_reuses_fits_and_matches_pca():
    CachedPCA.clear_cache()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 12)).astype(np.float32)
    ref = PCA(4, random_state=0).fit(X)
    a = CachedPCA(4, random_state=0).fit(X)
    assert np.allclose(a.transform(X), ref.transform(X), atol=1e-5)
    b = CachedPCA(4, random_state=0).fit(X.copy())  # same data: a cache hit
    assert len(CachedPCA._cache) == 1 and b.components_ is a.components_
    CachedPCA(3, random_state=0).fit(X)  # other parameters: a new fit
    CachedPCA(4, random_state=0).fit(X[:50])  # other data: a new fit
    assert len(CachedPCA._cache) == 3
    assert np.allclose(CachedPCA(4, random_state=0).fit_transform(X), ref.transform(X), atol=1e-5)


def test_fold_models_use_the_folds_of_cross_validate_decoder():
    rec, labels = _recording()
    X, y, groups = category_task(rec, labels, drop_unknown=False)
    models = fold_models(NearestCentroid(), X, y, groups, cv=5, rng=2)
    res = cross_validate_decoder(NearestCentroid(), X, y, groups, rng=2)
    pred = np.empty_like(y)
    for model, (_, test) in zip(models, grouped_folds(y, groups, 5, 2)):
        pred[test] = model.predict(X[test])
    assert len(models) == 5 and np.array_equal(pred, res.y_pred)


def test_cached_pca_remembers_projections():
    CachedPCA.clear_cache()
    rng = np.random.default_rng(1)
    X, T = rng.standard_normal((80, 10)), rng.standard_normal((20, 10))
    ref = PCA(3, random_state=0).fit(X)
    a = CachedPCA(3, random_state=0)
    assert np.allclose(a.fit_transform(X), ref.transform(X))
    first = a.transform(T)
    first[:] = 0.0  # callers may modify what they get: the cache hands out copies
    b = CachedPCA(3, random_state=0).fit(X)
    assert np.allclose(b.transform(T), ref.transform(T))
    assert len(CachedPCA._cache) == 1
