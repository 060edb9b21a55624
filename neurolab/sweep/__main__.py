"""python -m neurolab.sweep CONFIG.yaml --out DIR [--dask [--scheduler ADDRESS]] [--jobs N] [--debug]

Exit status: 0 when every task has its row, 1 when some task failed (each is listed), 2 for a
problem named in one line (a bad config or option, a results folder that cannot be used, an
unreachable scheduler), 128 + the signal's number when stopped by SIGTERM or SIGINT (the rows
finished so far are kept: run the same command again to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurolab._cli import int_at_least, run_cli
from neurolab.sweep.config import load_config
from neurolab.sweep.runner import SweepInterrupted, run_sweep


def _sweep(args) -> int:
    config = load_config(Path(args.config))
    backend = "dask" if args.dask or args.scheduler else "local"
    try:
        report = run_sweep(config, args.out, backend=backend, n_jobs=args.jobs, scheduler=args.scheduler,
                           progress=not args.no_progress)
    except SweepInterrupted as stop:
        print(f"{stop}: the workers were stopped; finished rows are kept in {args.out}. "
              "Run the same command again to resume.", file=sys.stderr)
        return 128 + stop.signum
    print(report)
    for failure in report.failed:
        print(f"FAILED {failure['task_id']}: {failure['error']} (see {failure['failure_file']})",
              file=sys.stderr)
    return 1 if report.failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m neurolab.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="the sweep's YAML file (recordings, size, grid)")
    parser.add_argument("--out", required=True, help="results folder (a re-run skips what is done)")
    parser.add_argument("--dask", action="store_true", help="run on dask.distributed (LocalCluster)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (implies --dask)")
    parser.add_argument("--jobs", type=int_at_least(1, "needs at least 1 worker"), default=2,
                        help="workers (default 2)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_cli(_sweep, args, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
