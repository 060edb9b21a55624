"""Where neurolab keeps files, and how it writes them: the cache folder and atomic writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import platformdirs

__all__ = ["atomic_path", "cache_dir"]


def cache_dir() -> Path:
    """The cache folder: env ``NEUROLAB_DATA_DIR``, else ``platformdirs.user_cache_dir('neurolab')``."""
    folder = os.environ.get("NEUROLAB_DATA_DIR", "").strip()
    return Path(folder).expanduser() if folder else Path(platformdirs.user_cache_dir("neurolab"))


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    On any error the temporary file is removed, so a half-written file is never left behind. The
    file gets the permissions the umask allows (not mkstemp's 0600), so a shared cache is readable.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
