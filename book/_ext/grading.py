"""Graded assignments for nbgrader, made from the chapters, and grading a folder of submissions.

Why nbgrader: it is the autograder of Jupyter itself (jupyter/nbgrader), runs on a laptop or a
JupyterHub without Docker, keeps a gradebook (SQLite) with a score per test cell, gives partial
and manual grading in its formgrader, and writes an HTML feedback report per submission.
(otter-grader fits Gradescope and LMS exports, but its ``otter grade`` needs Docker.)

One course folder, in nbgrader's own layout::

    COURSE/nbgrader_config.py
    COURSE/source/<chapter>/<chapter>.ipynb     the graded source edition (``graded_source``)
    COURSE/release/<chapter>/<chapter>.ipynb    what students get (``nbgrader generate_assignment``)
    COURSE/gradebook.db                         the test cells and their points

The graded source edition is the student edition (``editions.make_student_notebook``) with:

- each exercise's stub holding the instructor's solution between nbgrader's ``### BEGIN
  SOLUTION`` / ``### END SOLUTION`` (an nbgrader solution cell), so the release is the stub
  again: the names to fill in, then ``raise NotImplementedError``;
- each self-check cell a locked, graded test cell worth the exercise's points
  (``book/course_plan.yml``), calling ``grade`` instead of ``check``: same verdict, but it raises
  when the answer does not pass, which nbgrader scores 0;
- every other code cell locked (nbgrader restores it before grading, so only answers count), the
  parameters cell set to the grading size (``SIZE = "course"`` by default).

Grading (``grade_submissions``): a folder with one folder per student, holding that student's
notebooks (``SUBMISSIONS/<student>/<chapter>.ipynb``, or nbgrader's
``SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb``). Each notebook is graded by ``nbgrader
autograde`` in a process of its own, in a private copy of the course folder (its own gradebook),
with a time limit per cell and per notebook: a crash, an endless loop or a notebook that deletes
files harms only its own copy. The scores come from that gradebook, each check's message from
the autograded notebook; ``nbgrader generate_feedback`` writes the student's HTML report. The
results, one CSV row per student and exercise, are written by this process only, after each
notebook (a stopped run keeps what it finished).

Command line (``make assignments``, ``make grade SUBMISSIONS=dir/``)::

    python book/_ext/grading.py assign --course _build/grading [--size course] [chapters ...]
    python book/_ext/grading.py grade SUBMISSIONS --course _build/grading --out grades/
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import editions  # noqa: E402  (a sibling module, imported by path like the book's extension does)

__all__ = [
    "COLUMNS",
    "GradeRow",
    "assign",
    "graded_source",
    "grade_submissions",
    "read_plan",
]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
RELEASE_STUB = 'raise NotImplementedError("write your answer here, then delete this line")'
"""What nbgrader puts where the solution stood in the release (``ClearSolutions.code_stub``)."""

SIZES = ("smoke", "course", "full")
_SIZE_LINE = re.compile(r'^SIZE\s*=\s*"[^"]*"[^\n]*$', re.MULTILINE)
_STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NBGRADER = [sys.executable, "-m", "nbgrader"]

COLUMNS = ["student", "chapter", "exercise", "label", "score", "max_score", "status", "message",
           "runtime_s", "error"]
"""The columns of grades.csv, one row per student and exercise."""


# ---------------------------------------------------------------------------------------------
# The plan: points per exercise (book/course_plan.yml)


def read_plan(path: str | Path) -> dict:
    """book/course_plan.yml as a dict ({'chapters': {...}, 'exercises': {...}})."""
    path = Path(path)
    try:
        plan = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({error})") from None
    for key in ("chapters", "exercises"):
        if not isinstance(plan.get(key), dict):
            raise ValueError(f"{path}: `{key}` should be a mapping")
    for label, entry in plan["exercises"].items():
        points = (entry or {}).get("points")
        if not isinstance(points, int) or isinstance(points, bool) or points < 1:
            raise ValueError(f"{path}: exercises.{label}.points should be a positive integer, got {points!r}")
    return plan


def _points(plan: dict, label: str, source: Path) -> int:
    try:
        return int(plan["exercises"][label]["points"])
    except (KeyError, TypeError):
        raise ValueError(f"{source}: exercise {label!r} has no points in book/course_plan.yml") from None


# ---------------------------------------------------------------------------------------------
# The graded source edition


def _solutions(path: Path) -> dict[str, list[str]]:
    """{label: [code of the solution's cells]} of a chapter."""
    nb = editions._read(path)
    nb.cells = [cell for cell in nb.cells if not editions._is_injected(cell)]
    return {item.solution.label: [cell.source for cell in item.solution.code]
            for item in editions._split(nb, path) if isinstance(item, editions._Stub)}


def _without_checks(source: str) -> str:
    """A solution cell's code without its top-level ``check(...)`` calls (they become the test)."""
    lines = source.split("\n")
    drop: set[int] = set()
    for statement in editions.check_statements(editions._parse(source)):
        drop.update(range(statement.lineno - 1, statement.end_lineno))
    return "\n".join(line for i, line in enumerate(lines) if i not in drop).strip("\n")


def _nbgrader(cell: nbformat.NotebookNode, grade_id: str, *, solution=False, grade=False, locked=False,
              points: int | None = None) -> None:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta


def _graded_calls(source: str, label: str, points: int) -> str:
    lines = source.split("\n")[1:]  # after the check cell's comment line
    for statement in editions.check_statements(editions._parse("\n".join(lines))):
        row, col = statement.value.func.lineno - 1, statement.value.func.col_offset
        lines[row] = lines[row][:col] + "grade" + lines[row][col + len("check"):]
    text = "\n".join(line for line in lines if line.strip())
    from neurolab.teaching.exercises import describe

    number = describe(label)["number"]
    return (f"# Graded test of exercise {number} ({label}, {points} point{'s' if points != 1 else ''}): "
            f"run it after your answer.\nfrom neurolab.teaching.exercises import grade\n\n{text}")


def _graded_note(path: Path, plan: dict, size: str) -> str:
    from neurolab.teaching.exercises import exercises

    number = editions._chapter_number(path)
    own = [(n, label) for n, label in exercises() if n.split(".")[0] == number]
    points = sum(_points(plan, label, path) for _, label in own)
    return (
        f"**Graded assignment: chapter {number}** ({len(own)} exercises, {points} points, graded at "
        f'`SIZE = "{size}"`). Run the notebook from the top. After each exercise\'s question, a cell '
        f"raises `NotImplementedError`: replace it with your answer (it names what to compute). The "
        f"locked cell after it is the graded test: run it to see \u2713, or \u2717 with a hint, and "
        f"its points. Only your answer cells count: the grader restores every other cell before it "
        f"runs the notebook, so keep the file's name and hand it in as your instructor says."
    )


def graded_source(md_path: str | Path, plan: dict, size: str = "course",
                  repository: tuple[str, str] | None = None) -> nbformat.NotebookNode:
    """The nbgrader source notebook of one chapter (see the module's docstring).

    md_path: the chapter (``chapters/NN_name.md``); plan: ``read_plan(book/course_plan.yml)``;
    size: the ``SIZE`` the notebook is graded at ("smoke", "course" or "full").
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")
    path = Path(md_path)
    nb = editions.make_student_notebook(path, repository=repository)
    solutions = _solutions(path)
    answered: set[str] = set()
    parameters = False
    for index, cell in enumerate(nb.cells):
        role = cell.metadata.get(editions.META_KEY, {}).get("role")
        label = cell.metadata.get(editions.META_KEY, {}).get("exercise")
        if role == "edition-note":
            cell.source = _graded_note(path, plan, size)
        elif role == "stub":
            lines = cell.source.split("\n")
            if lines and lines[-1].startswith("raise NotImplementedError"):
                lines = lines[:-1]
            code = "\n".join(filter(None, (_without_checks(s) for s in solutions[label])))
            cell.source = "\n".join([*lines, BEGIN, code, END])
            cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != "raises-exception"]
            _nbgrader(cell, f"{label}-answer", solution=True)
            answered.add(label)
        elif role == "check":
            points = _points(plan, label, path)
            cell.source = _graded_calls(cell.source, label, points)
            _nbgrader(cell, label, grade=True, locked=True, points=points)
        elif cell.cell_type == "code":
            if "parameters" in cell.metadata.get("tags", []):
                if not _SIZE_LINE.search(cell.source):
                    raise ValueError(f"{path}: the parameters cell sets no SIZE = \"...\"")
                cell.source = _SIZE_LINE.sub(f'SIZE = "{size}"  # the size this assignment is graded at',
                                             cell.source, count=1)
                parameters = True
            _nbgrader(cell, f"locked-{index}", locked=True)
    if not parameters:
        raise ValueError(f"{path}: no cell tagged `parameters`")
    missing = sorted(set(solutions) - answered)
    if missing:
        raise ValueError(f"{path}: no stub cell for {missing}")
    nbformat.validate(nb)
    return nb


CONFIG = f"""\
# nbgrader's settings for the course (written by book/_ext/grading.py).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "neurolab"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {{"python": {RELEASE_STUB!r}}}
c.ClearSolutions.enforce_metadata = True
"""


def _run(args: Sequence[str], cwd: Path, timeout: float | None = None, env: dict | None = None):
    """Run a command in a process group of its own; on timeout the whole group is killed.
    Returns (returncode or None on timeout, output)."""
    env = dict(os.environ if env is None else env)
    # nbgrader runs `alembic` from PATH: the interpreter's own bin folder (the venv's) comes first
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    process = subprocess.Popen(list(args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True, env=env)
    try:
        out, _ = process.communicate(timeout=timeout)
        return process.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        return None, out
    finally:
        try:  # whatever the notebook left running in its group (a kernel, a child) goes too
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def assign(chapters: Iterable[str | Path], course: str | Path, plan: dict, size: str = "course",
           repository: tuple[str, str] | None = None) -> list[Path]:
    """Write the graded sources into ``course/source/`` and release them with ``nbgrader
    generate_assignment`` (gradebook and ``course/release/``). Returns the released notebooks."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    released = []
    for chapter in chapters:
        chapter = Path(chapter)
        stem = chapter.stem
        folder = course / "source" / stem
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{stem}.ipynb"
        partial = target.with_name(target.name + ".tmp")
        partial.write_text(nbformat.writes(graded_source(chapter, plan, size, repository)) + "\n", encoding="utf-8")
        partial.replace(target)
        code, out = _run([*NBGRADER, "generate_assignment", stem, "--force", "--log-level=WARN"], cwd=course)
        release = course / "release" / stem / f"{stem}.ipynb"
        if code != 0 or not release.is_file():
            raise RuntimeError(f"nbgrader generate_assignment {stem} failed (exit {code}):\n{out[-3000:]}")
        released.append(release)
    return released


# ---------------------------------------------------------------------------------------------
# Grading a folder of submissions


@dataclass
class GradeRow:
    """One row of grades.csv: one student's result on one exercise."""

    student: str
    chapter: str
    exercise: str
    label: str
    score: float
    max_score: float
    status: str  # passed | wrong | not answered | error | timeout
    message: str
    runtime_s: float | None
    error: str


def _submissions(folder: Path, stems: set[str]) -> list[tuple[str, str, Path]]:
    """[(student, chapter, notebook)] of a submissions folder, sorted."""
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    found = []
    for student in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not _STUDENT.match(student.name):
            raise ValueError(f"{student}: a student's folder name must be letters, digits, '.', '_' or '-'")
        for notebook in sorted(student.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in notebook.parts:
                continue
            if notebook.stem not in stems:
                raise ValueError(f"{notebook}: no assignment {notebook.stem!r} in the course folder "
                                 f"(assignments: {', '.join(sorted(stems))})")
            found.append((student.name, notebook.stem, notebook))
    if not found:
        raise ValueError(f"{folder} holds no student folder with a notebook (SUBMISSIONS/<student>/<chapter>.ipynb)")
    return found


def _text(outputs) -> tuple[str, str]:
    """(printed text, error text) of a cell's outputs."""
    printed, error = [], ""
    for output in outputs:
        if output.get("output_type") == "stream":
            printed.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            error = f"{output.get('ename', '')}: {output.get('evalue', '')}".strip(": ")
    return "".join(printed).strip(), error


def _seconds(cell) -> float | None:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    from datetime import datetime

    def parse(stamp: str) -> datetime:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))

    return round((parse(end) - parse(start)).total_seconds(), 3)


def _tests(release: Path) -> list[tuple[str, float]]:
    """[(grade_id, points)] of the graded test cells of a released notebook, in order."""
    nb = nbformat.read(release, as_version=4)
    return [(c.metadata["nbgrader"]["grade_id"], float(c.metadata["nbgrader"]["points"]))
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def _number(label: str) -> str:
    from neurolab.teaching.exercises import describe

    try:
        return describe(label)["number"]
    except KeyError:
        return ""


def _grade_one(course: Path, student: str, stem: str, notebook: Path, cell_timeout: float,
               notebook_timeout: float, feedback_dir: Path) -> list[GradeRow]:
    tests = _tests(course / "release" / stem / f"{stem}.ipynb")
    with tempfile.TemporaryDirectory(prefix="neurolab-grade-") as tmp:
        root = Path(tmp) / "course"
        root.mkdir()
        shutil.copy2(course / "nbgrader_config.py", root)
        shutil.copy2(course / "gradebook.db", root)
        shutil.copytree(course / "source" / stem, root / "source" / stem)
        submitted = root / "submitted" / student / stem
        submitted.mkdir(parents=True)
        shutil.copy2(notebook, submitted / f"{stem}.ipynb")
        start = time.monotonic()
        code, log = _run([sys.executable, str(Path(__file__).resolve()), "_autograde", str(root), stem, student,
                          str(int(cell_timeout))], cwd=root, timeout=notebook_timeout)
        elapsed = time.monotonic() - start
        autograded = root / "autograded" / student / stem / f"{stem}.ipynb"
        scores: dict[str, tuple[float, float]] = {}
        if code == 0:
            try:
                scores = _read_scores(root / "gradebook.db", stem, student)
            except Exception as error:  # noqa: BLE001 - a gradebook the submission damaged
                code, log = 1, f"{log}\nGradebookError: the gradebook could not be read ({error})"
        html = root / "feedback" / student / stem / f"{stem}.html"
        if code == 0 and html.is_file():
            (feedback_dir / student).mkdir(parents=True, exist_ok=True)
            shutil.copy2(html, feedback_dir / student / f"{stem}.html")
        failure = _failure(log, root) if code not in (0, None) else ""
        cells = {}
        if code == 0 and autograded.is_file():
            nb = nbformat.read(autograded, as_version=4)
            cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    rows = []
    for label, points in tests:
        number = _number(label)
        if code is None:
            rows.append(GradeRow(student, stem, number, label, 0.0, points, "timeout", "",
                                 round(elapsed, 3), f"the notebook ran past {notebook_timeout:g} s and was stopped"))
            continue
        if code != 0 or label not in scores:
            rows.append(GradeRow(student, stem, number, label, 0.0, points, "error", "", round(elapsed, 3),
                                 failure or "nbgrader recorded no grade for this test"))
            continue
        score, max_score = scores[label]
        test = cells.get(label)
        answer = cells.get(f"{label}-answer")
        printed, error = _text(test.get("outputs", [])) if test is not None else ("", "")
        _, answer_error = _text(answer.get("outputs", [])) if answer is not None else ("", "")
        runtime = sum(t for t in (_seconds(answer or {}), _seconds(test or {})) if t is not None)
        if score >= max_score:
            status, message = "passed", printed
        elif error.startswith("NotPassed"):
            message = error.split(": ", 1)[1] if ": " in error else error
            status = "not answered" if "not answered yet" in message else "wrong"
            error = ""
        elif answer_error.startswith("CellTimeoutError") or error.startswith("CellTimeoutError"):
            status, message, error = "timeout", "", f"a cell ran past {cell_timeout:g} s and was interrupted"
        else:
            status, message = "error", printed
        rows.append(GradeRow(student, stem, number, label, float(score), float(max_score), status, message,
                             round(runtime, 3), error))
    return rows


def _autograde_here(root: Path, stem: str, student: str, cell_timeout: int) -> int:
    """In a process of its own (``_grade_one`` starts it): ``nbgrader autograde`` and, when it
    succeeds, ``nbgrader generate_feedback`` of one submission, through nbgrader's Python API (one
    start-up for both). Exit status 0 when both succeeded."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    config.Execute.timeout = cell_timeout
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    graded = api.autograde(stem, student, force=True, create=True)
    print(graded.get("log", ""), graded.get("error", ""), sep="\n", flush=True)
    if not graded.get("success"):
        return 1
    feedback = api.generate_feedback(stem, student, force=True)  # a failure here costs only the report
    print(feedback.get("log", ""), feedback.get("error", ""), sep="\n", flush=True)
    return 0


def _failure(log: str, root: Path) -> str:
    """The gist of a failed nbgrader run, from its log and what is left of its folder."""
    if "DeadKernelError" in log or "Kernel died" in log:
        return "the kernel died while the notebook ran (DeadKernelError): a crash such as os._exit or a segfault"
    if not (root / "gradebook.db").is_file():
        return "the notebook deleted the files it was graded with (its private copy of the course folder)"
    errors = re.findall(r"^\s*([A-Za-z_.]*(?:Error|Exception)\b[^\n]*)", log, re.MULTILINE)
    return f"nbgrader autograde failed: {errors[-1].strip()[:300]}" if errors else "nbgrader autograde failed"


def _read_scores(db: Path, stem: str, student: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}") as gradebook:
        submission = gradebook.find_submission_notebook(stem, stem, student)
        return {grade.name: (float(grade.score), float(grade.max_score))
                for grade in submission.grades}


def _write_csv(rows: list[GradeRow], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(buffer.getvalue(), encoding="utf-8")
    partial.replace(path)


def grade_submissions(submissions: str | Path, course: str | Path, out: str | Path,
                      cell_timeout: float = 600, notebook_timeout: float = 1800, jobs: int = 1,
                      progress=print) -> list[GradeRow]:
    """Grade every notebook of ``submissions`` against ``course`` (made by ``assign``); write
    ``out/grades.csv`` (one row per student and exercise, ``COLUMNS``) and
    ``out/feedback/<student>/<chapter>.html``. ``jobs`` notebooks are graded at once, each in
    its own process and private folder. Returns the rows, in submission order."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    submissions, course, out = Path(submissions), Path(course), Path(out)
    if not (course / "gradebook.db").is_file():
        raise FileNotFoundError(f"{course} holds no gradebook.db: run `make assignments` (grading.py assign) first")
    for name, value in (("cell_timeout", cell_timeout), ("notebook_timeout", notebook_timeout)):
        if not (isinstance(value, (int, float)) and value > 0):
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    stems = {p.name for p in (course / "release").iterdir() if p.is_dir()} if (course / "release").is_dir() else set()
    work = _submissions(submissions, stems)
    out.mkdir(parents=True, exist_ok=True)
    feedback = (out / "feedback").resolve()
    feedback.mkdir(exist_ok=True)
    done: dict[int, list[GradeRow]] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_grade_one, course.resolve(), student, stem, notebook.resolve(), cell_timeout,
                               notebook_timeout, feedback): index
                   for index, (student, stem, notebook) in enumerate(work)}
        for future in as_completed(futures):
            index = futures[future]
            done[index] = graded = future.result()
            _write_csv([row for i in sorted(done) for row in done[i]], out / "grades.csv")
            student, stem, _ = work[index]
            progress(f"{student} {stem}: {sum(r.score for r in graded):g} / {sum(r.max_score for r in graded):g}")
    rows = [row for i in sorted(done) for row in done[i]]
    summary = {"submissions": len(work), "rows": len(rows), "columns": COLUMNS}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return rows


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python book/_ext/grading.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assign", help="write the graded sources and release them with nbgrader")
    a.add_argument("chapters", nargs="*", type=Path, help="chapter sources (default: those in _toc.yml)")
    a.add_argument("--course", type=Path, required=True, help="the nbgrader course folder to write")
    a.add_argument("--size", default="course", choices=SIZES, help="the SIZE graded at (default: course)")
    a.add_argument("--root", type=Path, default=Path("."), help="the book's folder (default: .)")
    g = sub.add_parser("grade", help="grade a folder of submitted notebooks")
    g.add_argument("submissions", type=Path, help="SUBMISSIONS/<student>/<chapter>.ipynb")
    g.add_argument("--course", type=Path, required=True, help="the course folder made by `assign`")
    g.add_argument("--out", type=Path, required=True, help="where grades.csv and feedback/ go")
    g.add_argument("--cell-timeout", type=float, default=600, help="seconds per cell (default 600)")
    g.add_argument("--timeout", type=float, default=1800, help="seconds per notebook (default 1800)")
    g.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default 1)")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["_autograde"]:  # the worker of _grade_one (not a user command)
        root, stem, student, cell_timeout = argv[1:5]
        return _autograde_here(Path(root), stem, student, int(cell_timeout))
    args = parser.parse_args(argv)
    try:
        if args.command == "assign":
            chapters = args.chapters or editions.toc_chapters(args.root / "_toc.yml")
            plan = read_plan(args.root / "book" / "course_plan.yml")
            released = assign(chapters, args.course, plan, args.size)
            print(f"released {len(released)} assignment(s) into {args.course / 'release'}")
        else:
            rows = grade_submissions(args.submissions, args.course, args.out, args.cell_timeout, args.timeout,
                                     args.jobs)
            print(f"wrote {len(rows)} rows into {args.out / 'grades.csv'}")
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
