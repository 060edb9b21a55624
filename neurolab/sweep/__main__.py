"""python -m neurolab.sweep CONFIG.yaml --out DIR [--dask [--scheduler ADDRESS]] [--jobs N]"""

from __future__ import annotations

import argparse
import sys

from neurolab.sweep.config import load_config
from neurolab.sweep.runner import run_sweep


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m neurolab.sweep", description=__doc__)
    parser.add_argument("config", help="the sweep's YAML file (recordings, size, grid)")
    parser.add_argument("--out", required=True, help="results folder (a re-run skips what is done)")
    parser.add_argument("--dask", action="store_true", help="run on dask.distributed (LocalCluster)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (implies --dask)")
    parser.add_argument("--jobs", type=int, default=2, help="workers (default 2)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    backend = "dask" if args.dask or args.scheduler else "loky"
    report = run_sweep(config, args.out, backend=backend, n_jobs=args.jobs, scheduler=args.scheduler,
                       progress=not args.no_progress)
    print(report)
    for failure in report.failed:
        print(f"FAILED {failure['task_id']}: {failure['error']} (see {failure['failure_file']})",
              file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
