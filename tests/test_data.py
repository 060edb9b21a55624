"""neurolab.io: the figshare file layout (MAT v5), loading, checks, classes."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from neurolab.errors import NeurolabDataError
from neurolab.io import (
    describe_source,
    load,
    load_classes,
    load_recording,
    write_natimg_mat,
    write_recording,
)
from neurolab.io.matfile import istim_to_file, read_natimg_mat
from neurolab.recording import GREY, N_IMAGES, Recording, split_repeats

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
N_NEURONS = 50
FILE_NAME = "natimg2800_M000001_MP001_2020-01-01.mat"


def small_recording(n_images=30, repeats=2, n_grey=6, n_neurons=N_NEURONS, seed=0) -> Recording:
    """30 images x 2 repeats + grey trials, shuffled; images 0 and 2799 included (the edges)."""
    rng = np.random.default_rng(seed)
    images = rng.choice(np.arange(1, N_IMAGES - 1), n_images, replace=False)
    images[:2] = 0, N_IMAGES - 1
    istim = np.concatenate([np.repeat(images, repeats), np.full(n_grey, GREY)])
    rng.shuffle(istim)
    return Recording(
        resp=rng.standard_normal((istim.size, n_neurons)).astype(np.float32),
        istim=istim.astype(np.int64),
        spont=rng.standard_normal((40, n_neurons)).astype(np.float32),
        xyz=rng.uniform(0, 500, (n_neurons, 3)).astype(np.float32),
        name="small",
        source="synthetic",
    )


def file_parts(rec=None) -> dict:
    """The arrays of a valid file, in the file's conventions (1-based istim, med as x, y, z)."""
    rec = rec or small_recording()
    return dict(
        resp=rec.resp, istim_1based=istim_to_file(rec.istim), spont=rec.spont, med=rec.xyz
    )


def raise_names_file(path, fragment):
    """load_recording(path) must raise NeurolabDataError naming the file and the fault."""
    with pytest.raises(NeurolabDataError) as info:
        load_recording(path)
    message = str(info.value)
    assert path.name in message, message
    assert fragment in message, message
    return info.value


# ---------------------------------------------------------------- round trips
def test_round_trip_keeps_every_array(tmp_path):
    rec = small_recording()
    path = write_recording(rec, tmp_path / FILE_NAME)
    got = load_recording(path, keep_grey=True)
    assert (got.name, got.source, got.truth) == ("M000001_MP001_2020-01-01", "figshare", None)
    assert got.resp.dtype == np.float32 and got.spont.dtype == np.float32 and got.xyz.dtype == np.float32
    assert got.istim.dtype == np.int64
    np.testing.assert_array_equal(got.resp, rec.resp)
    np.testing.assert_array_equal(got.istim, rec.istim)
    np.testing.assert_array_equal(got.spont, rec.spont)
    np.testing.assert_array_equal(got.xyz, rec.xyz)


def test_grey_trials_dropped_unless_kept(tmp_path):
    rec = small_recording(n_grey=6)
    path = write_recording(rec, tmp_path / FILE_NAME)
    got = load_recording(path)
    assert got.n_trials == rec.n_trials - 6 and not got.is_grey.any()
    np.testing.assert_array_equal(got.resp, rec.without_grey().resp)
    np.testing.assert_array_equal(got.istim, rec.without_grey().istim)
    assert load_recording(path, keep_grey=True).is_grey.sum() == 6
    assert load_recording(path, name="other").name == "other"


def test_file_holds_the_matlab_layout(tmp_path):
    rec = small_recording()
    path = write_recording(rec, tmp_path / FILE_NAME)
    raw = read_natimg_mat(path)
    assert raw["istim"].shape == (rec.n_trials, 1)  # a MATLAB column
    np.testing.assert_array_equal(raw["istim"].ravel(), np.where(rec.istim == GREY, 2801, rec.istim + 1))
    np.testing.assert_array_equal(raw["med"], rec.xyz)  # columns x, y, z
    assert raw["redcell"] is None
    mt = scipy.io.loadmat(path)  # as the authors' powerlaws.ipynb reads it
    assert mt["stim"][0]["resp"][0].shape == (rec.n_trials, N_NEURONS)
    assert mt["stim"][0]["istim"][0].max() == 2801


def test_red_cells_dropped_by_default(tmp_path):
    rec = small_recording()
    redcell = np.zeros(N_NEURONS, dtype=bool)
    redcell[[3, 10, 49]] = True
    path = write_natimg_mat(tmp_path / FILE_NAME, **file_parts(rec), redcell=redcell)
    got = load_recording(path)
    assert got.n_neurons == N_NEURONS - 3
    np.testing.assert_array_equal(got.resp, rec.without_grey().resp[:, ~redcell])
    np.testing.assert_array_equal(got.spont, rec.spont[:, ~redcell])
    np.testing.assert_array_equal(got.xyz, rec.xyz[~redcell])
    assert load_recording(path, drop_redcells=False).n_neurons == N_NEURONS


def _hdf5_file(path, matlab_header: bool):
    """The first bytes of an HDF5 file, with or without MATLAB's 512-byte v7.3 header before them."""
    head = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(512, b" ") if matlab_header else b""
    path.write_bytes(head + b"\x89HDF\r\n\x1a\n" + bytes(64))
    return path


def test_v73_file_refused_with_advice(tmp_path):
    """The published files are MAT v5 (the authors read them with scipy.io.loadmat): a v7.3 file
    is refused, naming the file and how to re-save it."""
    path = _hdf5_file(tmp_path / FILE_NAME, matlab_header=True)
    error = raise_names_file(path, "a MAT v7.3 (HDF5) file")
    assert "-v7" in str(error)


def test_split_repeats_pairs_presentations_in_time_order():
    istim = np.array([5, 7, 5, 9, 7, GREY, 5, 11])  # 5 three times, 7 twice, 9 and 11 once
    resp = np.repeat(np.arange(8, dtype=np.float32)[:, None], 4, axis=1)  # response = trial index
    rec = Recording(resp, istim, np.zeros((3, 4), np.float32), np.zeros((4, 3), np.float32), "t", "synthetic")
    X, ids = split_repeats(rec)
    np.testing.assert_array_equal(ids, [5, 7])  # images shown once are dropped
    assert X.shape == (2, 2, 4) and X.dtype == np.float32
    np.testing.assert_array_equal(X[:, 0, 0], [0, (2 + 6) / 2])  # image 5: first | mean of later two
    np.testing.assert_array_equal(X[:, 1, 0], [1, 4])  # image 7: first | second


# ---------------------------------------------------------------- classes
@pytest.mark.parametrize(
    "kind, filename, n_names",
    [
        ("confident", "stimuli_class_assignment_confident.mat", 12),
        ("all", "stimuli_class_assignment.mat", 16),
    ],
)
def test_load_classes_real_files(kind, filename, n_names):
    path = SHARED_DATA / filename
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared data folder sits beside the repository)")
    labels, names = load_classes(path, kind=kind)
    assert labels.shape == (N_IMAGES,) and labels.dtype == np.int64
    assert len(names) == n_names and names[:3] == ["unknown", "birds", "cats"]
    counts = np.bincount(labels, minlength=n_names)
    assert counts.size == n_names and counts.sum() == N_IMAGES and (counts > 0).all()
    if kind == "confident":
        assert names == ["unknown", "birds", "cats", "flowers", "hamsters", "holes", "insects", "mice",
                         "mushrooms", "nests", "pellets", "snakes"]  # fmt: skip
        assert counts.tolist() == [343, 343, 356, 132, 264, 41, 277, 381, 368, 82, 51, 162]


def test_load_classes_default_reads_the_cache(tmp_path, monkeypatch):
    source = SHARED_DATA / "stimuli_class_assignment_confident.mat"
    if not source.exists():
        pytest.skip(f"{source} is not here")
    monkeypatch.setenv("NEUROLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NEUROLAB_DATA_URL", "http://127.0.0.1:9")  # any network access would fail
    shutil.copy(source, tmp_path)
    labels, names = load_classes()
    assert labels.shape == (N_IMAGES,) and len(names) == 12


def class_file(path, assignment=None, names=None, drop=()):
    names = np.array(["unknown", "birds", "cats"], dtype=object) if names is None else names
    assignment = (
        (np.arange(N_IMAGES) % 3).reshape(1, -1).astype(np.uint8) if assignment is None else assignment
    )
    variables = {"class_assignment": assignment, "class_names": names.reshape(1, -1)}
    scipy.io.savemat(path, {k: v for k, v in variables.items() if k not in drop})
    return path


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(assignment=np.zeros((1, 2799), np.uint8)), "'class_assignment' has shape (1, 2799)"),
        (dict(assignment=np.zeros((40, 70), np.uint8)), "'class_assignment' has shape (40, 70)"),
        (dict(drop=("class_names",)), "missing variable 'class_names'"),
        (dict(drop=("class_assignment",)), "missing variable 'class_assignment'"),
        (dict(assignment=np.full((1, N_IMAGES), 3, np.uint8)), "label 3, out of range for the 3 class names"),
        (dict(assignment=np.full((1, N_IMAGES), 0.5)), "label 0.5, out of range"),
        (dict(names=np.array([1.0, 2.0, 3.0], dtype=object)), "not a string"),
    ],
)
def test_load_classes_bad_files(tmp_path, kwargs, fragment):
    path = class_file(tmp_path / "classes.mat", **kwargs)
    with pytest.raises(NeurolabDataError) as info:
        load_classes(path)
    assert path.name in str(info.value) and fragment in str(info.value), str(info.value)


def test_load_classes_column_vector_and_bad_kind(tmp_path):
    path = class_file(tmp_path / "classes.mat", assignment=(np.arange(N_IMAGES) % 3).reshape(-1, 1))
    labels, names = load_classes(path)
    assert labels[:4].tolist() == [0, 1, 2, 0] and names == ["unknown", "birds", "cats"]
    with pytest.raises(ValueError, match="'confident'"):
        load_classes(path, kind="sure")


# ---------------------------------------------------------------- bad recordings, one fault each
def test_missing_file(tmp_path):
    path = tmp_path / FILE_NAME
    error = raise_names_file(path, "no such file")
    assert isinstance(error, FileNotFoundError)


def test_not_a_matlab_file(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_text("resp,istim\n1,2\n")
    raise_names_file(path, "not a MATLAB file")


def test_hdf5_without_matlab_header(tmp_path):
    path = _hdf5_file(tmp_path / FILE_NAME, matlab_header=False)
    raise_names_file(path, "not a MATLAB file (an HDF5 file without the MATLAB 7.3 header)")


def test_empty_file(tmp_path):
    path = tmp_path / FILE_NAME
    path.touch()
    raise_names_file(path, "empty (0 bytes): truncated or corrupt")


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_file(tmp_path, keep):
    path = write_natimg_mat(tmp_path / FILE_NAME, **file_parts())
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    raise_names_file(path, "truncated or corrupt")


def test_corrupt_file(tmp_path):
    path = write_natimg_mat(tmp_path / FILE_NAME, **file_parts())
    data = bytearray(path.read_bytes())
    data[600:] = np.random.default_rng(0).integers(0, 256, len(data) - 600, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    raise_names_file(path, "truncated or corrupt")


def savemat_v5(path, parts, drop=()):
    """A v5 file with the natimg2800 layout, minus the names in ``drop`` ('stim', 'resp', 'med', ...)."""
    stim = {"resp": parts["resp"], "istim": parts["istim_1based"][:, None], "spont": parts["spont"]}
    variables = {"stim": {k: v for k, v in stim.items() if k not in drop}, "med": parts["med"]}
    scipy.io.savemat(path, {k: v for k, v in variables.items() if k not in drop})
    return path


@pytest.mark.parametrize(
    "drop, fragment",
    [
        ("stim", "missing 'stim'"),
        ("resp", "missing 'stim.resp'"),
        ("istim", "missing 'stim.istim'"),
        ("spont", "missing 'stim.spont'"),
        ("med", "missing 'med'"),
    ],
)
def test_missing_variable(tmp_path, drop, fragment):
    path = savemat_v5(tmp_path / FILE_NAME, file_parts(), drop=(drop,))
    raise_names_file(path, fragment)


def test_stim_not_a_struct(tmp_path):
    path = tmp_path / FILE_NAME
    scipy.io.savemat(path, {"stim": np.zeros((3, 3)), "med": np.zeros((3, 3))})
    raise_names_file(path, "'stim' is not a struct")


def test_resp_not_numeric(tmp_path):
    parts = file_parts()
    parts["resp"] = np.array(["a", "b"], dtype=object)
    raise_names_file(savemat_v5(tmp_path / FILE_NAME, parts), "'stim.resp' is not a numeric array")


@pytest.mark.parametrize(
    "change, fragment",
    [
        (
            lambda p: p.update(spont=p["spont"][:, :-1]),
            "mismatched neuron counts: 'stim.resp' 50, 'stim.spont' 49, 'med' 50",
        ),
        (
            lambda p: p.update(med=p["med"][:-2]),
            "mismatched neuron counts: 'stim.resp' 50, 'stim.spont' 50, 'med' 48",
        ),
        (lambda p: p.update(med=p["med"][:, :2]), "'med' has shape (50, 2)"),
        (lambda p: p.update(istim_1based=p["istim_1based"][:-1]), "'stim.istim' has shape"),
    ],
)
def test_shapes_that_do_not_fit(tmp_path, change, fragment):
    parts = file_parts()
    change(parts)
    raise_names_file(savemat_v5(tmp_path / FILE_NAME, parts), fragment)


@pytest.mark.parametrize(
    "array, value, fragment",
    [
        ("resp", np.nan, "'stim.resp' holds 1 NaN and 0 Inf values (the first at row 4, column 7)"),
        ("resp", -np.inf, "'stim.resp' holds 0 NaN and 1 Inf values"),
        ("spont", np.inf, "'stim.spont' holds 0 NaN and 1 Inf values"),
        ("spont", np.nan, "'stim.spont' holds 1 NaN"),
    ],
)
def test_non_finite_values(tmp_path, array, value, fragment):
    parts = file_parts()
    parts[array] = parts[array].copy()
    parts[array][4, 7] = value
    path = write_natimg_mat(tmp_path / FILE_NAME, **parts)
    raise_names_file(path, fragment)


@pytest.mark.parametrize("bad", [0, 2802, 1.5, -3, np.nan])
def test_istim_out_of_range(tmp_path, bad):
    parts = file_parts()
    parts["istim_1based"] = parts["istim_1based"].copy()
    parts["istim_1based"][2] = bad
    path = write_natimg_mat(tmp_path / FILE_NAME, **parts)
    raise_names_file(path, "'stim.istim' has 1 of 66 values out of range")


def test_no_image_shown_twice(tmp_path):
    path = write_recording(small_recording(repeats=1), tmp_path / FILE_NAME)
    raise_names_file(path, "no image was shown at least twice")


# ---------------------------------------------------------------- the writer never leaves half a file
def test_writer_rejects_bad_shapes_before_writing(tmp_path):
    parts = file_parts()
    parts["med"] = parts["med"][:-1]
    with pytest.raises(ValueError, match=r"med has shape \(49, 3\)"):
        write_natimg_mat(tmp_path / FILE_NAME, **parts)
    with pytest.raises(ValueError, match=r"istim holds 1 values outside -1..2799 \(e.g. 2800\)"):
        write_recording(Recording(*_arrays_with_istim(2800), "x", "synthetic"), tmp_path / FILE_NAME)
    assert list(tmp_path.iterdir()) == []


def _arrays_with_istim(value):
    return (
        np.zeros((2, 3), np.float32),
        np.array([0, value]),
        np.zeros((1, 3), np.float32),
        np.zeros((3, 3), np.float32),
    )


def _fail_midway(*args, **kwargs):
    if args and hasattr(args[0], "write"):
        args[0].write(b"MATLAB 5.0 MAT-file, half")
    raise RuntimeError("disk full")


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / FILE_NAME
    new = tmp_path / "natimg2800_new.mat"
    write_natimg_mat(path, **file_parts())
    before = path.read_bytes()
    monkeypatch.setattr(scipy.io, "savemat", _fail_midway)
    for target in (path, new):
        with pytest.raises(RuntimeError, match="disk full"):
            write_natimg_mat(target, **file_parts())
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]  # no new file, no temporary file
    assert path.read_bytes() == before


# ---------------------------------------------------------------- the chapter-facing helpers
def test_load_dispatches(tmp_path):
    from neurolab.synthetic import make_recording

    got = load("synthetic", size="smoke", rng=4)
    want = make_recording("smoke", 4, labels=load_classes()[0])
    assert got.name == want.name == "synthetic-smoke-seed4"
    np.testing.assert_array_equal(got.resp, want.resp)
    path = write_recording(small_recording(), tmp_path / FILE_NAME)
    assert load(str(path)).name == "M000001_MP001_2020-01-01"
    with pytest.raises(ValueError, match="M170714_MP032_2017-09-14"):
        load("M999999_nobody")


def test_describe_source():
    rec = small_recording()
    synthetic = Recording(rec.resp, rec.istim, rec.spont, rec.xyz, "synthetic-smoke-seed3", "synthetic")
    text = describe_source(synthetic)
    assert (
        "make_recording(size='smoke', rng=3)" in text and "50 neurons" in text and "not a recording" in text
    )
    real = Recording(rec.resp, rec.istim, rec.spont, rec.xyz, "M170714_MP032_2017-09-14", "figshare")
    text = describe_source(real)
    assert "natimg2800_M170714_MP032_2017-09-14.mat" in text and "figshare 6845348" in text
    assert f"{rec.n_trials} trials of 30 images" in text
    mine = Recording(rec.resp, rec.istim, rec.spont, rec.xyz, "my_session", "figshare")
    assert "'my_session'" in describe_source(mine) and "figshare" not in describe_source(mine)
