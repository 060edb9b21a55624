"""A disk cache for generated synthetic recordings, so that chapter after chapter does not redo it.

Generating the 'full' synthetic recording takes about ten seconds on two cores, and every chapter
starts with it. ``cached_recording(size, rng, labels)`` returns exactly what
``make_recording(size, rng, labels=labels)`` returns, stored after the first call as an
uncompressed ``.npz`` (no pickles) in ``<cache_dir()>/synthetic/`` (env ``NEUROLAB_DATA_DIR``, else
the user cache). The file name carries a key made from everything the arrays depend on: the size's
``SyntheticParams``, the seed, the class labels and the source code of the generator, so a change
to any of them makes a new file rather than returning stale data.

'smoke' recordings are generated every time (well under a second), and so is a recording drawn
from a ``numpy.random.Generator`` (only an int seed names a reproducible file). A cache file that
cannot be read, or whose arrays no longer match the SHA256 stored with them when it was written
(damaged, or edited by hand), is reported (a warning naming it), removed and generated again; a
cache that cannot be written (read-only or full disk) only costs the time. Set ``NEUROLAB_SYNTHETIC_CACHE=0`` to
switch it off. Full-size files are about 0.5 GB; delete the folder to reclaim the space.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import warnings
from pathlib import Path

import numpy as np

from neurolab._store import atomic_path, cache_dir, digest_arrays, remove_orphans
from neurolab._validation import check_labels, seed_of
from neurolab.recording import Recording, SyntheticTruth
from neurolab.synthetic import generator

__all__ = ["blas_threads", "cache_file", "cached_recording"]

UNCACHED_SIZES = ("smoke",)
_FORMAT = 2  # 2: the file carries the SHA256 of its arrays, checked on every read
_TRUTH_ARRAYS = ("clean", "latents", "category_means", "labels", "image_ids")


def _enabled() -> bool:
    return os.environ.get("NEUROLAB_SYNTHETIC_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_file(size: str, rng: int, labels) -> Path:
    """Where the recording of (size, int seed ``rng``, labels) is cached (whether or not it exists)."""
    if size not in generator.SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {sorted(generator.SIZES)}")
    if isinstance(rng, np.random.Generator):
        raise TypeError("only an int seed names a cache file; a Generator's draws are not reproducible")
    seed = seed_of(rng)
    labels = check_labels(labels)
    recipe = {
        "format": _FORMAT,
        "params": dataclasses.asdict(generator.SIZES[size]),
        "seed": seed,
        "labels": hashlib.sha256(np.ascontiguousarray(labels, dtype=np.int64).tobytes()).hexdigest(),
        # float32 matrix products round differently with another number of BLAS threads: a file
        # made with 1 thread is never served to a run with 2 (results are close, not identical)
        "blas_threads": blas_threads(),
        "generator": hashlib.sha256(
            "".join(inspect.getsource(f) for f in (generator._generate, generator._output,
                                                   generator.latent_variances, generator.latent_scale)
                    ).encode()
        ).hexdigest(),
    }
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / "synthetic" / f"synthetic-{size}-seed{seed}-{key}.npz"


def blas_threads() -> int:
    """The number of threads the BLAS library would use here (threadpoolctl), 1 if none is found."""
    from threadpoolctl import threadpool_info

    counts = [pool.get("num_threads", 1) for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return int(max(counts, default=1))


def cached_recording(size: str = "full", rng=0, *, labels, keep_grey: bool = False) -> Recording:
    """``make_recording(size, rng, labels=labels, keep_grey=keep_grey)``, from the disk cache when
    it holds it (see the module's docstring)."""
    labels = check_labels(labels)
    if size in UNCACHED_SIZES or not _enabled() or isinstance(rng, np.random.Generator):
        return generator.make_recording(size, rng, labels=labels, keep_grey=keep_grey)
    path = cache_file(size, rng, labels)
    rec = _read(path) if path.is_file() else None
    if rec is None:
        rec = generator.make_recording(size, rng, labels=labels, keep_grey=True)
        if not path.exists():  # an unreadable file of another user is left alone, not replaced
            _write(rec, path)
    return rec if keep_grey else rec.without_grey()


def _write(rec: Recording, path: Path) -> None:
    truth = rec.truth
    arrays = {"resp": rec.resp, "istim": rec.istim, "spont": rec.spont, "xyz": rec.xyz}
    arrays |= {f"truth_{name}": getattr(truth, name) for name in _TRUTH_ARRAYS}
    meta = {"name": rec.name, "source": rec.source, "category_strength": float(truth.category_strength),
            "params": truth.params}
    meta["sha256"] = digest_arrays(arrays, meta)
    arrays["meta"] = np.array(json.dumps(meta))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_orphans(path.parent)  # .part files of writers that were killed
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    except OSError as error:
        warnings.warn(f"could not cache the synthetic recording in {path.parent}: {error}", stacklevel=3)


def _read(path: Path) -> Recording | None:
    if not os.access(path, os.R_OK):
        warnings.warn(f"synthetic-data cache file {path} cannot be read by this user (it belongs to "
                      "another); generating the recording instead, and leaving that file alone",
                      stacklevel=3)
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: data[name] for name in data.files if name != "meta"}
            if meta.get("sha256") != digest_arrays(arrays, {k: v for k, v in meta.items() if k != "sha256"}):
                warnings.warn(f"synthetic-data cache file {path} does not hold what was written (its arrays "
                              "or its settings were changed after it was stored); removing it and generating the recording "
                              "again", stacklevel=3)
                path.unlink(missing_ok=True)
                return None
            data = arrays
            truth = SyntheticTruth(**{name: data[f"truth_{name}"] for name in _TRUTH_ARRAYS},
                                   category_strength=meta["category_strength"], params=meta["params"])
            return Recording(resp=data["resp"], istim=data["istim"], spont=data["spont"], xyz=data["xyz"],
                             name=meta["name"], source=meta["source"], truth=truth)
    except Exception as error:  # noqa: BLE001 - any unreadable file is regenerated, and said so
        warnings.warn(f"unreadable synthetic-data cache file {path} ({type(error).__name__}: {error}); "
                      f"removing it and generating the recording again", stacklevel=3)
        path.unlink(missing_ok=True)
        return None
