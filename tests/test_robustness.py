"""Sweeps and statistics never return a wrong number and never lose finished work.

One test (or class) per item of the robustness issue, each written to fail before its fix: real
recordings on disk, real worker processes killed with real signals, a real HTTP server on
127.0.0.1 (tests/test_fetch.py's FileServer), real tmpfs mounts for a full or read-only disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
import yaml
from test_fetch import FILE, NAME, PAYLOAD, FileServer, closed_port, mirror
from test_hardening import as_nobody, shared_cache, small_file  # noqa: F401 - fixture

import neurolab.io.fetch as fetch
from neurolab._stats import MAX_PERMUTATIONS, p_value
from neurolab.decoding import (
    cross_validate,
    grouped_folds,
    identity_accuracy,
    identity_vs_neurons,
    paired_test,
    permute_within_folds,
)
from neurolab.errors import NeurolabDataError
from neurolab.geometry import category_signal_fraction, cvpca, powerlaw, signal_variance_fraction
from neurolab.io import load, load_classes
from neurolab.nn import FastaiClassifier, TabularMLP
from neurolab.preprocessing import denoise_recording
from neurolab.recording import split_repeats
from neurolab.spatial import voxelise
from neurolab.sweep import load_config, run_sweep
from neurolab.sweep.runner import SweepError
from neurolab.synthetic import SIZES, cache_file, cached_recording, make_recording

LABELS = load_classes()[0]
ITEMS: list[int] = []
VARYING = ["seconds", "peak_rss_mb"]
TWIN = "twin:M160825_MP027_2016-12-14"


def item(*numbers):
    ITEMS.extend(numbers)
    return lambda obj: obj


def cli(*args, env=None, timeout=300):
    """Run ``python -m ARGS`` in a fresh process: (returncode, stdout, stderr)."""
    run = subprocess.run([sys.executable, "-m", *map(str, args)], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, timeout=timeout)
    return run.returncode, run.stdout, run.stderr


def one_line_error(rc, err, fragment):
    assert rc == 2, (rc, err)
    assert "Traceback" not in err and "found in sys.modules" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith(("error:", "python -m")), err
    assert fragment in err, err


def big_file(path, n_neurons=200, n_spont=100, seed=0, **change):
    """A natimg2800 file of 30 images x 2 with enough neurons that a randomized SVD depends on its seed."""
    rng = np.random.default_rng(seed)
    from neurolab.io.matfile import istim_to_file

    istim = np.tile(np.arange(30), 2)
    parts = dict(resp=rng.random((60, n_neurons)), istim_1based=istim_to_file(istim),
                 spont=rng.random((n_spont, n_neurons)), med=rng.uniform(0, 500, (n_neurons, 3)))
    parts |= change
    from neurolab.io import write_natimg_mat

    return write_natimg_mat(path, **parts)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "1m"):
    """A real tmpfs mounted at ``path`` (root only); yields it, unmounts after."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                           capture_output=True).returncode:
        pytest.skip("needs root to mount a tmpfs (a small disk that really fills up)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=VARYING).reset_index(drop=True),
                                  b.drop(columns=VARYING).reset_index(drop=True))


# ---------------------------------------------------------------- 1, 2: prepared data keyed exactly
@item(1)
def test_recordings_whose_folder_names_collide_keep_their_own_rows(tmp_path):
    (tmp_path / "D" / "a").mkdir(parents=True)
    small_file(tmp_path / "D" / "a" / "b.mat")  # 12 neurons
    big_file(tmp_path / "D" / "a_b.mat", n_neurons=40, n_spont=30)  # 40 neurons
    config = {"size": "smoke", "recordings": [str(tmp_path / "D/a/b.mat"), str(tmp_path / "D/a_b.mat")],
              "grid": {"analysis": ["signal_variance"], "n_pcs": [2]}}
    rows = run_sweep(config, tmp_path / "out", progress=False).rows.set_index("recording")
    assert rows.loc[str(tmp_path / "D/a/b.mat"), "n_neurons"] == 12
    assert rows.loc[str(tmp_path / "D/a_b.mat"), "n_neurons"] == 40
    assert len(list((tmp_path / "out" / "data").iterdir())) == 2


@item(2)
def test_a_row_is_the_same_whatever_else_is_in_the_grid(tmp_path):
    path = big_file(tmp_path / "rec.mat")
    grid = {"analysis": ["signal_variance"], "n_pcs": [10]}
    both = run_sweep({"size": "smoke", "recordings": [str(path)], "grid": {**grid, "seed": [0, 1]}},
                     tmp_path / "both", progress=False).rows.set_index("seed")
    for seed in (0, 1):
        alone = run_sweep({"size": "smoke", "recordings": [str(path)], "grid": {**grid, "seed": [seed]}},
                          tmp_path / f"alone{seed}", progress=False).rows
        same(both.loc[[seed]].reset_index(), alone[both.reset_index().columns])
    # the test can tell: the denoising's randomized SVD depends on the seed
    assert both.loc[0, "signal_variance_fraction"] != both.loc[1, "signal_variance_fraction"]


# ---------------------------------------------------------------- 3: outliers
@item(3)
class TestOutliers:
    def test_a_file_with_a_fill_value_column_is_refused_by_name(self, tmp_path):
        resp = np.random.default_rng(0).random((64, 12))
        resp[:, 3] = -1e30
        path = small_file(tmp_path / "rec.mat", resp=resp)
        with pytest.raises(NeurolabDataError, match=r"rec.mat: 'stim.resp' holds 64 value\(s\) more than"):
            load(str(path))

    def test_one_finite_outlier_in_memory_is_named_and_nothing_overflows(self):
        rec = make_recording("smoke", 0, labels=LABELS)
        baseline = identity_accuracy(split_repeats(denoise_recording(rec, 32)[0])[0])
        for value in (1e6, 1e30):
            resp = rec.resp.copy()
            resp[5, 7] = value
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)  # no overflow anywhere
                with pytest.warns(UserWarning, match=r"resp holds 1 value\(s\) more than .* index \(5, 7\)"):
                    cleaned, _ = denoise_recording(dataclasses.replace(rec, resp=resp), 32)
                assert np.isfinite(cleaned.resp).all()
        assert baseline > 0.1  # the warning is what stands between the user and a wrecked result

    def test_real_looking_heavy_tails_are_not_flagged(self):
        rng = np.random.default_rng(0)
        spikes = rng.exponential(1.0, (2000, 300)) * (rng.random((2000, 300)) < 0.05) * rng.lognormal(0, 1, 300)
        rec = make_recording("smoke", 0, labels=LABELS)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            from neurolab._validation import outliers

            assert outliers(spikes)[0] == 0 and outliers(rec.resp)[0] == 0


# ---------------------------------------------------------------- 4: FastaiClassifier
class _CountingBuild:
    calls = 0

    def __call__(self, n_features, n_classes):
        type(self).calls += 1
        return TabularMLP(n_features, n_classes, layers=(4,))


@item(4)
class TestFastaiParameters:
    X = np.random.default_rng(0).standard_normal((40, 5)).astype(np.float32)
    y = np.repeat([0, 1], 20)

    @pytest.mark.parametrize("params, fragment", [
        ({"epochs": 0}, "epochs must be an int >= 1"), ({"epochs": -1}, "epochs must be an int >= 1"),
        ({"epochs": 2.5}, "epochs must be an int >= 1"), ({"lr": float("nan")}, "lr must be a finite number > 0"),
        ({"lr": -1e-3}, "lr must be a finite number > 0"), ({"wd": -0.1}, "wd must be a finite number >= 0"),
        ({"valid_frac": 1.0}, "valid_frac must be a finite number >= 0 and < 1"),
        ({"valid_frac": -0.1}, "valid_frac must be"), ({"bs": 0}, "bs must be an int >= 1"),
        ({"bs": -4}, "bs must be an int >= 1"), ({"bs": 2.5}, "bs must be an int >= 1"),
    ])
    def test_bad_parameters_are_refused_before_any_work(self, params, fragment):
        _CountingBuild.calls = 0
        with pytest.raises(ValueError, match=fragment):
            FastaiClassifier(_CountingBuild(), **params).fit(self.X, self.y)
        assert _CountingBuild.calls == 0

    def test_one_sample_and_a_network_with_the_wrong_outputs(self):
        with pytest.raises(ValueError, match="at least 2 samples"):
            FastaiClassifier(_CountingBuild(), epochs=1).fit(self.X[:1], self.y[:1])
        wrong = FastaiClassifier(lambda n_features, n_classes: TabularMLP(n_features, 3, layers=(4,)), epochs=1)
        with pytest.raises(ValueError, match=r"returns shape \(2, 3\) .* y has 2 classes"):
            wrong.fit(self.X, self.y)

    def test_the_output_check_leaves_the_numbers_alone(self):
        a = FastaiClassifier(partial(TabularMLP, layers=(8,)), epochs=2, bs=8).fit(self.X, self.y)
        b = FastaiClassifier(partial(TabularMLP, layers=(8,)), epochs=2, bs=8).fit(self.X, self.y)
        np.testing.assert_array_equal(a.predict_proba(self.X), b.predict_proba(self.X))


# ---------------------------------------------------------------- 5: statistics helpers
@item(5)
class TestStatistics:
    y = np.repeat([0, 1], 20)
    groups = np.arange(40)

    def test_nan_is_never_counted_as_below(self):
        with pytest.raises(ValueError, match="observed value is NaN"):
            p_value([0.1, 0.2, 0.3], float("nan"))
        with pytest.raises(ValueError, match="1 of the 3 null values are NaN"):
            p_value([0.1, float("nan"), 0.3], 0.2)

    @pytest.mark.parametrize("folds, fragment", [
        ([], "folds is empty"),
        ([(np.arange(20, 40), np.arange(20))], "test 20 of 40 samples"),
        ([(np.arange(20, 40), np.arange(25)), (np.arange(20), np.arange(20, 40))], "5 more than once"),
    ])
    def test_folds_must_cover_every_sample_once(self, folds, fragment):
        with pytest.raises(ValueError, match=fragment):
            permute_within_folds(self.y, self.groups, folds, 0)

    def test_nan_labels_and_groups_are_refused(self):
        y = self.y.astype(float)
        y[3] = np.nan
        with pytest.raises(ValueError, match="paired_test: y holds 1 NaN"):
            paired_test(self.y, self.y, y, self.groups)
        groups = self.groups.astype(float)
        groups[0] = np.nan
        with pytest.raises(ValueError, match="grouped_folds: groups holds 1 NaN"):
            grouped_folds(self.y, groups)

    @pytest.mark.parametrize("n", [10**7, 10**10])
    def test_permutation_counts_are_bounded(self, n):
        start = time.perf_counter()
        with pytest.raises(ValueError, match=f"between 1 and {MAX_PERMUTATIONS:,}"):
            paired_test(self.y, self.y, self.y, self.groups, n_permutations=n)
        with pytest.raises(ValueError, match=f"between 0 and {MAX_PERMUTATIONS:,}"):
            cross_validate({"m": _Majority()}, np.zeros((40, 2)), self.y, self.groups, n_permutations=n)
        assert time.perf_counter() - start < 5  # refused at the door, not after the work


class _Majority:
    def fit(self, X, y):
        self.c_ = np.bincount(y).argmax()
        return self

    def predict(self, X):
        return np.full(len(X), self.c_)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **p):
        return self


# ---------------------------------------------------------------- 6: the synthetic cache is verified
@item(6)
class TestSyntheticCacheTampering:
    @pytest.fixture
    def stored(self, tmp_path, monkeypatch):
        monkeypatch.setenv("NEUROLAB_DATA_DIR", str(tmp_path))
        monkeypatch.delenv("NEUROLAB_SYNTHETIC_CACHE", raising=False)
        monkeypatch.setitem(SIZES, "course", dataclasses.replace(SIZES["smoke"], n_neurons=80, image_step=40,
                                                                 n_spont=60))
        rec = cached_recording("course", 3, labels=LABELS)
        return cache_file("course", 3, LABELS), rec

    @pytest.mark.parametrize("tamper", ["doubled", "float64", "nan", "istim", "strength"])
    def test_a_changed_file_is_regenerated_with_a_warning(self, stored, tamper):
        path, rec = stored
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays["meta"]))
        if tamper == "doubled":
            arrays["resp"] = arrays["resp"] * 2
        elif tamper == "float64":
            arrays["resp"] = arrays["resp"].astype(np.float64)
        elif tamper == "nan":
            arrays["resp"][0, 0] = np.nan
        elif tamper == "istim":
            arrays["istim"][0] = 9999
        else:
            meta["category_strength"] = 0.5
            arrays["meta"] = np.array(json.dumps(meta))
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)
        with pytest.warns(UserWarning, match="does not hold what was written"):
            again = cached_recording("course", 3, labels=LABELS)
        np.testing.assert_array_equal(again.resp, rec.resp)
        assert again.truth.category_strength == rec.truth.category_strength
        assert cached_recording("course", 3, labels=LABELS).resp.dtype == np.float32  # stored afresh


# ---------------------------------------------------------------- 7: no unverified recording is used
@item(7)
class TestUnrecordedFiles:
    @pytest.fixture
    def cache(self, tmp_path, monkeypatch):
        folder = tmp_path / "cache"
        monkeypatch.setenv("NEUROLAB_DATA_DIR", str(folder))
        for var in ("NEUROLAB_DATA_URL", "NEUROLAB_ALLOW_UNVERIFIED"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setattr(fetch, "RETRIES", 0)
        monkeypatch.setattr(fetch, "FIGSHARE_API", "http://127.0.0.1:9/never-used")
        return folder

    @pytest.fixture
    def server(self):
        files = FileServer()
        yield files
        files.stop()

    @pytest.mark.parametrize("damage", ["deleted", "corrupt", "copied in"])
    def test_a_bit_flipped_recording_without_its_entry_is_refused(self, cache, server, monkeypatch, damage):
        mirror(monkeypatch, server, {FILE: PAYLOAD})
        fetch.fetch_recording(NAME)
        flipped = bytearray(PAYLOAD)
        flipped[100] ^= 4
        (cache / FILE).write_bytes(bytes(flipped))
        if damage == "deleted":
            (cache / "registry.json").unlink()
        elif damage == "corrupt":
            (cache / "registry.json").write_text('{"natimg2800_')
        else:
            (cache / "registry.json").write_text("{}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a corrupt registry is named in a warning
            with pytest.raises(NeurolabDataError, match="not the published one"):
                fetch.fetch_recording(NAME)

    def test_a_second_user_of_a_shared_folder_records_what_they_verified(self, shared_cache, server, monkeypatch):  # noqa: F811
        shared_cache.chmod(0o1777)  # a sticky shared folder, like /tmp
        mirror(monkeypatch, server, {FILE: PAYLOAD})
        (shared_cache / "registry.json").write_text("{}\n")  # the shared registry: root's, 0644
        (shared_cache / "registry.json").chmod(0o644)
        (shared_cache / ".registry.json.lock").touch()
        (shared_cache / ".registry.json.lock").chmod(0o644)
        code = (f"import os; os.environ['NEUROLAB_DATA_URL'] = {server.url!r}\n"
                "import neurolab.io.fetch as f\n"
                f"f.FIGSHARE_API = {server.url + '/v2'!r}; f.RETRIES = 0\n"
                f"path = str(f.fetch_recording({NAME!r}))\n")
        seen = as_nobody(code, shared_cache)
        assert seen["ok"] and not seen["warnings"], seen
        own = [p for p in shared_cache.glob("registry.*.json")]
        assert len(own) == 1 and FILE in json.loads(own[0].read_text()), own
        server.stop()  # offline now: the second user's file is still checked, against their entry
        code_offline = ("import neurolab.io.fetch as f\n"
                        "f.FIGSHARE_API = 'http://127.0.0.1:9/x'; f.RETRIES = 0\n"
                        f"path = str(f.fetch_recording({NAME!r}))\n")
        seen = as_nobody(code_offline, shared_cache)
        assert seen["ok"] and not seen["warnings"], seen


# ---------------------------------------------------------------- 8: smaller silent cases
@item(8)
class TestSmallCases:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 30, 20)).astype(np.float32)

    @pytest.mark.parametrize("call, fragment", [
        (lambda X: cvpca(X[:, :, :1]), "at least 2 images and 2 neurons"),
        (lambda X: cvpca(np.zeros_like(X)), "no variance across its 20 neurons"),
        (lambda X: cvpca(X, n_components=2.7), "n_components must be an int"),
        (lambda X: powerlaw(np.r_[np.ones(20), np.nan]), "1 NaN or Inf values"),
        (lambda X: signal_variance_fraction(np.ones_like(X)), "constant across images"),
        (lambda X: identity_accuracy(X[:, :, :1]), "at least 2 images and 2 neurons"),
        (lambda X: identity_accuracy(X[:, :, :0]), "at least 2 images and 2 neurons"),
        (lambda X: identity_accuracy(X[:, :0]), "at least 2 images and 2 neurons"),
        (lambda X: identity_vs_neurons(X, [2.5]), "ns (neuron counts) must be an int"),
        (lambda X: identity_vs_neurons(X, [4], n_draws=-1), "n_draws must be an int >= 1"),
        (lambda X: voxelise(np.zeros((3, 4)), np.zeros((4, 3)), shape=(0, 2, 2)), "three ints >= 1"),
    ])
    def test_refused_with_a_message(self, call, fragment):
        with pytest.raises(ValueError) as info:
            call(self.X)
        assert fragment in str(info.value)

    def test_category_signal_and_recordings(self):
        rec = make_recording("smoke", 0, labels=LABELS)
        flat = dataclasses.replace(rec, resp=np.ones_like(rec.resp))
        with pytest.raises(ValueError, match="no variance"):
            category_signal_fraction(flat, LABELS)
        with pytest.raises(ValueError, match="n_shuffles must be between 0"):
            category_signal_fraction(rec, LABELS, n_shuffles=-1)
        assert make_recording("smoke", 0, labels=LABELS, n_spont=0).spont.shape == (0, 600)
        for istim, fragment in ((5000, "outside -1..2799"), (np.nan, "integer image indices")):
            bad = rec.istim.astype(float if np.isnan(istim) else np.int64)
            bad[0] = istim
            with pytest.raises(ValueError, match=fragment):
                dataclasses.replace(rec, istim=bad)

    @pytest.mark.parametrize("kwargs, fragment", [
        ({"strengths": "10"}, "strengths must be a list of numbers"),
        ({"strengths": [True]}, "strengths must be finite numbers >= 0, got True"),
        ({"n_neurons": 2.5}, "n_neurons must be an int"),
        ({"n_swaps": 0}, "n_swaps must be between 1"), ({"n_swaps": -1}, "n_swaps must be between 1"),
        ({"n_swaps": 2.5}, "n_swaps must be an int"),
    ])
    def test_strength_sweep_arguments(self, kwargs, fragment):
        from neurolab.decoding import strength_sweep

        start = time.perf_counter()
        with pytest.raises(ValueError, match=fragment):
            strength_sweep(**{"strengths": [0.0], **kwargs}, labels=LABELS, size="smoke", cache=False)
        assert time.perf_counter() - start < 2  # before any twin is made


# ---------------------------------------------------------------- 9-12, 14: the sweep keeps its work
SMALL = {"size": "smoke", "recordings": [TWIN], "grid": {"analysis": ["cvpca", "signal_variance"],
                                                        "n_pcs": [0, 8]}}
SLOW = {"size": "smoke", "recordings": [TWIN, "twin:M161025_MP030_2017-05-29"],
        "grid": {"analysis": ["category"], "n_permutations": [99, 149, 199]}}
MANY = {"size": "smoke", "recordings": [TWIN, "twin:M161025_MP030_2017-05-29"],
        "grid": {"analysis": ["cvpca", "identity", "signal_variance", "category_signal"], "n_pcs": [0, 8, 16]}}


@item(9)
def test_a_damaged_row_is_named_and_computed_again(tmp_path):
    first = run_sweep(SMALL, tmp_path, progress=False)
    rows = sorted((tmp_path / "rows").glob("*.json"))
    rows[0].write_text(rows[0].read_text()[:40])  # truncated
    rows[1].write_text("")  # empty
    rows[2].write_text("{}")  # no keys
    with pytest.warns(UserWarning) as caught:
        again = run_sweep(SMALL, tmp_path, progress=False)
    named = " ".join(str(w.message) for w in caught)
    for path in rows[:3]:
        assert str(path) in named
    assert sorted(again.computed) == sorted(p.stem for p in rows[:3]) and len(again.damaged) == 3
    same(again.rows, first.rows)


def _workers(pid: int) -> list[psutil.Process]:
    """The processes running tasks: the children of the sweep's forkserver, youngest first (processes
    come and go while they are listed: one that is gone is left out)."""
    out, children = [], []
    with contextlib.suppress(psutil.Error):
        children = psutil.Process(pid).children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            if "forkserver" in " ".join(child.parent().cmdline()):
                out.append((child.create_time(), child))
    return [child for _, child in sorted(out, key=lambda pair: -pair[0])]


def _start_cli(tmp_path, config, jobs=2):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "neurolab.sweep", str(path), "--out", str(out), "--jobs",
                             str(jobs), "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, out


def _wait_for_rows(out: Path, n: int, proc, timeout=240):
    deadline = time.monotonic() + timeout
    while len(list((out / "rows").glob("*.json"))) < n and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)


@item(10)
def test_a_killed_worker_fails_its_task_and_the_others_go_on(tmp_path):
    proc, out = _start_cli(tmp_path, SLOW)
    _wait_for_rows(out, 1, proc)
    killed = set()
    for _ in range(5):  # a worker may be on its way out, its row written: then kill another
        workers = [w for w in _workers(proc.pid) if w.pid not in killed]
        if not workers:
            time.sleep(0.1)
            continue
        victim = workers[0]  # the youngest: it has just started a task
        killed.add(victim.pid)
        victim.send_signal(signal.SIGKILL)
        # a loaded machine can take long to notice the death: wait well before killing another
        deadline = time.monotonic() + 60
        while not list((out / "failed").glob("*.json")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if list((out / "failed").glob("*.json")):
            break
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    failures = [json.loads(p.read_text()) for p in (out / "failed").glob("*.json")]
    assert len(failures) == 1 and "killed by SIGKILL" in failures[0]["error"], failures
    assert "killed by SIGKILL" in err and "Traceback" not in err
    n_tasks = len(load_config(SLOW).tasks())
    assert len(list((out / "rows").glob("*.json"))) == n_tasks - 1
    report = run_sweep(SLOW, out, progress=False)  # a re-run computes the one that failed
    assert report.computed == [failures[0]["task_id"]] and not report.failed


@item(11, 12)
def test_sigterm_stops_the_workers_and_leaves_the_folder_resumable(tmp_path):
    proc, out = _start_cli(tmp_path, MANY)
    _wait_for_rows(out, 2, proc)
    workers, deadline = [], time.monotonic() + 30
    while len(workers) < 2 and time.monotonic() < deadline:  # both slots busy (between tasks: none)
        workers = _workers(proc.pid)
    assert workers
    proc.send_signal(signal.SIGTERM)  # what a batch scheduler sends, to the runner alone
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "SIGTERM" in err and "Traceback" not in err, err
    time.sleep(0.5)
    def alive(process):
        with contextlib.suppress(psutil.Error):
            return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
        return False

    assert not [w for w in workers if alive(w)]
    finished = {p.stem for p in (out / "rows").glob("*.json")}
    time.sleep(2)
    assert {p.stem for p in (out / "rows").glob("*.json")} == finished  # nobody writes after the stop
    assert not list(out.rglob("*.part"))
    report = run_sweep(MANY, out, progress=False)
    assert set(report.skipped) == finished and len(report.computed) == len(load_config(MANY).tasks()) - len(finished)


@item(12)
def test_temporary_files_of_dead_writers_are_removed_everywhere(tmp_path):
    run_sweep(SMALL, tmp_path, progress=False)
    dead = 2**22 + 12345  # above Linux's largest pid: no such process
    data = next((tmp_path / "data").iterdir())
    orphans = [data / f".X.npy.{dead}.abc.part", tmp_path / "rows" / f".r.json.{dead}.x.part",
               tmp_path / f".config.json.{dead}.y.part"]
    for path in orphans:
        path.write_bytes(b"0" * 1000)
    run_sweep(SMALL, tmp_path, progress=False)
    assert not any(p.exists() for p in orphans)


@item(14)
class TestSweepFolderFaults:
    def test_a_read_only_folder_with_nothing_to_do_reports(self, tmp_path):
        with tmpfs(tmp_path / "disk", "64m") as disk:
            first = run_sweep(SMALL, disk / "out", progress=False)
            remount_read_only(disk)
            again = run_sweep(SMALL, disk / "out", progress=False)
            assert len(again.skipped) == 4 and not again.computed
            same(again.rows, first.rows)
            bigger = {**SMALL, "grid": {**SMALL["grid"], "n_pcs": [0, 8, 16]}}
            with pytest.raises(SweepError, match="cannot be written .* 2 of 6 tasks have no row"):
                run_sweep(bigger, disk / "out", progress=False)

    def test_truncated_prepared_data_is_prepared_again(self, tmp_path):
        first = run_sweep(SMALL, tmp_path, progress=False)
        for data in (tmp_path / "data").iterdir():
            x = data / "X.npy"
            x.write_bytes(x.read_bytes()[:1000])
        for row in (tmp_path / "rows").glob("*.json"):
            row.unlink()
        with pytest.warns(UserWarning, match="is damaged .* preparing it again"):
            again = run_sweep(SMALL, tmp_path, progress=False)
        assert not again.failed
        same(again.rows, first.rows)

    def test_a_full_disk_is_named_as_such(self, tmp_path):
        with tmpfs(tmp_path / "disk", "1m") as disk:
            report = run_sweep(SMALL, disk / "out", progress=False)
        assert report.failed and all("is full" in f["error"] for f in report.failed), report.failed

    def test_one_sweep_at_a_time_in_a_folder(self, tmp_path):
        proc, out = _start_cli(tmp_path, MANY, jobs=1)
        deadline = time.monotonic() + 60
        while not ((out / ".sweep.lock").exists() and (out / ".sweep.lock").read_text().strip()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        other = {**SMALL, "name": "another"}
        with pytest.raises(SweepError, match=f"another sweep \\(pid {proc.pid}\\) is writing to"):
            run_sweep(other, out, progress=False)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        run_sweep(SMALL, out, progress=False)  # the lock went with it


# ---------------------------------------------------------------- 13: the strength-sweep cache
@item(13)
class TestStrengthCache:
    KW = dict(strengths=[0.0], size="smoke", n_neurons=60, n_components=8, n_swaps=9)

    @pytest.fixture
    def first(self, tmp_path, monkeypatch):
        from neurolab.decoding import strength_sweep

        monkeypatch.setenv("NEUROLAB_DATA_DIR", str(tmp_path / "cache"))
        return strength_sweep(**self.KW, labels=LABELS)

    @pytest.mark.parametrize("content", ["truncated", "", "[]", "{}"])
    def test_a_damaged_cache_file_is_named_and_computed_again(self, first, tmp_path, content):
        from neurolab.decoding import strength_sweep

        (path,) = (tmp_path / "cache" / "strength_sweep").glob("*.json")
        path.write_text(path.read_text()[:50] if content == "truncated" else content)
        with pytest.warns(UserWarning, match=f"cache file {path} is damaged"):
            again = strength_sweep(**self.KW, labels=LABELS)
        pd.testing.assert_frame_equal(again, first)
        pd.testing.assert_frame_equal(strength_sweep(**self.KW, labels=LABELS), first)  # stored again

    def test_a_cache_that_cannot_be_written_only_warns(self, tmp_path, monkeypatch):
        from neurolab.decoding import strength_sweep

        with tmpfs(tmp_path / "ro", "1m") as disk:
            remount_read_only(disk)
            monkeypatch.setenv("NEUROLAB_DATA_DIR", str(disk))
            with pytest.warns(UserWarning, match="could not store the strength sweep"):
                result = strength_sweep(**self.KW, labels=LABELS)
        assert len(result) == 4 and result.balanced_accuracy.notna().all()


# ---------------------------------------------------------------- 15: configs
@item(15)
@pytest.mark.parametrize("change, fragment", [
    ({"grid": {"analysis": ["category"], "n_permutations": [10**9]}}, "holds 1,000,000,000; at most 100,000"),
    ({"grid": {"n_pcs": [601]}}, "twins have 600 neurons and 600 spontaneous timepoints"),
    ({"recordings": ["/no/such/natimg2800_x.mat"]}, "does not exist"),
    ({"recordings": [TWIN, TWIN]}, f"names {TWIN!r} twice"),
    ({"grid": {"n_pcs": [0, 8, 0]}}, "lists 0 more than once"),
])
def test_configs_that_would_mislead_are_refused(tmp_path, change, fragment):
    with pytest.raises(ValueError) as info:
        load_config({**SMALL, **change})
    assert fragment in str(info.value)


@item(15)
def test_a_key_given_twice_in_yaml_is_refused(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("size: smoke\nrecordings: [twin:M160825_MP027_2016-12-14]\ngrid:\n  n_pcs: [0]\n"
                    "size: course\n")
    with pytest.raises(ValueError, match="the key 'size' is given twice"):
        load_config(path)


# ---------------------------------------------------------------- 16: command lines
@item(16)
class TestCommandLines:
    @pytest.fixture
    def files(self, tmp_path):
        good = big_file(tmp_path / "good.mat", n_neurons=60, n_spont=40)
        truncated = tmp_path / "truncated.mat"
        truncated.write_bytes(good.read_bytes()[:300])
        html = tmp_path / "page.mat"
        html.write_bytes(b"<html><body>Sorry</body></html>")
        v73 = tmp_path / "v73.mat"
        v73.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64" + b" " * 200)
        few = big_file(tmp_path / "few.mat", n_neurons=60, n_spont=10)
        flat = big_file(tmp_path / "flat.mat", n_neurons=60, n_spont=40, resp=np.ones((60, 60)))
        return {"good": good, "truncated": truncated, "html": html, "v73": v73, "few": few, "flat": flat,
                "missing": tmp_path / "missing.mat"}

    def test_the_strength_command_names_every_problem_in_one_line(self, files, tmp_path):
        rc, out, err = cli("neurolab.decoding.strength", files["good"])
        assert rc == 0 and "category_fraction" in out and "found in sys.modules" not in err, (out, err)
        offline = {"NEUROLAB_DATA_DIR": str(tmp_path / "empty"), "NEUROLAB_DATA_URL": f"http://127.0.0.1:{closed_port()}"}
        cases = [
            (["nobody"], {}, "unknown recording 'nobody'"),
            ([files["missing"]], {}, "missing.mat: no such file"),
            ([files["truncated"]], {}, "truncated.mat"),
            ([files["html"]], {}, "page.mat: not a MATLAB file"),
            ([files["v73"]], {}, "v73.mat: truncated or corrupt MAT v7.3"),
            ([files["good"], "--seed", "-1"], {}, "a seed is a non-negative int"),
            ([files["good"], "--seed", "x"], {}, "expected a whole number"),
            ([NAME], offline, "Could not fetch"),
            ([files["few"]], {}, "n_components=32 must be between 0 and"),
            ([files["flat"]], {}, "no variance"),
        ]
        for args, env, fragment in cases:
            rc, _, err = cli("neurolab.decoding.strength", *args, env=env)
            one_line_error(rc, err, fragment)
        rc, _, err = cli("neurolab.decoding.strength", files["html"], "--debug")
        assert rc == 1 and "Traceback" in err  # --debug lets it through

    def test_the_sweep_command_names_every_problem_in_one_line(self, tmp_path):
        good = tmp_path / "sweep.yaml"
        good.write_text(yaml.safe_dump(SMALL))
        bad_yaml = tmp_path / "bad.yaml"
        bad_yaml.write_text("size: smoke\nrecordings: [twin:x\n")
        no_suffix = tmp_path / "config"
        no_suffix.write_text(yaml.safe_dump(SMALL))
        a_file = tmp_path / "a_file"
        a_file.write_text("x")
        cases = [
            ([bad_yaml, "--out", tmp_path / "o1"], "not valid YAML"),
            ([good, "--out", tmp_path / "o2", "--jobs", "0"], "needs at least 1 worker"),
            ([good, "--out", a_file], "is a file, not a folder"),
            ([good, "--out", tmp_path / "o3", "--scheduler", f"tcp://127.0.0.1:{closed_port()}"], "cannot be reached"),
            ([tmp_path / "nothing.yaml", "--out", tmp_path / "o4"], "cannot be read (no such file)"),
        ]
        for args, fragment in cases:
            rc, _, err = cli("neurolab.sweep", *args, "--no-progress", timeout=120)
            one_line_error(rc, err, fragment)
        rc, out, err = cli("neurolab.sweep", no_suffix, "--out", tmp_path / "o5", "--no-progress")
        assert rc == 0 and "4 computed" in out, (out, err)  # a path without .yaml is still a file


def test_every_item_is_reproduced():
    assert set(ITEMS) == set(range(1, 17)), sorted(set(range(1, 17)) - set(ITEMS))

