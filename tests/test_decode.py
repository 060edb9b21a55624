import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from neurolab.decoding import (
    cross_validate_decoder,
    grouped_folds,
    identity_accuracy,
    permute_within_groups,
)


def test_identity_accuracy_perfect_without_noise_and_chance_with_pure_noise():
    rng = np.random.default_rng(0)
    clean = rng.standard_normal((100, 300))
    assert identity_accuracy(np.stack([clean, clean])) == 1.0
    noise = rng.standard_normal((2, 500, 300))
    acc = identity_accuracy(noise)
    assert acc < 0.02  # chance is 1/500


def test_identity_accuracy_uses_correlation_so_gain_does_not_matter():
    rng = np.random.default_rng(1)
    clean = rng.standard_normal((50, 200))
    X = np.stack([clean, 3.0 * clean + 10.0])  # scaled and offset second repeat
    acc, pred = identity_accuracy(X, return_pred=True)
    assert acc == 1.0 and np.array_equal(pred, np.arange(50))


def _images_dataset(n_images=200, n_features=20, informative=True, seed=0):
    rng = np.random.default_rng(seed)
    y_img = rng.integers(0, 3, n_images)
    centers = rng.standard_normal((3, n_features)) * (1.5 if informative else 0.0)
    img = centers[y_img] + rng.standard_normal((n_images, n_features))
    X = np.concatenate([img + 0.3 * rng.standard_normal(img.shape) for _ in range(2)])
    y = np.concatenate([y_img, y_img])
    groups = np.concatenate([np.arange(n_images)] * 2)
    return X, y, groups


def test_grouped_folds_never_split_an_image():
    X, y, groups = _images_dataset()
    folds = grouped_folds(y, groups, cv=5)
    assert len(folds) == 5
    seen = np.concatenate([t for _, t in folds])
    assert np.array_equal(np.sort(seen), np.arange(len(y)))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])


def test_cross_validate_decoder_informative_beats_chance_with_small_p():
    X, y, groups = _images_dataset(informative=True)
    res = cross_validate_decoder(LogisticRegression(max_iter=500), X, y, groups, n_permutations=19)
    assert res.accuracy > 0.8
    assert res.chance_accuracy == pytest.approx(np.bincount(y).max() / len(y), abs=0.05)
    assert res.chance_balanced_accuracy == pytest.approx(1 / 3, abs=1e-9)
    assert res.p_value == pytest.approx(1 / 20)
    assert res.fold_accuracy.shape == (5,) and res.y_pred.shape == y.shape
    assert set(res.summary()) >= {"accuracy", "accuracy_sem", "chance_accuracy", "p_value"}


def test_cross_validate_decoder_noise_is_at_chance():
    X, y, groups = _images_dataset(informative=False, seed=3)
    res = cross_validate_decoder(LogisticRegression(max_iter=500), X, y, groups, n_permutations=19)
    assert res.balanced_accuracy < 0.45
    assert res.p_value > 0.05


def test_same_seed_same_result():
    X, y, groups = _images_dataset()
    a = cross_validate_decoder(LogisticRegression(max_iter=500), X, y, groups, n_permutations=3)
    b = cross_validate_decoder(LogisticRegression(max_iter=500), X, y, groups, n_permutations=3)
    np.testing.assert_array_equal(a.permutation_scores, b.permutation_scores)
    assert a.accuracy == b.accuracy


def test_permute_within_groups_keeps_repeats_together():
    y = np.array([0, 1, 2, 0, 1, 2])
    groups = np.array([0, 1, 2, 0, 1, 2])
    y_perm = permute_within_groups(y, groups, np.random.default_rng(0))
    assert np.array_equal(y_perm[:3], y_perm[3:])
    assert sorted(y_perm[:3]) == [0, 1, 2]
    with pytest.raises(ValueError, match="same label"):
        permute_within_groups(np.array([0, 1]), np.array([0, 0]), np.random.default_rng(0))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="n_samples"):
        cross_validate_decoder(LogisticRegression(), np.zeros(10), np.zeros(10), np.arange(10))
    with pytest.raises(ValueError, match=r"\(2, n_images, n_neurons\)"):
        identity_accuracy(np.zeros((10, 5)))


def test_cross_validate_decoder_on_given_folds():
    X, y, groups = _images_dataset()
    model = LogisticRegression(max_iter=500)
    drawn = cross_validate_decoder(model, X, y, groups, rng=2)
    given = cross_validate_decoder(model, X, y, folds=grouped_folds(y, groups, 5, 2))
    np.testing.assert_array_equal(drawn.y_pred, given.y_pred)
    assert (drawn.accuracy, drawn.chance_accuracy) == (given.accuracy, given.chance_accuracy)
    folds = grouped_folds(y, groups, 5, 2)
    with pytest.raises(ValueError, match="cover every sample exactly once"):
        cross_validate_decoder(model, X, y, folds=folds[:4])
    with pytest.raises(ValueError, match="groups"):
        cross_validate_decoder(model, X, y)
    with pytest.raises(ValueError, match="groups"):
        cross_validate_decoder(model, X, y, folds=folds, n_permutations=3)


def test_identity_rules_are_the_authors_formulas():
    """'dot' is powerlaws.ipynb's `(sresp[0] @ sresp[1].T).argmax(axis=1)` (each first-repeat response
    against every second-repeat one); 'zscore' is decode2800.m's z-score per neuron, then
    `[~, imax] = max(corr(r1', r2'), [], 1)`."""
    rng = np.random.default_rng(4)
    signal = rng.standard_normal((120, 60)) * rng.uniform(0.2, 3.0, 60)  # neurons of unequal scale
    X = np.stack([signal + 2.0 * rng.standard_normal(signal.shape) for _ in range(2)]).astype(np.float32)
    X -= X.mean(axis=1, keepdims=True)
    n = X.shape[1]
    notebook = np.mean((X[0] @ X[1].T).argmax(axis=1) == np.arange(n))
    assert identity_accuracy(X, rule="dot") == pytest.approx(notebook)
    z = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
    corr = np.corrcoef(z[0], z[1])[:n, n:]  # corr(r1', r2'): rows r1 images, columns r2 images
    matlab = np.mean(corr.argmax(axis=0) == np.arange(n))
    assert identity_accuracy(X, rule="zscore") == pytest.approx(matlab)
    plain = np.corrcoef(X[1], X[0])[:n, n:]
    assert identity_accuracy(X) == pytest.approx(np.mean(plain.argmax(axis=1) == np.arange(n)))
    assert len({identity_accuracy(X, rule=r) for r in ("dot", "zscore", "correlation")}) > 1
    with pytest.raises(ValueError, match="rule must be one of"):
        identity_accuracy(X, rule="cosine")


def test_paired_test_detects_a_difference_and_holds_its_level():
    from neurolab.decoding import paired_test

    rng = np.random.default_rng(7)
    y = np.repeat(rng.integers(0, 3, 150), 2)
    groups = np.repeat(np.arange(150), 2)
    truth_or = lambda p_right: np.where(rng.random(len(y)) < p_right, y, (y + 1) % 3)  # noqa: E731
    same = truth_or(0.6)
    t = paired_test(same, same, y, groups, n_permutations=99)
    assert t.difference == 0 and t.p_value == 1.0
    t = paired_test(truth_or(0.9), truth_or(0.4), y, groups, n_permutations=199)
    assert t.difference > 0.3 and t.p_value == pytest.approx(1 / 200)
    # interchangeable decoders: p < 0.05 about 5 % of the time
    ps = [paired_test(truth_or(0.5), truth_or(0.5), y, groups, n_permutations=99, rng=i).p_value
          for i in range(120)]
    assert 0.0 <= np.mean(np.array(ps) < 0.05) <= 0.12
    with pytest.raises(ValueError, match="same samples"):
        paired_test(same[:-1], same, y, groups)


def test_chance_test_pairs_a_decoder_with_the_most_frequent_answer():
    from neurolab.decoding import chance_test, paired_test

    rng = np.random.default_rng(8)
    y = np.repeat(rng.choice([3, 5, 5, 9], 100), 2)  # class 5 is the most frequent
    groups = np.repeat(np.arange(100), 2)
    pred = np.where(rng.random(200) < 0.7, y, 3)
    got = chance_test(pred, y, groups, n_permutations=99)
    want = paired_test(pred, np.full_like(y, 5), y, groups, n_permutations=99)
    assert got == want and got.difference > 0
    assert chance_test(np.array(["a", "b"] * 4), np.array(["a"] * 6 + ["b"] * 2), np.arange(8),
                       n_permutations=9).n_permutations == 9  # any label type


def test_ridge_logistic_cv_is_an_l2_model_with_one_chosen_strength():
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from neurolab.decoding import chosen_c, ridge_logistic_cv

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    X = rng.normal(size=(90, 5)) + y[:, None]
    model = ridge_logistic_cv(
        Cs=[0.01, 1.0, 100.0], cv=StratifiedKFold(3), scoring="neg_log_loss", max_iter=200
    )
    params = model.get_params()
    assert params.get("penalty") == "l2" or tuple(params.get("l1_ratios") or ()) == (0.0,)
    pipe = make_pipeline(StandardScaler(), model).fit(X, y)
    assert chosen_c(pipe) in (0.01, 1.0, 100.0) and chosen_c(pipe[-1]) == chosen_c(pipe)
    with pytest.raises(Exception, match="not fitted"):
        chosen_c(ridge_logistic_cv(Cs=[1.0], cv=3))


def test_strength_sweep_finds_a_planted_signal_and_not_an_absent_one(tmp_path, monkeypatch):
    from neurolab.decoding import STRENGTH_DECODERS, strength_sweep
    from neurolab.io import load_classes

    labels = load_classes()[0]
    monkeypatch.setenv("NEUROLAB_DATA_DIR", str(tmp_path))  # a fresh cache for the sweep
    sweep = strength_sweep([0.0, 0.3], labels, size="smoke", rng=0, n_swaps=199)
    assert list(sweep.decoder.unique()) == list(STRENGTH_DECODERS)
    none = sweep[sweep.category_strength == 0.0].set_index("decoder")
    strong = sweep[sweep.category_strength == 0.3].set_index("decoder")
    assert (none.p_value > 0.05).all() or (none.difference <= 0.02).all()  # nothing to find
    assert (strong.p_value <= 0.05).all() and (strong.balanced_accuracy > 2 * strong.chance).all()
    # the measured axis grows with the planted strength and stands out of its null at 0.3
    assert strong.category_fraction.iloc[0] > strong.category_null_95.iloc[0]
    assert strong.category_fraction.iloc[0] > none.category_fraction.iloc[0]
    # cached: the second call reads the file and gives the same table
    files = list((tmp_path / "strength_sweep").glob("*.json"))
    assert len(files) == 2  # one per strength
    again = strength_sweep([0.0, 0.3], labels, size="smoke", rng=0, n_swaps=199)
    pd.testing.assert_frame_equal(again, sweep, check_dtype=False)
    with pytest.raises(ValueError, match="strengths"):
        strength_sweep([-1.0], labels, size="smoke")
