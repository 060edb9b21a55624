import dataclasses

import numpy as np
import pytest

from neurolab.decoding import (
    denoise_sweep,
    identity_accuracy,
    identity_scores,
    projection_sweep,
    random_directions,
)
from neurolab.decoding.denoise_sweep import DenoiseSweep
from neurolab.geometry import signal_variance_fraction
from neurolab.preprocessing import SpontaneousPCs, centre, truncate
from neurolab.recording import N_IMAGES, split_repeats
from neurolab.synthetic import make_recording

NS = (0, 1, 4, 16)


@pytest.fixture(scope="module")
def rec():
    labels = np.arange(N_IMAGES) % 12  # no class file needed
    return make_recording("smoke", rng=1, labels=labels, keep_grey=True, n_neurons=300, image_step=10)


@pytest.fixture(scope="module")
def sweep(rec):
    return denoise_sweep(rec, NS)


def _direct(rec, transformer):
    """What the chapter would do without the sweep: transform, pair the repeats, measure."""
    stim = rec.without_grey()
    X, _ = split_repeats(dataclasses.replace(stim, resp=centre(transformer.transform(stim.resp))))
    return X


def test_sweep_matches_transform_then_measure(rec, sweep):
    assert isinstance(sweep, DenoiseSweep)
    assert sweep.n_components.tolist() == list(NS)
    assert sweep.n_images == N_IMAGES // 10 and sweep.chance == pytest.approx(1 / sweep.n_images)
    for n in NS:
        X = _direct(rec, truncate(sweep.transformer, n))
        assert sweep.at(n) == pytest.approx(identity_accuracy(X), abs=1.5 / sweep.n_images)
        assert sweep.at(n, "signal_variance_fraction") == pytest.approx(signal_variance_fraction(X), rel=1e-4)
        scores = identity_scores(X)
        assert sweep.at(n, "same_image_corr") == pytest.approx(np.diag(scores).mean(), abs=1e-4)
        off = scores[~np.eye(len(scores), dtype=bool)].mean()
        assert sweep.at(n, "other_image_corr") == pytest.approx(off, abs=1e-4)


def test_removed_variance_fractions_grow_from_zero(sweep):
    for name in ("stimulus_variance_removed", "spont_variance_removed", "truth_signal_removed"):
        values = getattr(sweep, name)
        assert values[0] == 0 and np.all(np.diff(values) >= -1e-12) and values[-1] < 1, name
    # spontaneous PCs are fitted on spontaneous activity: its variance goes first
    evr = np.cumsum(sweep.transformer.explained_variance_ratio_)
    np.testing.assert_allclose(sweep.spont_variance_removed[1:], evr[np.array(NS[1:]) - 1], rtol=1e-3)
    assert np.all(sweep.spont_variance_removed[1:] > sweep.stimulus_variance_removed[1:])


def test_real_data_has_no_truth_measure(rec):
    real_like = dataclasses.replace(rec, source="figshare", truth=None)
    sweep = denoise_sweep(real_like, (0, 2))
    assert sweep.truth_signal_removed is None
    assert "truth_signal_removed" not in sweep.table()


def test_truncate_is_a_nested_copy(sweep):
    full = sweep.transformer
    small = truncate(full, 4)
    assert small.n_components == 4 and small.components_.shape == (4, full.n_features_in_)
    np.testing.assert_array_equal(small.components_, full.components_[:4])
    assert full.components_.shape[0] == max(NS)  # the original is untouched
    with pytest.raises(ValueError, match="between 0 and"):
        truncate(full, max(NS) + 1)
    with pytest.raises(ValueError, match="fitted"):
        truncate(SpontaneousPCs(3), 1)


def test_nested_components_agree_with_a_direct_fit(rec, sweep):
    direct = SpontaneousPCs(4).fit(rec.spont).components_
    overlap = np.linalg.svd(direct @ sweep.transformer.components_[:4].T, compute_uv=False)
    assert overlap.min() > 0.9  # same subspace, up to the randomized SVD's accuracy


def test_random_directions_are_orthonormal_and_seeded():
    r = random_directions(50, 7, rng=3)
    assert r.shape == (7, 50) and r.dtype == np.float32
    np.testing.assert_allclose(r @ r.T, np.eye(7), atol=1e-5)
    np.testing.assert_array_equal(r, random_directions(50, 7, rng=3))
    assert not np.allclose(r, random_directions(50, 7, rng=4))
    with pytest.raises(ValueError, match="n_directions"):
        random_directions(5, 6)


def test_projection_sweep_with_random_directions_and_own_statistics(rec, sweep):
    r = random_directions(rec.n_neurons, 16, rng=0)
    control = projection_sweep(rec, r, NS)
    assert control.transformer is None
    assert control.at(0) == sweep.at(0)  # nothing removed: the same z-scored responses
    # random directions hold about n / n_neurons of the variance, far less than spontaneous PCs
    assert control.spont_variance_removed[-1] < sweep.spont_variance_removed[-1]
    assert control.stimulus_variance_removed[-1] == pytest.approx(16 / rec.n_neurons, rel=0.5)
    stim = rec.without_grey().resp
    own = projection_sweep(rec, r[:0], [0], mean=stim.mean(0), scale=stim.std(0))
    X, _ = split_repeats(dataclasses.replace(rec, resp=(rec.resp - stim.mean(0)) / stim.std(0)))
    assert own.at(0) == pytest.approx(identity_accuracy(X), abs=1.5 / own.n_images)


def test_best_at_and_table(sweep):
    best = sweep.best()
    assert best in NS and sweep.at(best) == sweep.identity_accuracy.max()
    with pytest.raises(KeyError, match="not swept"):
        sweep.at(5)
    table = sweep.table()
    assert table["n_components"] == list(NS) and len(table["identity_accuracy"]) == len(NS)


def test_bad_inputs_raise(rec):
    with pytest.raises(ValueError, match="non-negative"):
        denoise_sweep(rec, [-1, 2])
    with pytest.raises(ValueError, match="orthonormal"):
        projection_sweep(rec, np.ones((2, rec.n_neurons)))
    with pytest.raises(ValueError, match="shape"):
        projection_sweep(rec, np.eye(3))
    with pytest.raises(ValueError, match="only 2 given"):
        projection_sweep(rec, random_directions(rec.n_neurons, 2), [0, 3])


def test_project_trials_and_repeats_match_transform_then_project(rec, sweep):
    from neurolab.decoding import project_repeats, project_trials

    sp = sweep.transformer
    C = sp.components_[:4]
    stim = rec.without_grey()
    z = centre(truncate(sp, 0).transform(stim.resp))
    proj = project_trials(rec, C, sp.mean_, sp.scale_)
    assert proj.shape == (stim.n_trials, 4)
    np.testing.assert_allclose(proj, z @ C.T, atol=1e-3)
    P, ids = project_repeats(rec, C, sp.mean_, sp.scale_)
    X, ids_direct = split_repeats(dataclasses.replace(stim, resp=z))
    np.testing.assert_array_equal(ids, ids_direct)
    np.testing.assert_allclose(P, X @ C.T, atol=1e-3)
    with pytest.raises(ValueError, match="directions must have shape"):
        project_trials(rec, C[:, :10], sp.mean_, sp.scale_)
