"""Time to grade one submission with nbgrader, every chapter, at smoke size.

For each chapter: release the graded edition at SIZE="smoke" (book/_ext/grading.py ``assign``),
submit the instructor's answers as one student, grade it (``grade_submissions``: nbgrader
autograde in a private course copy, then its feedback report) and record the seconds and the
score, which must be full marks. Writes benchmarks/results/grading.json with the commit.

    python benchmarks/grading.py [chapters ...]
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from editions import toc_chapters  # noqa: E402
from grading import BEGIN, END, assign, grade_submissions, read_plan  # noqa: E402


def instructor_submission(course: Path, stem: str, folder: Path) -> None:
    """The released notebook with every answer cell holding the source's solution."""
    source = nbformat.read(course / "source" / stem / f"{stem}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: "\n".join(line for line in c.source.split("\n") if line not in (BEGIN, END))
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    release = nbformat.read(course / "release" / stem / f"{stem}.ipynb", as_version=4)
    for cell in release.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    (folder / "instructor").mkdir(parents=True, exist_ok=True)
    nbformat.write(release, folder / "instructor" / f"{stem}.ipynb")


def main(argv: list[str]) -> int:
    chapters = [Path(a) for a in argv] or toc_chapters(ROOT / "_toc.yml")
    plan = read_plan(ROOT / "book" / "course_plan.yml")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        assign(chapters, tmp / "course", plan, size="smoke")
        assign_s = time.perf_counter() - start
        for chapter in chapters:
            subs = tmp / f"subs-{chapter.stem}"
            instructor_submission(tmp / "course", chapter.stem, subs)
            start = time.perf_counter()
            rows = grade_submissions(subs, tmp / "course", tmp / f"out-{chapter.stem}", progress=lambda _: None)
            seconds = time.perf_counter() - start
            entry = {"chapter": chapter.stem, "seconds": round(seconds, 1),
                     "score": sum(r.score for r in rows), "max_score": sum(r.max_score for r in rows),
                     "not_passed": [f"{r.exercise} {r.status}: {r.message or r.error}" for r in rows
                                    if r.status != "passed"]}
            results.append(entry)
            print(json.dumps(entry), flush=True)
    out = {"commit": commit, "machine": platform.platform(), "size": "smoke",
           "assign_seconds": round(assign_s, 1), "chapters": results,
           "seconds_per_submission_median": sorted(r["seconds"] for r in results)[len(results) // 2]}
    target = ROOT / "benchmarks" / "results" / "grading.json"
    target.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}")
    return 0 if all(r["score"] == r["max_score"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
