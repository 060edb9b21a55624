"""A disk cache for generated synthetic recordings, so that chapter after chapter does not redo it.

Generating the 'full' synthetic recording takes about ten seconds on two cores, and every chapter
starts with it. ``cached_recording(size, seed)`` returns exactly what ``make_recording(size, seed)``
returns, stored after the first call as an uncompressed ``.npz`` (no pickles) in
``<cache_dir()>/synthetic/`` (``neurolab.fetch.cache_dir``: env ``NEUROLAB_DATA_DIR``, else the
user cache). The file name carries a key made from everything the arrays depend on: the size's
``SyntheticParams``, the seed, the class labels and the source code of the generator, so a change
to any of them makes a new file rather than returning stale data.

'smoke' recordings are generated every time (well under a second). A cache file that cannot be
read is reported (a warning naming it), removed and generated again; a cache that cannot be written
(read-only or full disk) only costs the time. Set ``NEUROLAB_SYNTHETIC_CACHE=0`` to switch it off.
Full-size files are about 0.5 GB; delete the folder to reclaim the space.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from neurolab.recording import Recording, SyntheticTruth

__all__ = ["cached_recording", "cache_file"]

UNCACHED_SIZES = ("smoke",)
_TRUTH_ARRAYS = ("clean", "latents", "category_means", "labels", "image_ids")


def _enabled() -> bool:
    return os.environ.get("NEUROLAB_SYNTHETIC_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_file(size: str, seed: int, labels=None) -> Path:
    """Where the recording of (size, seed) is cached (whether or not it exists yet)."""
    from neurolab.data import load_classes
    from neurolab.fetch import cache_dir

    synthetic = _generator()
    if size not in synthetic.SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {sorted(synthetic.SIZES)}")
    labels = load_classes()[0] if labels is None else np.asarray(labels)
    recipe = {
        "params": dataclasses.asdict(synthetic.SIZES[size]),
        "seed": int(seed),
        "labels": hashlib.sha256(np.ascontiguousarray(labels, dtype=np.int64).tobytes()).hexdigest(),
        "generator": hashlib.sha256(
            (inspect.getsource(synthetic._generate) + inspect.getsource(synthetic._output)).encode()
        ).hexdigest(),
    }
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / "synthetic" / f"synthetic-{size}-seed{int(seed)}-{key}.npz"


def cached_recording(size: str = "full", seed: int = 0, keep_grey: bool = False) -> Recording:
    """``neurolab.synthetic.make_recording(size, seed, keep_grey=keep_grey)``, from the disk cache
    when it holds it (see the module's docstring)."""
    synthetic = _generator()
    if size in UNCACHED_SIZES or not _enabled():
        return synthetic.make_recording(size, seed, keep_grey=keep_grey)
    from neurolab.data import load_classes

    labels = load_classes()[0]  # read once: the file name's key and the generator both need them
    path = cache_file(size, seed, labels)
    rec = _read(path) if path.is_file() else None
    if rec is None:
        rec = synthetic.make_recording(size, seed, labels=labels, keep_grey=True)
        _write(rec, path)
    return rec if keep_grey else rec.without_grey()


def _generator():
    """neurolab.synthetic, looked up when called (it imports neurolab.data, which imports this)."""
    return importlib.import_module("neurolab.synthetic")


def _write(rec: Recording, path: Path) -> None:
    truth = rec.truth
    arrays = {"resp": rec.resp, "istim": rec.istim, "spont": rec.spont, "xyz": rec.xyz}
    arrays |= {f"truth_{name}": getattr(truth, name) for name in _TRUTH_ARRAYS}
    meta = {"name": rec.name, "source": rec.source, "category_strength": float(truth.category_strength),
            "params": truth.params}
    arrays["meta"] = np.array(json.dumps(meta))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **arrays)
            os.replace(tmp, path)  # readers see the whole file or none
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as error:
        warnings.warn(f"could not cache the synthetic recording in {path.parent}: {error}", stacklevel=3)


def _read(path: Path) -> Recording | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            truth = SyntheticTruth(**{name: data[f"truth_{name}"] for name in _TRUTH_ARRAYS},
                                   category_strength=meta["category_strength"], params=meta["params"])
            return Recording(resp=data["resp"], istim=data["istim"], spont=data["spont"], xyz=data["xyz"],
                             name=meta["name"], source=meta["source"], truth=truth)
    except Exception as error:  # noqa: BLE001 - any unreadable file is regenerated, and said so
        warnings.warn(f"unreadable synthetic-data cache file {path} ({type(error).__name__}: {error}); "
                      f"removing it and generating the recording again", stacklevel=3)
        path.unlink(missing_ok=True)
        return None
