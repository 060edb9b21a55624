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

Both editions also make the prose readable outside the book (``readable``): glued numbers become
small ``show(...)`` cells that print the paragraph with the learner's own values
(``neurolab.teaching.glue``), citations author-year text with a reference list at the end, each
exercise a heading with its number and title. Each notebook opens with "Open in Colab" and Binder
badges (``launch_urls``) for itself and a link to the other edition.

Command line (``make notebooks``; the notebooks are committed under ``notebooks/``)::

    python book/_ext/editions.py                  # chapters of _toc.yml -> notebooks/
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


NOTEBOOKS_DIR = "notebooks"
"""Folder of the repository (and of the built site) that holds ``student/`` and ``instructor/``
notebooks, one per chapter: the stable address Colab and Binder open."""

EDITIONS = ("student", "instructor")


def notebook_path(stem: str, edition: str) -> str:
    """``notebooks/<edition>/<stem>.ipynb``: where a chapter's edition lives in the repository."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    return f"{NOTEBOOKS_DIR}/{edition}/{stem}.ipynb"


def launch_urls(url: str, branch: str, stem: str, edition: str) -> dict[str, str]:
    """{"colab": ..., "binder": ...}: the addresses that open a chapter's notebook (``edition``:
    "student" or "instructor") from the course's GitHub repository ``url`` at ``branch``."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url)
    if not match:
        raise ValueError(f"repository.url must be a GitHub repository (https://github.com/ORG/REPO), not {url!r}")
    org, repo = match.groups()
    path = notebook_path(stem, edition)
    return {
        "colab": f"https://colab.research.google.com/github/{org}/{repo}/blob/{branch}/{path}",
        "binder": f"https://mybinder.org/v2/gh/{org}/{repo}/{branch}?urlpath=lab/tree/{path}",
    }


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


def check_statements(tree: ast.Module | None) -> list[ast.Expr]:
    """The top-level ``check(...)`` call statements of a parsed code cell (``_parse``), in order."""
    found = []
    for statement in tree.body if tree is not None else []:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check":
            found.append(statement)
    return found


def check_calls(solution_code: Sequence[str]) -> list[str]:
    """The top-level ``check(...)`` calls of a solution's code cells (``neurolab.teaching.exercises``), as
    source text: the student edition runs them after the stub, so a learner sees the checker's
    verdict on their own answer (and "not answered yet" on the untouched stub)."""
    return [ast.get_source_segment(source, statement) or ast.unparse(statement)
            for source in solution_code for statement in check_statements(_parse(source))]


def _check_cell(label: str, calls: list[str]) -> nbformat.NotebookNode:
    source = "\n".join([f"# Check your answer to {label} (run this after the cell above):", *calls])
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = nbformat.NotebookNode({META_KEY: {"role": "check", "exercise": label}})
    return cell


# ---------------------------------------------------------------------------------------------
# Prose that reads in Jupyter, JupyterLab, Colab and Binder (no MyST roles or directives)

_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<arg>[^`]*)`")
_GLUE_ROLES = ("glue:text", "glue:md", "glue", "glue:")
_TARGET = re.compile(r"^\s*\([\w-]+\)=\s*$")
_TITLE_HINT = "# @title"
"""Colab shows a cell that starts with ``# @title`` as its title, code hidden (``cellView: form``)."""

SHOW_IMPORT = "from neurolab.teaching.glue import show"
"""The import every prose cell with numbers starts with (``neurolab.teaching.glue.show``)."""


def _bibtex_value(text: str, start: int) -> tuple[str, int]:
    """The value at ``text[start]`` ({...} with nested braces, "...", or a bare word) and the end."""
    if text[start] == "{":
        depth, i = 0, start
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start + 1 : i], i + 1
            i += 1
        raise ValueError("unbalanced braces in a BibTeX value")
    if text[start] == '"':
        end = text.index('"', start + 1)
        return text[start + 1 : end], end + 1
    match = re.match(r"[\w.-]+", text[start:])
    return (match.group(0) if match else ""), start + (match.end() if match else 0)


def read_bibtex(path: str | Path) -> dict[str, dict[str, str]]:
    """{key: {field: value}} of a BibTeX file (fields lower-cased, braces removed): enough for the
    notebooks' author-year citations and reference lists."""
    text = Path(path).read_text(encoding="utf-8")
    entries: dict[str, dict[str, str]] = {}
    for match in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        fields: dict[str, str] = {"type": match.group(1).lower()}
        i = match.end()
        while True:
            field_match = re.compile(r"\s*(\w+)\s*=\s*").match(text, i)
            if not field_match:
                break
            value, i = _bibtex_value(text, field_match.end())
            fields[field_match.group(1).lower()] = re.sub(r"\s+", " ", value.replace("{", "").replace("}", ""))
            comma = re.compile(r"\s*,").match(text, i)
            if not comma:
                break
            i = comma.end()
        entries[match.group(2)] = fields
    return entries


def _surnames(entry: dict[str, str]) -> list[str]:
    names = [name.strip() for name in entry.get("author", "").split(" and ") if name.strip()]
    return [name.split(",")[0].strip() if "," in name else name.split()[-1] for name in names]


def cite_text(keys: Sequence[str], bibliography: dict[str, dict[str, str]], where: str = "") -> str:
    """'(Stringer et al., 2019; Deng et al., 2009)': an author-year citation of BibTeX keys."""
    parts = []
    for key in keys:
        if key not in bibliography:
            raise ValueError(f"{where}: {{cite}} of {key!r}, which book/references.bib does not define")
        entry = bibliography[key]
        names = _surnames(entry) or [entry.get("title", key)]
        who = names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al."
        parts.append(f"{who}, {entry.get('year', 'n.d.')}")
    return "(" + "; ".join(parts) + ")"


def reference_text(entry: dict[str, str]) -> str:
    """One entry of a reference list, in Markdown."""
    names = [name.strip() for name in entry.get("author", "").split(" and ") if name.strip()]
    names = [" ".join(reversed([part.strip() for part in name.split(",", 1)])) for name in names]
    authors = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else ""
    venue = entry.get("journal") or entry.get("booktitle") or entry.get("howpublished") or entry.get("publisher", "")
    doi = entry.get("doi")
    link = f" [doi:{doi}](https://doi.org/{doi})" if doi else (f" <{entry['url']}>" if entry.get("url") else "")
    parts = [f"{authors} ({entry.get('year', 'n.d.')}).", f"*{entry.get('title', '')}*."]
    if venue:
        parts.append(f"{venue}.")
    return " ".join(parts) + link


@dataclass
class _Prose:
    """What converting a chapter's prose needs: exercise numbers and titles, the bibliography, and
    the keys cited so far (for the reference list at the end)."""

    chapter: str
    bibliography: dict[str, dict[str, str]]
    exercises: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (number, title)
    cited: list[str] = field(default_factory=list)


def _exercises_of(nb: nbformat.NotebookNode, chapter: str) -> dict[str, tuple[str, str]]:
    """{label: (number, title)}: the k-th exercise of chapter N is number "N.k", as ``check`` knows it."""
    found: dict[str, tuple[str, str]] = {}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            match = _DIRECTIVE.match(line)
            if match and match["name"] == "exercise":
                label = next((m.group(1) for m in (re.match(r"^\s*:label:\s*(\S+)", x) for x in lines[i + 1 :]) if m), "")
                found[label] = (f"{chapter}.{len(found) + 1}", match["arg"])
    return found


def _directives_to_markdown(source: str, prose: _Prose, where: str) -> str:
    """MyST directives of a prose cell as plain Markdown: an exercise becomes a heading with its
    number and title, a solution's start a bold line, a note a block quote; labels and targets go."""
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # (directive name, fence) of the open directives
    lines = source.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _DIRECTIVE.match(line)
        if match:
            name, arg = match["name"], match["arg"]
            options: dict[str, str] = {}
            i += 1
            while i < len(lines) and _OPTION.match(lines[i]):
                key, _, value = lines[i].strip()[1:].partition(":")
                options[key] = value.strip()
                i += 1
            if name == "exercise":
                number, title = prose.exercises.get(options.get("label", ""), ("", arg))
                out += [f"### Exercise {number}: {title}".replace("Exercise :", "Exercise:"), ""]
            elif name == "solution-start":
                number, title = prose.exercises.get(arg.strip(), ("", ""))
                out += [f"**Solution to exercise {number}** ({title})", ""]
            elif name == "solution-end":
                pass
            elif name in ("note", "tip", "warning", "important", "admonition", "caution"):
                heading = arg if name == "admonition" else name.capitalize()
                out += [f"> **{heading}.**", ">"]
            else:
                raise ValueError(f"{where}: the notebooks cannot show a {{{name}}} directive; add it to editions.py")
            stack.append((name, match["fence"]))
            continue
        if stack and _closes(line, stack[-1][1]):
            stack.pop()
            i += 1
            continue
        if _TARGET.match(line):
            i += 1
            continue
        quoted = any(name in ("note", "tip", "warning", "important", "admonition", "caution") for name, _ in stack)
        out.append(f"> {line}".rstrip() if quoted else line)
        i += 1
    return "\n".join(out)


def _roles(text: str, prose: _Prose, where: str, template: bool) -> str:
    """Citations as author-year text; glue roles as ``str.format`` fields when ``template``
    (literal braces doubled), any other role an error."""
    pieces, last = [], 0
    for match in _ROLE.finditer(text):
        role, arg = match["role"], match["arg"]
        plain = text[last : match.start()]
        pieces.append(plain.replace("{", "{{").replace("}", "}}") if template else plain)
        last = match.end()
        if role in ("cite", "cite:p", "cite:t"):
            keys = [key.strip() for key in arg.split(",") if key.strip()]
            prose.cited += [key for key in keys if key not in prose.cited]
            cited = cite_text(keys, prose.bibliography, where)
            pieces.append(cited.replace("{", "{{").replace("}", "}}") if template else cited)
        elif role in _GLUE_ROLES:
            name, _, spec = arg.partition(":")
            if not name.isidentifier():
                raise ValueError(f"{where}: glued name {name!r} is not a Python identifier")
            if role == "glue:md" and spec:
                spec = ""  # {glue:md}`name:format` names a Markdown flavour, not a number format
            pieces.append("{" + name + (f":{spec}" if spec else "") + "}")
        else:
            raise ValueError(f"{where}: the notebooks cannot show the {{{role}}} role; add it to editions.py")
    tail = text[last:]
    pieces.append(tail.replace("{", "{{").replace("}", "}}") if template else tail)
    return "".join(pieces)


def _blocks(text: str) -> list[str]:
    """A Markdown text cut into blocks at blank lines, never inside a fenced block or $$ math."""
    blocks, current, fence, math = [], [], None, False
    for line in text.split("\n"):
        stripped = line.strip()
        if fence is None and re.match(r"^(`{3,}|~{3,})", stripped):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None and stripped.count("$$") % 2 == 1:
            math = not math  # a display-math block opens or closes on this line
        if not stripped and fence is None and not math:
            if current:
                blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _show_cell(template: str) -> nbformat.NotebookNode:
    literal = f'r"""\n{template}\n"""'
    if '"""' in template or template.endswith("\\"):
        literal = repr(template)
    source = f"{_TITLE_HINT} Text with the numbers of your run\n{SHOW_IMPORT}\n\nshow({literal})"
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = nbformat.NotebookNode(
        {
            "cellView": "form",  # Colab: the title shows, the code stays folded
            "jupyter": {"source_hidden": True},  # JupyterLab and Notebook 7: input collapsed
            "tags": ["hide-input"],
            META_KEY: {"role": "prose"},
        }
    )
    return cell


def _prose_cells(cell: nbformat.NotebookNode, prose: _Prose, where: str) -> list[nbformat.NotebookNode]:
    """A chapter's markdown cell as notebook cells: Markdown where the text holds no glued value,
    a ``show(...)`` cell for each run of blocks that does (so a heading stays a heading)."""
    text = _directives_to_markdown(cell.source, prose, where)
    cells: list[nbformat.NotebookNode] = []
    group: list[str] = []
    group_glued: bool | None = None

    def flush() -> None:
        if not group:
            return
        joined = "\n\n".join(group)
        if group_glued:
            cells.append(_show_cell(_roles(joined, prose, where, template=True)))
        else:
            markdown = nbformat.v4.new_markdown_cell(_roles(joined, prose, where, template=False))
            markdown.metadata = copy.deepcopy(cell.get("metadata", {}))
            cells.append(markdown)
        group.clear()

    for block in _blocks(text):
        glued = any(match["role"] in _GLUE_ROLES for match in _ROLE.finditer(block))
        if group and glued != group_glued:
            flush()
        group.append(block)
        group_glued = glued
    flush()
    return cells


def _references_cell(prose: _Prose) -> nbformat.NotebookNode | None:
    if not prose.cited:
        return None
    items = [f"- {reference_text(prose.bibliography[key])}" for key in prose.cited]
    cell = nbformat.v4.new_markdown_cell("## References\n\n" + "\n".join(items))
    cell.metadata = nbformat.NotebookNode({META_KEY: {"role": "references"}})
    return cell


def _bibliography(path: Path) -> dict[str, dict[str, str]]:
    try:
        bib = find_config(path).parent / "book" / "references.bib"
    except FileNotFoundError:
        return {}
    return read_bibtex(bib) if bib.is_file() else {}


def readable(cells: list, prose: _Prose, source: Path) -> list:
    """Every markdown cell of ``cells`` converted for notebooks (see ``_prose_cells``), a reference
    list appended when the chapter cites; other items pass through."""
    out = []
    for index, cell in enumerate(cells):
        if isinstance(cell, nbformat.NotebookNode) and cell.cell_type == "markdown":
            out += _prose_cells(cell, prose, f"{source} (cell {index})")
        else:
            out.append(cell)
    references = _references_cell(prose)
    return out + ([references] if references is not None else [])


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


def _repository(path: Path, repository: tuple[str, str] | None) -> tuple[str, str]:
    if repository is not None:
        return repository
    return read_repository(find_config(path))


def _colab_cell(repository: tuple[str, str]) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(colab_install_source(*repository))
    cell.metadata = nbformat.NotebookNode({META_KEY: {"role": "colab-install"}})
    return cell


def _chapter_number(path: Path) -> str:
    match = re.match(r"(\d+)", path.stem)
    return str(int(match.group(1))) if match else path.stem


COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


def _badges(path: Path, repository: tuple[str, str], edition: str) -> str:
    """The "Open in Colab" and Binder badges of this edition, and links to the other one."""
    here = launch_urls(*repository, path.stem, edition)
    other_edition = "instructor" if edition == "student" else "student"
    other = launch_urls(*repository, path.stem, other_edition)
    return (
        f"[![Open this notebook in Colab]({COLAB_BADGE})]({here['colab']}) "
        f"[![Open this notebook on Binder]({BINDER_BADGE})]({here['binder']})\n\n"
        f"The {other_edition} edition: [Colab]({other['colab']}) \u00b7 [Binder]({other['binder']})"
    )


def _note_cell(text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata = nbformat.NotebookNode({META_KEY: {"role": "edition-note"}})
    return cell


def _edition_note(path: Path, labels: list[str], repository: tuple[str, str]) -> nbformat.NotebookNode:
    example = labels[0] if labels else "ex-NN-name"
    return _note_cell(
        f"{_badges(path, repository, 'student')}\n\n"
        f"**Student edition of chapter {_chapter_number(path)}.** The worked solutions are left out: "
        f"after each exercise's question, a code cell raises `NotImplementedError` until you replace it "
        f"with your own code (it names what to compute). Run the notebook from the top; the cells after "
        f"an exercise do not need its answer. Cells titled \u201cText with the numbers of your run\u201d "
        f"show the prose with the values your own run computed.\n\n"
        f"After each stub, a cell checks your answer with `check` (`from neurolab.teaching.exercises import "
        f'check`, for example `check("{example}", ...)`): it says \u2713 when the answer is right, or '
        f"\u2717 with a hint at what is wrong, without showing the solution; before you answer it says "
        f"\"not answered yet\". The instructor edition and the book's page show the solutions."
    )


def _instructor_note(path: Path, repository: tuple[str, str]) -> nbformat.NotebookNode:
    return _note_cell(
        f"{_badges(path, repository, 'instructor')}\n\n"
        f"**Instructor edition of chapter {_chapter_number(path)}**, with the worked solutions. "
        f"Cells titled \u201cText with the numbers of your run\u201d show the prose with the values "
        f"this run computed."
    )


def _prose(path: Path, nb: nbformat.NotebookNode) -> _Prose:
    chapter = _chapter_number(path)
    return _Prose(chapter, _bibliography(path), _exercises_of(nb, chapter))


def make_instructor_notebook(md_path: str | Path, repository: tuple[str, str] | None = None) -> nbformat.NotebookNode:
    """The chapter as a notebook, solutions included, after its badges and a Colab install cell;
    the prose made readable outside the book (``readable``).

    ``repository``: (url, branch) of the course's repository; by default read from the
    ``_config.yml`` above ``md_path``. ``md_path`` may also be an executed .ipynb of the chapter:
    its outputs and papermill's injected parameters are dropped.
    """
    path = Path(md_path)
    repository = _repository(path, repository)
    nb = _read(path)
    cells = [_clean(cell) for cell in nb.cells if not _is_injected(cell)]
    cells = readable(cells, _prose(path, nb), path)
    return _finish(nb, cells, [_instructor_note(path, repository), _colab_cell(repository)])


def make_student_notebook(md_path: str | Path, repository: tuple[str, str] | None = None) -> nbformat.NotebookNode:
    """The chapter with every solution replaced by one stub cell per exercise (see the module's
    docstring), after a note on the edition and a Colab install cell; the prose made readable
    outside the book (``readable``). Arguments as :func:`make_instructor_notebook`."""
    path = Path(md_path)
    repository = _repository(path, repository)
    nb = _read(path)
    nb.cells = [cell for cell in nb.cells if not _is_injected(cell)]
    prose = _prose(path, nb)
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
    cells = readable(cells, prose, path)
    return _finish(nb, cells, [_edition_note(path, labels, repository), _colab_cell(repository)])


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
    parser.add_argument("--out", type=Path, help=f"output folder (default: <root>/{NOTEBOOKS_DIR})")
    args = parser.parse_args(argv)
    chapters = args.chapters or toc_chapters(args.root / "_toc.yml")
    out = args.out or args.root / NOTEBOOKS_DIR
    written = write_notebooks(chapters, out)
    print(f"wrote {len(written) // 2} student and {len(written) // 2} instructor notebooks into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
