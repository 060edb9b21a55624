"""The planning tables of the instructors' page, made from the chapters, the checkers and the plan.

What can be read is read: each chapter's title, exercises (number, title, label), the words of
its prose; which exercises the self-checks know (``neurolab.teaching.exercises``) and how many
distinct hints each checker gives (its ``raise Wrong(...)`` statements); the compute time of each
chapter on two cores (``benchmarks/results/benchmarks.json``, the cold book build with its memos
empty). What needs judgement is
written by hand in ``book/course_plan.yml``: minutes, difficulty and points per exercise, the
mistakes in words, each chapter's prerequisites and concepts. ``check_plan`` fails when the two
disagree (an exercise missing from the plan, or a plan entry that names no exercise), so the
tables cannot drift from the book.

In a MyST page (the book's extension registers the directive)::

    ```{course-plan} chapters
    ```
    ```{course-plan} exercises
    ```
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import editions  # noqa: E402

READING_WPM = 120
"""Words per minute assumed for reading a chapter's prose with its figures (technical text)."""

DIFFICULTY = {1: "easy", 2: "medium", 3: "hard"}


@dataclass
class Exercise:
    chapter: str
    number: str
    label: str
    title: str
    minutes: int
    difficulty: str
    points: int
    checked: bool
    hints: int
    mistakes: str


@dataclass
class Chapter:
    stem: str
    number: str
    title: str
    reading_minutes: int
    exercise_minutes: int
    n_exercises: int
    compute_seconds: float | None
    prerequisites: str
    concepts: str


def _plan(root: Path) -> dict:
    from grading import read_plan  # the one reader of book/course_plan.yml (it checks the points)

    return read_plan(root / "book" / "course_plan.yml")


def _hints() -> dict[str, int]:
    """{label: number of distinct ``raise Wrong(...)`` in its checker}."""
    from neurolab.teaching.exercises import _core

    counts, trees = {}, {}
    for label, checker in _core._CHECKERS.items():
        module = inspect.getmodule(checker.func)
        if module not in trees:
            trees[module] = ast.parse(inspect.getsource(module))
        for node in trees[module].body:
            if isinstance(node, ast.FunctionDef) and node.name == checker.func.__name__:
                counts[label] = sum(
                    1 for n in ast.walk(node)
                    if isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)
                    and getattr(n.exc.func, "id", "") == "Wrong"
                )
    return counts


def _words(nb) -> int:
    text = " ".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    text = re.sub(r"`{3,}.*?`{3,}", " ", text, flags=re.S)  # directives' fences
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " x ", text)  # a role counts as one word
    return len(re.findall(r"[A-Za-z0-9][\w'.,-]*", text))


def _title(nb, stem: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    return stem


def _compute(root: Path) -> dict[str, float]:
    """{chapter: seconds} of one run at the default size on two cores: the cold book build with its
    memos empty (``benchmarks/results/benchmarks.json``, ``make bench``), else the chapter profile."""
    bench = root / "benchmarks" / "results" / "benchmarks.json"
    if bench.is_file():
        chapters = (json.loads(bench.read_text()).get("book") or {}).get("cold_memo_empty_chapters")
        if isinstance(chapters, dict) and chapters:
            return {name: float(seconds) for name, seconds in chapters.items()}
    path = root / "benchmarks" / "results" / "chapter_profile.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {c["chapter"]: float(c["seconds"]) for c in data.get("chapters", []) if "seconds" in c}


def _chapter_files(root: Path) -> list[Path]:
    """The chapters of _toc.yml: each MyST source, or its executed notebook where the .md is absent
    (as in the test suite's build, which replaces every chapter by its executed .ipynb)."""
    files = []
    for path in editions.toc_chapters(root / "_toc.yml"):
        notebook = path.with_suffix(".ipynb")
        files.append(path if path.is_file() or not notebook.is_file() else notebook)
    return files


def check_plan(root: str | Path) -> None:
    """Raise ValueError when the plan and the chapters disagree (see the module's docstring)."""
    root = Path(root)
    plan = _plan(root)
    chapters = _chapter_files(root)
    found = {}
    for path in chapters:
        nb = editions._read(path)
        found.update({label: path.stem for label in editions._exercises_of(nb, editions._chapter_number(path))})
    planned = set(plan.get("exercises") or {})
    problems = []
    if sorted(set(found) - planned):
        problems.append(f"exercises missing from book/course_plan.yml: {sorted(set(found) - planned)}")
    if sorted(planned - set(found)):
        problems.append(f"book/course_plan.yml names exercises no chapter has: {sorted(planned - set(found))}")
    stems = {p.stem for p in chapters}
    if stems != set(plan.get("chapters") or {}):
        problems.append(f"book/course_plan.yml chapters differ from _toc.yml: "
                        f"missing {sorted(stems - set(plan.get('chapters') or {}))}, "
                        f"extra {sorted(set(plan.get('chapters') or {}) - stems)}")
    for label, entry in (plan.get("exercises") or {}).items():
        for key in ("minutes", "difficulty", "points", "mistakes"):
            if key not in (entry or {}):
                problems.append(f"book/course_plan.yml: exercises.{label} lacks `{key}`")
        if (entry or {}).get("difficulty") not in DIFFICULTY:
            problems.append(f"book/course_plan.yml: exercises.{label}.difficulty should be 1, 2 or 3")
    if problems:
        raise ValueError("; ".join(problems))


def exercises(root: str | Path) -> list[Exercise]:
    """Every exercise of the book, in order, with its plan and what its checker knows."""
    from neurolab.teaching.exercises import _core

    root = Path(root)
    check_plan(root)
    plan = _plan(root)["exercises"]
    hints = _hints()
    rows = []
    for path in _chapter_files(root):
        nb = editions._read(path)
        for label, (number, title) in editions._exercises_of(nb, editions._chapter_number(path)).items():
            entry = plan[label]
            rows.append(Exercise(path.stem, number, label, title, int(entry["minutes"]),
                                 DIFFICULTY[entry["difficulty"]], int(entry["points"]),
                                 label in _core._CHECKERS, hints.get(label, 0), str(entry["mistakes"])))
    return rows


def chapters(root: str | Path) -> list[Chapter]:
    """Every chapter, in order: reading and exercise minutes, compute time, prerequisites, concepts."""
    root = Path(root)
    check_plan(root)
    plan = _plan(root)["chapters"]
    by_chapter: dict[str, list[Exercise]] = {}
    for ex in exercises(root):
        by_chapter.setdefault(ex.chapter, []).append(ex)
    compute = _compute(root)
    rows = []
    for path in _chapter_files(root):
        nb = editions._read(path)
        reading = 5 * math.ceil(_words(nb) / READING_WPM / 5)
        own = by_chapter.get(path.stem, [])
        rows.append(Chapter(path.stem, editions._chapter_number(path), _title(nb, path.stem), reading,
                            sum(e.minutes for e in own), len(own), compute.get(path.stem),
                            str(plan[path.stem]["prerequisites"]), str(plan[path.stem]["concepts"])))
    return rows


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def chapters_markdown(root: str | Path) -> str:
    rows = chapters(root)
    lines = ["| Chapter | Reading (min) | Exercises (min) | Compute (s) | Prerequisites | Concepts |",
             "|---|---:|---:|---:|---|---|"]
    for c in rows:
        seconds = f"{c.compute_seconds:.0f}" if c.compute_seconds is not None else "not measured"
        lines.append(f"| {_cell(c.title)} | {c.reading_minutes} | {c.exercise_minutes} ({c.n_exercises}) | "
                     f"{seconds} | {_cell(c.prerequisites)} | {_cell(c.concepts)} |")
    reading = sum(c.reading_minutes for c in rows)
    work = sum(c.exercise_minutes for c in rows)
    lines.append(f"| **All {len(rows)} chapters** | **{reading}** | **{work}** | | | |")
    return "\n".join(lines)


def exercises_markdown(root: str | Path) -> str:
    rows = exercises(root)
    lines = ["| Exercise | Min | Level | Points | Check | Mistakes its check recognises |",
             "|---|---:|---|---:|---|---|"]
    for e in rows:
        checked = f"auto, {e.hints} hints" if e.checked else "open (by hand)"
        lines.append(f"| **{e.number}** {_cell(e.title)} | {e.minutes} | {e.difficulty} | {e.points} | {checked} | "
                     f"{_cell(e.mistakes)} |")
    lines.append(f"| **All {len(rows)}** | **{sum(e.minutes for e in rows)}** | | **{sum(e.points for e in rows)}** | | |")
    return "\n".join(lines)


def totals(root: str | Path) -> dict[str, int]:
    """{'chapters', 'exercises', 'reading_minutes', 'exercise_minutes', 'points'} for the prose."""
    cs, es = chapters(root), exercises(root)
    return {"chapters": len(cs), "exercises": len(es), "reading_minutes": sum(c.reading_minutes for c in cs),
            "exercise_minutes": sum(e.minutes for e in es), "points": sum(e.points for e in es)}
