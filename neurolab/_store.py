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

__all__ = ["atomic_path", "cache_dir", "private_folder", "remove_orphans", "share_permissions"]

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
