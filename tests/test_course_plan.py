"""The instructors' planning tables (book/_ext/course_plan.py, book/course_plan.yml).

Made from the chapters and the checkers, joined with the hand-written plan: every chapter and every
exercise is in them, a plan that misses an exercise (or names one no chapter has) is refused, and
the built instructors' page shows both tables in full.
"""

from __future__ import annotations

import re
import shutil

import pytest
import yaml
from chapter_runner import ROOT, toc_chapters
from course_plan import chapters, chapters_markdown, check_plan, exercises, exercises_markdown, totals

from neurolab.teaching.exercises import exercises as checked


def test_the_tables_cover_all_11_chapters_and_29_exercises():
    cs, es = chapters(ROOT), exercises(ROOT)
    assert [c.stem for c in cs] == [p.stem for p in toc_chapters()] and len(cs) == 11
    assert [(e.number, e.label) for e in es] == checked() and len(es) == 29
    for c in cs:
        assert c.reading_minutes >= 5 and c.exercise_minutes > 0 and c.prerequisites and c.concepts
        assert c.title.startswith(f"{c.number}. ")
    for e in es:
        assert e.checked and e.hints >= 1 and e.minutes > 0 and e.points >= 1 and e.mistakes
        assert e.difficulty in ("easy", "medium", "hard")
    t = totals(ROOT)
    assert t["exercises"] == 29 and t["exercise_minutes"] == sum(e.minutes for e in es)


def test_the_markdown_tables_have_a_row_per_chapter_and_exercise():
    rows = [line for line in exercises_markdown(ROOT).split("\n") if re.match(r"^\| \*\*\d+\.\d+\*\* ", line)]
    assert len(rows) == 29
    assert sum(1 for line in chapters_markdown(ROOT).split("\n") if re.match(r"^\| \d+\. ", line)) == 11


def _copy_book(tmp_path):
    root = tmp_path / "book_copy"
    (root / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_toc.yml", root)
    shutil.copytree(ROOT / "chapters", root / "chapters", ignore=shutil.ignore_patterns("*.ipynb"))
    return root


@pytest.mark.parametrize("change", ["drop", "extra", "no_points_key", "difficulty"])
def test_a_plan_that_disagrees_with_the_chapters_is_refused(tmp_path, change):
    root = _copy_book(tmp_path)
    plan = yaml.safe_load((ROOT / "book" / "course_plan.yml").read_text())
    if change == "drop":
        del plan["exercises"]["ex-07-signal"]
        expected = r"missing from book/course_plan.yml: \['ex-07-signal'\]"
    elif change == "extra":
        plan["exercises"]["ex-12-new"] = dict(plan["exercises"]["ex-01-reliable"])
        expected = r"names exercises no chapter has: \['ex-12-new'\]"
    elif change == "no_points_key":
        del plan["exercises"]["ex-09-gap"]["minutes"]
        expected = r"exercises.ex-09-gap lacks `minutes`"
    else:
        plan["exercises"]["ex-09-gap"]["difficulty"] = 5
        expected = r"ex-09-gap.difficulty should be 1, 2 or 3"
    (root / "book" / "course_plan.yml").write_text(yaml.safe_dump(plan))
    with pytest.raises(ValueError, match=expected):
        check_plan(root)


@pytest.mark.book
@pytest.mark.slow
def test_the_built_page_shows_both_tables_and_the_grading_steps(built_book):
    html = (built_book / "book" / "instructors.html").read_text(encoding="utf-8")
    for number, _ in checked():
        assert re.search(rf"<td[^>]*>(<p>)?<strong>{re.escape(number)}</strong> ", html), number
    for c in chapters(ROOT):
        assert c.title.split(" ", 1)[1][:20] in html
    for heading in ("A two-day workshop", "A six-week module", "A single 90-minute lab", "Running a graded course"):
        assert heading in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
    assert "make grade SUBMISSIONS=submissions/" in text
