"""Load a natimg2800 recording (real or its synthetic twin) or the image classes.

A chapter calls ``load(DATA, SIZE, SEED)`` and prints ``describe_source(rec)``. Real recordings are
read from the figshare MATLAB files (``load_recording``), checked, and returned as a ``Recording``
with 0-based image indices and grey-screen trials marked ``GREY`` (-1).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from neurolab._validation import OUTLIER_FACTOR, outliers
from neurolab.errors import NeurolabDataError
from neurolab.io.fetch import CLASS_FILES, RECORDINGS, fetch_classes, fetch_recording, recording_filename
from neurolab.io.matfile import GREY_CODE, istim_from_file, read_classes_mat, read_natimg_mat
from neurolab.recording import GREY, N_IMAGES, Recording
from neurolab.synthetic import cached_recording

__all__ = ["describe_source", "load", "load_classes", "load_recording"]

_FILE_PREFIX = "natimg2800_"


def load(data: str, size: str = "full", rng: int = 0, keep_grey: bool = False) -> Recording:
    """The one call a chapter makes.

    Parameters
    ----------
    data : str
        'synthetic' -> ``neurolab.synthetic.make_recording(size, rng, labels)`` with the real
        confident class labels (``load_classes()``), kept in a disk cache after the first call at
        'course' and 'full' size (``neurolab.synthetic.cached_recording``); a recording name such as
        'M170714_MP032_2017-09-14' -> that figshare file (downloaded once, then cached); a path
        ending in '.mat' -> that file.
    size : str
        'smoke', 'course' or 'full'; synthetic data only.
    rng : int
        Seed of the synthetic generator; synthetic data only.
    keep_grey : bool
        Keep grey-screen trials (istim == GREY); dropped by default.

    Returns
    -------
    Recording
    """
    if isinstance(data, bytes):
        data = os.fsdecode(data)
    if isinstance(data, os.PathLike):
        data = os.fspath(data)
    if not isinstance(data, str):
        raise TypeError(f"data must be 'synthetic', a recording name or a .mat path; got {data!r}")
    if data == "synthetic":
        labels, _ = load_classes()
        return cached_recording(size=size, rng=rng, labels=labels, keep_grey=keep_grey)
    if data.lower().endswith(".mat") and not _names_a_recording(data):
        return load_recording(data, keep_grey=keep_grey)  # a path ('~' expanded), checked there
    return load_recording(fetch_recording(data), keep_grey=keep_grey)


def _names_a_recording(data: str) -> bool:
    """True for 'natimg2800_<name>.mat' of a published recording that is not a file here."""
    if os.sep in data or Path(data).expanduser().exists():
        return False
    try:
        recording_filename(data)
    except ValueError:
        return False
    return True


def describe_source(rec: Recording) -> str:
    """One sentence saying which data a page ran on, for the top of its output."""
    counts = f"{rec.n_neurons:,} neurons, {rec.n_trials:,} trials of {_n_images(rec):,} images"
    if rec.source == "synthetic":
        match = re.fullmatch(r"synthetic-(?P<size>.+)-seed(?P<seed>-?\d+)", rec.name)
        call = (
            f"neurolab.synthetic.make_recording(size={match['size']!r}, rng={match['seed']})"
            if match
            else f"neurolab.synthetic ({rec.name!r})"
        )
        return f"This page ran on synthetic data from {call}: {counts} (a simulation, not a recording)."
    if rec.name in RECORDINGS:
        return (
            f"This page ran on the recording {rec.name} (file {_FILE_PREFIX}{rec.name}.mat, "
            f"Stringer et al., figshare 6845348): {counts}."
        )
    return f"This page ran on the recording {rec.name!r}, read from a natimg2800 MATLAB file: {counts}."


def load_recording(
    path, keep_grey: bool = False, drop_redcells: bool = True, name: str | None = None
) -> Recording:
    """Read and check one natimg2800 MATLAB file (MAT v5/v7, as published) as a ``Recording``.

    Parameters
    ----------
    path : str or pathlib.Path
    keep_grey : bool
        Keep grey-screen trials (istim ``GREY``); dropped by default.
    drop_redcells : bool
        Drop GAD+ neurons flagged in ``stat.redcell`` (as the authors do), if the file has it.
    name : str, optional
        Default: the file name without the ``natimg2800_`` prefix and ``.mat``.

    Returns
    -------
    Recording
        resp (n_trials, n_neurons) float32, istim (n_trials,) int64 0-based, spont
        (n_timepoints, n_neurons) float32 (0 timepoints if the file has none), xyz
        (n_neurons, 3) float32.

    Raises
    ------
    NeurolabDataError
        (NeurolabFileNotFoundError if missing) naming the file and the fault.
    """
    path = Path(os.fsdecode(path)).expanduser()
    raw = read_natimg_mat(path, redcell=drop_redcells)
    resp, istim, spont, med = _checked_shapes(path, raw)
    _check_finite(path, "stim.resp", resp)
    _check_finite(path, "stim.spont", spont)
    _check_finite(path, "med", med)
    _check_istim(path, istim)
    istim = istim_from_file(istim)
    _check_repeats(path, istim)

    resp = _as_float32(path, "stim.resp", resp)
    spont = _as_float32(path, "stim.spont", spont)
    xyz = _as_float32(path, "med", med)
    _check_outliers(path, "stim.resp", resp)
    _check_outliers(path, "stim.spont", spont)
    if drop_redcells and raw["redcell"] is not None:
        keep = ~raw["redcell"]
        if not keep.any():
            raise NeurolabDataError(
                f"{path}: 'stat.redcell' flags every one of the {len(keep)} neurons as a red (GAD+) "
                "cell, so none would be left; load it with drop_redcells=False to keep them"
            )
        resp, spont, xyz = resp[:, keep], spont[:, keep], xyz[keep]
    if not keep_grey:
        stimulus = istim != GREY
        resp, istim = resp[stimulus], istim[stimulus]
    name = name if name is not None else path.name.removesuffix(".mat").removeprefix(_FILE_PREFIX)
    return Recording(resp=resp, istim=istim, spont=spont, xyz=xyz, name=name, source="figshare")


def load_classes(path=None, kind: str = "confident") -> tuple[np.ndarray, list[str]]:
    """The class of each of the 2800 images, from the authors' class files.

    path: a class file; None fetches it (``fetch_classes(kind)``: downloaded once, then cached).
    kind: 'confident' (12 classes; images the annotators were unsure of are 'unknown', class 0)
    or 'all' (16 classes).
    Returns labels (2800,) int64, indices into names (labels[i] is the class of image i, 0-based),
    and names, list of str ('unknown', 'birds', 'cats', ...).
    Raises NeurolabDataError naming the file for a wrong shape, missing variable or bad label.
    """
    if kind not in CLASS_FILES:
        raise ValueError(f"unknown class file kind {kind!r}; choose one of {sorted(CLASS_FILES)}")
    path = Path(os.fsdecode(path)).expanduser() if path is not None else fetch_classes(kind)
    assignment, names = read_classes_mat(path)
    if assignment.dtype.kind not in "biuf":
        raise NeurolabDataError(f"{path}: 'class_assignment' is not numeric (it holds {assignment.dtype})")
    if assignment.size != N_IMAGES or N_IMAGES not in assignment.shape:
        raise NeurolabDataError(
            f"{path}: 'class_assignment' has shape {assignment.shape}; "
            f"expected 1 x {N_IMAGES} (one label per image)"
        )
    labels = assignment.ravel()
    bad = (labels != np.round(labels)) | (labels < 0) | (labels >= len(names))
    if bad.any():
        raise NeurolabDataError(
            f"{path}: 'class_assignment' holds the label {labels[bad][0].item()!r}, out of range for the "
            f"{len(names)} class names (labels index 'class_names' from 0)"
        )
    return labels.astype(np.int64), names


# ---------------------------------------------------------------- checks, one fault each
def _checked_shapes(path: Path, raw: dict):
    """resp, istim (n_trials,), spont, med from the raw file arrays, or a NeurolabDataError."""
    resp, istim, spont, med = raw["resp"], raw["istim"], raw["spont"], raw["med"]
    if resp.ndim != 2:
        raise NeurolabDataError(
            f"{path}: 'stim.resp' has shape {resp.shape}; expected (presentations, neurons)"
        )
    n_trials, n_neurons = resp.shape
    if istim.ndim > 2 or (istim.ndim == 2 and 1 not in istim.shape) or istim.size != n_trials:
        raise NeurolabDataError(
            f"{path}: 'stim.istim' has shape {istim.shape}, "
            f"but 'stim.resp' has {n_trials} presentations (rows)"
        )
    if spont.size == 0:
        spont = np.zeros((0, n_neurons), dtype=np.float32)
    if spont.ndim != 2:
        raise NeurolabDataError(
            f"{path}: 'stim.spont' has shape {spont.shape}; expected (timepoints, neurons)"
        )
    if med.ndim != 2 or med.shape[1] != 3:
        raise NeurolabDataError(f"{path}: 'med' has shape {med.shape}; expected (neurons, 3) cell positions")
    redcell = raw["redcell"]
    counts = {"stim.resp": n_neurons, "stim.spont": spont.shape[1], "med": med.shape[0]}
    if redcell is not None:
        counts["stat.redcell"] = redcell.size
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{k!r} {v}" for k, v in counts.items())
        raise NeurolabDataError(f"{path}: mismatched neuron counts: {listed}")
    return resp, istim.ravel(), spont, med


def _check_finite(path: Path, label: str, array: np.ndarray) -> None:
    finite = np.isfinite(array)
    if not finite.all():
        n_nan, n_inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
        row, col = np.argwhere(~finite)[0]
        raise NeurolabDataError(
            f"{path}: {label!r} holds {n_nan} NaN and {n_inf} Inf values "
            f"(the first at row {row}, column {col})"
        )


MAX_SHOWINGS = 10
"""Images are shown about twice; a value of ``stim.istim`` that occurs more often than this is not
an image (in a 0-based file, the grey-screen code would be 2800, read here as image 2800)."""


def _check_outliers(path: Path, label: str, array: np.ndarray) -> None:
    """Refuse values many orders of magnitude beyond the rest of the array (``outliers``)."""
    count, where, value, scale = outliers(array)
    if count:
        raise NeurolabDataError(
            f"{path}: '{label}' holds {count} value(s) more than {OUTLIER_FACTOR:g} times the typical "
            f"neuron's largest magnitude ({scale:.3g}); the largest is {value:.3g} at index {where}. One "
            "such value swamps every neuron's mean and correlation: it is a unit error, a fill value or "
            "corruption. Fix or mask it before loading (e.g. set it to 0)."
        )


def _as_float32(path: Path, label: str, array: np.ndarray) -> np.ndarray:
    """The array as float32, refusing values beyond float32's range (they would become Inf)."""
    limit = np.finfo(np.float32).max
    if array.dtype.kind == "f" and array.size and np.abs(array).max() > limit:
        raise NeurolabDataError(
            f"{path}: {label!r} holds values beyond the float32 range (up to "
            f"{np.abs(array).max():.3g}; the limit is {limit:.3g}): not a plausible response"
        )
    return np.ascontiguousarray(array, dtype=np.float32)


def _check_istim(path: Path, istim: np.ndarray) -> None:
    bad = ~np.isfinite(istim) | (istim != np.round(istim)) | (istim < 1) | (istim > GREY_CODE)
    if bad.any():
        zero_based = " (0 appears: is the file 0-based? natimg2800 files number images from 1)"
        raise NeurolabDataError(
            f"{path}: 'stim.istim' has {bad.sum()} of {istim.size} values out of range, "
            f"e.g. {istim[bad][0].item()!r}; expected integers 1..{GREY_CODE} "
            f"(1..{N_IMAGES} are images, {GREY_CODE} the grey screen)"
            + (zero_based if np.any(istim == 0) else "")
        )
    values, counts = np.unique(istim[istim != GREY_CODE], return_counts=True)
    often = counts > MAX_SHOWINGS
    if often.any():
        raise NeurolabDataError(
            f"{path}: 'stim.istim' shows image {int(values[often][0])} {int(counts[often][0])} times, "
            f"where every image is shown about twice: that looks like a grey-screen code, so the file "
            f"may be 0-based (grey = {N_IMAGES}); natimg2800 files number images 1..{N_IMAGES} and "
            f"mark grey screens {GREY_CODE}"
        )


def _check_repeats(path: Path, istim: np.ndarray) -> None:
    shown = np.bincount(istim[istim != GREY], minlength=N_IMAGES)
    if shown.max(initial=0) < 2:
        raise NeurolabDataError(
            f"{path}: no image was shown at least twice, so no responses can be paired into repeats"
        )


def _n_images(rec: Recording) -> int:
    return len(np.unique(rec.istim[rec.istim != GREY]))
