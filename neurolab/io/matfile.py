"""The figshare natimg2800 MATLAB file layout, read and written (MAT v5/v7, as published).

Layout of ``natimg2800_<mouse>_<date>.mat`` (Stringer et al. 2018, figshare 6845348):

- ``stim``: a struct with fields
  ``resp`` (n_presentations, n_neurons) double or single, one row per stimulus presentation;
  ``istim`` (n_presentations, 1) double, the 1-based image shown, ``GREY_CODE`` (2801) = grey screen;
  ``spont`` (n_timepoints, n_neurons), activity recorded while the screen was grey.
- ``med``: (n_neurons, 3) estimated cell centres, columns (x, y, z) as the authors' README documents
  them ("cell centers (X Y Z)"): position in the field of view and depth of the imaging plane.
  ``Recording.xyz`` holds them unchanged.
- ``stat``: a 1 x n_neurons struct array of Suite2p statistics. In some files it has the field
  ``redcell`` (1 = GAD+ interneuron; the authors drop those neurons).

The published files are MAT v5/v7 files: the authors read them with ``scipy.io.loadmat``
(``python/powerlaws.ipynb`` of MouseLand/stringer-pachitariu-et-al-2018b), which cannot read MAT
v7.3 (HDF5). So only that container is read and written here; a v7.3 file is recognised by its
header and refused with a message that says how to re-save it.
Writes are atomic: a temporary file beside the target is renamed onto it only once complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.io

from neurolab._store import atomic_path
from neurolab.errors import NeurolabDataError, NeurolabFileNotFoundError
from neurolab.recording import GREY, N_IMAGES, Recording

GREY_CODE = N_IMAGES + 1
"""Value of ``stim.istim`` for a grey-screen presentation in the files (2801)."""

STIM_FIELDS = ("resp", "istim", "spont")
USERBLOCK_BYTES = 512  # a MAT v7.3 file: this many header bytes, then the HDF5 signature
_V5_MAGIC = b"MATLAB 5.0 MAT-file"
_V73_MAGIC = b"MATLAB 7.3 MAT-file"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_LAYOUT = "the natimg2800 layout has stim.resp, stim.istim, stim.spont and med"


# ---------------------------------------------------------------- conversions to and from Recording
def istim_from_file(istim_1based: np.ndarray) -> np.ndarray:
    """(n,) 1-based file indices (2801 = grey) -> int64 0-based indices with ``GREY`` (-1)."""
    values = np.asarray(istim_1based).astype(np.int64).ravel()
    return np.where(values == GREY_CODE, GREY, values - 1)


def istim_to_file(istim: np.ndarray) -> np.ndarray:
    """(n,) 0-based indices with ``GREY`` (-1) -> float64 1-based file indices (2801 = grey)."""
    istim = np.asarray(istim).ravel()
    bad = (istim != GREY) & ((istim < 0) | (istim >= N_IMAGES))
    if bad.any():
        raise ValueError(f"istim holds {istim[bad][0]}; expected 0..{N_IMAGES - 1} or GREY ({GREY})")
    return np.where(istim == GREY, GREY_CODE, istim + 1).astype(np.float64)


# ---------------------------------------------------------------- reading
def mat_version(path) -> str:
    """'5' (MAT v5/v7) or '7.3' (HDF5), read from the file's header.

    Raises NeurolabFileNotFoundError if the file is missing, NeurolabDataError if it is empty,
    truncated inside its header, or not a MATLAB file.
    """
    path = Path(os.fsdecode(path)).expanduser()
    if not path.exists():
        raise NeurolabFileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise NeurolabDataError(f"{path}: not a file")
    with open(path, "rb") as fh:
        head = fh.read(USERBLOCK_BYTES + len(_HDF5_SIGNATURE))
    if not head:
        raise NeurolabDataError(f"{path}: the file is empty (0 bytes): truncated or corrupt")
    if head.startswith(_V73_MAGIC):
        if head[USERBLOCK_BYTES:] != _HDF5_SIGNATURE:
            raise NeurolabDataError(
                f"{path}: truncated or corrupt MAT v7.3 file (no HDF5 data after its header)"
            )
        return "7.3"
    if head.startswith(_V5_MAGIC):
        if len(head) < 128:
            raise NeurolabDataError(
                f"{path}: truncated or corrupt MAT file (shorter than its 128-byte header)"
            )
        return "5"
    if head.startswith(_HDF5_SIGNATURE):
        raise NeurolabDataError(f"{path}: not a MATLAB file (an HDF5 file without the MATLAB 7.3 header)")
    raise NeurolabDataError(
        f"{path}: not a MATLAB file (its header does not start with {_V5_MAGIC.decode()!r} "
        f"or {_V73_MAGIC.decode()!r})"
    )


def read_natimg_mat(path, redcell: bool = True) -> dict:
    """Read one natimg2800 file (MAT v5/v7) as stored, without judging its values.

    Returns a dict: 'resp' (n_presentations, n_neurons), 'istim' (as stored, 1-based, 2801 = grey),
    'spont' (n_timepoints, n_neurons), 'med' (n_neurons, 3) columns (x, y, z), all numeric arrays
    in MATLAB's shape; 'redcell' (n_neurons,) bool, or None when the file has no ``stat.redcell``
    or ``redcell=False`` (which skips reading ``stat``, the slowest part of a v5 file).
    Raises NeurolabDataError naming the file for a missing, non-MATLAB, corrupt or incomplete file.
    """
    path = Path(os.fsdecode(path)).expanduser()
    _require_v5(path, "the natimg2800 recordings")
    raw = _read_v5(path, redcell)
    for key in ("resp", "istim", "spont", "med"):
        if raw[key].dtype.kind not in "biuf":
            label = "med" if key == "med" else f"stim.{key}"
            raise NeurolabDataError(f"{path}: {label!r} is not a numeric array (it holds {raw[key].dtype})")
    return raw


def read_classes_mat(path) -> tuple[np.ndarray, list[str]]:
    """The authors' class file (MAT v5): ``class_assignment`` as stored, ``class_names`` as strings.

    Raises NeurolabDataError naming the file if it is not a MAT v5 file or lacks a variable.
    """
    path = Path(os.fsdecode(path)).expanduser()
    _require_v5(path, "the class files")
    mt = _loadmat(path, ["class_assignment", "class_names"])
    for name in ("class_assignment", "class_names"):
        if name not in mt:
            raise NeurolabDataError(
                f"{path}: missing variable {name!r} (a class file holds class_assignment and class_names)"
            )
    return np.asarray(mt["class_assignment"]), _cell_strings(path, mt["class_names"])


def _require_v5(path: Path, what: str) -> None:
    if mat_version(path) == "7.3":
        raise NeurolabDataError(
            f"{path}: a MAT v7.3 (HDF5) file, but {what} are MAT v5/v7 files (scipy.io.loadmat reads "
            "them, as the authors' code does); in MATLAB, save it again with save(..., '-v7')"
        )


def _loadmat(path: Path, names: list[str]) -> dict:
    try:
        return scipy.io.loadmat(path, variable_names=names)
    except MemoryError:
        raise
    except Exception as err:
        raise NeurolabDataError(
            f"{path}: truncated or corrupt MAT file ({type(err).__name__}: {err})"
        ) from err


def _read_v5(path: Path, redcell: bool) -> dict:
    mt = _loadmat(path, ["stim", "med"] + (["stat"] if redcell else []))
    if not any(not key.startswith("__") for key in mt) and not scipy.io.whosmat(path):
        raise NeurolabDataError(
            f"{path}: the file holds no variables at all (a MAT header and nothing after it): "
            "truncated or corrupt"
        )
    if "stim" not in mt:
        raise NeurolabDataError(f"{path}: missing 'stim' ({_LAYOUT})")
    stim = mt["stim"]
    if not isinstance(stim, np.ndarray) or stim.dtype.names is None:
        raise NeurolabDataError(f"{path}: 'stim' is not a struct ({_LAYOUT})")
    if stim.size != 1:
        raise NeurolabDataError(f"{path}: 'stim' is a {stim.shape} struct array, expected one struct")
    raw = {}
    for field in STIM_FIELDS:
        if field not in stim.dtype.names:
            raise NeurolabDataError(f"{path}: missing 'stim.{field}' ({_LAYOUT})")
        raw[field] = np.asarray(stim.flat[0][field])
    if "med" not in mt:
        raise NeurolabDataError(f"{path}: missing 'med' ({_LAYOUT})")
    raw["med"] = np.asarray(mt["med"])
    stat = mt.get("stat")
    has_redcell = (
        isinstance(stat, np.ndarray) and stat.dtype.names is not None and "redcell" in stat.dtype.names
    )
    raw["redcell"] = _one_per_neuron(path, stat["redcell"].ravel(order="F")) if has_redcell else None
    return raw


def _one_per_neuron(path: Path, cells: np.ndarray) -> np.ndarray:
    """(n_neurons,) bool from a sequence of per-neuron ``stat.redcell`` values."""
    values = []
    for i, cell in enumerate(cells):
        v = np.asarray(cell).ravel()
        if v.size != 1 or v.dtype.kind not in "biuf":
            raise NeurolabDataError(f"{path}: 'stat.redcell' of neuron {i} is not a single number")
        if not np.isfinite(v[0]) or v[0] not in (0, 1):
            raise NeurolabDataError(
                f"{path}: 'stat.redcell' of neuron {i} is {v[0].item()!r}; expected 0 or 1"
            )
        values.append(bool(v[0]))
    return np.array(values, dtype=bool)


def _cell_strings(path: Path, cell: np.ndarray) -> list[str]:
    """A MATLAB cell array of strings (as loaded by scipy) -> list of str."""
    if not isinstance(cell, np.ndarray) or cell.dtype != object:
        raise NeurolabDataError(f"{path}: 'class_names' is not a cell array of strings")
    names = []
    for item in cell.ravel(order="F"):
        item = np.asarray(item)
        if item.dtype.kind != "U":
            raise NeurolabDataError(f"{path}: 'class_names' holds a {item.dtype} entry, not a string")
        names.append("".join(item.ravel().tolist()))
    return names


# ---------------------------------------------------------------- writing
def write_natimg_mat(path, resp, istim_1based, spont, med, redcell=None) -> Path:
    """Write arrays in the natimg2800 layout (see the module docstring), atomically.

    resp: (n_presentations, n_neurons), written as single if float32, else double.
    istim_1based: (n_presentations,) 1-based image index, 2801 = grey; written as a double column.
    spont: (n_timepoints, n_neurons); med: (n_neurons, 3) columns (x, y, z), written as double.
    redcell: optional (n_neurons,) 0/1, written as the field ``stat.redcell`` of a 1 x n struct array.
    The file is MAT v5, the container of the published files.
    Raises ValueError, before anything is written, if the shapes do not fit together.
    """
    arrays = _layout_arrays(resp, istim_1based, spont, med, redcell)
    with atomic_path(path) as tmp:
        _write_v5(tmp, **arrays)
    return Path(path)


def write_recording(rec: Recording, path) -> Path:
    """Write a Recording as a natimg2800 file: istim to 1-based (grey -> 2801), xyz as med."""
    return write_natimg_mat(path, rec.resp, istim_to_file(rec.istim), rec.spont, rec.xyz)


def _layout_arrays(resp, istim, spont, med, redcell) -> dict:
    resp = np.asarray(resp)
    if resp.dtype not in (np.float32, np.float64):
        resp = resp.astype(np.float64)
    spont = np.asarray(spont, dtype=resp.dtype)
    istim = np.asarray(istim, dtype=np.float64)
    med = np.asarray(med, dtype=np.float64)
    if resp.ndim != 2:
        raise ValueError(f"resp must be 2-D (presentations, neurons), got shape {resp.shape}")
    n_trials, n_neurons = resp.shape
    if istim.size != n_trials or (istim.ndim == 2 and 1 not in istim.shape) or istim.ndim > 2:
        raise ValueError(f"istim has shape {istim.shape}, expected ({n_trials},)")
    if spont.ndim != 2 or spont.shape[1] != n_neurons:
        raise ValueError(f"spont has shape {spont.shape}, expected (n_timepoints, {n_neurons})")
    if med.shape != (n_neurons, 3):
        raise ValueError(f"med has shape {med.shape}, expected ({n_neurons}, 3)")
    if redcell is not None:
        redcell = np.asarray(redcell, dtype=np.float64).ravel()
        if redcell.shape != (n_neurons,):
            raise ValueError(f"redcell has {redcell.size} values, expected {n_neurons}")
    return dict(resp=resp, istim=istim.reshape(-1, 1), spont=spont, med=med, redcell=redcell)


def _write_v5(tmp: Path, resp, istim, spont, med, redcell) -> None:
    variables = {"stim": {"resp": resp, "istim": istim, "spont": spont}, "med": med}
    if redcell is not None:
        stat = np.empty((1, redcell.size), dtype=[("redcell", object)])
        stat["redcell"][0] = list(redcell)
        variables["stat"] = stat
    with open(tmp, "wb") as fh:
        scipy.io.savemat(fh, variables, format="5", do_compression=False)
