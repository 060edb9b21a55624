"""The built book in a real browser: headless Debian Chromium driven by Playwright.

Every page loads with no console error and no request leaving 127.0.0.1; each chapter page shows
its figures; the 3D neuron figure renders (a WebGL canvas of non-zero size); exercise solutions are
collapsed and open on click. Required when CI is set; skipped, with the reason, without Chromium.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
from notebooks import ROOT, toc_chapters, toc_files

pytestmark = [pytest.mark.browser, pytest.mark.book, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",  # software WebGL, so plotly's 3D scatter renders headless
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but Chromium is missing: .ci/run installs Debian's chromium")
    pytest.skip("Chromium not found (install Debian's chromium to run the browser test)", allow_module_level=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """The built book served on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, url: str):
    """Open url; returns (page, console errors, requests that left 127.0.0.1)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    page.on("response", lambda r: errors.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)
    return page, errors, outside


PAGES = [Path(entry).with_suffix(".html").as_posix() for entry in toc_files()]


@pytest.mark.parametrize("page_path", PAGES)
def test_page_loads_cleanly_and_offline(page_path, site, browser):
    page, errors, outside = _open(browser, f"{site}/{page_path}")
    try:
        assert page.title(), f"{page_path}: no title"
        assert not errors, f"{page_path}: console errors {errors}"
        assert not outside, f"{page_path}: requests left 127.0.0.1: {outside}"
    finally:
        page.close()


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_chapter_figures_are_visible_and_solutions_toggle(chapter, site, browser):
    url = f"{site}/{chapter.relative_to(ROOT).with_suffix('.html').as_posix()}"
    page, errors, _ = _open(browser, url)
    try:
        images = page.locator("article img")
        plots = page.locator("article .plotly-graph-div")
        assert images.count() + plots.count() >= 1, f"{chapter.name}: no figure on the page"
        for i in range(images.count()):
            loaded = images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
            assert loaded, f"{chapter.name}: image {i} did not load"
        solutions = page.locator("div.solution.dropdown")
        assert solutions.count() >= 2, f"{chapter.name}: fewer than two solutions"
        for i in range(solutions.count()):
            sol = solutions.nth(i)
            sol.scroll_into_view_if_needed()
            body = sol.locator(".solution-content, section").first
            assert not body.is_visible(), f"{chapter.name}: solution {i} is open before a click"
            sol.locator("button.toggle-button").first.click()
            body.wait_for(state="visible", timeout=3000)
        assert not errors, f"{chapter.name}: console errors {errors}"
    finally:
        page.close()


def test_3d_neuron_figure_renders(site, browser):
    """At least one chapter has a 3D plotly figure, drawn into a WebGL canvas of non-zero size."""
    drawn = []
    for chapter in toc_chapters():
        url = f"{site}/{chapter.relative_to(ROOT).with_suffix('.html').as_posix()}"
        page, errors, _ = _open(browser, url)
        try:
            scenes = page.locator(".plotly-graph-div .gl-container canvas")
            for i in range(scenes.count()):
                canvas = scenes.nth(i)
                canvas.scroll_into_view_if_needed()
                box = canvas.bounding_box()
                if box and box["width"] > 50 and box["height"] > 50:
                    drawn.append((chapter.stem, box["width"], box["height"]))
            assert not errors, f"{chapter.name}: console errors {errors}"
        finally:
            page.close()
    assert drawn, "no chapter rendered a 3D neuron figure"
