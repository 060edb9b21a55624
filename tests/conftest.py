"""Shared fixtures."""

import pytest

from chapters import SMOKE_PARAMS, ExecutedChapters, toc_chapters


@pytest.fixture(scope="session")
def executed_chapters(tmp_path_factory):
    """{chapter .md: executed .ipynb} for every chapter in _toc.yml, run once at SMOKE_PARAMS.

    Each chapter runs the first time a test asks for it; the chapter tests and the book build
    share the runs.
    """
    return ExecutedChapters(toc_chapters(), tmp_path_factory.mktemp("executed"), SMOKE_PARAMS)
