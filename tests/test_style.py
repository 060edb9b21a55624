"""Code a reader sees stays readable: chapter code fits a laptop column, and the code base passes
the linter configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chapter_runner import ROOT, read_chapter, toc_chapters

MAX_CHAPTER_LINE = 88
"""Characters per line of chapter code (code cells and exercise stubs): the book's code column and
a laptop's notebook both show about this many without scrolling sideways."""


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_chapter_code_lines_fit_the_column(chapter):
    too_long = []
    for i, cell in enumerate(read_chapter(chapter).cells):
        texts = [cell.source] if cell.cell_type == "code" else []
        stub = cell.get("metadata", {}).get("stub")
        if isinstance(stub, str):
            texts.append(stub)
        for text in texts:
            too_long += [f"cell {i}: {len(line)} > {MAX_CHAPTER_LINE}: {line}" for line in text.splitlines()
                         if len(line) > MAX_CHAPTER_LINE]
    assert not too_long, "\n".join(too_long)


def test_ruff_passes():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed (it is pinned in requirements.txt)")
    run = subprocess.run([ruff, "check", "--no-cache", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
