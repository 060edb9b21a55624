"""Run one chapter with papermill in a fresh kernel and report its wall time and peak memory.

Usage: python benchmarks/run_chapter.py CHAPTER.md SIZE OUT.ipynb

SIZE 'smoke' runs with the test suite's parameters (book/_ext/chapter_runner.py SMOKE_PARAMS), any other size
with the chapter's defaults but SIZE.
Prints one JSON line: {"chapter", "size", "seconds", "peak_gb"}. The peak is the largest resident
set of any process this one waited for (the notebook kernel), read from getrusage(RUSAGE_CHILDREN),
which is why each chapter runs in its own process.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))  # build tooling
from chapter_runner import SMOKE_PARAMS, execute_chapter  # noqa: E402


def main() -> None:
    chapter, size, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    t0 = time.perf_counter()
    # 'smoke' is the test suite's parameter set (SMOKE_PARAMS: one epoch per network); other sizes
    # run with the chapter's own defaults, as the book does
    params = dict(SMOKE_PARAMS) if size == "smoke" else {"DATA": "synthetic", "SIZE": size, "SEED": 0}
    execute_chapter(chapter, out.parent, **params)
    seconds = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    print(json.dumps({"chapter": chapter.stem, "size": size, "seconds": seconds, "peak_gb": peak_gb}))


if __name__ == "__main__":
    main()
