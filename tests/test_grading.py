"""Grading a class with nbgrader (book/_ext/grading.py, `make assignments`, `make grade`).

The graded edition is made from the same chapter sources as the book; the real nbgrader releases it
and autogrades a folder of real notebooks, one of each kind an instructor meets: the instructor's
answers (full marks), the checkers' known mistakes (zero, with the hint), an untouched stub (zero,
"not answered"), a stray cell that raises first, an endless loop (the cell times out, the rest is
graded), a notebook that deletes its working folder and the course copy around it, and one whose
kernel dies. Every other submission is graded as if those were not there.
"""

from __future__ import annotations

import copy
import csv
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from chapter_runner import ROOT, toc_chapters
from editions import make_student_notebook
from grading import BEGIN, COLUMNS, END, RELEASE_STUB, assign, grade_submissions, graded_source, read_plan

from neurolab.teaching.exercises import NotPassed, describe, exercises, grade

PLAN = read_plan(ROOT / "book" / "course_plan.yml")
CHAPTERS = toc_chapters()
CH1 = ROOT / "chapters" / "01_data.md"
REPOSITORY = ("https://github.com/neurolab-course/neurolab", "main")


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


# ---------------------------------------------------------------------------------------------
# The graded edition, every chapter (no nbgrader needed)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_graded_source_is_the_student_edition_with_solutions_and_tests(chapter):
    source = graded_source(chapter, PLAN, size="course", repository=REPOSITORY)
    student = make_student_notebook(chapter, repository=REPOSITORY)
    assert len(source.cells) == len(student.cells)
    labels = []
    for graded, plain in zip(source.cells, student.cells):
        meta = _meta(graded)
        role = plain.metadata.get("neurolab", {}).get("role")
        if role == "stub":
            assert meta["solution"] and not meta["grade"] and not meta["locked"]
            lines = graded.source.split("\n")
            assert BEGIN in lines and END in lines
            # what nbgrader leaves of it is the stub: its lines before the solution, then a raise
            head = "\n".join(lines[: lines.index(BEGIN)])
            assert plain.source.startswith(head) and plain.source.split("\n")[-1].startswith("raise NotImplementedError")
            solution = "\n".join(lines[lines.index(BEGIN) + 1 : lines.index(END)])
            assert solution.strip() and "check(" not in solution
        elif role == "check":
            label = plain.metadata["neurolab"]["exercise"]
            labels.append(label)
            assert meta["grade"] and meta["locked"] and meta["grade_id"] == label
            assert meta["points"] == PLAN["exercises"][label]["points"]
            assert re.search(rf'grade\(\s*"{label}"', graded.source) and "check(" not in graded.source
        elif graded.cell_type == "code":
            assert meta["locked"] and not meta["grade"] and not meta["solution"]
            if "parameters" in graded.metadata.get("tags", []):
                assert 'SIZE = "course"' in graded.source
        else:
            assert not meta
    number = chapter.stem.split("_")[0].lstrip("0")
    assert source.cells[0].source.startswith(f"**Graded assignment: chapter {number}**")
    assert labels == [label for n, label in exercises() if n.split(".")[0] == number]


def test_graded_source_refuses_a_size_and_a_plan_without_points(tmp_path):
    with pytest.raises(ValueError, match="size must be one of"):
        graded_source(CH1, PLAN, size="huge", repository=REPOSITORY)
    plan = copy.deepcopy(PLAN)
    del plan["exercises"]["ex-01-counting"]
    with pytest.raises(ValueError, match="'ex-01-counting' has no points"):
        graded_source(CH1, plan, repository=REPOSITORY)
    bad = tmp_path / "plan.yml"
    bad.write_text("chapters: {}\nexercises:\n  ex-01-reliable: {points: 0}\n")
    with pytest.raises(ValueError, match=r"exercises.ex-01-reliable.points should be a positive integer"):
        read_plan(bad)


def test_grade_raises_on_every_answer_that_check_does_not_pass(capsys):
    import numpy as np

    rel = np.linspace(0, 1, 50)
    assert grade("1.1", np.argsort(rel)[::-1][:20], rel=rel) is None
    assert "✓ Exercise 1.1" in capsys.readouterr().out
    with pytest.raises(NotPassed, match="LEAST reliable"):
        grade("1.1", np.argsort(rel)[:20], rel=rel)
    with pytest.raises(NotPassed, match="not answered yet"):
        grade("1.1", ..., rel=rel)


# ---------------------------------------------------------------------------------------------
# The real nbgrader on a real class


def _answers(source: Path, solutions_only: bool = False) -> dict[str, str]:
    """{answer cell id: the instructor's answer} of a graded source notebook (with the stub's
    lines, or only the lines between the solution delimiters)."""
    nb = nbformat.read(source, as_version=4)
    out = {}
    for cell in nb.cells:
        if _meta(cell).get("solution"):
            lines = cell.source.split("\n")
            if solutions_only:
                lines = lines[lines.index(BEGIN) + 1 : lines.index(END)]
            out[_meta(cell)["grade_id"]] = "\n".join(line for line in lines if line not in (BEGIN, END))
    return out


def _submit(release: nbformat.NotebookNode, folder: Path, student: str, edit) -> None:
    nb = copy.deepcopy(release)
    edit(nb)
    (folder / student).mkdir(parents=True)
    nbformat.write(nb, folder / student / "01_data.ipynb")


def _answer(nb, answers: dict, **replace: str) -> None:
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid in answers:
            label = gid.removesuffix("-answer")
            cell.source = replace.get(label.replace("-", "_"), answers[gid])


WRONG = {
    "ex_01_reliable": "best20 = np.argsort(rel)[:20]",
    "ex_01_counting": "n_shown = np.bincount(rec.istim[rec.istim != GREY])\n"
                      "grey_trials = np.flatnonzero(rec.istim == GREY) + 1",
    "ex_01_threshold": "frac3 = (rec.resp > (mu + 3)).mean(axis=1)",
}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A course folder for chapter 1 at smoke size, seven submissions, graded once."""
    base = tmp_path_factory.mktemp("class")
    course = base / "course"
    released = assign([CH1], course, PLAN, size="smoke", repository=REPOSITORY)
    release = nbformat.read(released[0], as_version=4)
    answers = _answers(course / "source" / "01_data" / "01_data.ipynb")
    subs = base / "submitted"
    _submit(release, subs, "alice", lambda nb: _answer(nb, answers))  # the instructor's answers
    _submit(release, subs, "bob", lambda nb: _answer(nb, answers, **WRONG))  # known mistakes
    _submit(release, subs, "carol", lambda nb: None)  # untouched
    _submit(release, subs, "dave", lambda nb: (_answer(nb, answers), nb.cells.insert(
        0, nbformat.v4.new_code_cell('raise RuntimeError("my first cell is broken")'))))
    _submit(release, subs, "erin", lambda nb: _answer(nb, answers, ex_01_counting="while True:\n    pass"))
    _submit(release, subs, "frank", lambda nb: _answer(nb, answers, ex_01_reliable=(
        "import os, shutil\nbest20 = np.argsort(rel)[::-1][:20]\n"
        "for name in os.listdir('.'):\n    os.remove(name) if os.path.isfile(name) else None\n"
        "shutil.rmtree(os.path.abspath('../../..'), ignore_errors=True)")))
    _submit(release, subs, "gina", lambda nb: _answer(nb, answers, ex_01_counting="import os\nos._exit(1)"))
    out = base / "grades"
    rows = grade_submissions(subs, course, out, cell_timeout=20, notebook_timeout=600, jobs=2,
                             progress=lambda _: None)
    solutions = _answers(course / "source" / "01_data" / "01_data.ipynb", solutions_only=True)
    return {"course": course, "out": out, "rows": rows, "answers": answers, "subs": subs, "solutions": solutions}


def _gradebook(out: Path) -> dict[tuple[str, str], dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return {(row["student"], row["exercise"]): row for row in reader}


def test_the_gradebook_has_one_row_per_student_and_exercise(graded_class):
    book = _gradebook(graded_class["out"])
    students = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    assert sorted(book) == sorted((s, e) for s in students for e in ("1.1", "1.2", "1.3"))
    assert all(row["chapter"] == "01_data" and row["max_score"] == "2.0" for row in book.values())


def test_full_marks_for_the_instructors_answers(graded_class):
    book = _gradebook(graded_class["out"])
    for exercise in ("1.1", "1.2", "1.3"):
        row = book["alice", exercise]
        assert (row["score"], row["status"], row["error"]) == ("2.0", "passed", "")
        assert row["message"].startswith(f"✓ Exercise {exercise}")
        assert float(row["runtime_s"]) >= 0


def test_known_mistakes_score_zero_with_their_hint(graded_class):
    book = _gradebook(graded_class["out"])
    hints = {"1.1": "LEAST reliable", "1.2": "grey_trials` is off by one", "1.3": "mu + 3 * sd, not mu + 3"}
    for exercise, hint in hints.items():
        row = book["bob", exercise]
        assert (row["score"], row["status"]) == ("0.0", "wrong")
        assert hint in row["message"] and row["message"].startswith(f"✗ Exercise {exercise}")


def test_an_untouched_stub_is_not_answered(graded_class):
    book = _gradebook(graded_class["out"])
    for exercise in ("1.1", "1.2", "1.3"):
        row = book["carol", exercise]
        assert (row["score"], row["status"]) == ("0.0", "not answered")
        assert "not answered yet" in row["message"]


def test_a_cell_that_raises_first_does_not_stop_the_notebook(graded_class):
    book = _gradebook(graded_class["out"])
    assert [book["dave", e]["score"] for e in ("1.1", "1.2", "1.3")] == ["2.0"] * 3


def test_an_endless_loop_times_out_and_the_rest_is_graded(graded_class):
    book = _gradebook(graded_class["out"])
    assert book["erin", "1.2"]["status"] == "timeout" and book["erin", "1.2"]["score"] == "0.0"
    assert "20 s" in book["erin", "1.2"]["error"]
    assert book["erin", "1.1"]["score"] == book["erin", "1.3"]["score"] == "2.0"


def test_a_notebook_that_deletes_files_harms_only_itself(graded_class):
    book = _gradebook(graded_class["out"])
    assert {book["frank", e]["status"] for e in ("1.1", "1.2", "1.3")} == {"error"}
    assert all("deleted the files it was graded with" in book["frank", e]["error"] for e in ("1.1", "1.2", "1.3"))
    # the course folder, the submissions and the other students' results are intact
    course = graded_class["course"]
    assert (course / "gradebook.db").is_file() and (course / "source" / "01_data" / "01_data.ipynb").is_file()
    assert len(list(graded_class["subs"].glob("*/01_data.ipynb"))) == 7
    # the student graded next (gina, whose kernel dies) has a working copy of her own
    assert "gradebook" not in book["gina", "1.1"]["error"] and book["alice", "1.1"]["score"] == "2.0"


def test_a_dead_kernel_is_an_error_not_a_stop(graded_class):
    book = _gradebook(graded_class["out"])
    assert {book["gina", e]["status"] for e in ("1.1", "1.2", "1.3")} == {"error"}
    assert "the kernel died" in book["gina", "1.1"]["error"]


def test_a_notebook_past_its_time_limit_is_stopped(graded_class, tmp_path):
    subs = tmp_path / "late"
    (subs / "ivan").mkdir(parents=True)
    nb = nbformat.read(graded_class["subs"] / "erin" / "01_data.ipynb", as_version=4)
    nbformat.write(nb, subs / "ivan" / "01_data.ipynb")
    rows = grade_submissions(subs, graded_class["course"], tmp_path / "out", cell_timeout=600,
                             notebook_timeout=10, progress=lambda _: None)
    assert [(r.status, r.score) for r in rows] == [("timeout", 0.0)] * 3
    assert "ran past 10 s" in rows[0].error
    assert _gradebook(tmp_path / "out")["ivan", "1.2"]["status"] == "timeout"


def test_feedback_reports_show_each_check_and_no_solution(graded_class):
    out = graded_class["out"]
    alice = (out / "feedback" / "alice" / "01_data.html").read_text(encoding="utf-8")
    bob = (out / "feedback" / "bob" / "01_data.html").read_text(encoding="utf-8")
    carol = (out / "feedback" / "carol" / "01_data.html").read_text(encoding="utf-8")
    assert "6.0" in alice and "Exercise 1.1" in alice
    assert "LEAST reliable" in bob and "not answered yet" in carol
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", carol)))
    for answer in graded_class["solutions"].values():  # no line of a solution is in carol's report
        for line in answer.split("\n"):
            if len(line.strip()) > 8 and not line.lstrip().startswith("#"):
                assert re.sub(r"\s+", " ", line.strip()) not in text, line
    assert "write your answer here" in text


def test_the_command_line_grades_and_refuses_what_it_cannot(graded_class, tmp_path):
    script = ROOT / "book" / "_ext" / "grading.py"
    missing = subprocess.run([sys.executable, str(script), "grade", str(tmp_path / "none"), "--course",
                              str(graded_class["course"]), "--out", str(tmp_path / "o")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    odd = tmp_path / "subs" / "x"
    odd.mkdir(parents=True)
    (odd / "99_nothing.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))
    unknown = subprocess.run([sys.executable, str(script), "grade", str(tmp_path / "subs"), "--course",
                              str(graded_class["course"]), "--out", str(tmp_path / "o")],
                             capture_output=True, text=True)
    assert unknown.returncode == 2 and "no assignment '99_nothing'" in unknown.stderr
    nocourse = subprocess.run([sys.executable, str(script), "grade", str(tmp_path / "subs"), "--course",
                               str(tmp_path), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert nocourse.returncode == 2 and "make assignments" in nocourse.stderr


def test_make_grade_grades_a_folder(graded_class, tmp_path):
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    nbformat.write(nbformat.read(graded_class["subs"] / "alice" / "01_data.ipynb", as_version=4),
                   subs / "alice" / "01_data.ipynb")
    run = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "grade", f"SUBMISSIONS={subs}",
                          f"COURSE={graded_class['course']}", f"GRADES={tmp_path / 'grades'}"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "alice 01_data: 6 / 6" in run.stdout
    book = _gradebook(tmp_path / "grades")
    assert [book["alice", e]["status"] for e in ("1.1", "1.2", "1.3")] == ["passed"] * 3
    assert (tmp_path / "grades" / "feedback" / "alice" / "01_data.html").is_file()
    usage = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "grade"], capture_output=True, text=True)
    assert usage.returncode != 0 and "usage: make grade SUBMISSIONS=dir/" in usage.stderr


def test_the_plan_knows_every_exercise_and_its_points():
    labels = {label for _, label in exercises()}
    assert set(PLAN["exercises"]) == labels and len(labels) == 29
    assert set(PLAN["chapters"]) == {p.stem for p in CHAPTERS}
    for label in labels:
        assert describe(label)["number"]
    assert RELEASE_STUB.startswith("raise NotImplementedError")
