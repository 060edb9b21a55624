"""The book builds, warnings as errors, from the chapters as the tests executed them (smoke size).

The build itself is the session fixture ``built_book`` (tests/conftest.py), shared with the browser test.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from chapter_runner import ROOT, TOC, toc_chapters, toc_files

pytestmark = [pytest.mark.book, pytest.mark.slow]

STRINGER_2019 = "High-dimensional geometry of population responses in visual cortex"

_FIGURE_IMG = re.compile(r'<img\b[^>]*\bsrc="[^"]*_images/[^"]+"')
_PLOTLY_DIV = re.compile(r'<div\b[^>]*\bclass="[^"]*plotly-graph-div')
_SOLUTION = re.compile(r'<div\b[^>]*\bclass="[^"]*\bsolution\b[^"]*\bdropdown\b')


def _figures_in_notebook(ipynb: Path) -> int:
    """Figures among the outputs of an executed notebook: images, and plotly HTML."""
    nb = nbformat.read(str(ipynb), as_version=4)
    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(mime.startswith("image/") for mime in data):
                count += 1
            elif "plotly-graph-div" in data.get("text/html", ""):
                count += 1
    return count


def _page(html_dir: Path, toc_entry: str) -> Path:
    return html_dir / Path(toc_entry).with_suffix(".html")


def test_book_has_every_toc_page(built_book):
    assert (built_book / "index.html").is_file()
    missing = [entry for entry in toc_files(TOC) if not _page(built_book, entry).is_file()]
    assert not missing, f"pages listed in _toc.yml but not built: {missing}"


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_chapter_page_shows_its_figures(chapter, built_book, executed_chapters):
    expected = _figures_in_notebook(executed_chapters[chapter])
    assert expected >= 1, f"{chapter.name}: the executed chapter drew no figure"
    html = _page(built_book, str(chapter.relative_to(ROOT))).read_text()
    shown = len(_FIGURE_IMG.findall(html)) + len(_PLOTLY_DIV.findall(html))
    assert shown >= expected, f"{chapter.name}: {expected} figures in the notebook, {shown} on the page"
    if _PLOTLY_DIV.search(html):
        assert "_static/plotly.min.js" in html, f"{chapter.name}: plotly figure without plotly.min.js"


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_chapter_solutions_render_collapsed(chapter, built_book):
    html = _page(built_book, str(chapter.relative_to(ROOT))).read_text()
    n_exercises = len(re.findall(r"^\s*(?:`{3,}|:{3,})\{exercise\}", chapter.read_text(), re.M))
    assert len(_SOLUTION.findall(html)) == n_exercises, f"{chapter.name}: solutions not rendered as dropdowns"
    assert "togglebutton.js" in html, f"{chapter.name}: the dropdown script is not loaded"


def test_plotly_js_ships_once(built_book):
    shipped = list(built_book.rglob("plotly*.js"))
    assert [p.relative_to(built_book).as_posix() for p in shipped] == ["_static/plotly.min.js"]
    assert shipped[0].read_text()[:100].lstrip("/* \n").startswith("plotly.js v")
    for page in built_book.rglob("*.html"):
        html = page.read_text()
        assert "cdn.plot.ly" not in html, f"{page.name} loads plotly.js from a CDN"
        assert "* plotly.js v" not in html, f"{page.name} inlines plotly.js"


def test_bibliography_lists_stringer_2019(built_book):
    html = _page(built_book, "book/references").read_text()
    assert STRINGER_2019 in html
    assert "10.1038/s41586-019-1346-5" in html
