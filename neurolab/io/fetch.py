"""Download the natimg2800 recordings and the image classes into a local cache, verified.

Sources: the recordings come from figshare article 6845348 (download URL, size and MD5 of each file
from the figshare API); the class files from the authors' GitHub repository (SHA256 known here).
``NEUROLAB_DATA_URL`` replaces both: every file is then fetched from ``<NEUROLAB_DATA_URL>/<filename>``
with no API call (a mirror, a test server, or a local folder given as a path or ``file://`` URL).

The cache is ``NEUROLAB_DATA_DIR`` or the user's cache folder (``cache_dir()``). A file already
there is used as is, with no network access. ``registry.json`` in the cache records the SHA256 of
every file on first use; later uses are checked against it. Downloads land in a temporary file and
move into place only once complete and verified (pooch), so a failed one leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import pooch
import requests

from neurolab._store import atomic_path, cache_dir
from neurolab.errors import NeurolabDataError, NeurolabDownloadError

RECORDINGS = (
    "M160825_MP027_2016-12-14",
    "M161025_MP030_2017-05-29",
    "M170604_MP031_2017-06-28",
    "M170714_MP032_2017-08-07",
    "M170714_MP032_2017-09-14",
    "M170717_MP033_2017-08-20",
    "M170717_MP034_2017-09-11",
)
"""The seven natimg2800 sessions; each is the file ``natimg2800_<name>.mat``."""

FIGSHARE_ARTICLE = 6845348
FIGSHARE_API = "https://api.figshare.com/v2"
FIGSHARE_PAGE = "https://doi.org/10.25378/janelia.6845348"
CLASSES_URL = "https://raw.githubusercontent.com/MouseLand/stringer-pachitariu-et-al-2018b/master/classes/"
CLASS_FILES = {
    "confident": "stimuli_class_assignment_confident.mat",  # 12 classes, 'unknown' first
    "all": "stimuli_class_assignment.mat",  # 16 classes
}
KNOWN_SHA256 = {  # the class files in the authors' repository (752 and 858 bytes)
    CLASS_FILES["confident"]: "18721867c432cc7d51f23c401d2abac514b22d8a672553f553f696210eb191e6",
    CLASS_FILES["all"]: "27c16dd858fa55ab8bd0abeb214e028561b4f4fd0ae5ab4deb626aadf92ef683",
}
RETRIES = 3
"""Extra attempts after a failed download; pooch waits 1 s, 2 s, 3 s between them."""
TIMEOUT_S = 60
"""Seconds to wait for the server to connect or send the next bytes."""
REGISTRY = "registry.json"
_CHUNK_BYTES = 1 << 20


def recording_filename(name: str) -> str:
    """'M170714_MP032_2017-09-14' (or its file name) -> 'natimg2800_M170714_MP032_2017-09-14.mat'.

    Raises ValueError listing the valid names for an unknown recording.
    """
    stem = str(name).removeprefix("natimg2800_").removesuffix(".mat")
    if stem not in RECORDINGS:
        raise ValueError(
            f"unknown recording {name!r}; the natimg2800 recordings are: {', '.join(RECORDINGS)}"
        )
    return f"natimg2800_{stem}.mat"


def fetch_recording(name: str) -> Path:
    """Path of the cached file of recording ``name`` (one of ``RECORDINGS``), downloaded if absent.

    Raises ValueError for an unknown name, NeurolabDownloadError if the download fails and
    NeurolabDataError if a cached file no longer matches its recorded SHA256.
    """
    filename = recording_filename(name)
    return _fetch(filename, page=FIGSHARE_PAGE, locate=lambda: _figshare_source(filename))


def fetch_classes(kind: str = "confident") -> Path:
    """Path of the cached class file: kind 'confident' (12 classes) or 'all' (16 classes)."""
    if kind not in CLASS_FILES:
        raise ValueError(f"unknown class file kind {kind!r}; choose one of {sorted(CLASS_FILES)}")
    filename = CLASS_FILES[kind]
    url = CLASSES_URL + filename
    return _fetch(filename, page=url, locate=lambda: (url, f"sha256:{KNOWN_SHA256[filename]}", None))


def _fetch(filename: str, page: str, locate) -> Path:
    """The cached file, else download it from the mirror or from ``locate() -> (url, hash, size)``."""
    folder = cache_dir()
    target = folder / filename
    recorded = _read_registry(folder).get(filename, {}).get("sha256")
    expected = KNOWN_SHA256.get(filename, recorded)
    if target.is_file():
        sha256 = _digest(target, "sha256")
        if expected is not None and sha256 != expected:
            raise NeurolabDataError(
                f"{target}: its SHA256 is {sha256}, but {expected} is expected (the published file, or the "
                f"hash recorded in {folder / REGISTRY} when it was first used). The file is corrupt or "
                "was replaced: delete it to download it again."
            )
        if recorded != sha256:
            _record(
                folder,
                filename,
                {"sha256": sha256, "size": target.stat().st_size, "source": "found in cache"},
            )
        return target

    mirror = os.environ.get("NEUROLAB_DATA_URL", "").strip()
    if mirror:
        url, known_hash, size = f"{mirror.rstrip('/')}/{filename}", expected and f"sha256:{expected}", None
    else:
        url, known_hash, size = locate()
    folder.mkdir(parents=True, exist_ok=True)
    local = _local_folder(mirror) if mirror else None
    if local is not None:
        url = str(local / filename)
        _copy(Path(url), target, known_hash, page)
    else:
        _download(url, target, known_hash, size, page)
    entry = {"sha256": _digest(target, "sha256"), "size": target.stat().st_size, "source": url}
    if known_hash and known_hash.startswith("md5:"):
        entry["md5"] = known_hash.removeprefix("md5:")
    _record(folder, filename, entry)
    return target


# ---------------------------------------------------------------- sources
def _figshare_source(filename: str) -> tuple[str, str | None, int | None]:
    """(download_url, 'md5:<hash>', size in bytes) of ``filename`` from the figshare file listing."""
    api = f"{FIGSHARE_API}/articles/{FIGSHARE_ARTICLE}/files?page_size=1000"
    for attempt in range(RETRIES + 1):
        try:
            response = requests.get(api, timeout=TIMEOUT_S)
            response.raise_for_status()
            listing = response.json()
            break
        except (requests.RequestException, ValueError) as err:
            if attempt == RETRIES:
                reason = f"the figshare file listing could not be read ({type(err).__name__}: {err})"
                raise NeurolabDownloadError(_advice(filename, api, reason, FIGSHARE_PAGE)) from err
            time.sleep(min(attempt + 1, 10))
    entries = {e.get("name"): e for e in listing if isinstance(e, dict)} if isinstance(listing, list) else {}
    if filename not in entries:
        listed = ", ".join(map(str, entries))
        reason = f"figshare article {FIGSHARE_ARTICLE} lists no such file (it lists: {listed})"
        raise NeurolabDownloadError(_advice(filename, api, reason, FIGSHARE_PAGE))
    entry = entries[filename]
    md5 = entry.get("computed_md5") or entry.get("supplied_md5")
    size = entry.get("size")
    return entry["download_url"], md5 and f"md5:{md5}", None if size is None else int(size)


def _local_folder(url: str) -> Path | None:
    """The folder path for a ``file://`` URL or a plain path, None for a network URL."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(urllib.request.url2pathname(parsed.netloc + parsed.path))
    return Path(url) if "://" not in url else None


# ---------------------------------------------------------------- transfer
class _SizeCheckingDownloader:
    """pooch's HTTP downloader with a timeout, then a check of the byte count (ValueError if wrong)."""

    def __init__(self, size: int | None):
        self.size = size
        self.http = pooch.HTTPDownloader(progressbar=_have_tqdm(), chunk_size=_CHUNK_BYTES, timeout=TIMEOUT_S)

    def __call__(self, url, output_file, pooch_instance, check_only=False):
        result = self.http(url, output_file, pooch_instance, check_only=check_only)
        if not check_only and self.size is not None:
            received = os.path.getsize(output_file)
            if received != self.size:
                raise ValueError(f"received {received} bytes of {url}, but the file has {self.size}")
        return result


def _download(url: str, target: Path, known_hash: str | None, size: int | None, page: str) -> None:
    """Download ``url`` to ``target`` with pooch (temporary file, verification, retries)."""
    store = pooch.create(
        path=target.parent,
        base_url=url.rsplit("/", 1)[0] + "/",
        registry={target.name: known_hash},
        urls={target.name: url},
        retry_if_failed=RETRIES,
    )
    try:
        store.fetch(target.name, downloader=_SizeCheckingDownloader(size))
    except requests.RequestException as err:
        raise NeurolabDownloadError(
            _advice(target.name, url, f"{type(err).__name__}: {err}", page, target)
        ) from err
    except ValueError as err:  # pooch: hash mismatch; ours: wrong size
        reason = f"the download failed verification and was deleted ({err})"
        raise NeurolabDownloadError(_advice(target.name, url, reason, page, target)) from err


def _copy(source: Path, target: Path, known_hash: str | None, page: str) -> None:
    """Copy the local file ``source`` into the cache as ``target``, verified, atomically."""
    if not source.is_file():
        raise NeurolabDownloadError(_advice(target.name, str(source), "no such file", page, target))
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
        if known_hash:
            algorithm, expected = known_hash.split(":")
            if _digest(tmp, algorithm) != expected:
                reason = f"its {algorithm.upper()} is not the expected {expected}"
                raise NeurolabDownloadError(_advice(target.name, str(source), reason, page, target))


def _advice(filename: str, url: str, reason: str, page: str, target: Path | None = None) -> str:
    """An error message: what failed, and what to do about it."""
    target = target or cache_dir() / filename
    return (
        f"Could not fetch {filename} from {url}: {reason}.\n"
        f"If you are offline or the server is down: download the file by hand from {page} and save it "
        f"as {target}, or set NEUROLAB_DATA_URL to a mirror (a URL or a folder) that holds {filename}. "
        'Every chapter also runs without it on synthetic data (DATA = "synthetic").'
    )


def _have_tqdm() -> bool:
    try:
        import tqdm  # noqa: F401  (pooch's progress bar needs it)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------- registry of hashes
def _digest(path: Path, algorithm: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()


def _read_registry(folder: Path) -> dict:
    """{filename: {'sha256', 'size', 'source', ...}} from ``folder/registry.json`` ({} if absent)."""
    path = folder / REGISTRY
    try:
        registry = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        warnings.warn(f"{path}: unreadable ({err}); cached files are not checked against it", stacklevel=3)
        return {}
    return registry if isinstance(registry, dict) else {}


def _record(folder: Path, filename: str, entry: dict) -> None:
    """Add or replace ``filename``'s entry in the registry (atomic; a read-only cache only warns)."""
    registry = _read_registry(folder)
    registry[filename] = entry
    try:
        with atomic_path(folder / REGISTRY) as tmp:
            tmp.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")
    except OSError as err:
        warnings.warn(
            f"could not record the SHA256 of {filename} in {folder / REGISTRY}: {err}", stacklevel=3
        )
