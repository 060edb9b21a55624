"""neurolab.decoding's one engine: a reducer shared across models and shuffles gives what the full
pipelines give, the model zoo runs, the table holds every number, and the category-signal budget
finds what was put in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from neurolab.decoding import (
    DecodeResult,
    LabelEncoded,
    balanced_accuracy,
    cross_validate,
    cross_validate_decoder,
    fold_scores,
    grouped_folds,
    make_reducer,
    permute_within_folds,
    results_table,
    single_threaded,
    tabular_models,
)
from neurolab.geometry import category_signal_fraction
from neurolab.recording import N_IMAGES, Recording


def _task(n_images=120, n_features=40, n_classes=4, strength=1.0, seed=0):
    """Two repeats per image, a class signal in the first features: (X, y, groups)."""
    rng = np.random.default_rng(seed)
    image_class = rng.integers(1, n_classes + 1, n_images)
    means = rng.standard_normal((n_classes + 1, n_features)) * strength
    image = rng.standard_normal((n_images, n_features)) + means[image_class]
    X = np.concatenate([image + rng.standard_normal(image.shape) for _ in range(2)]).astype(np.float32)
    groups = np.tile(np.arange(n_images), 2)
    return X, image_class[groups], groups


def test_a_shared_reducer_equals_the_full_pipeline():
    X, y, groups = _task()
    reducer = make_reducer(8, rng=0)
    model = LogisticRegression(C=0.1, max_iter=300)
    fast = cross_validate({"lr": model}, X, y, groups, n_permutations=5, reducer=reducer, rng=3)["lr"]
    pipeline = make_pipeline(reducer, model)
    ref = cross_validate_decoder(pipeline, X, y, groups, n_permutations=5, rng=3)
    np.testing.assert_array_equal(fast.y_pred, ref.y_pred)
    np.testing.assert_allclose(fast.fold_accuracy, ref.fold_accuracy)
    np.testing.assert_allclose(fast.fold_balanced_accuracy, ref.fold_balanced_accuracy)
    assert fast.chance_accuracy == pytest.approx(ref.chance_accuracy)
    assert fast.chance_balanced_accuracy == pytest.approx(ref.chance_balanced_accuracy)
    # the same label shuffles (within each test fold) on the same folds, each scored (like the observed score) by its mean
    # over folds; cross_validate_decoder's own shuffles give the same pooled predictions
    rng = np.random.default_rng(3)
    folds = grouped_folds(y, groups, 5, 3)
    pooled = []
    for i in range(5):
        y_perm = permute_within_folds(y, groups, folds, rng)
        acc, bal = [], []
        y_pred = np.empty_like(y)
        for train, test in folds:
            y_pred[test] = clone(make_pipeline(reducer, model)).fit(X[train], y_perm[train]).predict(X[test])
            acc.append(accuracy_score(y_perm[test], y_pred[test]))
            bal.append(balanced_accuracy_score(y_perm[test], y_pred[test]))
        assert fast.permutation_scores[i] == pytest.approx(np.mean(acc))
        assert fast.permutation_scores_balanced[i] == pytest.approx(np.mean(bal))
        pooled.append(accuracy_score(y_perm, y_pred))
    np.testing.assert_allclose(pooled, ref.permutation_scores)
    assert fast.p_value == pytest.approx((1 + np.sum(fast.permutation_scores >= fast.accuracy)) / 6)
    assert fast.accuracy > 2 * fast.chance_accuracy and fast.p_value == pytest.approx(1 / 6)


def test_cross_validate_shares_folds_and_shuffles_between_models():
    X, y, groups = _task(seed=1)
    models = {"mf": DummyClassifier(strategy="most_frequent"), "lr": LogisticRegression(max_iter=300)}
    res = cross_validate(models, X, y, groups, n_permutations={"lr": 3}, reducer=make_reducer(6))
    assert set(res) == {"mf", "lr"}
    assert all(isinstance(r, DecodeResult) for r in res.values())
    assert res["mf"].chance_accuracy == res["lr"].chance_accuracy
    assert res["mf"].accuracy == pytest.approx(res["mf"].chance_accuracy)
    assert np.isnan(res["mf"].p_value) and np.isnan(res["mf"].p_value_balanced)
    assert res["mf"].n_permutations == 0 and res["lr"].n_permutations == 3
    assert len(res["lr"].permutation_scores) == 3 and res["lr"].seconds >= 0


def test_cross_validate_in_two_worker_processes_gives_the_same_results():
    X, y, groups = _task(seed=2)
    models = {"mf": DummyClassifier(strategy="most_frequent"), "lr": LogisticRegression(max_iter=300),
              "knn": KNeighborsClassifier(3)}
    serial = cross_validate(models, X, y, groups, n_permutations={"lr": 3}, reducer=make_reducer(6))
    parallel = cross_validate(models, X, y, groups, n_permutations={"lr": 3}, reducer=make_reducer(6), n_jobs=2)
    assert list(parallel) == list(models)
    for name in models:
        a, b = serial[name], parallel[name]
        np.testing.assert_array_equal(a.y_pred, b.y_pred)
        np.testing.assert_array_equal(a.permutation_scores, b.permutation_scores)
        assert (a.accuracy, a.balanced_accuracy, a.chance_accuracy) == (b.accuracy, b.balanced_accuracy,
                                                                        b.chance_accuracy)


def test_cross_validate_without_groups_lets_repeats_straddle_folds():
    """A nearest neighbour finds the other repeat of an image when folds ignore image identity."""
    rng = np.random.default_rng(0)
    n_images = 150
    image = rng.standard_normal((n_images, 30)) * 3
    y_img = rng.integers(1, 4, n_images)  # labels unrelated to the responses
    X = np.concatenate([image + rng.standard_normal(image.shape) * 0.3 for _ in range(2)])
    y, groups = np.tile(y_img, 2), np.tile(np.arange(n_images), 2)
    knn = {"1nn": KNeighborsClassifier(1)}
    grouped = cross_validate(knn, X, y, groups)["1nn"]
    leaky = cross_validate(knn, X, y, groups, cv=StratifiedKFold(5, shuffle=True, random_state=0))["1nn"]
    assert grouped.balanced_accuracy < 0.5 < leaky.balanced_accuracy


def test_cross_validate_rejects_bad_input():
    X, y, groups = _task()
    with pytest.raises(ValueError, match="n_samples"):
        cross_validate({"mf": DummyClassifier()}, X[:-1], y, groups)
    with pytest.raises(ValueError, match="not in models"):
        cross_validate({"mf": DummyClassifier()}, X, y, groups, n_permutations={"nope": 3})


def test_label_encoded_accepts_any_labels():
    from xgboost import XGBClassifier

    X, y, _ = _task(n_classes=3)
    y = y * 10 + 5  # 15, 25, 35: not 0..n-1
    clf = LabelEncoded(XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1)).fit(X, y)
    assert set(clf.predict(X)) <= set(np.unique(y))
    np.testing.assert_array_equal(clf.classes_, np.unique(y))


@pytest.mark.parametrize("size", ["smoke", "full"])
def test_tabular_models_fit_and_predict(size):
    X, y, groups = _task(n_images=60, n_features=10)
    models = tabular_models(rng=0, size=size, epochs=1)
    assert list(models)[:2] == ["most frequent", "stratified guess"]
    for name, model in models.items():
        with single_threaded():
            pred = model.fit(X, y).predict(X)
        assert pred.shape == y.shape and set(pred) <= set(y), name
    with pytest.raises(ValueError, match="unknown size"):
        tabular_models(size="huge")


def test_single_threaded_restores_torch_threads():
    import torch

    before = torch.get_num_threads()
    with single_threaded():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_results_table():
    X, y, groups = _task()
    models = {"mf": DummyClassifier(strategy="most_frequent"), "lr": LogisticRegression(max_iter=300)}
    res = cross_validate(models, X, y, groups, n_permutations={"lr": 2, "mf": 0}, reducer=make_reducer(5))
    table = results_table(res)
    assert list(table.index) == ["mf", "lr"]
    assert table.loc["lr", ("accuracy", "mean")] == pytest.approx(res["lr"].accuracy)
    assert table.loc["mf", ("accuracy", "p")] == "n/a"
    assert table.loc["lr", ("balanced accuracy", "p")] != "n/a"
    assert table.loc["lr", ("cost", "permutations")] == 2
    both = results_table({"a": res, "b": res})
    assert isinstance(both.index, pd.MultiIndex) and both.index.names == ["task", "model"]
    assert len(both) == 4
    # a plain DecodeResult (no balanced p) also fits in the table
    plain = cross_validate_decoder(DummyClassifier(), X, y, groups)
    assert results_table({"plain": plain}).loc["plain", ("balanced accuracy", "p")] == "n/a"
    assert np.isnan(res["mf"].p_value_balanced) and len(res["lr"].permutation_scores_balanced) == 2


def _recording(strength, n_images=N_IMAGES // 4, n_neurons=50, seed=0):
    """Images 0..n_images-1 shown twice; responses = image signal + class signal * strength + noise."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(N_IMAGES, np.int64)
    labels[:n_images] = rng.integers(1, 5, n_images)
    class_means = rng.standard_normal((5, n_neurons))
    signal = rng.standard_normal((n_images, n_neurons)) + strength * class_means[labels[:n_images]]
    istim = np.tile(np.arange(n_images), 2)
    resp = (signal[istim] + rng.standard_normal((len(istim), n_neurons))).astype(np.float32)
    rec = Recording(
        resp=resp, istim=istim, spont=np.zeros((0, n_neurons), np.float32),
        xyz=np.zeros((n_neurons, 3), np.float32), name="test", source="synthetic",
    )
    return rec, labels


def test_category_signal_fraction_finds_a_category_signal_and_no_false_one():
    rec, labels = _recording(strength=1.0)
    out = category_signal_fraction(rec, labels, n_shuffles=20)
    # signal variance 2 of total 3 per neuron; class part 1 of the signal 2
    assert out["signal_fraction"] == pytest.approx(2 / 3, abs=0.05)
    assert out["category_fraction"] == pytest.approx(0.5, abs=0.1)
    assert out["category_fraction"] > out["null_95"] and out["p"] == pytest.approx(1 / 21)
    assert out["single_trial_fraction"] == pytest.approx(out["signal_fraction"] * out["category_fraction"])
    assert out["n_classes"] == 4 and out["n_images"] == N_IMAGES // 4

    rec0, labels0 = _recording(strength=0.0)
    none = category_signal_fraction(rec0, labels0, n_shuffles=20)
    assert none["category_fraction"] < 0.03 and none["null_mean"] < 0.03


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_fast_scores_equal_sklearn():

    rng = np.random.default_rng(0)
    y = rng.integers(1, 6, 300)
    y_pred = np.where(rng.random(300) < 0.4, y, rng.integers(0, 7, 300))  # classes absent from y too
    assert balanced_accuracy(y, y_pred) == pytest.approx(balanced_accuracy_score(y, y_pred))
    folds = [(None, np.arange(0, 150)), (None, np.arange(150, 300))]
    acc, bal = fold_scores(y, y_pred, folds)
    for (_, te), a, b in zip(folds, acc, bal):
        assert a == pytest.approx(accuracy_score(y[te], y_pred[te]))
        assert b == pytest.approx(balanced_accuracy_score(y[te], y_pred[te]))


def test_shuffles_keep_every_fold_as_stratified_as_the_real_labels():
    from neurolab.decoding import grouped_folds, permute_within_folds

    rng = np.random.default_rng(0)
    images = np.repeat(np.arange(120), 2)
    y = rng.integers(0, 4, size=120)[images]
    folds = grouped_folds(y, images, 5, 0)
    shuffled = permute_within_folds(y, images, folds, 1)
    assert not np.array_equal(shuffled, y)
    for _, test in folds:  # each fold keeps its own labels, so every training set keeps its counts
        assert sorted(shuffled[test]) == sorted(y[test])
    for image in np.unique(images):  # an image's repeats still share one label
        assert len(set(shuffled[images == image])) == 1
    assert np.array_equal(shuffled, permute_within_folds(y, images, folds, 1))  # seeded
