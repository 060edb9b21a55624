"""The course's analyses over many recordings x parameters, locally or on a Dask cluster.

    from neurolab.sweep import load_config, run_sweep
    report = run_sweep(load_config("sweep.yaml"), "results/", backend="dask")
    report.rows          # one tidy row per task, with its provenance

or ``python -m neurolab.sweep sweep.yaml --out results/ [--dask [--scheduler ADDRESS]]``.
"""

from neurolab.sweep.config import ANALYSES, GRID_KEYS, SweepConfig, load_config, twin
from neurolab.sweep.runner import SweepError, SweepInterrupted, SweepReport, read_results, run_sweep
from neurolab.sweep.tasks import ROW_KEYS, prepare, run_task, task_id

__all__ = [
    "ANALYSES",
    "GRID_KEYS",
    "ROW_KEYS",
    "SweepConfig",
    "SweepError",
    "SweepInterrupted",
    "SweepReport",
    "load_config",
    "prepare",
    "read_results",
    "run_sweep",
    "run_task",
    "task_id",
    "twin",
]
