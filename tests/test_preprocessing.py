import dataclasses

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from neurolab.preprocessing import SpontaneousPCs, centre


def _contaminated(seed=0, n_neurons=200, k=3):
    """Spontaneous activity and responses sharing a k-dimensional fluctuation subspace."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((n_neurons, k)))
    spont = 20 * rng.standard_normal((2000, k)) @ basis.T + rng.standard_normal((2000, n_neurons))
    stim = rng.standard_normal((300, n_neurons))
    resp = stim + 20 * rng.standard_normal((300, k)) @ basis.T
    return spont.astype(np.float32), resp.astype(np.float32), stim, basis


def test_projects_out_the_spontaneous_subspace():
    spont, resp, stim, basis = _contaminated()
    d = SpontaneousPCs(n_components=3).fit(spont)
    assert d.components_.shape == (3, 200)
    np.testing.assert_allclose(d.components_ @ d.components_.T, np.eye(3), atol=1e-4)
    # the learned PCs span the planted subspace
    overlap = np.linalg.svd(d.components_ @ basis, compute_uv=False)
    assert overlap.min() > 0.95
    out = centre(d.transform(resp))
    assert out.dtype == np.float32 and out.shape == resp.shape
    np.testing.assert_allclose(out @ d.components_.T, 0, atol=1e-3)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    # contamination removed: the cleaned responses correlate with the stimulus-driven part
    raw_corr = np.corrcoef(resp.ravel(), stim.ravel())[0, 1]
    clean_corr = np.corrcoef(out.ravel(), (stim - stim.mean(0)).ravel())[0, 1]
    assert clean_corr > raw_corr + 0.3


def test_zero_components_only_zscores_and_centring_is_its_own_step():
    spont, resp, _, _ = _contaminated()
    d = SpontaneousPCs(n_components=0).fit(spont)
    expected = (resp - spont.mean(0)) / spont.std(0)
    np.testing.assert_allclose(d.transform(resp), expected, atol=1e-4)
    np.testing.assert_allclose(centre(d.transform(resp)), expected - expected.mean(0), atol=1e-4)


def test_transform_of_one_trial_is_that_row_of_transform_of_all():
    """Everything transform uses was learned in fit: no statistic of the batch it is given."""
    spont, resp, _, _ = _contaminated()
    d = SpontaneousPCs(n_components=3).fit(spont)
    whole = d.transform(resp)
    for i in (0, 7, len(resp) - 1):
        np.testing.assert_allclose(d.transform(resp[i : i + 1])[0], whole[i], rtol=1e-5, atol=1e-6)


def test_explained_variance_is_sorted_and_dominated_by_planted_dims():
    spont, _, _, _ = _contaminated()
    evr = SpontaneousPCs(n_components=10).fit(spont).explained_variance_ratio_
    assert np.all(np.diff(evr) <= 1e-9)
    assert evr[:3].sum() > 0.5 and evr[3:].max() < 0.02


def test_errors_are_specific():
    spont, resp, _, _ = _contaminated()
    with pytest.raises(NotFittedError):
        SpontaneousPCs().transform(resp)
    with pytest.raises(ValueError, match="n_components"):
        SpontaneousPCs(n_components=500).fit(spont)
    d = SpontaneousPCs(3).fit(spont)
    with pytest.raises(ValueError, match="expecting 200 features"):
        d.transform(resp[:, :10])
    bad = spont.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SpontaneousPCs(3).fit(bad)
    with pytest.raises(ValueError, match="2D array"):
        SpontaneousPCs(3).fit(spont[0])


def test_constant_neuron_does_not_divide_by_zero():
    spont, resp, _, _ = _contaminated()
    spont[:, 0] = 1.0
    out = SpontaneousPCs(3).fit(spont).transform(resp)
    assert np.isfinite(out).all()


def test_the_spontaneous_fit_is_read_back_exactly(tmp_path, monkeypatch):
    """The memo of the spontaneous PCs (shared by every chapter) gives what fit gave, warnings too."""
    import neurolab.preprocessing as pre
    from neurolab.recording import N_IMAGES
    from neurolab.synthetic import make_recording

    monkeypatch.setenv("NEUROLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEUROLAB_MEMO", raising=False)
    monkeypatch.setattr(pre, "MEMO_MIN_SIZE", 0)
    rec = make_recording("smoke", 0, labels=np.arange(N_IMAGES) % 12)  # no class file needed
    spont = rec.spont.copy()
    spont[:, 3] = 1.0  # one silent neuron: its warning must come back with the memo
    rec = dataclasses.replace(rec, spont=spont)
    with pytest.warns(UserWarning, match="1 of 600 neurons are silent"):
        first, sp1 = pre.denoise_recording(rec, 16, rng=3)
    (memo,) = (tmp_path / "memo" / "spontaneous_pcs").glob("*.npz")
    with pytest.warns(UserWarning, match="1 of 600 neurons are silent"):
        again, sp2 = pre.denoise_recording(rec, 16, rng=3)
    np.testing.assert_array_equal(again.resp, first.resp)
    for name in ("mean_", "scale_", "silent_", "components_", "explained_variance_ratio_"):
        np.testing.assert_array_equal(getattr(sp2, name), getattr(sp1, name))
    memo.write_bytes(memo.read_bytes()[:500])  # damaged: computed again, the same
    with pytest.warns(UserWarning, match="silent"):
        np.testing.assert_array_equal(pre.denoise_recording(rec, 16, rng=3)[0].resp, first.resp)
    other, _ = pre.denoise_recording(rec, 8, rng=3)  # another setting: another entry
    assert len(list(memo.parent.glob("*.npz"))) == 2 and not np.array_equal(other.resp, first.resp)
    monkeypatch.setenv("NEUROLAB_MEMO", "0")
    pre.denoise_recording(rec, 4, rng=3)
    assert len(list(memo.parent.glob("*.npz"))) == 2
