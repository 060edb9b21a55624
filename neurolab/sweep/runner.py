"""Run a sweep through joblib: local processes (loky) by default, a Dask cluster on request.

Two stages, each a ``joblib.Parallel`` over tasks: first every distinct preprocessed recording
is written once (``prepare``), then every analysis runs on its files (``run_task``). A task that
has a row already is skipped, so a killed sweep resumes where it stopped and recomputes only what
did not finish; a task that fails is reported with its parameters and traceback, and the others go
on. With ``backend='dask'`` the same code runs on a ``dask.distributed`` cluster: a
``LocalCluster`` by default, or any scheduler given by its address (for SLURM, start one with
``dask_jobqueue.SLURMCluster`` and pass its ``scheduler_address``). On several machines, ``out``
must be a folder every worker can reach (a shared file system).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from neurolab._store import atomic_path
from neurolab.sweep.config import SweepConfig, load_config
from neurolab.sweep.tasks import data_folder, prepare, run_task, task_id

__all__ = ["SweepReport", "read_results", "run_sweep"]

BACKENDS = ("loky", "dask")


@dataclass
class SweepReport:
    """What a run did. ``rows``: every finished task (this run's and earlier runs'), one row each."""

    rows: pd.DataFrame
    computed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    seconds: float = 0.0

    def __repr__(self) -> str:
        return (f"SweepReport({len(self.rows)} rows: {len(self.computed)} computed, {len(self.skipped)} "
                f"already done, {len(self.failed)} failed; {self.seconds:.1f} s)")


def read_results(out) -> pd.DataFrame:
    """Every row written under ``out/rows`` as a DataFrame, sorted by task id."""
    rows = [json.loads(p.read_text()) for p in sorted(Path(out, "rows").glob("*.json"))]
    frame = pd.DataFrame(rows)
    return frame.sort_values("task_id").reset_index(drop=True) if len(frame) else frame


def run_sweep(config, out, backend: str = "loky", n_jobs: int = 2, scheduler: str | None = None,
              progress: bool = True) -> SweepReport:
    """Run every task of ``config`` that has no row in ``out`` yet.

    Parameters
    ----------
    config : SweepConfig, dict, or path to a YAML file
        Checked before any task starts (``load_config``).
    out : str or pathlib.Path
        Results folder: ``rows/`` (one JSON file per finished task), ``failed/``, ``data/`` (the
        preprocessed recordings, memory-mapped by the workers) and ``config.json``.
    backend : {'loky', 'dask'}
        Local worker processes, or a ``dask.distributed`` cluster.
    n_jobs : int
        Workers: loky processes, or the workers of the ``LocalCluster`` started when no scheduler
        is given.
    scheduler : str, optional
        Address of a running Dask scheduler (``backend='dask'`` only).
    progress : bool
        Show a progress bar of tasks done and time left (tqdm).

    Returns
    -------
    SweepReport
    """
    config = config if isinstance(config, SweepConfig) else load_config(config)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if scheduler is not None and backend != "dask":
        raise ValueError("a scheduler address needs backend='dask'")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be an int >= 1, got {n_jobs!r}")
    out = Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps({"name": config.name, "size": config.size, "recordings": list(config.recordings),
                                   "grid": {k: list(v) for k, v in config.grid.items()}}, indent=1))
    tasks = config.tasks()
    done = {p.stem for p in (out / "rows").glob("*.json")}
    todo = [t for t in tasks if task_id(t) not in done]
    skipped = [task_id(t) for t in tasks if task_id(t) in done]
    start = time.perf_counter()
    data_dir = out / "data"
    preparations = {str(data_folder(data_dir, t)): t for t in todo}
    with _backend(backend, n_jobs, scheduler):
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs if backend == "loky" else -1, return_as="generator")
        for _ in _progress(parallel(delayed(_prepare_quietly)(t, data_dir) for t in preparations.values()),
                           len(preparations), "preparing recordings", progress):
            pass
        outcomes = list(_progress(parallel(delayed(run_task)(t, data_dir, out) for t in todo),
                                  len(todo), "tasks", progress))
    return SweepReport(
        rows=read_results(out),
        computed=[o["task_id"] for o in outcomes if o["status"] == "done"],
        skipped=skipped,
        failed=[{"task_id": o["task_id"], "error": o["error"],
                 "failure_file": str(out / "failed" / f"{o['task_id']}.json")}
                for o in outcomes if o["status"] == "failed"],
        seconds=time.perf_counter() - start,
    )


def _prepare_quietly(task, data_dir):
    """``prepare``, with a failure left for ``run_task`` to report (it prepares again and records it)."""
    try:
        prepare(task, data_dir)
    except Exception:  # noqa: BLE001 - reported by run_task, with the traceback
        pass


def _progress(iterable, total: int, what: str, show: bool):
    if not show or total == 0:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=what, unit="task")


@contextlib.contextmanager
def _backend(backend: str, n_jobs: int, scheduler: str | None):
    if backend == "loky":
        yield
        return
    import joblib
    from distributed import Client, LocalCluster

    if scheduler is None:
        with LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client, \
                joblib.parallel_config(backend="dask"):
            yield client
    else:
        with Client(scheduler) as client, joblib.parallel_config(backend="dask"):
            yield client
