"""One task of a sweep: an analysis of one preprocessed recording, run where a worker is.

Workers receive file paths, not arrays. ``prepare`` writes each (recording, size, seed, n_pcs) once
as ``.npy`` files (the two repeats ``X.npy``, the single trials ``resp.npy`` and ``istim.npy``, the
class labels ``labels.npy``) and a ``meta.json`` written last, so a half-prepared folder is never
used; tasks read them memory-mapped. ``run_task`` writes its row as one JSON file the moment it is
done (atomically), or, if the analysis fails, a failure file with its parameters and traceback.
Every task runs with one BLAS thread, so a row is the same on any worker of any backend.
"""

from __future__ import annotations

import hashlib
import json
import resource
import time
import traceback
from pathlib import Path

import numpy as np

import neurolab
from neurolab._store import atomic_path
from neurolab.io.fetch import RECORDINGS

__all__ = ["ROW_KEYS", "data_folder", "prepare", "run_task", "task_id"]

ROW_KEYS = ("task_id", "recording", "source", "size", "analysis", "n_pcs", "seed", "n_components",
            "n_permutations", "n_shuffles", "n_neurons", "n_images", "package_version")
"""Provenance columns of every row (besides the analysis's own results, ``seconds`` and
``peak_rss_mb``)."""


def task_id(task: dict) -> str:
    """A stable name for a task: readable, and unique for its parameters."""
    text = json.dumps(task, sort_keys=True)
    stem = "-".join(str(task[k]) for k in ("recording", "analysis", "n_pcs", "seed")).replace(":", "_")
    return f"{stem.replace('/', '_')}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def data_folder(data_dir: Path, task: dict) -> Path:
    """Where the preprocessed recording of a task is (the same for every analysis of it)."""
    recording = task["recording"].replace(":", "_").replace("/", "_")
    seed = task["seed"] if task["recording"].startswith("twin:") else "na"
    return Path(data_dir) / f"{recording}-{task['size']}-seed{seed}-pcs{task['n_pcs']}"


def _twin_seed(recording: str, seed: int) -> int:
    """The twin of recording number i (in ``RECORDINGS``) with grid seed s: seed 1000 * s + i + 1."""
    return 1000 * seed + RECORDINGS.index(recording.removeprefix("twin:")) + 1


def prepare(task: dict, data_dir) -> Path:
    """Load (or generate), denoise and split one recording into ``.npy`` files; returns its folder.

    Does nothing when the folder is complete already (``meta.json`` present).
    """
    from threadpoolctl import threadpool_limits

    from neurolab.io import load, load_classes
    from neurolab.preprocessing import denoise_recording
    from neurolab.recording import split_repeats
    from neurolab.synthetic import make_recording

    folder = data_folder(data_dir, task)
    if (folder / "meta.json").is_file():
        return folder
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
    for name, array in (("X", X), ("resp", rec.resp), ("istim", rec.istim), ("labels", labels)):
        with atomic_path(folder / f"{name}.npy") as tmp, open(tmp, "wb") as handle:
            np.save(handle, array)
    meta = {"recording": recording, "source": source, "name": rec.name, "n_neurons": rec.n_neurons,
            "n_images": int(X.shape[1])}
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
            folder = prepare(task, data_dir)
            meta = json.loads((folder / "meta.json").read_text())
            results = _analyse(task, folder)
    except Exception as error:  # noqa: BLE001 - reported with its traceback, the sweep goes on
        failure = {"task_id": tid, "task": task, "error": f"{type(error).__name__}: {error}",
                   "traceback": traceback.format_exc()}
        (out_dir / "failed").mkdir(parents=True, exist_ok=True)
        with atomic_path(out_dir / "failed" / f"{tid}.json") as tmp:
            tmp.write_text(json.dumps(failure, indent=1))
        return {"task_id": tid, "status": "failed", "error": failure["error"]}
    row = {"task_id": tid, **{k: task[k] for k in ("recording", "size", "analysis", "n_pcs", "seed",
                                                   "n_components", "n_permutations", "n_shuffles")},
           "source": meta["source"], "n_neurons": meta["n_neurons"], "n_images": meta["n_images"],
           "package_version": neurolab.__version__,
           **{k: float(v) for k, v in results.items()},
           "seconds": time.perf_counter() - start,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    (out_dir / "rows").mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "rows" / f"{tid}.json") as tmp:
        tmp.write_text(json.dumps(row, indent=1))
    (out_dir / "failed" / f"{tid}.json").unlink(missing_ok=True)  # a failure mended by a re-run
    return {"task_id": tid, "status": "done", "row": row}
