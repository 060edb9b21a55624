"""One task of a sweep: an analysis of one preprocessed recording, run where a worker is.

Workers receive file paths, not arrays. ``prepare`` writes each distinct prepared recording
(``data_key``: the recording, seed, PCs removed) once as ``.npy`` files (the two repeats ``X.npy``,
the single trials ``resp.npy`` and ``istim.npy``, the class labels ``labels.npy``) and a
``meta.json`` written last with every file's size and SHA256, so a half-prepared or damaged folder
is never used (it is prepared again); tasks read them memory-mapped. ``run_task`` writes its row as one JSON file the moment it is
done (atomically), or, if the analysis fails, a failure file with its parameters and traceback.
Every task runs with one BLAS thread, so a row is the same on any worker of any backend.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

import neurolab
from neurolab._store import atomic_path
from neurolab.io.fetch import RECORDINGS

__all__ = ["ROW_KEYS", "SweepError", "data_folder", "data_key", "disk_full", "prepare", "record_failure", "run_task",
           "task_id"]

ROW_KEYS = ("task_id", "recording", "source", "size", "analysis", "n_pcs", "seed", "n_components",
            "n_permutations", "n_shuffles", "n_neurons", "n_images", "package_version")
"""Provenance columns of every row (besides the analysis's own results, ``seconds`` and
``peak_rss_mb``)."""

_FILES = ("X", "resp", "istim", "labels")


class SweepError(RuntimeError):
    """A sweep cannot run (or go on) in its results folder: the message says why and what to do."""


def disk_full(error: OSError, folder) -> SweepError | None:
    """A ``SweepError`` naming a full disk (free bytes included) when ``error`` is one, else None.

    numpy reports a short write as "N requested and M written"; the system as ENOSPC.
    """
    text = str(error)
    if getattr(error, "errno", None) != errno.ENOSPC and not ("requested and" in text and "written" in text):
        return None
    try:
        stat = os.statvfs(folder)
        free = stat.f_bavail * stat.f_frsize
    except OSError:
        free = 0
    return SweepError(f"the disk holding {folder} is full ({free:,} bytes free): free some space, or give "
                      f"the sweep another --out; finished rows are kept ({text})")


def task_id(task: dict) -> str:
    """A stable name for a task: readable, and unique for its parameters (a hash of all of them)."""
    text = json.dumps(task, sort_keys=True)
    stem = "-".join(str(task[k]) for k in ("recording", "analysis", "n_pcs", "seed")).replace(":", "_")
    return f"{stem.replace('/', '_')}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def data_key(task: dict) -> dict:
    """Everything the prepared data of a task depends on.

    The recording (a twin's name and size; a file's resolved path, size and modification time; a
    published recording's name), the spontaneous PCs removed, the seed (of the twin and of the
    denoising's randomized SVD) and the package version. Nothing else of the task changes the data.
    """
    recording = task["recording"]
    if recording.startswith("twin:"):
        source = {"twin": recording, "size": task["size"]}
    elif recording.lower().endswith(".mat"):
        path = Path(recording).expanduser().resolve()
        try:
            stat = path.stat()
            source = {"path": str(path), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        except OSError:
            source = {"path": str(path)}
    else:
        source = {"recording": recording}
    return {**source, "seed": task["seed"], "n_pcs": task["n_pcs"], "version": neurolab.__version__}


def data_folder(data_dir: Path, task: dict) -> Path:
    """Where the preprocessed recording of a task is: one folder per distinct ``data_key``.

    The name is readable (the recording's name, seed and PCs) and ends in a hash of the whole key,
    so two recordings, seeds or files never share a folder however their names look.
    """
    key = data_key(task)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    readable = Path(task["recording"].replace(":", "_")).name
    return Path(data_dir) / f"{readable}-seed{task['seed']}-pcs{task['n_pcs']}-{digest}"


def _twin_seed(recording: str, seed: int) -> int:
    """The twin of recording number i (in ``RECORDINGS``) with grid seed s: seed 1000 * s + i + 1."""
    return 1000 * seed + RECORDINGS.index(recording.removeprefix("twin:")) + 1


def _file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def prepared(folder: Path, deep: bool = False) -> dict | None:
    """The ``meta.json`` of a complete prepared folder, or None when it is absent or damaged.

    Every file must have the size recorded when it was written (and, with ``deep``, its SHA256):
    a truncated or replaced ``X.npy`` makes the folder be prepared again.
    """
    try:
        meta = json.loads((folder / "meta.json").read_text())
        files = meta["files"]
        for name in _FILES:
            path = folder / f"{name}.npy"
            if path.stat().st_size != files[name]["bytes"]:
                return None
            if deep and _file_digest(path) != files[name]["sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return meta


def prepare(task: dict, data_dir, deep: bool = True) -> Path:
    """Load (or generate), denoise and split one recording into ``.npy`` files; returns its folder.

    Does nothing when the folder is complete already (``prepared``: every file of the recorded size
    and, with ``deep``, SHA256); a damaged folder is prepared again, with a warning naming it.
    """
    from threadpoolctl import threadpool_limits

    from neurolab.io import load, load_classes
    from neurolab.preprocessing import denoise_recording
    from neurolab.recording import split_repeats
    from neurolab.synthetic import make_recording

    folder = data_folder(data_dir, task)
    if prepared(folder, deep=deep) is not None:
        return folder
    if (folder / "meta.json").exists():
        warnings.warn(f"prepared data in {folder} is damaged (a file is missing, truncated or changed): "
                      "preparing it again", stacklevel=2)
        (folder / "meta.json").unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(1):
        labels, _ = load_classes()
        recording = task["recording"]
        if recording.startswith("twin:"):
            rec = make_recording(task["size"], _twin_seed(recording, task["seed"]), labels=labels)
            source = "synthetic"
        else:
            rec = load(recording)
            source = "figshare"
        rec, _ = denoise_recording(rec, task["n_pcs"], rng=task["seed"])
        X, _ = split_repeats(rec)
    files = {}
    for name, array in (("X", X), ("resp", rec.resp), ("istim", rec.istim), ("labels", labels)):
        path = folder / f"{name}.npy"
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as handle:
                np.save(handle, array)
        except OSError as error:
            full = disk_full(error, folder)
            if full is None:
                raise
            raise full from error
        files[name] = {"bytes": path.stat().st_size, "sha256": _file_digest(path)}
    meta = {"recording": recording, "source": source, "name": rec.name, "n_neurons": rec.n_neurons,
            "n_images": int(X.shape[1]), "key": data_key(task), "files": files}
    with atomic_path(folder / "meta.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=1))
    return folder


def _analyse(task: dict, folder: Path) -> dict:
    """The analysis of the task on the memory-mapped files in ``folder``: {result: number}."""
    from neurolab.recording import Recording

    X = np.load(folder / "X.npy", mmap_mode="r")
    analysis = task["analysis"]
    if analysis == "cvpca":
        from neurolab.geometry import cvpca, powerlaw

        alpha, _ = powerlaw(cvpca(np.asarray(X)))
        return {"alpha": alpha}
    if analysis == "identity":
        from neurolab.decoding import identity_accuracy

        return {"identity_accuracy": identity_accuracy(np.asarray(X)), "chance": 1 / X.shape[1]}
    if analysis == "signal_variance":
        from neurolab.geometry import signal_variance_fraction

        return {"signal_variance_fraction": signal_variance_fraction(np.asarray(X))}
    resp = np.load(folder / "resp.npy", mmap_mode="r")
    istim = np.load(folder / "istim.npy")
    labels = np.load(folder / "labels.npy")
    rec = Recording(resp=np.asarray(resp), istim=istim, spont=np.zeros((0, resp.shape[1]), np.float32),
                    xyz=np.zeros((resp.shape[1], 3), np.float32), name="sweep", source="synthetic")
    if analysis == "category_signal":
        from neurolab.geometry import category_signal_fraction

        out = category_signal_fraction(rec, labels, n_shuffles=task["n_shuffles"], rng=task["seed"])
        return {"category_fraction": out["category_fraction"], "category_null_95": out["null_95"],
                "category_p": out["p"]}
    if analysis == "category":
        from sklearn.linear_model import LogisticRegression

        from neurolab.decoding import category_task, cross_validate_decoder, make_reducer

        Xc, y, groups = category_task(rec, labels)
        k = int(min(task["n_components"], Xc.shape[1], int(0.8 * len(Xc)) - 1))
        res = cross_validate_decoder(LogisticRegression(C=0.1, max_iter=300, tol=1e-3), Xc, y, groups,
                                     reducer=make_reducer(k, task["seed"]),
                                     n_permutations=task["n_permutations"], rng=task["seed"])
        return {"balanced_accuracy": res.balanced_accuracy, "chance": res.chance_balanced_accuracy,
                "p_value": res.p_value_balanced}
    raise ValueError(f"unknown analysis {analysis!r}")


def record_failure(task: dict, out_dir, error: str, trace: str = "") -> Path:
    """Write ``failed/<task_id>.json`` (the task, the error, the traceback) atomically; returns it."""
    out_dir = Path(out_dir)
    tid = task_id(task)
    failure = {"task_id": tid, "task": task, "error": error, "traceback": trace}
    (out_dir / "failed").mkdir(parents=True, exist_ok=True)
    path = out_dir / "failed" / f"{tid}.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(failure, indent=1))
    return path


def run_task(task: dict, data_dir, out_dir) -> dict:
    """Run one task and write its row (``rows/<task_id>.json``) or failure (``failed/<task_id>.json``).

    Returns {'task_id', 'status': 'done' | 'failed', 'row' or 'error'}. Never raises for a failure
    of the analysis itself: the other tasks go on.
    """
    from threadpoolctl import threadpool_limits

    out_dir = Path(out_dir)
    tid = task_id(task)
    start = time.perf_counter()
    try:
        with threadpool_limits(1):
            folder = prepare(task, data_dir, deep=False)
            meta = json.loads((folder / "meta.json").read_text())
            results = _analyse(task, folder)
    except Exception as error:  # noqa: BLE001 - reported with its traceback, the sweep goes on
        message = f"{type(error).__name__}: {error}"
        record_failure(task, out_dir, message, traceback.format_exc())
        return {"task_id": tid, "status": "failed", "error": message}
    row = {"task_id": tid, **{k: task[k] for k in ("recording", "size", "analysis", "n_pcs", "seed",
                                                   "n_components", "n_permutations", "n_shuffles")},
           "source": meta["source"], "n_neurons": meta["n_neurons"], "n_images": meta["n_images"],
           "package_version": neurolab.__version__,
           **{k: float(v) for k, v in results.items()},
           "seconds": time.perf_counter() - start,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    (out_dir / "rows").mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(out_dir / "rows" / f"{tid}.json") as tmp:
            tmp.write_text(json.dumps(row, indent=1))
    except OSError as error:
        full = disk_full(error, out_dir)
        message = f"{type(full or error).__name__}: {full or error}"
        record_failure(task, out_dir, message, traceback.format_exc())
        return {"task_id": tid, "status": "failed", "error": message}
    (out_dir / "failed" / f"{tid}.json").unlink(missing_ok=True)  # a failure mended by a re-run
    return {"task_id": tid, "status": "done", "row": row}
