"""neurolab.sweep: the same rows on loky and on a real dask.distributed LocalCluster, a killed run
resumes and recomputes only what did not finish, failures are reported and do not stop the others,
and bad configs are refused before any task starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from neurolab.sweep import load_config, run_sweep, task_id
from neurolab.sweep.__main__ import main as cli

TWINS = ["twin:M160825_MP027_2016-12-14", "twin:M161025_MP030_2017-05-29"]
CONFIG = {"name": "test", "size": "smoke", "recordings": TWINS,
          "grid": {"analysis": ["cvpca", "identity", "signal_variance", "category_signal"], "n_pcs": [0, 8]}}
VARYING = ["seconds", "peak_rss_mb"]  # wall time and memory: not results


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=VARYING), b.drop(columns=VARYING))


@pytest.fixture(scope="module")
def loky_rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("loky")
    report = run_sweep(CONFIG, out, backend="loky", n_jobs=2, progress=False)
    assert len(report.computed) == 16 and not report.failed and not report.skipped
    return report.rows


def test_rows_are_tidy_with_provenance(loky_rows):
    assert len(loky_rows) == 16
    for key in ("task_id", "recording", "source", "size", "analysis", "n_pcs", "seed", "n_neurons",
                "n_images", "package_version", "seconds"):
        assert key in loky_rows.columns
    cv = loky_rows[loky_rows.analysis == "cvpca"]
    assert cv.alpha.notna().all() and (cv.source == "synthetic").all()
    ident = loky_rows[loky_rows.analysis == "identity"]
    assert (ident.identity_accuracy > ident.chance).all()


def test_a_local_cluster_gives_exactly_the_rows_loky_gives(loky_rows, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert len(cluster.workers) == 2
        report = run_sweep(CONFIG, tmp_path, backend="dask", scheduler=cluster.scheduler_address,
                           progress=False)
    assert len(report.computed) == 16 and not report.failed
    same_rows(report.rows, loky_rows)


def test_a_killed_run_resumes_and_recomputes_only_what_did_not_finish(loky_rows, tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "neurolab.sweep", str(config), "--out", str(out), "--jobs", "1",
                             "--no-progress"], start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while len(list((out / "rows").glob("*.json"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers
    proc.wait()
    time.sleep(1.0)
    finished = {p.stem for p in (out / "rows").glob("*.json")}
    assert 5 <= len(finished) < 16, f"{len(finished)} rows before the kill: too late to test a resume"
    report = run_sweep(CONFIG, out, backend="loky", n_jobs=2, progress=False)
    assert set(report.skipped) == finished
    assert set(report.computed) == {task_id(t) for t in load_config(CONFIG).tasks()} - finished
    same_rows(report.rows, loky_rows)
    assert not list(out.rglob("*.part"))


def test_a_failed_task_is_reported_and_the_others_go_on(tmp_path):
    broken = tmp_path / "natimg2800_broken.mat"
    broken.write_bytes(b"<html><body>Sorry, the file is temporarily unavailable</body></html>")
    config = {**CONFIG, "recordings": [TWINS[0], str(broken)],
              "grid": {"analysis": ["identity"], "n_pcs": [0]}}
    report = run_sweep(config, tmp_path / "out", progress=False)
    assert len(report.computed) == 1 and len(report.failed) == 1
    failure = json.loads(Path(report.failed[0]["failure_file"]).read_text())
    assert "natimg2800_broken.mat: not a MATLAB file" in failure["error"], failure["error"]
    assert failure["task"]["recording"].endswith("natimg2800_broken.mat") and "Traceback" in failure["traceback"]
    assert cli([str(_yaml(tmp_path, config)), "--out", str(tmp_path / "out"), "--no-progress"]) == 1


def _yaml(folder: Path, config: dict) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("change, fragment", [
    ({"recordings": ["M999999_nobody"]}, "unknown recording 'M999999_nobody' in 'recordings'"),
    ({"recordings": ["twin:nobody"]}, "unknown recording 'twin:nobody'"),
    ({"grid": {"n_pca": [1]}}, "unknown parameter 'n_pca' in 'grid'"),
    ({"grid": {}}, "'grid' is empty"),
    ({"grid": {"analysis": ["everything"]}}, "unknown analysis 'everything'"),
    ({"grid": {"n_pcs": []}}, "grid parameter 'n_pcs' must be a non-empty list"),
    ({"grid": {"seed": [1.5]}}, "grid parameter 'seed' holds 1.5"),
    ({"size": "huge"}, "'size' is 'huge'"),
    ({"recordings": []}, "'recordings' is empty"),
    ({"colour": "blue"}, "unknown key(s) ['colour']"),
])
def test_bad_configs_are_refused_before_any_task(tmp_path, change, fragment, capsys):
    config = {**CONFIG, **change}
    with pytest.raises(ValueError) as info:
        run_sweep(config, tmp_path / "out", progress=False)
    assert fragment in str(info.value)
    assert not (tmp_path / "out").exists()
    assert cli([str(_yaml(tmp_path, config)), "--out", str(tmp_path / "out")]) == 2
    assert fragment in capsys.readouterr().err
