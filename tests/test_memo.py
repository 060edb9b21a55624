"""Work remembered across cells, chapters and builds: trained networks and permutation nulls.

A memo hit must give exactly what the computation gives (the predictions, the permutation scores,
and the random-number states left behind), keyed by everything the result depends on; a damaged
entry is computed again; ``NEUROLAB_MEMO=0`` turns it off.
"""

from __future__ import annotations

import random
from functools import partial

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import neurolab.decoding.cv as cv
import neurolab.nn.train as train
from neurolab.decoding import cross_validate
from neurolab.nn import FastaiClassifier, TabularMLP


@pytest.fixture
def memo_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEUROLAB_MEMO", raising=False)
    monkeypatch.setattr(train, "MEMO_MIN_SIZE", 0)
    return tmp_path / "memo"


def _data(n=240, d=20, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), n // 4)
    X = rng.normal(size=(n, d)).astype(np.float32) + y[:, None] * 0.3
    return X, y, np.arange(n) // 2


class _Counting:
    """Counts real trainings (fastai's fit_one_cycle is wrapped, not replaced)."""

    def __init__(self, monkeypatch):
        import fastai.callback.schedule  # noqa: F401  (adds Learner.fit_one_cycle)
        from fastai.learner import Learner

        self.calls, original = 0, Learner.fit_one_cycle

        def counted(learner, *args, **kwargs):
            self.calls += 1
            return original(learner, *args, **kwargs)

        monkeypatch.setattr(Learner, "fit_one_cycle", counted)


def _after():
    """What the global random-number generators draw next."""
    return torch.rand(3).tolist(), np.random.random(3).tolist(), random.random()  # noqa: NPY002


def test_a_remembered_network_predicts_and_leaves_the_rngs_as_training_did(memo_dir, monkeypatch):
    X, y, groups = _data()
    counter = _Counting(monkeypatch)
    net = FastaiClassifier(partial(TabularMLP, layers=(16,)), epochs=2, rng=3)
    first = net.fit(X, y, groups=groups).predict_proba(X)
    after_first = _after()
    assert counter.calls == 1 and len(list((memo_dir / "fastai_fit").glob("*.npz"))) == 1
    again = FastaiClassifier(partial(TabularMLP, layers=(16,)), epochs=2, rng=3).fit(X, y, groups=groups)
    after_again = _after()
    assert counter.calls == 1  # read back, not trained
    np.testing.assert_array_equal(again.predict_proba(X), first)
    assert after_again == after_first


@pytest.mark.parametrize("change", ["epochs", "rng", "data", "groups", "threads", "network"])
def test_anything_the_weights_depend_on_is_in_the_key(memo_dir, monkeypatch, change):
    X, y, groups = _data()
    counter = _Counting(monkeypatch)
    params = dict(build=partial(TabularMLP, layers=(16,)), epochs=1, rng=0)
    FastaiClassifier(**params).fit(X, y, groups=groups)
    if change == "epochs":
        params["epochs"] = 2
    elif change == "rng":
        params["rng"] = 1
    elif change == "data":
        X = X.copy()
        X[0, 0] += 1e-3
    elif change == "groups":
        groups = np.arange(len(y))
    elif change == "network":
        params["build"] = partial(TabularMLP, layers=(17,))
    threads = torch.get_num_threads()
    try:
        if change == "threads":
            torch.set_num_threads(1 if threads > 1 else 2)
        FastaiClassifier(**params).fit(X, y, groups=groups)
    finally:
        torch.set_num_threads(threads)
    assert counter.calls == 2


def test_progress_trains_for_real_and_a_damaged_memo_is_trained_again(memo_dir, monkeypatch):
    X, y, groups = _data()
    counter = _Counting(monkeypatch)
    params = dict(build=partial(TabularMLP, layers=(16,)), epochs=1, rng=0)
    reference = FastaiClassifier(**params).fit(X, y, groups=groups).predict(X)
    FastaiClassifier(**params, progress=True).fit(X, y, groups=groups)
    assert counter.calls == 2
    (entry,) = (memo_dir / "fastai_fit").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:300])
    np.testing.assert_array_equal(FastaiClassifier(**params).fit(X, y, groups=groups).predict(X), reference)
    assert counter.calls == 3
    monkeypatch.setenv("NEUROLAB_MEMO", "0")
    FastaiClassifier(**params).fit(X, y, groups=groups)
    assert counter.calls == 4


def test_small_inputs_are_not_remembered(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROLAB_DATA_DIR", str(tmp_path))
    X, y, groups = _data()
    FastaiClassifier(partial(TabularMLP, layers=(8,)), epochs=1).fit(X, y, groups=groups)
    assert not (tmp_path / "memo" / "fastai_fit").exists()


def test_a_permutation_null_is_read_back_bit_for_bit(memo_dir, monkeypatch):
    X, y, groups = _data(n=200)
    fits = {"n": 0}
    original = cv._oof

    def counted(*args, **kwargs):
        fits["n"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(cv, "_oof", counted)
    models = {"lr": LogisticRegression(C=0.1, max_iter=200)}
    first = cross_validate(models, X, y, groups, n_permutations=25, rng=0)["lr"]
    assert fits["n"] == 2 + 25 and len(list((memo_dir / "permutation_null").glob("*.npz"))) == 1
    again = cross_validate(models, X, y, groups, n_permutations=25, rng=0)["lr"]
    assert fits["n"] == 2 + 25 + 2  # only the chance dummy and the observed labels were fitted again
    np.testing.assert_array_equal(again.permutation_scores, first.permutation_scores)
    np.testing.assert_array_equal(again.permutation_scores_balanced, first.permutation_scores_balanced)
    assert (again.p_value, again.p_value_balanced) == (first.p_value, first.p_value_balanced)
    # another C, another seed of the shuffles: other entries
    cross_validate({"lr": LogisticRegression(C=1.0, max_iter=200)}, X, y, groups, n_permutations=25, rng=0)
    cross_validate(models, X, y, groups, n_permutations=25, rng=1)
    assert len(list((memo_dir / "permutation_null").glob("*.npz"))) == 3


def test_a_small_null_or_an_unidentifiable_model_is_not_remembered(memo_dir):
    X, y, groups = _data(n=200)
    cross_validate({"lr": LogisticRegression()}, X, y, groups, n_permutations=5, rng=0)  # 25 fits
    assert not (memo_dir / "permutation_null").exists()
    assert cv._null_key(LogisticRegression(class_weight={0: object()}), [(np.arange(3), np.arange(3))] * 5,
                        [(np.zeros((3, 2)), np.zeros((3, 2)))] * 5, [np.arange(3)] * 30, None) is None


def test_a_fit_with_the_progress_display_is_remembered_for_the_fits_that_follow(memo_dir, monkeypatch):
    """The display changes no number (chapter 5 shows one fold's training, then cross-validates it)."""
    X, y, groups = _data()
    params = dict(build=partial(TabularMLP, layers=(16,), dropout=0.2), epochs=2, rng=5)
    monkeypatch.setenv("NEUROLAB_MEMO", "0")
    plain = FastaiClassifier(**params).fit(X, y, groups=groups).predict_proba(X)
    monkeypatch.delenv("NEUROLAB_MEMO")
    counter = _Counting(monkeypatch)
    shown = FastaiClassifier(**params, progress=True).fit(X, y, groups=groups).predict_proba(X)
    read = FastaiClassifier(**params).fit(X, y, groups=groups).predict_proba(X)
    assert counter.calls == 1
    np.testing.assert_array_equal(shown, plain)
    np.testing.assert_array_equal(read, plain)
