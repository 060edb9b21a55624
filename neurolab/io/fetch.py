"""Download the natimg2800 recordings and the image classes into a local cache, verified.

Integrity first: a file is trusted only against a checksum known *before* it is trusted.

* The class files: their SHA256 is pinned here (``KNOWN_SHA256``).
* The recordings: figshare's listing of article 6845348 gives each file's MD5 (and size); the
  download is checked against it. With ``NEUROLAB_DATA_URL`` (a mirror, a test server, or a local
  folder as a path or ``file://`` URL) the file comes from ``<NEUROLAB_DATA_URL>/<filename>``, but
  its MD5 is still taken from the figshare listing; when that listing cannot be read, the file is
  refused, unless ``NEUROLAB_ALLOW_UNVERIFIED=1`` says, in the user's own words, to accept it
  unverified (with a warning).
* ``registry.json`` in the cache records the SHA256 of every file that passed verification, so
  later uses are checked without the network (in a folder shared with other users, a user who
  cannot write the shared registry records into ``registry.<uid>.json``). Nothing unverified is
  ever recorded: a file that does not match is refused, and deleting that file alone lets it
  download again. A cached file with no recorded checksum (copied in by hand, its entry lost, the
  registry damaged) is checked against figshare's MD5 and recorded, or refused when that listing
  cannot be read (unless ``NEUROLAB_ALLOW_UNVERIFIED=1``).

pooch does the transfer (temporary file, hash check, retries, atomic move). On top of it, this
module adds what pooch lacks: the figshare listing, the size check, an overall deadline
(``NEUROLAB_DOWNLOAD_DEADLINE`` seconds, besides the per-read ``TIMEOUT_S``), a lock around the
registry so concurrent fetches never lose an entry, removal of temporary files that a killed
download left behind, and files readable by the group and others as the umask allows (a shared
cache). The cache is ``NEUROLAB_DATA_DIR`` or the user's cache folder (``cache_dir()``).
"""

from __future__ import annotations

import contextlib
import fcntl
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

from neurolab._store import atomic_path, cache_dir, private_folder, remove_orphans, share_permissions
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
DEADLINE_ENV = "NEUROLAB_DOWNLOAD_DEADLINE"
DEFAULT_DEADLINE_S = 3600.0
"""Seconds one download may take in all (a server that trickles a byte at a time is stopped)."""
UNVERIFIED_ENV = "NEUROLAB_ALLOW_UNVERIFIED"
REGISTRY = "registry.json"
_CHUNK_BYTES = 1 << 20


def recording_filename(name) -> str:
    """'M170714_MP032_2017-09-14' (or its file name) -> 'natimg2800_M170714_MP032_2017-09-14.mat'.

    Raises ValueError listing the valid names for an unknown recording (or a name that is not text).
    """
    if not isinstance(name, str):
        raise TypeError(f"a recording name is a str, got {name!r} ({type(name).__name__})")
    stem = name.removeprefix("natimg2800_")
    stem = stem[:-4] if stem.lower().endswith(".mat") else stem
    if stem not in RECORDINGS:
        raise ValueError(
            f"unknown recording {name!r}; the natimg2800 recordings are: {', '.join(RECORDINGS)}"
        )
    return f"natimg2800_{stem}.mat"


def fetch_recording(name: str) -> Path:
    """Path of the cached file of recording ``name`` (one of ``RECORDINGS``), downloaded if absent.

    Raises ValueError for an unknown name, NeurolabDownloadError if the download fails or cannot
    be verified, NeurolabDataError if a cached file no longer matches its recorded SHA256.
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


def deadline_seconds() -> float:
    """The overall download deadline: ``$NEUROLAB_DOWNLOAD_DEADLINE`` seconds, default one hour."""
    text = os.environ.get(DEADLINE_ENV, "").strip()
    if not text:
        return DEFAULT_DEADLINE_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(f"{DEADLINE_ENV}={text!r}: give the deadline as a positive number of seconds")
    return value


def _fetch(filename: str, page: str, locate) -> Path:
    """The cached file, else download it from the mirror or from ``locate() -> (url, hash, size)``."""
    folder = cache_dir()
    target = folder / filename
    remove_orphans(folder, max_age_s=deadline_seconds())
    recorded = _read_registry(folder).get(filename, {})
    expected = KNOWN_SHA256.get(filename) or (recorded.get("sha256") if recorded.get("verified") else None)
    if target.is_file():
        return _checked_cached(folder, target, expected, locate)

    mirror = os.environ.get("NEUROLAB_DATA_URL", "").strip()
    if mirror:
        url, size = f"{mirror.rstrip('/')}/{filename}", None
        known_hash = f"sha256:{expected}" if expected else _hash_for_mirror(filename, url, page, locate)
    else:
        url, known_hash, size = locate()
        if expected:  # a re-download must give the file that was verified before
            known_hash = f"sha256:{expected}"
    _writable(folder, target, url, page)
    local = _local_folder(mirror) if mirror else None
    if local is not None:
        url = str(local / filename)
        _copy(Path(url), target, known_hash, page)
    else:
        _download(url, target, known_hash, size, page)
    share_permissions(target)
    if known_hash is None:
        warnings.warn(
            f"{target}: downloaded from {url} WITHOUT verification ({UNVERIFIED_ENV} is set); "
            "it is not recorded as a reference and will be checked against nothing",
            stacklevel=3,
        )
        return target
    entry = {"sha256": _digest(target, "sha256"), "size": target.stat().st_size, "source": url,
             "verified": known_hash.split(":")[0]}
    if known_hash.startswith("md5:"):
        entry["md5"] = known_hash.removeprefix("md5:")
    _record(folder, filename, entry)
    return target


def _checked_cached(folder: Path, target: Path, expected: str | None, locate) -> Path:
    """A file already in the cache: checked against its known SHA256; a file with none recorded is
    checked against the published checksum (figshare's MD5) and recorded, or refused."""
    try:
        sha256 = _digest(target, "sha256")
    except PermissionError as err:
        raise NeurolabDataError(
            f"{target}: cannot be read ({err}); the cache {folder} is shared with another user who "
            "owns it: ask them to make it readable, or set NEUROLAB_DATA_DIR to a folder of your own"
        ) from err
    if expected is None:
        return _verify_unrecorded(folder, target, locate)
    if sha256 != expected:
        raise NeurolabDataError(
            f"{target}: its SHA256 is {sha256}, but {expected} is expected (the published file, or the "
            f"file verified when it was first downloaded, as recorded in {folder / REGISTRY}). The file "
            "is corrupt or was replaced: delete it (that file alone) to download it again."
        )
    return target


def _verify_unrecorded(folder: Path, target: Path, locate) -> Path:
    """A cached file with no recorded checksum (placed by hand, its registry entry lost or damaged,
    or downloaded by a user who could not record it): verified against the published MD5 and
    recorded; refused when that cannot be read, unless ``NEUROLAB_ALLOW_UNVERIFIED=1``."""
    why = (f"no checksum is recorded for it in {folder / REGISTRY} (it was placed in the cache by hand, "
           "or its entry was lost)")
    try:
        _, known_hash, size = locate()
    except NeurolabDownloadError as err:
        if os.environ.get(UNVERIFIED_ENV, "").strip() == "1":
            warnings.warn(f"{target}: {why}, and the published checksum could not be read; it is used "
                          f"UNVERIFIED because {UNVERIFIED_ENV}=1, and not recorded", stacklevel=4)
            return target
        first = str(err).splitlines()[0]
        raise NeurolabDataError(
            f"{target}: {why}, and the published checksum could not be read ({first}). A file that cannot "
            f"be verified is not used: go online once so that it can be checked, delete it to download "
            f"it again, or set {UNVERIFIED_ENV}=1 to use it unverified."
        ) from err
    algorithm, value = known_hash.split(":")
    actual = _digest(target, algorithm)
    if actual != value or (size is not None and target.stat().st_size != size):
        raise NeurolabDataError(
            f"{target}: {why}; its {algorithm.upper()} is {actual}, but the published file's is {value}. "
            "The file is corrupt or not the published one: delete it (that file alone) to download it again."
        )
    entry = {"sha256": _digest(target, "sha256"), "size": target.stat().st_size, "source": "cache (verified "
             "in place)", "verified": algorithm}
    if algorithm == "md5":
        entry["md5"] = value
    _record(folder, target.name, entry)
    return target


def _hash_for_mirror(filename: str, url: str, page: str, locate) -> str | None:
    """The checksum of a file fetched from a mirror: figshare's MD5, or None when the user opted out."""
    try:
        _, known_hash, _ = locate()
    except NeurolabDownloadError as err:
        if os.environ.get(UNVERIFIED_ENV, "").strip() == "1":
            return None
        raise NeurolabDownloadError(
            f"Refusing {filename} from {url}: no checksum is known for it, and the figshare listing that "
            f"gives its MD5 could not be read ({err}). A file that cannot be verified is not used. Put "
            f"the file in the cache by hand, or set {UNVERIFIED_ENV}=1 to accept it unverified."
        ) from err
    return known_hash


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
    if not md5:
        raise NeurolabDownloadError(_advice(filename, api, "figshare lists no MD5 for it", FIGSHARE_PAGE))
    return entry["download_url"], f"md5:{md5}", None if size is None else int(size)


def _local_folder(url: str) -> Path | None:
    """The folder path for a ``file://`` URL or a plain path, None for a network URL."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(urllib.request.url2pathname(parsed.netloc + parsed.path))
    return Path(url).expanduser() if "://" not in url else None


# ---------------------------------------------------------------- transfer
class DeadlineExceeded(requests.exceptions.Timeout):
    """The whole download took longer than the deadline."""


class _Downloader:
    """pooch's downloader interface: stream with a per-read timeout and an overall deadline, then
    check the byte count (ValueError if wrong, which pooch treats as a failed attempt)."""

    def __init__(self, size: int | None, deadline_s: float):
        self.size, self.deadline_s = size, deadline_s

    def __call__(self, url, output_file, pooch_instance, check_only=False):
        start = time.monotonic()
        with requests.get(url, stream=True, timeout=TIMEOUT_S) as response:
            response.raise_for_status()
            if check_only:
                return True
            total = int(response.headers.get("content-length", 0)) or None
            bar = _progress_bar(total)
            received = 0
            with open(output_file, "wb") as out:
                # read1 returns whatever has arrived (at least a byte), so the deadline is checked
                # however slowly the server sends; iter_content would wait for a whole chunk
                while chunk := _read_some(response):
                    if time.monotonic() - start > self.deadline_s:
                        raise DeadlineExceeded(
                            f"the download took more than {self.deadline_s:g} s (set {DEADLINE_ENV} "
                            f"to allow longer); {received} bytes had arrived"
                        )
                    out.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            if bar is not None:
                bar.close()
        if self.size is not None and received != self.size:
            raise ValueError(f"received {received} bytes of {url}, but the file has {self.size}")
        return None


def _read_some(response) -> bytes:
    """The bytes that have arrived (b'' at the end); a broken transfer is requests' error."""
    import urllib3

    try:
        return response.raw.read1(_CHUNK_BYTES, decode_content=True)
    except urllib3.exceptions.HTTPError as err:
        raise requests.exceptions.ChunkedEncodingError(f"the transfer broke off: {err}") from err


def _progress_bar(total):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, leave=False)


def _download(url: str, target: Path, known_hash: str | None, size: int | None, page: str) -> None:
    """Download ``url`` to ``target`` with pooch (temporary file, verification, retries).

    pooch works in a private folder named with this process's id (``private_folder``), so the
    temporary file of a killed download is removed by the next run, not after the deadline.
    """
    with private_folder(target) as work:
        store = pooch.create(
            path=work,
            base_url=url.rsplit("/", 1)[0] + "/",
            registry={target.name: known_hash},
            urls={target.name: url},
            retry_if_failed=RETRIES,
        )
        try:
            fetched = store.fetch(target.name, downloader=_Downloader(size, deadline_seconds()))
        except requests.RequestException as err:
            raise NeurolabDownloadError(
                _advice(target.name, url, f"{type(err).__name__}: {err}", page, target)
            ) from err
        except ValueError as err:  # pooch: hash mismatch; ours: wrong size
            reason = f"the download failed verification and was deleted ({err})"
            raise NeurolabDownloadError(_advice(target.name, url, reason, page, target)) from err
        os.replace(fetched, target)


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


def _writable(folder: Path, target: Path, url: str, page: str) -> None:
    """The cache folder exists and can be written, or a clear error that says what to do."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe_ok = os.access(folder, os.W_OK | os.X_OK)
    except OSError as err:
        probe_ok, reason = False, f"{type(err).__name__}: {err}"
    else:
        reason = "the folder is read-only for this user"
    if not probe_ok:
        raise NeurolabDownloadError(
            f"Could not fetch {target.name} from {url}: the data cache {folder} cannot be written "
            f"({reason}). Set NEUROLAB_DATA_DIR to a writable folder, or download the file by hand "
            f"from {page} into a cache you can write."
        )


def _advice(filename: str, url: str, reason: str, page: str, target: Path | None = None) -> str:
    """An error message: what failed, and what to do about it."""
    target = target or cache_dir() / filename
    return (
        f"Could not fetch {filename} from {url}: {reason}.\n"
        f"If you are offline or the server is down: download the file by hand from {page} and save it "
        f"as {target} (the data cache; set NEUROLAB_DATA_DIR to use another folder), or set "
        f"NEUROLAB_DATA_URL to a mirror (a URL or a folder) that holds {filename}."
    )


# ---------------------------------------------------------------- registry of hashes
def _digest(path: Path, algorithm: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()


def _registries(folder: Path) -> list[Path]:
    """The shared registry, then this user's own (used when the shared one belongs to another user)."""
    return [folder / REGISTRY, folder / f"registry.{os.getuid()}.json"]


def _read_registry(folder: Path) -> dict:
    """{filename: {'sha256', 'size', 'source', 'verified', ...}} from ``folder/registry.json`` and
    this user's ``registry.<uid>.json`` (an unreadable or damaged one counts as empty, with a warning:
    its files are then verified again against the published checksums)."""
    merged = {}
    for path in _registries(folder):
        try:
            registry = json.loads(path.read_text())
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as err:
            warnings.warn(f"{path}: unreadable ({err}); the files it listed are verified again against "
                          "their published checksums", stacklevel=3)
            continue
        if isinstance(registry, dict):
            merged |= {k: v for k, v in registry.items() if isinstance(v, dict)}
    return merged


@contextlib.contextmanager
def _locked(folder: Path, name: str = REGISTRY):
    """An exclusive lock on a registry for a read-modify-write (other processes wait for it)."""
    lock = folder / f".{name}.lock"
    with open(lock, "a") as handle:
        share_permissions(lock)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _record(folder: Path, filename: str, entry: dict) -> None:
    """Add or replace ``filename``'s entry (locked, atomic): in the shared registry, else (it belongs
    to another user, in a shared folder) in this user's own; only a warning when neither can be written."""
    errors = []
    for path in _registries(folder):
        try:
            with _locked(folder, path.name):
                try:
                    registry = json.loads(path.read_text())
                except (OSError, ValueError):
                    registry = {}
                registry = registry if isinstance(registry, dict) else {}
                registry[filename] = entry
                with atomic_path(path) as tmp:
                    tmp.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")
            return
        except OSError as err:
            errors.append(f"{path.name}: {err}")
    warnings.warn(f"could not record the SHA256 of {filename} in {folder} ({'; '.join(errors)}); it will be "
                  "verified against the published checksum again next time", stacklevel=3)
