"""Shared fixtures."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from chapter_runner import ROOT, SMOKE_PARAMS, ExecutedChapters, toc_chapters

BOOK_SOURCES = ("_config.yml", "_toc.yml", "book", "chapters")
BUILD_TIMEOUT_S = 900


@pytest.fixture(scope="session")
def executed_chapters(tmp_path_factory):
    """{chapter .md: executed .ipynb} for every chapter in _toc.yml, run once at SMOKE_PARAMS.

    Each chapter runs the first time a test asks for it; the chapter tests and the book build
    share the runs.
    """
    return ExecutedChapters(toc_chapters(), tmp_path_factory.mktemp("executed"), SMOKE_PARAMS)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, executed_chapters) -> Path:
    """The book built once per session at smoke size, warnings as errors; returns _build/html.

    The sources are copied to a temporary folder and each chapter's MyST file is replaced by its
    papermill-executed notebook, with execution off, so no chapter runs twice in a session.
    """
    src = tmp_path_factory.mktemp("book")
    for name in BOOK_SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
        elif path.exists():
            shutil.copy2(path, src / name)
    for chapter in toc_chapters():
        copied = src / chapter.relative_to(ROOT)
        copied.unlink()
        shutil.copy2(executed_chapters[chapter], copied.with_suffix(".ipynb"))

    config = yaml.safe_load((src / "_config.yml").read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jupyter_book), "build", str(src), "-W", "-n", "--keep-going"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    log = (run.stdout + run.stderr)[-6000:]
    assert run.returncode == 0, f"jupyter-book build failed ({run.returncode}):\n{log}"
    return src / "_build" / "html"


def pytest_terminal_summary(terminalreporter):
    """axe-core's figures per page, when the browser test ran (tests/test_browser.py)."""
    figures = getattr(sys.modules.get("test_browser"), "AXE_FIGURES", None)
    if not figures:
        return
    terminalreporter.section("axe-core violations per page (critical / serious / moderate / minor)")
    for page, counts in sorted(figures.items()):
        terminalreporter.line(
            f"{page:40s} {counts['critical']:3d} {counts['serious']:3d} {counts['moderate']:3d} {counts['minor']:3d}"
        )
