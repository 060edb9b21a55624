"""Where each chapter spends its time: every chapter run once, its cells ranked by wall time.

    python benchmarks/profile_chapters.py [--size full] [--top 5] [--chapter 05_mousenet ...]
                                          [--out benchmarks/results/chapter_profile.json]

Each chapter runs with papermill in a fresh kernel (as the book build runs it), with the data cache
warm (the synthetic recording generated first, as in benchmarks/run.py); papermill records every
cell's duration. Prints, per chapter, its total and its most expensive cells (the cell's first code
line names it), and writes them with the commit they ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "2")

import nbformat  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))  # the book's build tooling (chapter_runner.py)
from chapter_runner import SMOKE_PARAMS, execute_chapter, toc_chapters  # noqa: E402


def first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return (lines[0] if lines else source.strip().splitlines()[0] if source.strip() else "")[:90]


def profile(chapter: Path, size: str, out_dir: Path, top: int) -> dict:
    params = dict(SMOKE_PARAMS) if size == "smoke" else {"DATA": "synthetic", "SIZE": size, "SEED": 0}
    start = time.perf_counter()
    executed = execute_chapter(chapter, out_dir, **params)
    seconds = time.perf_counter() - start
    cells = []
    for index, cell in enumerate(nbformat.read(executed, as_version=4).cells):
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell.cell_type == "code" and duration is not None:
            cells.append({"cell": index, "seconds": round(float(duration), 2), "code": first_line(cell.source)})
    cells.sort(key=lambda c: -c["seconds"])
    return {"chapter": chapter.stem, "size": size, "seconds": round(seconds, 1),
            "cells_seconds": round(sum(c["seconds"] for c in cells), 1), "top": cells[:top]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--chapter", action="append", help="chapter stems (default: all of _toc.yml)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.size != "smoke":
        from neurolab.io import load

        load("synthetic", args.size, 0)  # the data cache warm, as the statistics page defines 'cold'
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for chapter in toc_chapters():
            if args.chapter and chapter.stem not in args.chapter:
                continue
            row = profile(chapter, args.size, Path(tmp), args.top)
            rows.append(row)
            print(f"{row['chapter']}: {row['seconds']:.1f} s (cells {row['cells_seconds']:.1f} s)", flush=True)
            for cell in row["top"]:
                print(f"    {cell['seconds']:6.1f} s  cell {cell['cell']:3d}  {cell['code']}", flush=True)
    total = sum(r["seconds"] for r in rows)
    print(f"all chapters: {total:.0f} s on commit {commit}")
    if args.out:
        Path(args.out).write_text(json.dumps({"commit": commit, "size": args.size, "total_seconds": round(total, 1),
                                              "chapters": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
