"""Every chapter is in the book, runs end to end, says which data it ran on, glues finite numbers,
and has exercises whose solutions hold real, executed code."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
from chapter_runner import (
    CHAPTERS_DIR,
    ROOT,
    chapter_parameters,
    first_output_text,
    parameters_cell,
    read_chapter,
    read_glue,
    self_check_verdicts,
    toc_chapters,
)

TOC_CHAPTERS = toc_chapters()
REQUIRED_PARAMETERS = ("DATA", "SIZE", "SEED")
MIN_EXERCISES = 2

_DIRECTIVE = re.compile(r"^\s*(`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")


def chapter_id(path: Path) -> str:
    return path.stem


def test_every_chapter_file_is_in_the_toc():
    on_disk = {p.resolve() for p in CHAPTERS_DIR.glob("*.md")}
    listed = {p.resolve() for p in TOC_CHAPTERS}
    missing = sorted(str(p.relative_to(ROOT)) for p in on_disk - listed)
    assert not missing, f"chapters not listed in _toc.yml: {missing}"


def test_every_toc_chapter_exists():
    absent = [str(p.relative_to(ROOT)) for p in TOC_CHAPTERS if not p.is_file()]
    assert not absent, f"_toc.yml lists chapters that do not exist: {absent}"


def test_toc_lists_each_chapter_once():
    assert len(TOC_CHAPTERS) == len(set(TOC_CHAPTERS)), "a chapter appears twice in _toc.yml"


# ---------------------------------------------------------------------------------------------
# The MyST source


def directives(text: str) -> list[dict]:
    """Directive openings in a MyST file: {name, arg, options, line}, in order."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if not match:
            continue
        options = {}
        for follow in lines[i + 1 :]:
            option = _OPTION.match(follow)
            if not option:
                break
            options[option["key"]] = option["value"]
        found.append(dict(name=match["name"], arg=match["arg"], options=options, line=i + 1))
    return found


def exercises_and_solutions(text: str) -> tuple[list[str], dict[str, dict]]:
    """Exercise labels, and for each gated solution: its class and the number of code cells in it."""
    labels = []
    solutions: dict[str, dict] = {}
    current = None
    for d in directives(text):
        if d["name"] == "exercise":
            labels.append(d["options"].get("label", ""))
        elif d["name"] == "solution-start":
            current = solutions.setdefault(
                d["arg"], dict(classes=d["options"].get("class", "").split(), code_cells=0, closed=False)
            )
        elif d["name"] == "solution-end" and current is not None:
            current["closed"] = True
            current = None
        elif d["name"] == "code-cell" and current is not None:
            current["code_cells"] += 1
    return labels, solutions


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_chapter_declares_parameters(chapter):
    names = chapter_parameters(chapter)
    missing = [p for p in REQUIRED_PARAMETERS if p not in names]
    assert not missing, f"{chapter.name}: the `parameters` cell must set {missing}"
    defaults = {}
    for node in ast.parse(parameters_cell(read_chapter(chapter)).source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                defaults[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    assert defaults.get("DATA") == "synthetic", f"{chapter.name}: DATA must default to 'synthetic'"


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_chapter_exercises_have_gated_solutions_with_code(chapter):
    labels, solutions = exercises_and_solutions(chapter.read_text())
    assert len(labels) >= MIN_EXERCISES, f"{chapter.name}: {len(labels)} exercises, want >= {MIN_EXERCISES}"
    assert all(labels), f"{chapter.name}: every exercise needs a :label: for its solution"
    for label in labels:
        assert label in solutions, f"{chapter.name}: exercise {label!r} has no {{solution-start}} {label}"
        sol = solutions[label]
        assert sol["closed"], f"{chapter.name}: the solution to {label!r} has no {{solution-end}}"
        assert sol["code_cells"] >= 1, f"{chapter.name}: the solution to {label!r} holds no code cell"
        assert "dropdown" in sol["classes"], f"{chapter.name}: the solution to {label!r} needs :class: dropdown"
    orphans = sorted(set(solutions) - set(labels))
    assert not orphans, f"{chapter.name}: solutions to no exercise: {orphans}"


# ---------------------------------------------------------------------------------------------
# The executed notebook


def numbers_in(value):
    """Every int/float inside a glued value (lists, tuples, dicts, sets walked); bools are not numbers."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from numbers_in(v)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            yield from numbers_in(v)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_chapter_runs_and_says_which_data(chapter, executed_chapters):
    ipynb = executed_chapters[chapter]
    first = first_output_text(ipynb)
    assert "synthetic" in first.lower(), (
        f"{chapter.name}: the first output must say which data the page ran on; it was {first[:300]!r}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_chapter_glues_finite_numbers(chapter, executed_chapters):
    glued = read_glue(executed_chapters[chapter])
    assert glued, f"{chapter.name}: glues nothing; numbers in the prose must be glued from the run"
    bad = {name: value for name, value in glued.items() if not all(map(math.isfinite, numbers_in(value)))}
    assert not bad, f"{chapter.name}: glued values that are not finite: {bad}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_every_solution_passes_its_self_check(chapter, executed_chapters):
    """Each exercise's executed solution ends with check(label, ...) and the checker accepts it."""
    labels, _ = exercises_and_solutions(chapter.read_text())
    verdicts = self_check_verdicts(executed_chapters[chapter])
    for label in labels:
        lines = verdicts.get(label)
        assert lines, f"{chapter.name}: the solution to {label} shows no self-check verdict"
        failed = [line for line in lines if not line.startswith("✓")]
        assert not failed, f"{chapter.name}: the solution to {label} fails its own check: {failed}"
