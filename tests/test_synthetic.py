from pathlib import Path

import numpy as np
import pytest

from neurolab.decoding import identity_accuracy
from neurolab.io import load_classes
from neurolab.preprocessing import SpontaneousPCs, centre
from neurolab.recording import GREY, N_IMAGES, split_repeats
from neurolab.synthetic import SIZES, make_recording

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="module")
def labels():
    return load_classes(SHARED / "stimuli_class_assignment_confident.mat")[0]


@pytest.fixture(scope="module")
def smoke(labels):
    return make_recording("smoke", rng=0, labels=labels, keep_grey=True)


def test_layout_and_types(smoke):
    p = SIZES["smoke"]
    assert smoke.source == "synthetic" and smoke.name == "synthetic-smoke-seed0"
    assert smoke.resp.dtype == np.float32 and smoke.spont.dtype == np.float32
    assert smoke.xyz.dtype == np.float32 and smoke.istim.dtype == np.int64
    assert smoke.resp.shape == (len(smoke.istim), p.n_neurons)
    assert smoke.spont.shape == (p.n_spont, p.n_neurons)
    assert (smoke.resp >= 0).all() and (smoke.spont >= 0).all()  # deconvolved activity is >= 0
    assert int(smoke.is_grey.sum()) == p.n_grey


def test_every_image_twice_in_time_order_with_grey_interleaved(smoke):
    stim = smoke.istim[~smoke.is_grey]
    ids, counts = np.unique(stim, return_counts=True)
    assert np.array_equal(ids, np.arange(0, N_IMAGES, SIZES["smoke"].image_step))
    assert np.all(counts == 2)
    # repeat 2 starts after repeat 1 ends: first occurrences all precede second ones
    first_half = stim[: len(ids)]
    assert np.array_equal(np.sort(first_half), ids)
    grey_pos = np.flatnonzero(smoke.istim == GREY)
    assert grey_pos.min() < len(smoke.istim) // 2 < grey_pos.max()  # spread through the session


def test_positions_in_planes_over_a_millimetre(smoke):
    z = np.unique(smoke.xyz[:, 2])
    assert len(z) == SIZES["smoke"].n_planes
    assert np.allclose(np.diff(z), SIZES["smoke"].plane_spacing_um)
    assert smoke.xyz[:, :2].min() >= 0 and 900 < smoke.xyz[:, :2].max() <= 1000


def test_same_seed_identical_different_seed_differs(labels):
    a = make_recording("smoke", rng=3, labels=labels)
    b = make_recording("smoke", rng=3, labels=labels)
    c = make_recording("smoke", rng=4, labels=labels)
    for name in ("resp", "istim", "spont", "xyz"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.truth.clean, b.truth.clean)
    assert not np.array_equal(a.resp, c.resp)


def test_grey_trials_dropped_by_default(labels, smoke):
    rec = make_recording("smoke", rng=0, labels=labels)
    assert not rec.is_grey.any()
    np.testing.assert_array_equal(rec.resp, smoke.resp[~smoke.is_grey])


def test_truth_is_consistent(smoke, labels):
    t = smoke.truth
    assert t.clean.shape == (len(t.image_ids), smoke.n_neurons)
    assert t.latents.shape == (len(t.image_ids), SIZES["smoke"].n_latents)
    np.testing.assert_array_equal(t.labels, labels)
    assert t.category_means.shape[0] == labels.max() + 1
    assert np.all(t.category_means[0] == 0)  # 'unknown' carries no category signal
    # the noise-free responses predict the trial-averaged responses well
    X, ids = split_repeats(smoke)
    np.testing.assert_array_equal(ids, t.image_ids)
    mean = X.mean(0)
    r = np.corrcoef(mean.ravel(), t.clean.ravel())[0, 1]
    assert r > 0.5


def test_responses_are_sparse_and_heavy_tailed(smoke):
    r = smoke.resp
    z = (r - r.mean(0)) / r.std(0)
    kurtosis = np.mean(z**4, axis=0)
    assert np.median(kurtosis) > 5  # a Gaussian has 3
    assert np.mean(r < 0.1 * r.mean()) > 0.2  # many near-silent responses


def test_spontaneous_pcs_contaminate_and_removing_them_helps(labels):
    rec = make_recording("smoke", rng=1, labels=labels)
    raw = centre(SpontaneousPCs(0).fit(rec.spont).transform(rec.resp))
    den = centre(SpontaneousPCs(32).fit(rec.spont).transform(rec.resp))

    def ident(z):
        from dataclasses import replace

        return identity_accuracy(split_repeats(replace(rec, resp=z))[0])

    assert ident(den) > ident(raw)
    evr = SpontaneousPCs(32).fit(rec.spont).explained_variance_ratio_
    assert evr[0] > 5 * evr[-1]  # a few dominant shared dimensions


def test_tuning_is_smooth_in_cortical_space(smoke):
    clean = smoke.truth.clean - smoke.truth.clean.mean(0)
    c = np.corrcoef(clean.T)
    d = np.linalg.norm(smoke.xyz[:, None, :2] - smoke.xyz[None, :, :2], axis=-1)
    iu = np.triu_indices(len(d), 1)
    near = c[iu][d[iu] < 50].mean()
    far = c[iu][d[iu] > 600].mean()
    assert near > far + 0.05


def test_category_signal_is_present_but_weak(smoke):
    t = smoke.truth
    lab = t.labels[t.image_ids]
    known = lab > 0
    class_var = np.var(t.category_means[lab[known]], axis=0).sum()
    total_var = np.var(t.latents[known], axis=0).sum()
    assert 0.005 < class_var / total_var < 0.1  # present, but a small share of the image features


def test_bad_arguments(labels):
    with pytest.raises(ValueError, match="unknown size"):
        make_recording("huge", labels=labels)
    with pytest.raises(ValueError, match="labels must have shape"):
        make_recording("smoke", labels=labels[:10])
    with pytest.raises(TypeError):
        make_recording("smoke", labels=labels, no_such_param=1)


def test_category_task_excludes_grey_and_unknown_and_groups_by_image(labels, smoke):
    from neurolab.decoding import category_task

    X, y, groups = category_task(smoke, labels)
    assert len(X) == len(y) == len(groups) == np.sum((smoke.istim >= 0) & (labels[np.maximum(smoke.istim, 0)] > 0))
    assert y.min() >= 1 and np.array_equal(y, labels[groups])
    Xa, ya, ga = category_task(smoke, labels, average_repeats=True, drop_unknown=False)
    assert len(np.unique(ga)) == len(ga) and 0 in ya
    i = ga[0]
    np.testing.assert_allclose(Xa[0], smoke.resp[smoke.istim == i].mean(axis=0), rtol=1e-5)


def test_denoise_recording_matches_transformer(smoke):
    from neurolab.preprocessing import denoise_recording

    den, sp = denoise_recording(smoke, 8)
    np.testing.assert_array_equal(den.resp, centre(sp.transform(smoke.resp)))
    # the noise-free responses go through the same preprocessing (centred over images)
    np.testing.assert_allclose(den.truth.clean, centre(sp.transform(smoke.truth.clean)), atol=1e-5)
    assert smoke.truth.clean.min() >= 0  # the original is untouched (raw, rectified responses)
    assert den.spont is smoke.spont
