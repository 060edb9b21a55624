"""The student and instructor notebooks (editions, `make student`).

For every chapter in _toc.yml: the student edition holds no line of any solution, has one stub per
exercise right after its question, and runs top to bottom at smoke size with no error but the
stubs' own NotImplementedError; the instructor edition is the chapter itself. Small hand-written
chapters test the conversion's rules (fences, the `stub` metadata, derived stubs, malformed
solutions) and the command line.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from chapter_runner import CELL_TIMEOUT_S, KERNEL, ROOT, SMOKE_PARAMS, chapter_parameters, read_chapter, toc_chapters
from editions import (
    NOTEBOOKS_DIR,
    derived_stub,
    launch_urls,
    make_instructor_notebook,
    make_student_notebook,
    read_repository,
    write_notebooks,
)
from nbclient import NotebookClient
from papermill.parameterize import parameterize_notebook

TOC_CHAPTERS = toc_chapters()
REPOSITORY = read_repository(ROOT / "_config.yml")

_DIRECTIVE = re.compile(r"^\s*(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*$")
_OPTION = re.compile(r"^\s*:[\w-]+:")
_STUB_RAISE = re.compile(r'raise NotImplementedError\("Exercise (?P<label>[^":]+):')


def chapter_id(path: Path) -> str:
    return path.stem


# ---------------------------------------------------------------------------------------------
# Reading the MyST source directly (independently of editions)


def exercise_labels(text: str) -> list[str]:
    """The :label: of every exercise directive, in order."""
    lines = text.splitlines()
    labels = []
    for i, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if match and match["name"] == "exercise":
            for follow in lines[i + 1 :]:
                option = re.match(r"^\s*:label:\s*(\S+)", follow)
                if option:
                    labels.append(option.group(1))
                    break
                if not _OPTION.match(follow):
                    labels.append("")
                    break
    return labels


def solution_spans(text: str) -> dict[str, tuple[int, int]]:
    """{label: (first, last)} line indices of each solution, from its solution-start line to the
    closing fence of its solution-end."""
    lines = text.splitlines()
    spans, start, label, end_fence = {}, None, None, None
    for i, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if start is None:
            if match and match["name"] == "solution-start":
                start, label = i, match["arg"]
        elif end_fence is None:
            if match and match["name"] == "solution-end":
                end_fence = match["fence"]
        elif _FENCE.match(line) and line.strip()[0] == end_fence[0]:
            spans[label] = (start, i)
            start, label, end_fence = None, None, None
    return spans


def solution_only_lines(text: str) -> dict[str, set[str]]:
    """{label: lines of its code and prose that appear nowhere outside the solutions}, stripped.

    Fences, directive openings and options, and the YAML metadata block of a code cell (which may
    hold the stub, meant to appear) are left out.
    """
    lines = text.splitlines()
    spans = solution_spans(text)
    inside = set()
    for first, last in spans.values():
        inside.update(range(first, last + 1))
    outside = {line.strip() for i, line in enumerate(lines) if i not in inside}
    found = {}
    for label, (first, last) in spans.items():
        kept, i = set(), first
        while i <= last:
            line, i = lines[i], i + 1
            match = _DIRECTIVE.match(line)
            if match and match["name"] == "code-cell" and i <= last and lines[i].strip() == "---":
                i += 1  # skip the cell's YAML metadata block, up to its closing ---
                while i <= last and lines[i].strip() != "---":
                    i += 1
                i += 1
                continue
            stripped = line.strip()
            if match or not stripped or _FENCE.match(line) or _OPTION.match(line) or stripped in outside:
                continue
            kept.add(stripped)
        found[label] = kept
    return found


def is_check_cell(cell: nbformat.NotebookNode) -> bool:
    return cell.get("metadata", {}).get("neurolab", {}).get("role") == "check"


def notebook_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Every line of the notebook but those of its self-check cells (the solutions' own check(...)
    calls, carried over on purpose; test_check_cells_hold_only_check_calls checks what they hold)."""
    return {line.strip() for cell in nb.cells if not is_check_cell(cell) for line in cell.source.splitlines()}


def stub_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(index, label) of each code cell that raises an exercise's NotImplementedError."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "NotImplementedError" in cell.source:
            labels = _STUB_RAISE.findall(cell.source)
            found.append((index, labels[0] if len(labels) == 1 else f"<{len(labels)} labels>"))
    return found


# ---------------------------------------------------------------------------------------------
# What every chapter's editions look like (fast: no execution)


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_student_notebook_has_no_solution_text(chapter):
    text = chapter.read_text()
    seen = notebook_lines(make_student_notebook(chapter))
    leaked = {label: sorted(lines & seen) for label, lines in solution_only_lines(text).items() if lines & seen}
    assert not leaked, f"{chapter.name}: solution lines in the student notebook: {leaked}"
    assert not any("solution-start" in line or "solution-end" in line for line in seen)


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_student_notebook_has_one_stub_per_exercise(chapter):
    labels = exercise_labels(chapter.read_text())
    nb = make_student_notebook(chapter)
    stubs = stub_cells(nb)
    assert [label for _, label in stubs] == labels, f"{chapter.name}: stubs {stubs}, exercises {labels}"
    from neurolab.teaching.exercises import describe

    for k, (index, label) in enumerate(stubs, start=1):
        before = index - 1
        while _is_prose_cell(nb.cells[before]):  # a question that quotes a number is a show() cell
            before -= 1
        question = nb.cells[before]
        number = f"{int(chapter.stem[:2])}.{k}"
        asks = re.search(rf"^### Exercise {re.escape(number)}: \S", question.source, re.M)
        assert question.cell_type == "markdown" and asks, f"{chapter.name}: {label}'s stub is not after its question"
        assert describe(label)["number"] == number, f"{label}: the notebook's number is not check()'s"
        assert nb.cells[index].source.rstrip().endswith(
            f'raise NotImplementedError("Exercise {label}: write your solution here")'
        )


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_check_cells_hold_only_check_calls(chapter):
    """Each exercise's stub is followed by one self-check cell, calling check() with its own label and
    nothing else (so it shows no solution)."""
    nb = make_student_notebook(chapter)
    for index, label in stub_cells(nb):
        cell = nb.cells[index + 1]
        assert is_check_cell(cell), f"{chapter.name}: no self-check cell after the stub of {label}"
        tree = ast.parse(cell.source)
        assert tree.body, f"{chapter.name}: empty self-check cell for {label}"
        for statement in tree.body:
            call = statement.value if isinstance(statement, ast.Expr) else None
            assert isinstance(call, ast.Call) and getattr(call.func, "id", None) == "check", (
                f"{chapter.name}: the self-check cell of {label} holds more than check(...) calls"
            )
            assert ast.literal_eval(call.args[0]) == label, f"{chapter.name}: {label}'s cell checks another exercise"


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_editions_start_with_colab_install(chapter):
    url, branch = REPOSITORY
    student, instructor = make_student_notebook(chapter), make_instructor_notebook(chapter)
    assert student.cells[0].cell_type == "markdown"
    assert "from neurolab.teaching.exercises import check" in student.cells[0].source
    for install in (student.cells[1], instructor.cells[1]):
        assert install.cell_type == "code"
        assert '"google.colab" in sys.modules' in install.source
        assert f'pip install -q "neurolab[course] @ git+{url}@{branch}"' in install.source
        assert "==" not in install.source  # lower bounds (pyproject.toml), never pins: no restart on Colab


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_editions_open_with_their_badges(chapter):
    """The first cell of each edition carries its own "Open in Colab" and Binder badges (the
    committed notebook's address) and links the other edition."""
    url, branch = REPOSITORY
    for make, edition, other in (
        (make_student_notebook, "student", "instructor"),
        (make_instructor_notebook, "instructor", "student"),
    ):
        first = make(chapter).cells[0]
        assert first.cell_type == "markdown"
        own, theirs = launch_urls(url, branch, chapter.stem, edition), launch_urls(url, branch, chapter.stem, other)
        assert f"]({own['colab']})" in first.source and f"]({own['binder']})" in first.source
        assert "colab-badge.svg" in first.source
        assert f"({theirs['colab']})" in first.source and f"({theirs['binder']})" in first.source
        assert own["colab"].endswith(f"/blob/{branch}/{NOTEBOOKS_DIR}/{edition}/{chapter.stem}.ipynb")


def _is_prose_cell(cell) -> bool:
    return cell.get("metadata", {}).get("neurolab", {}).get("role") == "prose"


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_instructor_notebook_is_the_chapter(chapter):
    """The instructor edition runs exactly the chapter's code, in order; only the prose changes."""
    instructor = make_instructor_notebook(chapter)
    source = read_chapter(chapter)
    code = [c.source for c in instructor.cells[2:] if c.cell_type == "code" and not _is_prose_cell(c)]
    assert code == [c.source for c in source.cells if c.cell_type == "code"]


RAW_MYST = re.compile(r"\{glue|\{cite|:label:|\{exercise\}|\{solution-(start|end)\}|\{note\}|^\s*\(\S+\)=\s*$", re.M)
"""MyST that Jupyter, JupyterLab and Colab would show raw."""


def raw_myst(nb: nbformat.NotebookNode) -> list[str]:
    """Raw MyST in a notebook's prose, prose cells' code and outputs (the chapter's own code cells
    are Python and may hold braces of their own)."""
    found = []
    for index, cell in enumerate(nb.cells):
        texts = [cell.source] if cell.cell_type == "markdown" or _is_prose_cell(cell) else []
        texts += [_text(o) + str(o.get("data", {}).get("text/markdown", "")) for o in cell.get("outputs", [])]
        for text in texts:
            found += [f"cell {index}: {m.group(0)!r}" for m in RAW_MYST.finditer(text)]
    return found


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_editions_hold_no_raw_myst(chapter):
    """No raw {glue, {cite, :label: or directive in either edition: numbers are show() cells,
    citations author-year text with a reference list, exercises headings."""
    for make in (make_student_notebook, make_instructor_notebook):
        nb = make(chapter)
        assert not raw_myst(nb), f"{chapter.name} ({make.__name__}): {raw_myst(nb)[:5]}"
        if "{cite}" in chapter.read_text():
            assert nb.cells[-1].source.startswith("## References\n"), f"{chapter.name}: no reference list"


def test_committed_notebooks_match_the_chapters(tmp_path):
    """notebooks/ (what Colab and Binder open) holds exactly the editions of the chapters in _toc.yml,
    as editions.py writes them now: run `make notebooks` after editing a chapter."""
    fresh = write_notebooks(TOC_CHAPTERS, tmp_path)
    committed = ROOT / NOTEBOOKS_DIR
    expected = {p.relative_to(tmp_path).as_posix() for p in fresh}
    present = {p.relative_to(committed).as_posix() for p in committed.rglob("*.ipynb")}
    assert present == expected, f"notebooks/ holds {sorted(present ^ expected)} too many or too few: run make notebooks"
    stale = [name for name in sorted(expected) if (committed / name).read_text() != (tmp_path / name).read_text()]
    assert not stale, f"notebooks/ is out of date for {stale}: run `make notebooks` and commit"


def _bound(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _tree(source: str) -> ast.Module | None:
    lines = [re.sub(r"^(\s*)[%!].*", r"\1pass", line) for line in source.splitlines()]
    if lines and lines[0].lstrip().startswith("pass") and source.lstrip().startswith("%%"):
        lines = lines[1:]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_later_cells_do_not_need_a_solution(chapter):
    """A cell outside the solutions reads no name that only a solution binds (the student edition
    runs without them). The execution test below finds the same bug; this one names the cell."""
    nb = read_chapter(chapter)
    in_solution = False
    kept, from_solutions, problems = set(dir(builtins)), set(), []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = _DIRECTIVE.match(line)
                if match and match["name"] in ("solution-start", "solution-end"):
                    in_solution = match["name"] == "solution-start"
            continue
        tree = _tree(cell.source)
        if cell.cell_type != "code" or tree is None:
            continue
        if in_solution:
            from_solutions |= _bound(tree)
            continue
        loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        missing = sorted((loads & from_solutions) - kept - _bound(tree))
        if missing:
            problems.append(f"cell {index} ({cell.source.splitlines()[0][:60]!r}) reads {missing}")
        kept |= _bound(tree)
    assert not problems, f"{chapter.name}: cells outside the solutions need a solution's names: {problems}"


# ---------------------------------------------------------------------------------------------
# The student edition runs (slow: each chapter at smoke size)


def execute_student_notebook(chapter: Path, out_dir: Path) -> nbformat.NotebookNode:
    """Run the student edition of a chapter at SMOKE_PARAMS, errors allowed; the kernel starts in
    chapters/ and gets only the parameters the chapter declares (as tests/chapters.py does)."""
    nb = make_student_notebook(chapter)
    declared = set(chapter_parameters(chapter))
    nb.metadata["papermill"] = {}
    for cell in nb.cells:  # papermill looks for the parameters cell in every cell's tags
        cell.metadata.setdefault("tags", [])
    nb = parameterize_notebook(
        nb, {k: v for k, v in SMOKE_PARAMS.items() if k in declared}, kernel_name=KERNEL, language="python"
    )
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name=KERNEL,
        allow_errors=True,
        resources={"metadata": {"path": str(chapter.parent)}},
    )
    client.execute()
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out_dir / f"{chapter.stem}.student.ipynb"))
    return nb


@pytest.fixture(scope="module")
def executed_students(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("student")
    done: dict[Path, nbformat.NotebookNode] = {}

    def run(chapter: Path) -> nbformat.NotebookNode:
        if chapter not in done:
            done[chapter] = execute_student_notebook(chapter, out_dir)
        return done[chapter]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("chapter", TOC_CHAPTERS, ids=chapter_id)
def test_student_notebook_runs_with_only_the_stubs_failing(chapter, executed_students):
    labels = set(exercise_labels(chapter.read_text()))
    nb = executed_students(chapter)
    stubs = dict(stub_cells(nb))
    unexpected, raised = [], []
    for index, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        for error in errors:
            ename, evalue = error.get("ename"), error.get("evalue", "")
            named = re.match(r"Exercise (\S+?):", evalue)
            if index in stubs and ename == "NotImplementedError" and named and named.group(1) == stubs[index]:
                assert named.group(1) in labels
                raised.append(stubs[index])
            else:
                first = cell.source.strip().splitlines()[0][:70] if cell.source.strip() else ""
                unexpected.append(f"cell {index} ({first!r}): {ename}: {evalue[:200]}")
    assert not unexpected, (
        f"{chapter.name}: errors other than the stubs' NotImplementedError (a cell that needs an "
        f"exercise's solution is a chapter bug): {unexpected}"
    )
    assert not raw_myst(nb), f"{chapter.name}: raw MyST in the executed student edition: {raw_myst(nb)[:5]}"
    from neurolab.teaching.glue import PENDING

    waiting = [i for i, c in enumerate(nb.cells) if _is_prose_cell(c) and PENDING in json.dumps(c.get("outputs", []))]
    assert not waiting, f"{chapter.name}: prose cells {waiting} still wait for a value at the end of the run"
    shown = [c for c in nb.cells if _is_prose_cell(c)]
    assert all(any("text/markdown" in o.get("data", {}) for o in c.outputs) for c in shown)
    silent = set(stubs.values()) - set(raised)
    assert sorted(raised) == sorted(stubs.values()), f"{chapter.name}: stubs that did not raise: {silent}"
    for index, label in stubs.items():
        shown = "".join(_text(o) for o in nb.cells[index + 1].get("outputs", []))
        assert "not answered yet" in shown and label in shown, (
            f"{chapter.name}: the self-check of the untouched stub {label} shows {shown[:300]!r}"
        )


def _text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return str(output.get("data", {}).get("text/plain", ""))


# ---------------------------------------------------------------------------------------------
# The conversion's rules, on small hand-written chapters

FRONT = """---
jupytext: {text_representation: {format_name: myst}}
kernelspec: {name: python3, display_name: Python 3}
---
# 9. A chapter
"""

TOY = (
    FRONT
    + """
```{code-cell} ipython3
:tags: [parameters]
DATA = "synthetic"
SIZE = "full"
SEED = 0
```

```{code-cell} ipython3
counts = [1, 2, 3]
```

```{exercise} Backtick fences, a derived stub
:label: ex-99-derived
Sum the counts, twice.
```
```{solution-start} ex-99-derived
:class: dropdown
```
```{code-cell} ipython3
%time _ = 1
scratch = 10
total = sum(counts)
doubled = 2 * total
counts = counts + [doubled]


def helper(x, scale=2):
    return scale * x


helper(doubled)
```
The sum of the counts is unique to this solution.
```{solution-end}
```

Prose after the first exercise stays.

````{exercise} Four backticks, colon fences, a given stub
:label: ex-99-given
Pick the best number.
````
::::{solution-start} ex-99-given
:class: dropdown
::::
```{code-cell} ipython3
---
stub: |
  best_n = ...  # int: the best number
---
best_n = max(counts)
```
Max is the answer written only here.
::::{solution-end}
::::

```{code-cell} ipython3
print(len(counts))
```
"""
)


@pytest.fixture
def toy_book(tmp_path) -> Path:
    (tmp_path / "_config.yml").write_text(
        yaml.safe_dump({"repository": {"url": "https://github.com/example/course/", "branch": "dev"}})
    )
    (tmp_path / "_toc.yml").write_text(
        yaml.safe_dump({"format": "jb-book", "root": "intro", "chapters": [{"file": "chapters/99_toy"}]})
    )
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "99_toy.md").write_text(TOY)
    return tmp_path


def test_toy_student_edition(toy_book):
    chapter = toy_book / "chapters" / "99_toy.md"
    nb = make_student_notebook(chapter)
    sources = [cell.source for cell in nb.cells]
    text = "\n".join(sources)
    for leaked in ("unique to this solution", "written only here", "sum(counts)", "max(counts)", "solution-"):
        assert leaked not in text
    assert "Prose after the first exercise stays." in text
    assert "print(len(counts))" in text
    install = nb.cells[1].source
    assert '"neurolab[course] @ git+https://github.com/example/course@dev"' in install
    assert "### Exercise 99.1: Backtick fences, a derived stub" in text
    assert "### Exercise 99.2: Four backticks, colon fences, a given stub" in text
    stubs = stub_cells(nb)
    assert [label for _, label in stubs] == ["ex-99-derived", "ex-99-given"]
    derived, given = (nb.cells[i].source for i, _ in stubs)
    # listed: names used afterwards (total by doubled, doubled and helper later on); not listed:
    # scratch (never used again); counts, defined before the exercise, is named in a comment
    assert "total = ...  # fill in" in derived and "doubled = ...  # fill in" in derived
    assert "def helper(x, scale=2):" in derived
    assert "scratch" not in derived and "counts = ..." not in derived
    assert "# the solution also updates counts (defined above)" in derived
    assert given.splitlines()[1:] == [
        "best_n = ...  # int: the best number",
        'raise NotImplementedError("Exercise ex-99-given: write your solution here")',
    ]
    assert nb.cells[stubs[0][0]].metadata["tags"] == ["raises-exception"]
    assert len({cell.id for cell in nb.cells}) == len(nb.cells)
    nbformat.validate(nb)


def test_toy_instructor_edition_and_stable_output(toy_book, tmp_path):
    chapter = toy_book / "chapters" / "99_toy.md"
    nb = make_instructor_notebook(chapter)
    assert "max(counts)" in "\n".join(c.source for c in nb.cells)
    assert "jupytext" not in nb.metadata and nb.metadata.kernelspec.name == "python3"
    first = write_notebooks([chapter], tmp_path / "a")
    second = write_notebooks([chapter], tmp_path / "b")
    assert [p.relative_to(tmp_path / "a").as_posix() for p in first] == [
        "student/99_toy.ipynb",
        "instructor/99_toy.ipynb",
    ]
    for a, b in zip(first, second):
        assert a.read_text() == b.read_text(), "the same chapter must give the same notebook"


PROSE = (
    FRONT
    + """
(sec-toy)=
## Numbers

The accuracy was {glue:text}`acc:.1%` on {glue:text}`n:,` trials {cite}`stringer2019high`, so
$\\frac{a}{b}$ keeps its braces.

```{note}
A note with {glue:md}`verdict`.
```

Plain prose, no numbers {cite}`qi2017pointnet`.
"""
)


def _show_template(cell) -> str:
    call = ast.parse(cell.source).body[-1].value
    assert getattr(call.func, "id", None) == "show"
    return ast.literal_eval(call.args[0])


def test_prose_reads_in_notebooks(toy_book):
    """Glued numbers become show() templates that render with the run's values; citations become
    author-year text with a reference list; a note a block quote; a heading stays Markdown."""
    from IPython.display import Markdown

    from neurolab.teaching.glue import render

    (toy_book / "book").mkdir()
    shutil.copy2(ROOT / "book" / "references.bib", toy_book / "book" / "references.bib")
    chapter = toy_book / "chapters" / "98_prose.md"
    chapter.write_text(PROSE)
    nb = make_instructor_notebook(chapter)
    assert not raw_myst(nb), raw_myst(nb)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert "## Numbers" in markdown[1] and "sec-toy" not in "".join(markdown)
    assert "Plain prose, no numbers (Qi et al., 2017)." in "".join(markdown)
    prose = [c for c in nb.cells if _is_prose_cell(c)]
    assert len(prose) == 1 and prose[0].metadata["jupyter"]["source_hidden"]
    values = {"acc": 0.41234, "n": 1000, "verdict": Markdown("**clear**")}
    text, missing = render(_show_template(prose[0]), values)
    assert not missing
    assert text.strip() == (
        "The accuracy was 41.2% on 1,000 trials (Stringer et al., 2019), so\n$\\frac{a}{b}$ keeps its braces."
        "\n\n> **Note.**\n>\n> A note with **clear**."
    )
    assert render(_show_template(prose[0]), {"n": 5})[1] == ["acc", "verdict"]
    references = nb.cells[-1].source
    assert references.startswith("## References") and "Carsen Stringer" in references and "Qi" in references
    chapter.write_text(FRONT + "\nSee {ref}`sec-toy`.\n")
    with pytest.raises(ValueError, match=r"\{ref\} role"):
        make_student_notebook(chapter)


def test_executed_notebook_gives_the_same_editions(toy_book):
    """The book's tests build from executed .ipynb chapters: outputs and papermill's injected
    parameters must not reach the editions."""
    chapter = toy_book / "chapters" / "99_toy.md"
    executed = read_chapter(chapter)
    executed.metadata["papermill"] = {}
    for cell in executed.cells:
        cell.metadata.setdefault("tags", [])
    executed = parameterize_notebook(executed, {"SIZE": "smoke"}, kernel_name=KERNEL, language="python")
    code = next(cell for cell in executed.cells if cell.cell_type == "code" and "counts = [1" in cell.source)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    code.execution_count = 3
    ipynb = chapter.with_suffix(".ipynb")
    nbformat.write(executed, str(ipynb))
    for make in (make_student_notebook, make_instructor_notebook):
        from_md, from_ipynb = make(chapter), make(ipynb)
        assert [(c.cell_type, c.source) for c in from_ipynb.cells] == [(c.cell_type, c.source) for c in from_md.cells]
        code = [c for c in from_ipynb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code)


def test_derived_stub_rules():
    body = derived_stub(["a, b = 1, 2\nc = a + b\nunused = 3"], ["print(c)"], defined_before=set())
    assert body.splitlines() == ["a = ...  # fill in", "b = ...  # fill in", "c = ...  # fill in"]
    assert derived_stub(["for k in range(3):\n    print(k)"], [], set()) == ""
    assert derived_stub(["x = 1\nx"], [], set()) == "x = ...  # fill in"  # its final expression
    assert derived_stub(["obj.attr = 1\nd['k'] = 2\nprint(obj, d)"], [], set()) == ""


@pytest.mark.parametrize(
    "broken, message",
    [
        ("```{solution-start} ex-1\n:class: dropdown\n```\n\nno end\n", "no {solution-end}"),
        ("```{solution-end}\n```\n", "without a {solution-start}"),
        ("```{solution-start}\n```\n```{solution-end}\n```\n", "without an exercise label"),
    ],
)
def test_malformed_solutions_are_errors(tmp_path, broken, message):
    (tmp_path / "_config.yml").write_text("repository: {url: 'https://github.com/x/y', branch: main}\n")
    chapter = tmp_path / "01_bad.md"
    chapter.write_text(FRONT + "\n" + broken)
    with pytest.raises(ValueError, match=re.escape(message)):
        make_student_notebook(chapter)


def test_command_line_writes_both_editions(toy_book):
    run = subprocess.run(
        [sys.executable, str(ROOT / "book" / "_ext" / "editions.py"), "--root", str(toy_book)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    for edition in ("student", "instructor"):
        written = toy_book / NOTEBOOKS_DIR / edition / "99_toy.ipynb"
        assert json.loads(written.read_text())["nbformat"] == 4


# ---------------------------------------------------------------------------------------------
# The book accepts a `stub` in a solution's cell metadata, and links the notebooks (slow: a build)


@pytest.mark.slow
@pytest.mark.book
def test_book_builds_with_stub_metadata_and_links_the_notebooks(toy_book, tmp_path):
    book = toy_book
    (book / "intro.md").write_text("# Toy\n\nA page.\n")
    shutil.copytree(ROOT / "book" / "_ext", book / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    (book / "book").mkdir()
    shutil.copy2(ROOT / "book" / "references.bib", book / "book" / "references.bib")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["html"].pop("favicon", None)
    config["sphinx"]["local_extensions"] = {"neurolab_book": "_ext"}
    (book / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run(
        [str(jupyter_book), "build", str(book), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    html = book / "_build" / "html"
    page = (html / "chapters" / "99_toy.html").read_text()
    for edition in ("student", "instructor"):
        assert f'href="../notebooks/{edition}/99_toy.ipynb"' in page
        assert (html / "notebooks" / edition / "99_toy.ipynb").is_file()
    student = nbformat.read(str(html / "notebooks" / "student" / "99_toy.ipynb"), as_version=4)
    assert [label for _, label in stub_cells(student)] == ["ex-99-derived", "ex-99-given"]
