"""Student and instructor editions of the course's chapters, as Jupyter notebooks.

A chapter is a jupytext MyST notebook (``chapters/NN_name.md``) whose exercises carry gated
solutions (sphinx-exercise)::

    ```{exercise} Title
    :label: ex-NN-name
    Question text.
    ```
    ```{solution-start} ex-NN-name
    :class: dropdown
    ```
    ```{code-cell} ipython3
    ... solution code ...
    ```
    Explanation prose.
    ```{solution-end}
    ```

Two notebooks are made from it:

- the **instructor edition**: the chapter as it is, solutions included;
- the **student edition**: everything from the ``solution-start`` line to the end of the
  ``solution-end`` directive is removed (the solution's code cells and its prose), and in its
  place stands one code cell, a stub that names what to compute and raises
  ``NotImplementedError("Exercise <label>: ...")`` until the student replaces it. The exercise's
  question stays. When the solution calls ``check(...)`` (``neurolab.teaching.exercises``) at top level,
  those calls follow the stub in a cell of their own: the learner's self-check.

Both start with a cell that installs the course package when the notebook runs on Colab, from the
repository named in ``_config.yml`` (``repository.url`` and ``repository.branch``); the student
edition opens with a short note on how to check answers.

The stub. A solution's code cell may say what its stub is, in the cell's YAML metadata::

    ```{code-cell} ipython3
    ---
    stub: |
      best_n = ...  # int: number of spontaneous PCs that maximises identity accuracy
    ---
    best_n = int(sweep.best("identity_accuracy"))
    ```

(jupytext reads that block as cell metadata and myst-nb ignores keys it does not know, so the book
builds unchanged.) Without a ``stub``, the stub is derived from the solution's code: every name it
assigns at top level that is used afterwards (later in the solution, in its final expression, or
anywhere later in the chapter) becomes ``name = ...  # fill in``, and every function it defines
that is used afterwards becomes a ``def`` with the same signature and an empty body. A name the
chapter already defined before the exercise is listed in a comment instead of being set to ``...``,
so that running the untouched stub never clobbers the chapter's own variables.

Command line (``make student``)::

    python book/_ext/editions.py                  # chapters of _toc.yml -> _build/notebooks/
    python book/_ext/editions.py --out DIR chapters/02_denoising.md

This module needs only nbformat, jupytext and PyYAML (all installed with the book's tools).
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import yaml

__all__ = [
    "COURSE_EXTRA",
    "STUB_KEY",
    "check_calls",
    "colab_install_source",
    "install_command",
    "find_config",
    "make_instructor_notebook",
    "make_student_notebook",
    "read_repository",
    "toc_chapters",
    "write_notebooks",
]

STUB_KEY = "stub"
"""Cell-metadata key of a solution code cell that holds its exercise's stub, verbatim."""

META_KEY = "neurolab"
"""Cell-metadata key this module writes: {"role": "stub" | "colab-install" | "edition-note", ...}."""

STUB_TAGS = ["raises-exception"]
"""Tags of a stub cell: it raises by design, so nbclient / myst-nb runs carry on past it."""

COURSE_EXTRA = "course"
"""The extra of pyproject.toml that lists what a chapter imports beyond the library (myst-nb for
``glue``, the networks, the plots): the one list every install line is made from. Its bounds are
lower bounds, so a runtime that already has a package (Colab) keeps it and needs no restart."""

_DIRECTIVE = re.compile(r"^\s*(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
_CLOSING = re.compile(r"^\s*(?P<fence>`{3,}|:{3,})\s*$")
_OPTION = re.compile(r"^\s*:[\w-]+:")
_MAGIC = re.compile(r"^(\s*)(%|!)")

_PROCESS_KEYS = ("papermill", "execution", "ExecuteTime", "collapsed", "scrolled")
"""Cell metadata left by an execution (papermill, nbclient, the classic notebook), dropped."""


# ---------------------------------------------------------------------------------------------
# Where things are: _config.yml, _toc.yml, the repository


def find_config(path: str | Path) -> Path:
    """The ``_config.yml`` of the book that holds ``path``: the nearest one in a parent folder."""
    path = Path(path).resolve()
    for folder in [path, *path.parents] if path.is_dir() else path.parents:
        candidate = folder / "_config.yml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no _config.yml in any folder above {path}")


def read_repository(config: str | Path) -> tuple[str, str]:
    """(url, branch) of the course's repository, from ``repository`` in a Jupyter Book _config.yml."""
    settings = yaml.safe_load(Path(config).read_text()) or {}
    repository = settings.get("repository") or {}
    url = str(repository.get("url") or "").rstrip("/")
    if not url:
        raise ValueError(f"{config}: `repository.url` is not set")
    return url, str(repository.get("branch") or "main")


def toc_chapters(toc: str | Path) -> list[Path]:
    """The chapter sources (entries under chapters/) of a jb-book _toc.yml, in reading order."""
    toc = Path(toc)
    data = yaml.safe_load(toc.read_text()) or {}
    entries: list[str] = []

    def walk(node: dict) -> None:
        if "file" in node:
            entries.append(str(node["file"]))
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                walk(child)

    walk(data)
    chapters = []
    for entry in entries:
        path = Path(entry)
        if path.parts and path.parts[0] == "chapters":
            chapters.append(toc.parent / (path if path.suffix else path.with_suffix(".md")))
    return chapters


def install_command(url: str, branch: str) -> str:
    """``pip install "neurolab[course] @ git+URL@BRANCH"``: the course package and what the chapters
    need (``COURSE_EXTRA`` of pyproject.toml, lower bounds only)."""
    return f'pip install "neurolab[{COURSE_EXTRA}] @ git+{url}@{branch}"'


def colab_install_source(url: str, branch: str) -> str:
    """The first cell of every notebook: on Colab (and only there), install the course package
    with its ``course`` extra (``install_command``); the bounds live in pyproject.toml."""
    return (
        "import sys\n"
        'if "google.colab" in sys.modules:  # running on Colab: install the course package\n'
        f"    %{install_command(url, branch).replace('pip install', 'pip install -q', 1)}"
    )


# ---------------------------------------------------------------------------------------------
# Reading a chapter and finding its solutions


def _read(path: Path) -> nbformat.NotebookNode:
    """A chapter as a notebook: MyST markdown is named as such (jupytext's guess misses a front
    matter in YAML flow style); an .ipynb (an executed chapter) is read as it is."""
    return jupytext.read(path, fmt="md:myst" if path.suffix == ".md" else None)


@dataclass
class _Solution:
    label: str
    code: list[nbformat.NotebookNode] = field(default_factory=list)


@dataclass
class _Stub:
    """Where a solution stood in the notebook: its stub cell goes here."""

    solution: _Solution


def _closes(line: str, fence: str) -> bool:
    match = _CLOSING.match(line)
    return bool(match) and match["fence"][0] == fence[0] and len(match["fence"]) >= len(fence)


def _markdown_cell(lines: list[str], like: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return None
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.metadata = copy.deepcopy(like.get("metadata", {}))
    return cell


def _split(nb: nbformat.NotebookNode, source: Path) -> list:
    """The chapter's cells with every solution cut out: a list of cells and _Stub markers.

    A markdown cell is cut at the ``solution-start`` line and resumes after the closing fence of
    ``solution-end``; code cells in between belong to the solution.
    """
    items: list = []
    current: _Solution | None = None
    end_fence: str | None = None  # set between the solution-end opening and its closing fence
    seen: set[str] = set()

    def finish() -> None:
        nonlocal current, end_fence
        items.append(_Stub(current))
        current, end_fence = None, None

    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if current is not None:
                if end_fence is not None:  # the solution-end fence was never closed
                    raise ValueError(f"{source}: unclosed {{solution-end}} of {current.label!r}")
                if cell.cell_type == "code":
                    current.code.append(cell)
            else:
                items.append(copy.deepcopy(cell))
            continue
        kept: list[str] = []
        for line in cell.source.split("\n"):
            if current is None:
                match = _DIRECTIVE.match(line)
                if match and match["name"] == "solution-start":
                    label = match["arg"].strip()
                    if not label:
                        raise ValueError(f"{source}: a {{solution-start}} without an exercise label")
                    if label in seen:
                        raise ValueError(f"{source}: two solutions to {label!r}")
                    seen.add(label)
                    piece = _markdown_cell(kept, cell)
                    if piece is not None:
                        items.append(piece)
                    kept = []
                    current = _Solution(label)
                elif match and match["name"] == "solution-end":
                    raise ValueError(f"{source}: a {{solution-end}} without a {{solution-start}}")
                else:
                    kept.append(line)
            elif end_fence is not None:
                if _closes(line, end_fence):
                    finish()
                elif not (_OPTION.match(line) or not line.strip()):
                    raise ValueError(f"{source}: {{solution-end}} of {current.label!r} is not closed")
            else:
                match = _DIRECTIVE.match(line)
                if match and match["name"] == "solution-end":
                    end_fence = match["fence"]
                elif match and match["name"] == "solution-start":
                    raise ValueError(
                        f"{source}: {{solution-start}} {match['arg']} inside the solution to {current.label!r}"
                    )
        piece = _markdown_cell(kept, cell)
        if piece is not None:
            items.append(piece)
    if current is not None:
        if end_fence is None:
            raise ValueError(f"{source}: the solution to {current.label!r} has no {{solution-end}}")
        finish()  # a fence left open at the end of the document closes there, as in MyST
    return items


# ---------------------------------------------------------------------------------------------
# Names a solution defines and a chapter uses, for the derived stubs


def _parse(source: str) -> ast.Module | None:
    """A code cell's syntax tree, IPython magics and shell escapes blanked; None if unparsable."""
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        lines = lines[1:]  # a cell magic (%%time, %%capture...) wrapping Python code
    lines = [_MAGIC.sub(r"\1pass  # ", line) if _MAGIC.match(line) else line for line in lines]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _target_names(target: ast.expr) -> list[str]:
    """Plain names bound by an assignment target (a name, or names in a tuple / list / starred)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []  # obj.attr = ..., obj[key] = ...: mutate an object, bind no name


def _bound_at_top(statement: ast.stmt) -> list[tuple[str, ast.stmt]]:
    if isinstance(statement, ast.Assign):
        return [(name, statement) for target in statement.targets for name in _target_names(target)]
    if isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        return [(name, statement) for name in _target_names(statement.target)]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [(statement.name, statement)]
    return []


def _all_bound(tree: ast.Module) -> set[str]:
    """Every name a cell binds in the notebook's namespace: assignments, loops, imports, ``with ...
    as``, ``except ... as``, definitions; not the locals of its functions, classes or comprehensions."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
                continue  # its body is a scope of its own
            if isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in child.names)
            elif isinstance(child, ast.ExceptHandler) and child.name:
                names.add(child.name)
            visit(child)

    visit(tree)
    return names


def _loaded(nodes: Iterable[ast.AST]) -> set[str]:
    return {
        node.id
        for tree in nodes
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def _signature(statement: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(statement, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {statement.name}({ast.unparse(statement.args)}):"


def derived_stub(solution_code: Sequence[str], later_code: Sequence[str], defined_before: set[str]) -> str:
    """The body of a stub derived from a solution's code cells (see the module's docstring).

    ``later_code`` is the code that runs after the solution (the rest of the chapter);
    ``defined_before`` the names the chapter binds before it.
    """
    statements: list[ast.stmt] = []
    for source in solution_code:
        tree = _parse(source)
        if tree is not None:
            statements.extend(tree.body)
    later_trees = [tree for tree in map(_parse, later_code) if tree is not None]
    later_names = _loaded(later_trees)
    order: list[str] = []
    kinds: dict[str, ast.stmt] = {}
    for index, statement in enumerate(statements):
        for name, node in _bound_at_top(statement):
            if name.startswith("_") or name in kinds:
                continue
            used_after = name in _loaded(statements[index + 1 :]) or name in later_names
            if used_after:
                order.append(name)
                kinds[name] = node
    lines: list[str] = []
    updated = [name for name in order if name in defined_before]
    for name in order:
        if name in defined_before:
            continue
        node = kinds[name]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines += [_signature(node), "    ...  # fill in"]
        elif isinstance(node, ast.ClassDef):
            lines += [f"class {name}:", "    ...  # fill in"]
        else:
            lines.append(f"{name} = ...  # fill in")
    if updated:
        lines.append(f"# the solution also updates {', '.join(updated)} (defined above)")
    return "\n".join(lines)


def _stub_cell(label: str, body: str) -> nbformat.NotebookNode:
    body = body.strip("\n")
    what = "fill in the names below" if body else "write your solution here"
    source = "\n".join(
        line
        for line in (
            f"# Exercise {label} (see the question above): {what}, then delete the raise.",
            body,
            f'raise NotImplementedError("Exercise {label}: write your solution here")',
        )
        if line
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = nbformat.NotebookNode({"tags": list(STUB_TAGS), META_KEY: {"role": "stub", "exercise": label}})
    return cell


def check_calls(solution_code: Sequence[str]) -> list[str]:
    """The top-level ``check(...)`` calls of a solution's code cells (``neurolab.teaching.exercises``), as
    source text: the student edition runs them after the stub, so a learner sees the checker's
    verdict on their own answer (and "not answered yet" on the untouched stub)."""
    calls = []
    for source in solution_code:
        tree = _parse(source)
        if tree is None:
            continue
        for statement in tree.body:
            call = statement.value if isinstance(statement, ast.Expr) else None
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check":
                calls.append(ast.get_source_segment(source, statement) or ast.unparse(statement))
    return calls


def _check_cell(label: str, calls: list[str]) -> nbformat.NotebookNode:
    source = "\n".join([f"# Check your answer to {label} (run this after the cell above):", *calls])
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = nbformat.NotebookNode({META_KEY: {"role": "check", "exercise": label}})
    return cell


# ---------------------------------------------------------------------------------------------
# The two editions


def _clean(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell = copy.deepcopy(cell)
    for key in _PROCESS_KEYS:
        cell.metadata.pop(key, None)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    return cell


def _is_injected(cell: nbformat.NotebookNode) -> bool:
    """papermill's injected-parameters cell, present when the source is an executed notebook."""
    return "injected-parameters" in cell.get("metadata", {}).get("tags", [])


def _finish(nb: nbformat.NotebookNode, cells: list, head: list) -> nbformat.NotebookNode:
    out = nbformat.v4.new_notebook()
    out.metadata = nbformat.NotebookNode(
        {
            "kernelspec": copy.deepcopy(
                nb.metadata.get("kernelspec") or {"name": "python3", "display_name": "Python 3", "language": "python"}
            ),
            "language_info": {"name": "python"},
        }
    )
    out.cells = [*head, *cells]
    for index, cell in enumerate(out.cells):  # stable ids: the same chapter gives the same file
        cell["id"] = f"cell-{index}"
    nbformat.validate(out)
    return out


def _colab_cell(path: Path, repository: tuple[str, str] | None) -> nbformat.NotebookNode:
    try:
        config = find_config(path)
    except FileNotFoundError:
        if repository is None:
            raise
        config = None
    if repository is None:
        repository = read_repository(config)
    cell = nbformat.v4.new_code_cell(colab_install_source(*repository))
    cell.metadata = nbformat.NotebookNode({META_KEY: {"role": "colab-install"}})
    return cell


def _chapter_number(path: Path) -> str:
    match = re.match(r"(\d+)", path.stem)
    return str(int(match.group(1))) if match else path.stem


def _edition_note(path: Path, labels: list[str]) -> nbformat.NotebookNode:
    example = labels[0] if labels else "ex-NN-name"
    cell = nbformat.v4.new_markdown_cell(
        f"**Student edition of chapter {_chapter_number(path)}.** The worked solutions are left out: "
        f"after each exercise's question, a code cell raises `NotImplementedError` until you replace it "
        f"with your own code (it names what to compute). Run the notebook from the top; the cells after "
        f"an exercise do not need its answer.\n\n"
        f"After each stub, a cell checks your answer with `check` (`from neurolab.teaching.exercises import "
        f'check`, for example `check("{example}", ...)`): it says \u2713 when the answer is right, or '
        f"\u2717 with a hint at what is wrong, without showing the solution; before you answer it says "
        f"\"not answered yet\". The instructor edition and the book's page show the solutions."
    )
    cell.metadata = nbformat.NotebookNode({META_KEY: {"role": "edition-note"}})
    return cell


def make_instructor_notebook(md_path: str | Path, repository: tuple[str, str] | None = None) -> nbformat.NotebookNode:
    """The chapter as a notebook, solutions included, after a Colab install cell.

    ``repository``: (url, branch) of the course's repository; by default read from the
    ``_config.yml`` above ``md_path``. ``md_path`` may also be an executed .ipynb of the chapter:
    its outputs and papermill's injected parameters are dropped.
    """
    path = Path(md_path)
    nb = _read(path)
    cells = [_clean(cell) for cell in nb.cells if not _is_injected(cell)]
    return _finish(nb, cells, [_colab_cell(path, repository)])


def make_student_notebook(md_path: str | Path, repository: tuple[str, str] | None = None) -> nbformat.NotebookNode:
    """The chapter with every solution replaced by one stub cell per exercise (see the module's
    docstring), after a note on the edition and a Colab install cell. Arguments as
    :func:`make_instructor_notebook`."""
    path = Path(md_path)
    nb = _read(path)
    nb.cells = [cell for cell in nb.cells if not _is_injected(cell)]
    items = _split(nb, path)

    # For the derived stubs: the code after each solution, and what the chapter binds before it.
    code_after: list[list[str]] = []
    remaining = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    solution_sizes = {id(item.solution): len(item.solution.code) for item in items if isinstance(item, _Stub)}
    consumed = 0
    for item in items:
        if isinstance(item, _Stub):
            consumed += solution_sizes[id(item.solution)]
            code_after.append(remaining[consumed:])
        elif item.cell_type == "code":
            consumed += 1

    cells: list[nbformat.NotebookNode] = []
    labels: list[str] = []
    defined: set[str] = set()
    stubs_seen = 0
    for item in items:
        if isinstance(item, _Stub):
            solution = item.solution
            given = [c.metadata[STUB_KEY] for c in solution.code if isinstance(c.metadata.get(STUB_KEY), str)]
            if given:
                body = "\n".join(text.strip("\n") for text in given)
            else:
                body = derived_stub([c.source for c in solution.code], code_after[stubs_seen], defined)
            stubs_seen += 1
            stub = _stub_cell(solution.label, body)
            cells.append(stub)
            labels.append(solution.label)
            tree = _parse(stub.source)
            if tree is not None:
                defined |= _all_bound(tree)
            calls = check_calls([c.source for c in solution.code])
            if calls:
                cells.append(_check_cell(solution.label, calls))
            continue
        cells.append(_clean(item))
        if item.cell_type == "code":
            tree = _parse(item.source)
            if tree is not None:
                defined |= _all_bound(tree)
    return _finish(nb, cells, [_edition_note(path, labels), _colab_cell(path, repository)])


def write_notebooks(
    toc_chapters: Iterable[str | Path], out_dir: str | Path, repository: tuple[str, str] | None = None
) -> list[Path]:
    """Write ``<out_dir>/student/<stem>.ipynb`` and ``<out_dir>/instructor/<stem>.ipynb`` for each
    chapter; returns the paths written (student then instructor, chapter by chapter). Both folders
    are created even when there is no chapter, so that a site always has them."""
    out_dir = Path(out_dir)
    for edition in ("student", "instructor"):
        (out_dir / edition).mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in toc_chapters:
        chapter = Path(chapter)
        for edition, make in (("student", make_student_notebook), ("instructor", make_instructor_notebook)):
            target = out_dir / edition / f"{chapter.stem}.ipynb"
            text = nbformat.writes(make(chapter, repository=repository))
            partial = target.with_name(target.name + ".tmp")
            partial.write_text(text + "\n", encoding="utf-8")
            partial.replace(target)  # a reader never sees half a notebook
            written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python book/_ext/editions.py",
        description="Write the student and instructor notebooks of the course's chapters.",
    )
    parser.add_argument("chapters", nargs="*", type=Path, help="chapter sources (default: those in _toc.yml)")
    parser.add_argument("--root", type=Path, default=Path("."), help="the book's folder, with _toc.yml (default: .)")
    parser.add_argument("--out", type=Path, help="output folder (default: <root>/_build/notebooks)")
    args = parser.parse_args(argv)
    chapters = args.chapters or toc_chapters(args.root / "_toc.yml")
    out = args.out or args.root / "_build" / "notebooks"
    written = write_notebooks(chapters, out)
    print(f"wrote {len(written) // 2} student and {len(written) // 2} instructor notebooks into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
