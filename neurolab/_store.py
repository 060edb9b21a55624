"""Where neurolab keeps files, and how it writes them: the cache folder, atomic writes, clean-up.

Writers put their data in ``.<name>.<pid>.<random>.part`` beside the target and rename it onto the
target only when complete, so a reader sees a whole file or none. A writer that is killed leaves
its ``.part`` file behind; ``remove_orphans`` deletes those whose process no longer runs, and the
private folders ``.<name>.<pid>.<random>.download`` in which downloads keep pooch's temporary files
(and, from older versions, pooch's ``tmp*`` files older than the download deadline), so a later run
cleans up.
Files get the permissions the umask allows (not ``mkstemp``'s 0600), so a cache can be shared.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import platformdirs

__all__ = ["atomic_path", "cache_dir", "digest_arrays", "memo_read", "memo_write", "private_folder",
           "remove_orphans", "share_permissions"]

_PART = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+\.(?P<kind>part|download)$")
_POOCH_TMP = re.compile(r"^tmp[\w-]{6,}$")


def cache_dir() -> Path:
    """The cache folder: env ``NEUROLAB_DATA_DIR`` (``~`` expanded), else
    ``platformdirs.user_cache_dir('neurolab')``."""
    folder = os.environ.get("NEUROLAB_DATA_DIR", "").strip()
    return Path(folder).expanduser() if folder else Path(platformdirs.user_cache_dir("neurolab"))


def share_permissions(path) -> None:
    """Give ``path`` the permissions a new file gets under the current umask (e.g. 0644)."""
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):  # not ours to change (another user's file): leave it
        os.chmod(path, 0o666 & ~umask)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    On any error the temporary file is removed, so a half-written file is never left behind; if
    the process is killed instead, ``remove_orphans`` removes it later.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        share_permissions(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def private_folder(path):
    """Yield a new folder ``.<name>.<pid>.<random>.download`` beside ``path`` for a writer's temporary
    files (e.g. pooch's); removed when the block ends, and by ``remove_orphans`` once the writer is
    dead if it was killed."""
    path = Path(path)
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".download", dir=path.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_orphans(folder, max_age_s: float = 3600.0) -> list[Path]:
    """Delete temporary files of writers that are gone; returns what was removed.

    ``.<name>.<pid>.<random>.part`` files and ``.<name>.<pid>.<random>.download`` folders whose
    process no longer runs, and pooch's ``tmp*`` download files last written more than
    ``max_age_s`` ago (no download lives that long: that is the download deadline). Looks only at the folder itself, not below it.
    """
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for entry in folder.iterdir():
        part = _PART.match(entry.name)
        stale = (part is not None and not _alive(int(part["pid"]))) or (
            _POOCH_TMP.match(entry.name) is not None and now - _mtime(entry) > max_age_s
        )
        if not stale:
            continue
        if entry.is_dir() and part is not None and part["kind"] == "download":
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry)
        elif entry.is_file():
            with contextlib.suppress(OSError):
                entry.unlink()
                removed.append(entry)
    return removed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


# ---------------------------------------------------------------- content-keyed memo
def digest_arrays(arrays: dict, meta: dict | None = None) -> str:
    """SHA256 of ``meta`` (JSON) and of every array's name, dtype, shape and bytes, in name order."""
    import hashlib
    import json

    import numpy as np

    digest = hashlib.sha256(json.dumps(meta or {}, sort_keys=True, default=str).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        digest.update(memoryview(a).cast("B") if a.size else b"")
    return digest.hexdigest()


def _memo_path(kind: str, key: dict) -> Path:
    import numpy as np

    import neurolab

    arrays = {k: v for k, v in key.items() if isinstance(v, np.ndarray)}
    params = {k: v for k, v in key.items() if k not in arrays} | {"version": neurolab.__version__}
    return cache_dir() / "memo" / kind / f"{digest_arrays(arrays, params)[:24]}.npz"


def _memo_enabled() -> bool:
    return os.environ.get("NEUROLAB_MEMO", "1").strip().lower() not in ("0", "false", "no", "off")


def memo_read(kind: str, key: dict) -> dict | None:
    """The arrays stored by ``memo_write(kind, key, ...)``, or None (absent, off, or damaged: a
    damaged file is removed and its result computed again)."""
    import numpy as np

    if not _memo_enabled():
        return None
    path = _memo_path(kind, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files if name != "_digest"}
            if str(data["_digest"]) != digest_arrays(arrays):
                raise ValueError("its arrays do not match the digest stored with them")
        return arrays
    except Exception:  # noqa: BLE001 - any unreadable memo is recomputed (and replaced)
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def memo_write(kind: str, key: dict, arrays: dict) -> None:
    """Store ``arrays`` under ``key`` (atomic, with a digest); a cache that cannot be written only
    costs the time."""
    import numpy as np

    if not _memo_enabled():
        return
    path = _memo_path(kind, key)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_orphans(path.parent)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, _digest=np.array(digest_arrays(arrays)), **arrays)

