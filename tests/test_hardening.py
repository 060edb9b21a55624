"""Fault injection: nothing wrong gets in silently, nothing half-written stays behind.

One section per fault found when the package was probed as a careful user and a hostile file
would (the numbers are those of the hardening issue). Bad files are made on the fly, download
faults are served by a real HTTP server on 127.0.0.1 (tests/test_fetch.py's FileServer), and
killed and racing writers are real processes.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from sklearn.base import BaseEstimator, ClassifierMixin
from test_fetch import FILE, NAME, PAYLOAD, FileServer, leftovers, mirror

import neurolab.io.fetch as fetch
from neurolab._store import atomic_path, remove_orphans
from neurolab.decoding import cross_validate, cross_validate_decoder, identity_accuracy
from neurolab.errors import NeurolabDataError, NeurolabDownloadError
from neurolab.geometry import cvpca
from neurolab.io import load, load_classes, load_recording, write_natimg_mat
from neurolab.io.matfile import istim_to_file
from neurolab.preprocessing import SpontaneousPCs, denoise_recording
from neurolab.recording import split_repeats
from neurolab.spatial import grid_cells, voxelise
from neurolab.synthetic import cache_file, cached_recording, make_recording

ROOT = Path(__file__).resolve().parents[1]
LABELS = load_classes()[0]
CASES: list[str] = []  # the numbered cases this file reproduces (counted in the note)


def case(*names):
    """Mark a test (or class) as reproducing these numbered cases, for the count below."""
    CASES.extend(names)
    return lambda obj: obj


@pytest.fixture
def server():
    files = FileServer()
    yield files
    files.stop()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NEUROLAB_DATA_DIR", str(folder))
    for var in ("NEUROLAB_DATA_URL", "NEUROLAB_ALLOW_UNVERIFIED", "NEUROLAB_DOWNLOAD_DEADLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(fetch, "RETRIES", 0)
    monkeypatch.setattr(fetch, "FIGSHARE_API", "http://127.0.0.1:9/never-used")
    return folder


def small_file(path, **change):
    """A small natimg2800 file (30 images x 2, 4 grey trials, 12 neurons), with arrays changed."""
    rng = np.random.default_rng(0)
    istim = np.concatenate([np.tile(np.arange(30), 2), [-1] * 4])
    parts = dict(resp=rng.random((64, 12)), istim_1based=istim_to_file(istim), spont=rng.random((20, 12)),
                 med=rng.uniform(0, 500, (12, 3)))
    parts |= change
    return write_natimg_mat(path, **parts)


# ---------------------------------------------------------------- 1. unverified data from a mirror
@case("1a no checksum, listing unreachable", "1b truncated body", "1c HTML page", "1d one byte flipped",
      "1e explicit opt-out")
class TestIntegrity:
    def test_no_checksum_known_is_refused(self, monkeypatch, server, cache):
        mirror(monkeypatch, server, {FILE: PAYLOAD}, listing=False)
        with pytest.raises(NeurolabDownloadError, match="NEUROLAB_ALLOW_UNVERIFIED=1") as info:
            fetch.fetch_recording(NAME)
        assert "no checksum is known" in str(info.value) and FILE in str(info.value)
        assert leftovers(cache) == [] and not (cache / "registry.json").exists()

    @pytest.mark.parametrize("fault", ["truncate", "html", "flip"])
    def test_a_wrong_body_is_refused_and_the_right_one_accepted_after(self, monkeypatch, server, cache, fault):
        mirror(monkeypatch, server, {FILE: PAYLOAD})  # the listing gives the MD5 of PAYLOAD
        if fault == "flip":
            server.files[f"/{FILE}"] = PAYLOAD[:100] + bytes([PAYLOAD[100] ^ 1]) + PAYLOAD[101:]
        else:
            server.faults[f"/{FILE}"] = fault
        with pytest.raises(NeurolabDownloadError, match=FILE):
            fetch.fetch_recording(NAME)
        assert leftovers(cache) == [] and FILE not in json.loads((cache / "registry.json").read_text()
                                                                   if (cache / "registry.json").exists() else "{}")
        server.files[f"/{FILE}"] = PAYLOAD  # the mirror is mended: nothing stale stands in the way
        server.faults.clear()
        assert fetch.fetch_recording(NAME).read_bytes() == PAYLOAD

    def test_opt_out_warns_and_records_nothing(self, monkeypatch, server, cache):
        mirror(monkeypatch, server, {FILE: PAYLOAD}, listing=False)
        monkeypatch.setenv("NEUROLAB_ALLOW_UNVERIFIED", "1")
        with pytest.warns(UserWarning, match="WITHOUT verification"):
            assert fetch.fetch_recording(NAME).read_bytes() == PAYLOAD
        assert not (cache / "registry.json").exists()


# ---------------------------------------------------------------- 2. silent neurons in spontaneous activity
@case("2a silent neuron", "2b constant spont", "2c empty spont")
class TestSilentNeurons:
    def test_one_silent_neuron_no_longer_wrecks_denoising(self):
        rec = make_recording("smoke", 0, labels=LABELS)
        base = identity_accuracy(split_repeats(denoise_recording(rec, 8)[0])[0])
        spont = rec.spont.copy()
        spont[:, 5] = 0.0  # silent while the screen is grey, responsive to images
        import dataclasses

        broken = dataclasses.replace(rec, spont=spont)
        with pytest.warns(UserWarning, match="1 of 600 neurons are silent"):
            denoised, sp = denoise_recording(broken, 8)
        assert sp.silent_.sum() == 1 and sp.scale_[5] == pytest.approx(np.median(rec.spont.std(0)), rel=0.1)
        assert np.abs(denoised.resp).max() < 1e3
        assert identity_accuracy(split_repeats(denoised)[0]) > 0.8 * base

    def test_constant_or_empty_spontaneous_activity_is_a_clear_error(self):
        with pytest.raises(ValueError, match="constant for at least half"):
            SpontaneousPCs(0).fit(np.ones((50, 20)))
        with pytest.raises(ValueError, match="0 sample"):
            SpontaneousPCs(0).fit(np.zeros((0, 20)))


# ---------------------------------------------------------------- 3. loader checks
@case("3a NaN positions", "3b beyond float32", "3c all red cells", "3d NaN red cell", "3e 0-based istim",
      "3f 0-based istim without a 0")
class TestLoader:
    def test_nan_positions(self, tmp_path):
        med = np.random.default_rng(1).uniform(0, 500, (12, 3))
        med[4, 1] = np.nan
        path = small_file(tmp_path / "natimg2800_x.mat", med=med)
        with pytest.raises(NeurolabDataError, match=r"'med' holds 1 NaN"):
            load_recording(path)

    def test_values_beyond_float32(self, tmp_path):
        resp = np.random.default_rng(2).random((64, 12))
        resp[3, 3] = 1e39
        path = small_file(tmp_path / "natimg2800_x.mat", resp=resp)
        with pytest.raises(NeurolabDataError, match="beyond the float32 range"):
            load_recording(path)

    @pytest.mark.parametrize("redcell, fragment", [(np.ones(12), "flags every one of the 12 neurons"),
                                                    (np.r_[np.zeros(11), np.nan], "expected 0 or 1")])
    def test_red_cells(self, tmp_path, redcell, fragment):
        path = small_file(tmp_path / "natimg2800_x.mat", redcell=redcell)
        with pytest.raises(NeurolabDataError, match=fragment):
            load_recording(path)

    def test_zero_based_istim(self, tmp_path):
        istim = np.concatenate([np.tile(np.arange(30), 2), [2800] * 4]).astype(float)  # 0-based
        with pytest.raises(NeurolabDataError, match="is the file 0-based"):
            load_recording(small_file(tmp_path / "a.mat", istim_1based=istim))
        istim = np.concatenate([np.tile(np.arange(1, 31), 2), [2800] * 14]).astype(float)  # no 0 in it
        resp = np.random.default_rng(3).random((74, 12))
        with pytest.raises(NeurolabDataError, match="looks like a grey-screen code"):
            load_recording(small_file(tmp_path / "b.mat", istim_1based=istim, resp=resp))


# ---------------------------------------------------------------- 4. shared caches
def _nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


RUN_AS_NOBODY = textwrap.dedent("""
    import json, sys, warnings
    warnings.simplefilter("always")
    out = {}
    with warnings.catch_warnings(record=True) as caught:
        try:
            exec(sys.argv[1], globals(), out)
            out = {"ok": True, **{k: v for k, v in out.items() if isinstance(v, (str, int, float))}}
        except Exception as err:
            out = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    out["warnings"] = [str(w.message) for w in caught]
    print(json.dumps(out))
""")


def _open_to_others(path: Path) -> bool:
    """Whether another user can reach and read/run ``path`` (every folder above it traversable)."""
    path = Path(os.path.realpath(path))
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in path.parents) and bool(
        os.stat(path).st_mode & (stat.S_IROTH | stat.S_IXOTH))


def _interpreter_for_others():
    """(python, PYTHONPATH) another user can run with this environment's packages, or None.

    The interpreter of this environment may live in a folder only its owner can enter (pyenv under
    /root, 0700); the system's Python of the same version then runs the same packages."""
    import site
    import sysconfig

    packages = [p for p in site.getsitepackages() if Path(p).is_dir()]
    version = sysconfig.get_python_version()
    for python in (sys.executable, f"/usr/bin/python{version}"):
        if Path(python).exists() and _open_to_others(Path(python)):
            if all(_open_to_others(Path(p)) for p in packages) and _open_to_others(ROOT):
                return python, os.pathsep.join([str(ROOT), *packages])
    return None


def as_nobody(code: str, cache: Path) -> dict:
    """Run ``code`` in a fresh Python process as the user 'nobody' with ``cache`` as data cache."""
    user = _nobody()
    python, pythonpath = _interpreter_for_others()

    def demote():
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    env = {"PATH": os.environ.get("PATH", ""), "NEUROLAB_DATA_DIR": str(cache), "HOME": str(cache),
           "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2",
           "PYTHONPATH": pythonpath}
    # the BLAS kernel choice of this machine (OPENBLAS_CORETYPE...): another kernel rounds otherwise
    env |= {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_") and not k.endswith("_THREADS")}
    run = subprocess.run([python, "-c", RUN_AS_NOBODY, code], capture_output=True, text=True,
                         env=env, preexec_fn=demote, timeout=300, cwd="/")
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture
def shared_cache():
    """A cache folder both root and 'nobody' can enter (pytest's own tmp folders are root-only)."""
    if os.geteuid() != 0 or _nobody() is None:
        pytest.skip("needs root and a 'nobody' user to run two processes as two users")
    if _interpreter_for_others() is None:
        pytest.skip("no Python of this version that another user can run with this environment's "
                    "packages (they live in folders only their owner can enter)")
    folder = Path(tempfile.mkdtemp(prefix="neurolab-shared-", dir="/tmp"))
    folder.chmod(0o755)
    for name in ("stimuli_class_assignment_confident.mat", "stimuli_class_assignment.mat"):
        src = fetch.cache_dir() / name
        if src.exists():
            shutil.copy(src, folder / name)
            (folder / name).chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@case("4a files readable by others", "4b second user reads a shared file", "4c unreadable file left alone",
      "4d read-only download cache")
class TestSharedCache:
    def test_written_files_follow_the_umask(self, tmp_path):
        old = os.umask(0o022)
        try:
            with atomic_path(tmp_path / "a.bin") as tmp:
                tmp.write_bytes(b"x")
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o644

    def test_two_users_share_the_synthetic_cache(self, shared_cache, monkeypatch):
        monkeypatch.setenv("NEUROLAB_DATA_DIR", str(shared_cache))
        monkeypatch.delenv("NEUROLAB_SYNTHETIC_CACHE", raising=False)
        import dataclasses

        from neurolab.synthetic import SIZES

        small = dataclasses.replace(SIZES["smoke"], n_neurons=80, image_step=40, n_spont=60)
        monkeypatch.setitem(SIZES, "course", small)
        rec = cached_recording("course", 3, labels=LABELS)  # root writes the file
        path = cache_file("course", 3, LABELS)
        assert path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o004
        digest = hashlib.sha256(rec.resp.tobytes()).hexdigest()
        code = textwrap.dedent("""
            import dataclasses, hashlib
            from neurolab.synthetic import SIZES, cached_recording
            from neurolab.io import load_classes
            SIZES["course"] = dataclasses.replace(SIZES["smoke"], n_neurons=80, image_step=40, n_spont=60)
            rec = cached_recording("course", 3, labels=load_classes()[0])
            digest = hashlib.sha256(rec.resp.tobytes()).hexdigest()
        """)
        seen = as_nobody(code, shared_cache)
        assert seen["ok"], seen
        assert seen["digest"] == digest and not seen["warnings"], seen  # read, not regenerated
        path.chmod(0o600)  # now unreadable for the second user
        before = path.stat().st_mtime_ns
        seen = as_nobody(code, shared_cache)
        assert seen["ok"] and seen["digest"] == digest, seen  # generated instead: the same numbers
        assert any("cannot be read by this user" in w for w in seen["warnings"]), seen
        assert path.stat().st_mtime_ns == before and path.stat().st_uid == 0  # left alone

    def test_read_only_download_cache_is_a_clear_error(self, shared_cache):
        code = textwrap.dedent("""
            import os
            os.environ["NEUROLAB_DATA_URL"] = "http://127.0.0.1:9"
            os.environ["NEUROLAB_ALLOW_UNVERIFIED"] = "1"
            from neurolab.io import fetch_recording
            fetch_recording("M170714_MP032_2017-09-14")
        """)
        seen = as_nobody(code, shared_cache)  # the folder is root's, 0755: read-only for nobody
        assert not seen["ok"]
        assert "NeurolabDownloadError" in seen["error"] and "cannot be written" in seen["error"], seen
        assert "NEUROLAB_DATA_DIR" in seen["error"]


# ---------------------------------------------------------------- 5. orphans and races
def _slow_writer(target: str) -> None:
    with atomic_path(Path(target)) as tmp:
        tmp.write_bytes(b"half a file")
        time.sleep(60)


def _record_entries(folder: str, worker: int, n: int, barrier) -> None:
    os.environ["NEUROLAB_DATA_DIR"] = folder
    barrier.wait()
    for i in range(n):
        fetch._record(Path(folder), f"file-{worker}-{i}", {"sha256": "0" * 64, "verified": "test"})


@case("5a killed synthetic-cache writer", "5b killed download", "5c concurrent registry writers")
class TestOrphansAndRaces:
    def test_a_killed_writer_leaves_a_part_file_that_the_next_run_removes(self, tmp_path):
        ctx = multiprocessing.get_context("spawn")
        proc = ctx.Process(target=_slow_writer, args=(str(tmp_path / "big.npz"),))
        proc.start()
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("*.part")) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        orphans = list(tmp_path.glob("*.part"))
        assert len(orphans) == 1 and not (tmp_path / "big.npz").exists()
        assert remove_orphans(tmp_path) == orphans and not list(tmp_path.glob("*.part"))

    def test_a_killed_download_leaves_a_temporary_file_that_a_later_fetch_removes(self, server, cache, tmp_path):
        server.files[f"/{FILE}"] = PAYLOAD[:200]
        server.faults[f"/{FILE}"] = "trickle"
        env = {**os.environ, "NEUROLAB_DATA_DIR": str(cache), "NEUROLAB_DATA_URL": server.url,
               "NEUROLAB_ALLOW_UNVERIFIED": "1"}
        proc = subprocess.Popen([sys.executable, "-c", f"from neurolab.io import fetch_recording; "
                                 f"fetch_recording({NAME!r})"], env=env, stderr=subprocess.DEVNULL)

        def partial_files():
            return list(cache.glob(f".{FILE}.*.download/tmp*")) if cache.exists() else []

        deadline = time.monotonic() + 60
        while not partial_files() and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        orphan = [p for p in leftovers(cache) if p.endswith(".download")]
        assert len(orphan) == 1 and f".{proc.pid}." in orphan[0]  # pooch's temporary file is inside
        server.faults.clear()
        os.environ["NEUROLAB_DATA_URL"] = server.url
        os.environ["NEUROLAB_ALLOW_UNVERIFIED"] = "1"
        try:  # at once: its writer is dead, whatever its age
            with pytest.warns(UserWarning, match="WITHOUT verification"):
                fetch.fetch_recording(NAME)
        finally:
            del os.environ["NEUROLAB_DATA_URL"], os.environ["NEUROLAB_ALLOW_UNVERIFIED"]
        assert leftovers(cache) == [FILE]

    def test_concurrent_writers_never_lose_a_registry_entry(self, tmp_path):
        ctx = multiprocessing.get_context("spawn")
        for round_ in range(3):
            folder = tmp_path / f"round{round_}"
            folder.mkdir()
            barrier = ctx.Barrier(3)
            procs = [ctx.Process(target=_record_entries, args=(str(folder), w, 15, barrier)) for w in range(3)]
            for p in procs:
                p.start()
            for p in procs:
                p.join(120)
            assert all(p.exitcode == 0 for p in procs)
            entries = json.loads((folder / "registry.json").read_text())
            assert len(entries) == 45, f"round {round_}: {45 - len(entries)} entries lost"


# ---------------------------------------------------------------- 6. an overall download deadline
@case("6 trickling server")
def test_a_trickling_server_meets_the_deadline(monkeypatch, server, cache):
    server.files[f"/{FILE}"] = PAYLOAD[:100]
    server.faults[f"/{FILE}"] = "trickle"  # one byte every 0.2 s: 20 s in all
    monkeypatch.setenv("NEUROLAB_DATA_URL", server.url)
    monkeypatch.setenv("NEUROLAB_ALLOW_UNVERIFIED", "1")
    monkeypatch.setenv("NEUROLAB_DOWNLOAD_DEADLINE", "1.5")
    start = time.monotonic()
    with pytest.raises(NeurolabDownloadError, match="took more than 1.5 s"):
        fetch.fetch_recording(NAME)
    assert time.monotonic() - start < 10 and leftovers(cache) == []
    monkeypatch.setenv("NEUROLAB_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(ValueError, match="NEUROLAB_DOWNLOAD_DEADLINE='soon'"):
        fetch.fetch_recording(NAME)


# ---------------------------------------------------------------- 7. seeds
@case("7a float seed", "7b string seed", "7c bool seed", "7d None seed", "7e exact cache key")
@pytest.mark.parametrize("bad", [1.7, "1", True, None])
def test_seeds_are_ints_or_generators(bad):
    with pytest.raises(TypeError, match="int seed or a numpy.random.Generator"):
        make_recording("smoke", bad, labels=LABELS)
    with pytest.raises(TypeError, match="rng"):
        cache_file("full", bad, LABELS)


def test_the_cache_key_is_exact():
    assert cache_file("full", 1, LABELS) != cache_file("full", 2, LABELS)
    assert cache_file("full", np.int64(1), LABELS) == cache_file("full", 1, LABELS)
    with pytest.raises(TypeError):
        cache_file("full", np.random.default_rng(1), LABELS)
    a = make_recording("smoke", np.random.default_rng(5), labels=LABELS)
    assert a.name == "synthetic-smoke"  # a Generator's draws name no seed


# ---------------------------------------------------------------- 8. analyses refuse poison
class _CountingClassifier(ClassifierMixin, BaseEstimator):
    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@case("8a NaN in identity", "8b NaN in cvPCA", "8c leaky folds handed in", "8d negative variance",
      "8e spatial_share 1.5")
class TestPoison:
    def test_nan_is_refused_by_identity_and_cvpca(self):
        X = np.random.default_rng(0).standard_normal((2, 50, 40)).astype(np.float32)
        X[1, 3, 7] = np.nan
        for analysis in (identity_accuracy, cvpca):
            with pytest.raises(ValueError, match=r"X holds 1 NaN and 0 Inf values \(the first at index \(1, 3, 7\)\)"):
                analysis(X)

    def test_folds_that_train_on_their_test_samples_are_refused(self):
        X = np.random.default_rng(0).standard_normal((40, 3))
        y = np.repeat([0, 1], 20)
        folds = [(np.arange(40), np.arange(20)), (np.arange(20), np.arange(20, 40))]
        with pytest.raises(ValueError, match="fold 0 trains on samples it tests"):
            cross_validate_decoder(_CountingClassifier(), X, y, folds=folds)

    @pytest.mark.parametrize("override, fragment", [(dict(private_var=-0.5), "private_var must be >= 0"),
                                                    (dict(spatial_share=1.5), "spatial_share must lie between 0 and 1")])
    def test_impossible_generator_settings(self, override, fragment):
        with pytest.raises(ValueError, match=fragment):
            make_recording("smoke", 0, labels=LABELS, **override)


# ---------------------------------------------------------------- 9. clear errors, before the work
@case("9a generator counts", "9b voxelise empty positions", "9c voxelise NaN positions",
      "9d n_permutations=-1 before any fit", "9e header-only file", "9f ~ in paths", "9g x.MAT",
      "9h bytes path")
class TestClearErrors:
    @pytest.mark.parametrize("override, fragment", [(dict(n_neurons=0), "n_neurons must be an int >= 1"),
                                                    (dict(image_step=0), "image_step must be an int >= 1"),
                                                    (dict(n_spont_dims=0), "n_spont_dims must be an int >= 1"),
                                                    (dict(field_um=0.0), "field_um must be > 0")])
    def test_generator_settings(self, override, fragment):
        with pytest.raises(ValueError, match=fragment):
            make_recording("smoke", 0, labels=LABELS, **override)

    def test_voxelise_positions(self):
        with pytest.raises(ValueError, match="holds no neuron"):
            voxelise(np.zeros((3, 0)), np.zeros((0, 3)))
        xyz = np.random.default_rng(0).uniform(0, 100, (10, 3))
        xyz[2, 0] = np.nan
        with pytest.raises(ValueError, match="xyz holds 1 NaN"):
            voxelise(np.zeros((3, 10)), xyz)
        with pytest.raises(ValueError, match="n_bins must be an int >= 1"):
            grid_cells(np.zeros((4, 3)), 0)

    def test_bad_permutation_count_fails_before_any_fit(self):
        X = np.random.default_rng(0).standard_normal((40, 3))
        y, groups = np.repeat([0, 1], 20), np.arange(40)
        _CountingClassifier.fits = 0
        with pytest.raises(ValueError, match=r"n_permutations .*must be between 0 and 100,000"):
            cross_validate({"m": _CountingClassifier()}, X, y, groups, n_permutations=-1)
        assert _CountingClassifier.fits == 0

    def test_header_only_file(self, tmp_path):
        path = tmp_path / "natimg2800_h.mat"
        with open(path, "wb") as fh:
            scipy.io.savemat(fh, {})
        with pytest.raises(NeurolabDataError, match="holds no variables at all"):
            load_recording(path)

    def test_paths_home_case_and_bytes(self, tmp_path, monkeypatch):
        monkeypatch.setenv("HOME", str(tmp_path))
        small_file(tmp_path / "rec.MAT")
        assert load_recording("~/rec.MAT").n_neurons == 12  # '~' expanded
        assert load(str(tmp_path / "rec.MAT")).name == "rec.MAT"  # upper-case .MAT is a path
        assert load(os.fsencode(tmp_path / "rec.MAT")).n_neurons == 12  # a bytes path
        with pytest.raises(NeurolabDataError, match="x.MAT: no such file"):
            load("x.MAT")


# ---------------------------------------------------------------- 10. thread counts
@case("10 thread counts keyed")
def test_the_synthetic_cache_is_keyed_by_the_blas_thread_count():
    code = ("from neurolab.io import load_classes; from neurolab.synthetic import cache_file; "
            "print(cache_file('full', 0, load_classes()[0]).name)")
    names = {}
    for threads in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
               "MKL_NUM_THREADS": threads}
        names[threads] = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                        env=env, check=True).stdout.strip()
    assert names["1"] != names["2"], names


def test_every_numbered_case_is_reproduced():
    numbers = {c.split()[0].rstrip("abcdefgh") for c in CASES}
    assert numbers == {str(n) for n in range(1, 11)}, sorted(numbers)
    assert len(CASES) == 41
