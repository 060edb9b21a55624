"""Find, execute and inspect the book's chapters: build tooling shared by the tests and benchmarks.

Chapters are jupytext MyST Markdown notebooks listed in _toc.yml. The tests convert each one to
.ipynb, run it with papermill at small "smoke" parameters, and read back what it glued.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import jupytext
import nbformat
import papermill
import yaml

ROOT = Path(__file__).resolve().parents[2]  # book/_ext/chapter_runner.py -> the repository
CHAPTERS_DIR = ROOT / "chapters"
TOC = ROOT / "_toc.yml"

SMOKE_PARAMS = dict(DATA="synthetic", SIZE="smoke", SEED=0, EPOCHS=1)
"""Parameters that make every chapter run in seconds on a tiny synthetic recording."""

KERNEL = "python3"
CELL_TIMEOUT_S = 600


def toc_files(toc_path: Path = TOC) -> list[str]:
    """Every `file:` entry of a jb-book _toc.yml (root first), in reading order, as written."""
    toc = yaml.safe_load(toc_path.read_text())
    found = [toc["root"]]

    def walk(node: dict) -> None:
        if "file" in node:
            found.append(node["file"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                walk(child)

    walk(toc)
    return found


def toc_chapters(toc_path: Path = TOC) -> list[Path]:
    """The chapter sources listed in _toc.yml under chapters/, as absolute paths to .md files."""
    chapters = []
    for entry in toc_files(toc_path):
        path = Path(entry)
        if path.parts[0] != "chapters":
            continue
        chapters.append(ROOT / (path if path.suffix else path.with_suffix(".md")))
    return chapters


def read_chapter(path: Path) -> nbformat.NotebookNode:
    """A chapter as a notebook. Chapters are MyST notebooks: the format is named, not guessed,
    because jupytext's guess misses a front matter written in YAML flow style ({...})."""
    path = Path(path)
    return jupytext.read(path, fmt="md:myst" if path.suffix == ".md" else None)


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The code cell tagged `parameters`, or None."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def chapter_parameters(path: Path) -> list[str]:
    """Names assigned in the chapter's `parameters` cell, in order ([] when it has none)."""
    cell = parameters_cell(read_chapter(path))
    if cell is None:
        return []
    names = []
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            for name in ast.walk(target):  # a Name, or the Names of a tuple target
                if isinstance(name, ast.Name) and name.id not in names:
                    names.append(name.id)
    return names


def execute_chapter(path: Path, out_dir: Path, **params) -> Path:
    """Run one chapter end to end with papermill and return the executed notebook's path.

    The MyST source is converted to `<out_dir>/<stem>.source.ipynb`; the run is written to
    `<out_dir>/<stem>.ipynb`. The kernel starts in chapters/, like the book build, and is given only
    the parameters the chapter declares. A failing cell raises papermill's PapermillExecutionError.
    """
    path = Path(path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / f"{path.stem}.source.ipynb"
    output = out_dir / f"{path.stem}.ipynb"
    jupytext.write(read_chapter(path), source, fmt="ipynb")
    declared = set(chapter_parameters(path))
    papermill.execute_notebook(
        str(source),
        str(output),
        parameters={k: v for k, v in params.items() if k in declared},
        kernel_name=KERNEL,
        language="python",
        cwd=str(path.parent),
        execution_timeout=CELL_TIMEOUT_S,
        progress_bar=False,
    )
    return output


class ExecutedChapters(Mapping):
    """{chapter .md path: executed .ipynb path}, each chapter executed on first access, once.

    A chapter whose run failed raises the same error on every access, so only the tests of that
    chapter fail, and a test run selecting one chapter executes only that one.
    """

    def __init__(self, chapters: list[Path], out_dir: Path, params: dict):
        self._chapters = list(chapters)
        self._out_dir = Path(out_dir)
        self._params = dict(params)
        self._done: dict[Path, Path | BaseException] = {}

    def __getitem__(self, chapter: Path) -> Path:
        chapter = Path(chapter)
        if chapter not in self._chapters:
            raise KeyError(chapter)
        if chapter not in self._done:
            try:
                self._done[chapter] = execute_chapter(chapter, self._out_dir, **self._params)
            except Exception as exc:  # kept, and raised again for every test of this chapter
                self._done[chapter] = exc
        result = self._done[chapter]
        if isinstance(result, BaseException):
            raise result
        return result

    def __iter__(self) -> Iterator[Path]:
        return iter(self._chapters)

    def __len__(self) -> int:
        return len(self._chapters)


def _parse_plain(text: str):
    """A text/plain repr back to a Python value where it is a literal (numpy scalars included)."""
    text = text.strip()
    scalar = re.fullmatch(r"np\.[a-z_]+\d*\((.*)\)", text)  # numpy 2 reprs: np.float64(0.5)
    if scalar:
        text = scalar.group(1)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    try:
        return float(text)  # 'nan', 'inf', '-inf' are not literals but are numbers
    except ValueError:
        return text


def read_glue(ipynb: Path) -> dict:
    """{name: value} of everything a notebook glued with myst_nb.glue.

    myst-nb writes each glue as a display_data output whose metadata.scrapbook holds the name and
    the prefix of its mime types (empty when displayed, "application/papermill.record/" when
    not). The value is the text/plain representation, parsed back with ast.literal_eval where
    possible; anything else (an array, a figure) is returned as that text.
    """
    nb = nbformat.read(str(ipynb), as_version=4)
    glued = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            if output.get("output_type") != "display_data" or not scrapbook:
                continue
            prefix = scrapbook.get("mime_prefix", "")
            data = output.get("data", {})
            text = data.get(prefix + "text/plain", data.get("text/plain"))
            glued[scrapbook["name"]] = _parse_plain(text) if text is not None else None
    return glued


def output_text(output: nbformat.NotebookNode) -> str:
    """The readable text of one cell output (stream, result, display or error)."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    data = output.get("data", {})
    for mime in ("text/markdown", "text/plain", "text/html"):
        if mime in data:
            return data[mime]
    return ""


def first_output_text(ipynb: Path) -> str:
    """The text of the first output of the executed notebook (papermill's own cells have none)."""
    nb = nbformat.read(str(ipynb), as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            return output_text(output)
    return ""


_VERDICT = re.compile(r"^(?P<mark>[✓✗]) Exercise (?P<number>\S+) \((?P<label>ex-[\w-]+)\): (?P<message>.*)$", re.M)


def self_check_verdicts(ipynb) -> dict[str, list[str]]:
    """{exercise label: [verdict lines]} printed by neurolab.teaching.exercises.check in an executed notebook."""
    nb = nbformat.read(str(ipynb), as_version=4)
    found: dict[str, list[str]] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for match in _VERDICT.finditer(output_text(output)):
                found.setdefault(match["label"], []).append(match.group(0))
    return found
