"""Run a sweep: local worker processes by default, a Dask cluster on request.

Two stages: first every distinct preprocessed recording is written once (``prepare``), then every
analysis runs on its files (``run_task``). What is finished is never lost and never trusted blindly:

* a task whose row exists (and parses, with every provenance key) is skipped, so a killed sweep
  resumes where it stopped; a damaged row is named in a warning and computed again;
* a task that fails leaves its parameters and traceback under ``failed/``, and the others go on;
  so does a task whose worker process dies (killed by a signal, or by the kernel for memory): the
  local backend runs every task in a process of its own, so one death costs only that task;
* SIGTERM or SIGINT (a batch scheduler's stop, Ctrl-C) stops the workers too, removes their
  temporary files and leaves the folder as a re-run expects it (``SweepInterrupted``);
* one sweep at a time writes to a results folder (a lock; a second gets ``SweepError``);
* temporary files of killed writers are removed at the start of every run.

With ``backend='dask'`` the tasks go through joblib to a ``dask.distributed`` cluster: a
``LocalCluster`` by default, or any scheduler given by its address (for SLURM, start one with
``dask_jobqueue.SLURMCluster`` and pass its ``scheduler_address``). On several machines, ``out``
must be a folder every worker can reach (a shared file system).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from neurolab._store import atomic_path, remove_orphans
from neurolab.sweep.config import SweepConfig, load_config
from neurolab.sweep.tasks import (
    ROW_KEYS,
    SweepError,
    data_folder,
    disk_full,
    prepare,
    prepared,
    record_failure,
    run_task,
    task_id,
)

__all__ = ["SweepError", "SweepInterrupted", "SweepReport", "read_results", "run_sweep"]

BACKENDS = ("local", "dask")
ALIASES = {"loky": "local"}
"""'loky', the local backend's former name, still means 'local'."""
SCHEDULER_TIMEOUT_S = 10
"""Seconds to wait for a Dask scheduler given by its address before saying it cannot be reached."""
_STOP_GRACE_S = 5.0
_PRELOAD = ["neurolab.sweep.tasks", "neurolab.io", "neurolab.preprocessing", "neurolab.geometry",
            "neurolab.decoding", "neurolab.synthetic"]


class SweepInterrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, which it stands beside
    """The sweep was stopped by a signal (SIGTERM, SIGINT); its workers were stopped too.

    ``signum`` is the signal; every row finished before it is kept, and a re-run resumes.
    """

    def __init__(self, signum: int, out: Path | None = None):
        self.signum, self.out = signum, out
        super().__init__(f"stopped by {signal.Signals(signum).name}")


@dataclass
class SweepReport:
    """What a run did. ``rows``: every finished task of the config (this run's and earlier runs')."""

    rows: pd.DataFrame
    computed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    damaged: list = field(default_factory=list)
    seconds: float = 0.0

    def __repr__(self) -> str:
        damaged = f", {len(self.damaged)} damaged rows recomputed" if self.damaged else ""
        return (f"SweepReport({len(self.rows)} rows: {len(self.computed)} computed, {len(self.skipped)} "
                f"already done, {len(self.failed)} failed{damaged}; {self.seconds:.1f} s)")


def _read_row(path: Path) -> tuple[dict | None, str | None]:
    """(the row at ``path``, None), or (None, why it cannot be used) when it is not a whole row."""
    try:
        row = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return None, f"it does not parse ({type(error).__name__}: {error})"
    if not isinstance(row, dict):
        return None, f"it holds a {type(row).__name__}, not a row"
    missing = [key for key in ROW_KEYS if key not in row]
    if missing:
        return None, f"it lacks the keys {missing}"
    if row["task_id"] != path.stem:
        return None, f"it holds the row of task {row['task_id']!r}"
    return row, None


def read_results(out, task_ids=None) -> pd.DataFrame:
    """Every whole row under ``out/rows`` (of ``task_ids`` only, if given), sorted by task id.

    A row file that does not parse or lacks its keys is left out with a warning naming it.
    """
    rows = []
    for path in sorted(Path(out, "rows").glob("*.json")):
        if task_ids is not None and path.stem not in task_ids:
            continue
        row, problem = _read_row(path)
        if problem:
            warnings.warn(f"sweep row {path} is damaged ({problem}); it is left out", stacklevel=2)
            continue
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values("task_id").reset_index(drop=True) if len(frame) else frame


def run_sweep(config, out, backend: str = "local", n_jobs: int = 2, scheduler: str | None = None,
              progress: bool = True) -> SweepReport:
    """Run every task of ``config`` that has no row in ``out`` yet.

    Parameters
    ----------
    config : SweepConfig, dict, or path to a YAML file
        Checked before any task starts (``load_config``).
    out : str or pathlib.Path
        Results folder: ``rows/`` (one JSON file per finished task), ``failed/``, ``data/`` (the
        preprocessed recordings, memory-mapped by the workers) and ``config.json``.
    backend : {'local', 'dask'}
        Local worker processes (one per task, ``n_jobs`` at a time), or a ``dask.distributed``
        cluster. 'loky' is the former name of 'local'.
    n_jobs : int
        Tasks at once: local processes, or the workers of the ``LocalCluster`` started when no
        scheduler is given.
    scheduler : str, optional
        Address of a running Dask scheduler (``backend='dask'`` only).
    progress : bool
        Show a progress bar of tasks done and time left (tqdm).

    Returns
    -------
    SweepReport

    Raises
    ------
    SweepError
        ``out`` is a file or cannot be written, another sweep is writing to it, its disk is full,
        or the Dask scheduler cannot be reached.
    SweepInterrupted
        SIGTERM or SIGINT arrived; the workers were stopped and what had finished is kept.
    """
    config = config if isinstance(config, SweepConfig) else load_config(config)
    backend = ALIASES.get(backend, backend)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if scheduler is not None and backend != "dask":
        raise ValueError("a scheduler address needs backend='dask'")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be an int >= 1, got {n_jobs!r}")
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise SweepError(f"the results folder {out} is a file, not a folder: choose another --out")
    tasks = config.tasks()
    ids = {task_id(t) for t in tasks}
    start = time.perf_counter()
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        done, damaged = _finished(out, tasks)
        if len(done) == len(tasks):  # nothing to write: report what is there
            return SweepReport(rows=read_results(out, ids), skipped=[task_id(t) for t in tasks],
                               seconds=time.perf_counter() - start)
        raise SweepError(f"the results folder {out} cannot be written (read-only for this user), and "
                         f"{len(tasks) - len(done)} of {len(tasks)} tasks have no row yet: make it "
                         "writable or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SweepError(f"the results folder {out} cannot be created ({error})") from error
    with _locked(out), _stopped_by_signals(out), _disk_full_named(out):
        _clean(out)
        try:
            damaged, todo, skipped = _run(config, tasks, out, backend, n_jobs, scheduler, progress)
        finally:
            _clean(out)  # the workers are stopped by now: what they were writing goes too
    computed, failed = [], []
    for task in todo:
        tid = task_id(task)
        if _read_row(out / "rows" / f"{tid}.json")[0] is not None:
            computed.append(tid)
        else:
            path = out / "failed" / f"{tid}.json"
            try:
                error = json.loads(path.read_text())["error"]
            except (OSError, ValueError, KeyError, TypeError):
                error = "the task left neither a row nor a failure file"
            failed.append({"task_id": tid, "error": error, "failure_file": str(path)})
    return SweepReport(rows=read_results(out, ids), computed=computed, skipped=skipped, failed=failed,
                       damaged=damaged, seconds=time.perf_counter() - start)


def _run(config, tasks, out: Path, backend: str, n_jobs: int, scheduler, progress: bool):
    """Prepare and run what has no row yet; returns (damaged rows, tasks run, ids skipped)."""
    done, damaged = _finished(out, tasks)
    todo = [t for t in tasks if task_id(t) not in done]
    skipped = [task_id(t) for t in tasks if task_id(t) in done]
    if todo:
        _write_config(out, config)
    data_dir = out / "data"
    preparations = list({str(data_folder(data_dir, t)): t for t in todo}.values())
    for task in preparations:  # damaged prepared data is named here, in the main process
        folder = data_folder(data_dir, task)
        if (folder / "meta.json").exists() and prepared(folder, deep=True) is None:
            warnings.warn(f"prepared data in {folder} is damaged (a file is missing, truncated or "
                          "changed): preparing it again", stacklevel=3)
            (folder / "meta.json").unlink()
    if backend == "local":
        _run_local([(prepare_quietly, (t, data_dir)) for t in preparations], n_jobs,
                   "preparing recordings", progress)
        exits = _run_local([(run_task, (t, data_dir, out)) for t in todo], n_jobs, "tasks", progress)
        for task, code in zip(todo, exits):
            row = out / "rows" / f"{task_id(task)}.json"
            if code != 0 and not row.is_file():  # the worker died: a failure; the others went on
                record_failure(task, out, _death(code))
    else:
        _run_dask(preparations, todo, data_dir, out, n_jobs, scheduler, progress)
    return damaged, todo, skipped


def prepare_quietly(task, data_dir):
    """``prepare``, with a failure left for ``run_task`` to report (it prepares again and records it)."""
    try:
        prepare(task, data_dir)
    except Exception:  # noqa: BLE001 - reported by run_task, with the traceback
        pass


def _death(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        why = " (SIGKILL: killed by hand, or by the kernel for lack of memory)" if -code == signal.SIGKILL else ""
        return f"WorkerDied: the task's worker process was killed by {name}{why}"
    return f"WorkerDied: the task's worker process exited with status {code}"


def _finished(out: Path, tasks) -> tuple[set, list]:
    """(ids of tasks with a whole row, [paths of damaged rows]); damaged rows are named in a warning."""
    done, damaged = set(), []
    for task in tasks:
        tid = task_id(task)
        path = out / "rows" / f"{tid}.json"
        if not path.is_file():
            continue
        _, problem = _read_row(path)
        if problem is None:
            done.add(tid)
        else:
            warnings.warn(f"sweep row {path} is damaged ({problem}): the task is computed again",
                          stacklevel=4)
            damaged.append(str(path))
    return done, damaged


def _write_config(out: Path, config: SweepConfig) -> None:
    text = json.dumps({"name": config.name, "size": config.size, "recordings": list(config.recordings),
                       "grid": {k: list(v) for k, v in config.grid.items()}}, indent=1)
    path = out / "config.json"
    with contextlib.suppress(OSError):
        if path.read_text() == text:
            return
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _clean(out: Path) -> None:
    """Remove the temporary files of killed writers anywhere in the results folder."""
    for folder in [out, out / "rows", out / "failed", out / "data",
                   *((out / "data").glob("*") if (out / "data").is_dir() else [])]:
        remove_orphans(folder)


@contextlib.contextmanager
def _locked(out: Path):
    """One sweep at a time in a folder: an exclusive lock on ``out/.sweep.lock``, else SweepError."""
    path = out / ".sweep.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole sweep
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise SweepError(f"another sweep (pid {holder}) is writing to {out}: wait for it to finish, "
                             "or give this one another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


@contextlib.contextmanager
def _stopped_by_signals(out: Path):
    """SIGTERM and SIGINT raise ``SweepInterrupted`` in the main thread (elsewhere: unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        for s in (signal.SIGTERM, signal.SIGINT):  # a second signal must not cut the clean-up short
            signal.signal(s, signal.SIG_IGN)
        raise SweepInterrupted(signum, out)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def _disk_full_named(out: Path):
    """A full disk as such: SweepError naming the folder and the free space, not numpy's byte counts."""
    try:
        yield
    except OSError as error:
        full = disk_full(error, out)
        if full is None:
            raise
        raise full from error


# ---------------------------------------------------------------- local processes
def _context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _child(function, args) -> None:
    """A worker process: dies with the parent (Linux), default signal actions, one task."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: never outlive the forkserver
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    function(*args)


@contextlib.contextmanager
def _signals_held():
    """SIGTERM and SIGINT wait (blocked, then delivered) until the block ends."""
    held = {signal.SIGTERM, signal.SIGINT}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _run_local(calls, n_jobs: int, what: str, progress: bool) -> list[int]:
    """Run each ``(function, args)`` in a process of its own, ``n_jobs`` at a time.

    Returns the exit code of each (0: it returned; < 0: killed by that signal). On any exception
    in the parent (``SweepInterrupted`` included) the running processes are stopped before it
    propagates.
    """
    codes = [0] * len(calls)
    if not calls:
        return codes
    ctx = _context()
    pending = list(enumerate(calls))[::-1]
    running: dict = {}
    bar = _progress(len(calls), what, progress)
    try:
        while pending or running:
            while pending and len(running) < n_jobs:
                index, (function, args) = pending.pop()
                process = ctx.Process(target=_child, args=(function, args), daemon=True)
                with _signals_held():  # a stop in the middle would leave the child half-sent
                    process.start()
                running[process.sentinel] = (index, process)
            ready = multiprocessing.connection.wait(list(running))
            for sentinel in ready:
                index, process = running.pop(sentinel)
                process.join()
                codes[index] = process.exitcode
                if bar is not None:
                    bar.update(1)
    finally:
        for _, process in running.values():
            with contextlib.suppress(Exception):
                process.terminate()
        deadline = time.monotonic() + _STOP_GRACE_S
        for _, process in running.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        if bar is not None:
            bar.close()
    return codes


def _progress(total: int, what: str, show: bool):
    if not show or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=what, unit="task")


# ---------------------------------------------------------------- dask
def _run_dask(preparations, todo, data_dir, out, n_jobs, scheduler, progress) -> None:
    import joblib
    from joblib import Parallel, delayed

    with _dask_client(n_jobs, scheduler), joblib.parallel_config(backend="dask"):
        parallel = Parallel(n_jobs=-1, return_as="generator")
        for what, jobs in (("preparing recordings", [delayed(prepare_quietly)(t, data_dir) for t in preparations]),
                           ("tasks", [delayed(run_task)(t, data_dir, out) for t in todo])):
            bar = _progress(len(jobs), what, progress)
            for _ in parallel(jobs):
                if bar is not None:
                    bar.update(1)
            if bar is not None:
                bar.close()


@contextlib.contextmanager
def _dask_client(n_jobs: int, scheduler: str | None):
    from distributed import Client, LocalCluster

    if scheduler is None:
        with LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as error:
        raise SweepError(f"the Dask scheduler {scheduler} cannot be reached within "
                         f"{SCHEDULER_TIMEOUT_S} s ({type(error).__name__}: {error}); check the address "
                         "and that the scheduler runs") from error
    with client:
        yield client
