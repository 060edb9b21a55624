"""The built book in a real browser: headless Debian Chromium driven by Playwright.

Every page loads with no console error and no request leaving 127.0.0.1; each chapter page shows
its figures; the 3D neuron figure renders (a WebGL canvas of non-zero size); exercise solutions are
collapsed and open on click. Each chapter's Colab and Binder entries, clicked, go to that chapter's
committed student (or instructor) notebook. Every page passes axe-core with no critical or serious
violation (the figures per page are printed at the end of the run), no page scrolls sideways on a
390 px phone, and every figure has alt text that says what it shows. Required when CI is set;
skipped, with the reason, without Chromium (or, outside CI, without axe-core).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
from chapter_runner import ROOT, toc_chapters, toc_files
from editions import launch_urls, notebook_path, read_repository

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


# ---------------------------------------------------------------------------------------------
# One click to a running notebook

LAUNCH_HOSTS = ("https://colab.research.google.com/", "https://mybinder.org/")


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_launch_buttons_open_the_chapters_notebooks(chapter, site, browser):
    """Click each entry of the rocket menu: Colab and Binder open the committed student notebook,
    their instructor entries the instructor notebook. The outside hosts are answered by the test
    (the machine is offline); what is checked is the address the click asks for."""
    url, branch = read_repository(ROOT / "_config.yml")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    asked = []

    def answer(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>launched</title>")

    for host in LAUNCH_HOSTS:
        context.route(f"{host}**", answer)
    page = context.new_page()
    try:
        page.goto(f"{site}/{chapter.relative_to(ROOT).with_suffix('.html').as_posix()}", wait_until="load")
        expected = {}
        for edition in ("student", "instructor"):
            urls = launch_urls(url, branch, chapter.stem, edition)
            for service in ("colab", "binder"):
                expected[f"launch-{service}-{edition}"] = urls[service]
            assert (ROOT / notebook_path(chapter.stem, edition)).is_file()
        for label, target in expected.items():
            page.locator(".dropdown-launch-buttons > button").click()
            entry = page.locator(f".dropdown-launch-buttons a.btn-{label}")
            entry.wait_for(state="visible", timeout=3000)
            with context.expect_page() as opened:
                entry.click()
            opened.value.wait_for_load_state()
            assert opened.value.url == target, f"{chapter.name}: {label} opened {opened.value.url}"
            opened.value.close()
        assert sorted(asked) == sorted(expected.values())
        for address in expected.values():
            assert address.endswith(".ipynb"), address
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------
# Pages for everyone

AXE_JS = os.environ.get("NEUROLAB_AXE_JS") or str(ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js")
AXE_FIGURES: dict[str, dict[str, int]] = {}
"""{page: {impact: number of violations}}, printed by conftest's terminal summary."""


def _axe_source() -> str:
    path = Path(AXE_JS)
    if not path.is_file():
        if os.environ.get("CI"):
            raise RuntimeError(f"CI is set but axe-core is missing at {path}: `make axe` installs it")
        pytest.skip(f"axe-core not found at {path} (make axe installs it)")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("page_path", PAGES)
def test_axe_finds_no_critical_or_serious_violation(page_path, site, browser):
    source = _axe_source()
    page, _, _ = _open(browser, f"{site}/{page_path}")
    try:
        page.add_script_tag(content=source)
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
                v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 3),
                       count: v.nodes.length}))"""
        )
    finally:
        page.close()
    counts = {impact: 0 for impact in ("critical", "serious", "moderate", "minor")}
    for violation in violations:
        counts[violation["impact"] or "minor"] += violation["count"]
    AXE_FIGURES[page_path] = counts
    bad = [v for v in violations if v["impact"] in ("critical", "serious")]
    assert not bad, f"{page_path}: axe-core violations {bad}"


@pytest.mark.parametrize("page_path", PAGES)
def test_no_page_scrolls_sideways_on_a_phone(page_path, site, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(f"{site}/{page_path}", wait_until="load")
        page.wait_for_timeout(300)
        width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        wide = page.evaluate(
            """() => [...document.querySelectorAll("article *")]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                             && !e.closest("pre, table, .plotly-graph-div, .MathJax, mjx-container"))
                .slice(0, 5).map(e => e.tagName + " " + (e.textContent || "").trim().slice(0, 60))"""
        )
    finally:
        page.close()
    assert width <= inner, f"{page_path}: the page is {width} px wide in a {inner} px window: {wide}"


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_every_figure_says_what_it_shows(chapter, site, browser):
    """Every image has alt text that is a sentence (not empty, not a file name or hash); every 3D
    view has a title and a text alternative (an aria-label and a visible caption)."""
    page, _, _ = _open(browser, f"{site}/{chapter.relative_to(ROOT).with_suffix('.html').as_posix()}")
    try:
        alts = page.locator("article img").evaluate_all("imgs => imgs.map(i => i.getAttribute('alt') || '')")
        views = page.locator("article figure.neurolab-3d").evaluate_all(
            """figs => figs.map(f => ({label: f.getAttribute('aria-label') || '',
                caption: (f.querySelector('figcaption') || {}).textContent || '',
                title: (f.querySelector('.gtitle') || {}).textContent || ''}))"""
        )
        n_plotly = page.locator("article .plotly-graph-div").count()
    finally:
        page.close()
    for i, alt in enumerate(alts):
        assert len(alt.split()) >= 6, f"{chapter.name}: image {i} has alt text {alt!r}"
        assert not any(s in alt for s in (".png", ".svg", "/", "_images")), f"{chapter.name}: image {i}: {alt!r}"
    assert len(alts) == len(set(alts)), f"{chapter.name}: two figures share one alt text"
    assert len(views) == n_plotly, f"{chapter.name}: a 3D view without its text alternative"
    for view in views:
        assert view["title"].strip() and len(view["caption"].split()) >= 6 and view["caption"] in view["label"]
