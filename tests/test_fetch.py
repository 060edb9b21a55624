"""neurolab.io.fetch against a real HTTP server on 127.0.0.1: downloads, cache, verification, failures."""

import hashlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import neurolab.io.fetch as fetch
from neurolab.errors import NeurolabDataError, NeurolabDownloadError
from neurolab.io import fetch_classes, fetch_recording, load, write_natimg_mat

NAME = "M170714_MP032_2017-09-14"
FILE = f"natimg2800_{NAME}.mat"
PAYLOAD = b"not really a MAT file, just bytes to move around\n" * 100
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


class FileServer:
    """A threaded HTTP server serving ``files`` ({'/path': bytes}); ``faults`` breaks chosen paths.

    Faults: '500' (always a server error), '500-once' (the first request only), 'truncate'
    (announces more bytes than it sends, then closes the connection), 'html' (an error page with
    status 200), 'trickle' (one byte every 0.2 s).
    """

    def __init__(self):
        self.files, self.faults, self.requests = {}, {}, []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(server):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                server.requests.append(path)
                fault = server.faults.get(path)
                if fault == "500" or (fault == "500-once" and server.requests.count(path) == 1):
                    return self.send_error(500, "broken on purpose")
                if path not in server.files:
                    return self.send_error(404)
                body = server.files[path]
                if fault == "html":
                    body = b"<html><body>Sorry, the file is temporarily unavailable</body></html>"
                if fault == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for i in range(len(body)):
                        try:
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.2)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (10_000 if fault == "truncate" else 0)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if fault == "truncate" else body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def server():
    files = FileServer()
    yield files
    files.stop()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NEUROLAB_DATA_DIR", str(folder))
    monkeypatch.delenv("NEUROLAB_DATA_URL", raising=False)
    monkeypatch.setattr(fetch, "RETRIES", 0)  # no waiting between attempts, except where tested
    monkeypatch.setattr(fetch, "FIGSHARE_API", "http://127.0.0.1:9/never-used")
    return folder


def mirror(monkeypatch, server, files: dict, listing: bool = True) -> None:
    """Serve ``files`` as a mirror; with ``listing``, also a figshare listing that gives their MD5."""
    server.files.update({f"/{name}": body for name, body in files.items()})
    monkeypatch.setenv("NEUROLAB_DATA_URL", server.url)
    if listing:
        monkeypatch.setattr(fetch, "FIGSHARE_API", server.url + "/v2")
        entries = [{"name": name, "size": len(body), "download_url": f"{server.url}/figshare/{name}",
                    "computed_md5": hashlib.md5(body).hexdigest()} for name, body in files.items()]
        server.files["/v2/articles/6845348/files"] = json.dumps(entries).encode()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def registry(folder: Path) -> dict:
    return json.loads((folder / "registry.json").read_text())


def leftovers(folder: Path) -> list[str]:
    """Files in the cache apart from the registry and its lock (a failed download must leave none)."""
    keep = {"registry.json", ".registry.json.lock"}
    return sorted(p.name for p in folder.iterdir() if p.name not in keep) if folder.exists() else []


# ---------------------------------------------------------------- success and cache
def test_download_from_mirror_is_verified_against_figshare_md5(monkeypatch, server, cache):
    mirror(monkeypatch, server, {FILE: PAYLOAD})
    path = fetch_recording(NAME)
    assert path == cache / FILE and path.read_bytes() == PAYLOAD
    entry = registry(cache)[FILE]
    assert entry["sha256"] == hashlib.sha256(PAYLOAD).hexdigest() and entry["size"] == len(PAYLOAD)
    assert entry["source"] == f"{server.url}/{FILE}" and entry["verified"] == "md5"
    assert entry["md5"] == hashlib.md5(PAYLOAD).hexdigest()
    assert leftovers(cache) == [FILE]
    assert "/figshare/" + FILE not in server.requests  # the bytes came from the mirror


def test_cache_hit_needs_no_network(monkeypatch, server, cache):
    mirror(monkeypatch, server, {FILE: PAYLOAD})
    fetch_recording(NAME)
    n_requests = len(server.requests)
    server.stop()
    assert fetch_recording(f"natimg2800_{NAME}.mat").read_bytes() == PAYLOAD  # the file name works too
    assert len(server.requests) == n_requests


def test_file_placed_by_hand_is_refused_when_it_cannot_be_verified(monkeypatch, cache):
    monkeypatch.setenv("NEUROLAB_DATA_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.delenv("NEUROLAB_ALLOW_UNVERIFIED", raising=False)
    cache.mkdir()
    (cache / FILE).write_bytes(PAYLOAD)
    with pytest.raises(NeurolabDataError, match="no checksum is recorded for it.*could not be read"):
        fetch_recording(NAME)
    assert not (cache / "registry.json").exists()  # nothing unverified becomes a reference
    monkeypatch.setenv("NEUROLAB_ALLOW_UNVERIFIED", "1")  # the user's own words
    with pytest.warns(UserWarning, match="used UNVERIFIED because NEUROLAB_ALLOW_UNVERIFIED=1"):
        assert fetch_recording(NAME).read_bytes() == PAYLOAD
    assert not (cache / "registry.json").exists()


def test_file_placed_by_hand_is_verified_against_figshare_and_recorded(monkeypatch, server, cache):
    mirror(monkeypatch, server, {FILE: PAYLOAD})
    cache.mkdir()
    (cache / FILE).write_bytes(PAYLOAD)
    assert fetch_recording(NAME).read_bytes() == PAYLOAD
    assert registry(cache)[FILE]["md5"] == hashlib.md5(PAYLOAD).hexdigest()
    assert f"/{FILE}" not in server.requests  # checked in place, not downloaded
    flipped = bytearray(PAYLOAD)
    flipped[7] ^= 1
    (cache / "registry.json").unlink()
    (cache / FILE).write_bytes(bytes(flipped))  # one bit flipped, copied in by hand
    with pytest.raises(NeurolabDataError, match="not the published one"):
        fetch_recording(NAME)


def test_a_verified_file_changed_later_is_refused_and_deleting_it_alone_fixes_it(monkeypatch, server, cache):
    mirror(monkeypatch, server, {FILE: PAYLOAD})
    fetch_recording(NAME)
    (cache / FILE).write_bytes(PAYLOAD[:-1])  # changed after it was verified
    with pytest.raises(NeurolabDataError, match=r"delete it \(that file alone\)") as info:
        fetch_recording(NAME)
    assert FILE in str(info.value)
    (cache / FILE).unlink()
    assert fetch_recording(NAME).read_bytes() == PAYLOAD


def test_load_by_name_through_mirror(monkeypatch, server, cache, tmp_path):
    rng = np.random.default_rng(1)
    istim = np.repeat(np.arange(1, 11), 2).astype(float)
    source = write_natimg_mat(
        tmp_path / FILE, rng.standard_normal((20, 8)), istim, rng.standard_normal((5, 8)), rng.random((8, 3))
    )
    mirror(monkeypatch, server, {FILE: source.read_bytes()})
    rec = load(NAME)
    assert (rec.name, rec.source, rec.n_trials, rec.n_neurons) == (NAME, "figshare", 20, 8)


def test_class_file_verified_against_published_sha256(monkeypatch, server, cache):
    real = SHARED_DATA / "stimuli_class_assignment_confident.mat"
    if not real.exists():
        pytest.skip(f"{real} is not here")
    mirror(monkeypatch, server, {real.name: real.read_bytes()})
    assert fetch_classes().read_bytes() == real.read_bytes()
    assert registry(cache)[real.name]["sha256"] == fetch.KNOWN_SHA256[real.name]


@pytest.mark.parametrize("as_uri", [False, True])
def test_local_folder_mirror(monkeypatch, server, cache, tmp_path, as_uri):
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / FILE).write_bytes(PAYLOAD)
    mirror(monkeypatch, server, {FILE: PAYLOAD})  # for the figshare listing (the MD5)
    monkeypatch.setenv("NEUROLAB_DATA_URL", folder.as_uri() if as_uri else str(folder))
    assert fetch_recording(NAME).read_bytes() == PAYLOAD
    (folder / "stimuli_class_assignment.mat").write_bytes(b"a wrong class file")
    with pytest.raises(NeurolabDownloadError, match="SHA256 is not the expected"):
        fetch_classes("all")
    assert leftovers(cache) == [FILE]


# ---------------------------------------------------------------- failures leave nothing behind
def test_hash_mismatch_leaves_no_file(monkeypatch, server, cache):
    name = "stimuli_class_assignment_confident.mat"
    mirror(monkeypatch, server, {name: b"something else entirely"})
    with pytest.raises(NeurolabDownloadError, match="failed verification") as info:
        fetch_classes("confident")
    assert f"{server.url}/{name}" in str(info.value)
    assert leftovers(cache) == []


def test_redownload_must_match_the_recorded_sha256(monkeypatch, server, cache):
    mirror(monkeypatch, server, {FILE: PAYLOAD})
    fetch_recording(NAME)
    (cache / FILE).unlink()
    server.files[f"/{FILE}"] = PAYLOAD.upper()  # the mirror now serves something else
    server.files.pop("/v2/articles/6845348/files")  # and figshare cannot be asked
    with pytest.raises(NeurolabDownloadError, match="failed verification"):
        fetch_recording(NAME)
    assert leftovers(cache) == []


def test_truncated_transfer_leaves_no_file(monkeypatch, server, cache):
    mirror(monkeypatch, server, {FILE: PAYLOAD})
    server.faults[f"/{FILE}"] = "truncate"
    with pytest.raises(NeurolabDownloadError, match=FILE):
        fetch_recording(NAME)
    assert leftovers(cache) == []


def test_server_error_is_explained(monkeypatch, server, cache):
    mirror(monkeypatch, server, {FILE: PAYLOAD})
    server.faults[f"/{FILE}"] = "500"
    with pytest.raises(NeurolabDownloadError) as info:
        fetch_recording(NAME)
    message = str(info.value)
    for part in (
        "500",
        f"{server.url}/{FILE}",
        str(cache / FILE),
        "download the file by hand",
        "NEUROLAB_DATA_URL",
    ):  # fmt: skip
        assert part in message, message
    assert leftovers(cache) == []


def test_retries_after_a_failed_attempt(monkeypatch, server, cache):
    monkeypatch.setattr(fetch, "RETRIES", 1)  # pooch waits 1 s before the second attempt
    mirror(monkeypatch, server, {FILE: PAYLOAD})
    server.faults[f"/{FILE}"] = "500-once"
    assert fetch_recording(NAME).read_bytes() == PAYLOAD
    assert [r for r in server.requests if r == f"/{FILE}"] == [f"/{FILE}", f"/{FILE}"]


def test_offline_is_explained(monkeypatch, cache):
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("NEUROLAB_DATA_URL", url)
    monkeypatch.setenv("NEUROLAB_ALLOW_UNVERIFIED", "1")  # past the checksum: to the transfer itself
    with pytest.raises(NeurolabDownloadError) as info:
        fetch_recording(NAME)
    message = str(info.value)
    for part in (f"{url}/{FILE}", "ConnectionError", "offline", str(cache / FILE), "NEUROLAB_DATA_URL"):
        assert part in message, message
    assert isinstance(info.value, OSError)


def test_unknown_names():
    with pytest.raises(
        ValueError, match="unknown recording 'M000000'.*M160825_MP027_2016-12-14.*M170717_MP034"
    ):
        fetch_recording("M000000")
    with pytest.raises(ValueError, match="'all', 'confident'"):
        fetch_classes("maybe")


# ---------------------------------------------------------------- the figshare API path
def figshare(monkeypatch, server, size=None, md5=None, name=FILE):
    """Serve a figshare-like file listing and the file behind its download_url."""
    monkeypatch.setattr(fetch, "FIGSHARE_API", server.url + "/v2")
    listing = [
        {"name": "images_natimg2800_all.mat", "size": 1, "download_url": server.url + "/files/1",
         "computed_md5": "0"},
        {"name": name, "size": size or len(PAYLOAD), "download_url": server.url + "/files/2",
         "computed_md5": md5 or hashlib.md5(PAYLOAD).hexdigest()},
    ]  # fmt: skip
    server.files["/v2/articles/6845348/files"] = json.dumps(listing).encode()
    server.files["/files/2"] = PAYLOAD


def test_figshare_listing_gives_url_size_and_md5(monkeypatch, server, cache):
    figshare(monkeypatch, server)
    assert fetch_recording(NAME).read_bytes() == PAYLOAD
    assert server.requests == ["/v2/articles/6845348/files", "/files/2"]
    assert registry(cache)[FILE]["md5"] == hashlib.md5(PAYLOAD).hexdigest()


@pytest.mark.parametrize(
    "change, fragment",
    [
        (dict(md5="0" * 32), "MD5 hash of downloaded file"),
        (dict(size=len(PAYLOAD) + 1), f"received {len(PAYLOAD)} bytes"),
        (
            dict(name="natimg2800_other.mat"),
            "lists no such file (it lists: images_natimg2800_all.mat, natimg2800_other.mat)",
        ),
    ],
)
def test_figshare_verification_failures(monkeypatch, server, cache, change, fragment):
    figshare(monkeypatch, server, **change)
    with pytest.raises(NeurolabDownloadError) as info:
        fetch_recording(NAME)
    assert fragment in str(info.value) and FILE in str(info.value), str(info.value)
    assert leftovers(cache) == []


def test_figshare_api_down(monkeypatch, server, cache):
    figshare(monkeypatch, server)
    server.faults["/v2/articles/6845348/files"] = "500"
    with pytest.raises(
        NeurolabDownloadError,
        match="from http.*/v2/articles/6845348/files.*: the figshare file listing could not be read",
    ):
        fetch_recording(NAME)
    assert leftovers(cache) == []
