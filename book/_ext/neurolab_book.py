"""Sphinx extension for the neurolab book (loaded through ``sphinx.local_extensions`` in _config.yml).

1. Plotly, offline and once. A chapter embeds an interactive figure as
   ``IPython.display.HTML(fig.to_html(include_plotlyjs=False, full_html=False))``: a ``<div>`` plus
   a small script that calls ``Plotly.newPlot``. The library itself (several MB) is neither inlined
   into every page nor fetched from a CDN: the build copies ``plotly.min.js`` from the installed
   plotly package into ``_build/html/_static/`` once, and every page whose body holds a plotly
   figure gets a ``<script>`` tag for it in ``<head>``, so ``Plotly`` exists before the figure's
   own script runs. The copied file always matches the plotly version the notebooks ran with.

2. The repository address in one place. ``repository.url`` and ``repository.branch`` in
   _config.yml feed the launch buttons; this extension also exposes them to MyST pages as the
   substitutions ``{{ repo_url }}`` and ``{{ repo_branch }}``, and ``{{ colab_install }}``, the
   notebook cell that installs the package from that repository, so no page repeats the address.

5. MathJax, offline. Sphinx loads MathJax 3 from a CDN by default; the book ships it instead, from
   the pinned ``django-static-mathjax`` wheel (MathJax's own files, no Django needed): the
   ``tex-mml-chtml`` component, its CommonHTML fonts and the lazily loaded TeX extensions, copied
   into ``_static/mathjax/`` once per build, with ``mathjax_path`` pointing there.

3. A clean browser console. The theme stack prints two errors on a first visit that the browser
   test would (rightly) flag: sphinx-thebe's configuration script is emitted twice (``const
   THEBE_JS_URL`` declared twice), and pydata-sphinx-theme rejects the empty colour mode it reads
   from a fresh ``localStorage``. Duplicate scripts are dropped from each page, and an empty mode
   is set to "auto" (the theme's own default) before the theme's deferred script reads it.

6. Launch buttons that open the notebooks. Jupyter Book's Colab and Binder buttons point at a
   page's source file, a chapter's ``.md``, which Colab cannot open. On chapter pages the rocket
   menu is rewritten to open the committed student notebook (``notebooks/student/<chapter>.ipynb``
   in the repository, ``editions.launch_urls``) on Colab and Binder, with the instructor edition
   one entry further down.

7. Pages for everyone. ``static/neurolab.css`` keeps every page from scrolling sideways on a
   390 px phone (long inline code and API signatures wrap; wide tables scroll in their own box).
   After the build each page's HTML gets three fixes of the theme stack's markup that axe-core
   flags as serious or critical (``ACCESSIBILITY_FIXES``): a button or disclosure whose
   ``aria-label`` hides its visible text (the search field, myst-nb's "Show code cell source"),
   icons with ``title`` inside the colour-mode button (decorative, so ``aria-hidden``), and the
   bibliography's ``role="list"`` that holds no list items.

4. Student and instructor notebooks, linked from every chapter. At the end of an HTML build the
   notebooks of each chapter (``editions.py`` beside this file: the student edition with one stub per
   exercise and no solutions, the instructor edition with them) are written to
   ``_build/html/notebooks/{student,instructor}/<chapter>.ipynb``, and every chapter page gets a
   short box under its title that links both. The links are relative, so they work in a local
   build, on GitHub Pages and from the tests' temporary builds alike, and they are never dead:
   the build that writes the page writes the files. ``make student`` writes the same notebooks
   outside a book build (into ``_build/notebooks/``).
"""

from __future__ import annotations

import filecmp
import html
import posixpath
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

PLOTLY_JS = "plotly.min.js"
PLOTLY_DIV_CLASS = "plotly-graph-div"
"""The class plotly gives the <div> of every figure it writes with ``to_html``."""

# Before the default priority (500), so plotly defines its global ahead of require.js, which
# myst-nb adds to pages with ipywidgets state; plotly's UMD wrapper would otherwise register
# itself as an anonymous AMD module instead of setting window.Plotly.
PLOTLY_JS_PRIORITY = 400


def plotly_js_source() -> Path:
    """The minified plotly.js shipped inside the installed plotly package."""
    try:
        import plotly
    except ImportError as exc:  # plotly is pinned in requirements.txt
        raise ExtensionError("neurolab_book needs the plotly package to ship plotly.js") from exc
    path = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    if not path.is_file():
        raise ExtensionError(f"plotly {plotly.__version__} has no {PLOTLY_JS} at {path}")
    return path


def _add_repository_substitutions(app: Sphinx, config: Config) -> None:
    theme = config.html_theme_options or {}
    url = theme.get("repository_url", "").rstrip("/")
    branch = theme.get("repository_branch", "main")
    substitutions = dict(config.myst_substitutions or {})
    substitutions.setdefault("repo_url", url)
    substitutions.setdefault("repo_branch", branch)
    from editions import install_command  # beside this file: the one install line of the course

    substitutions.setdefault(
        "colab_install", f"`%{install_command(url, branch)}`"
    )
    config.myst_substitutions = substitutions


def _load_plotly_where_used(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    # Called for one page at a time: Sphinx adds a file registered here to this page only.
    if PLOTLY_DIV_CLASS in context.get("body", ""):
        app.add_js_file(PLOTLY_JS, priority=PLOTLY_JS_PRIORITY)


THEME_MODE_FIX = 'if (!document.documentElement.dataset.mode) { document.documentElement.dataset.mode = "auto"; }'


def _drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


MATHJAX_COMPONENT = "tex-mml-chtml.js"
MATHJAX_PARTS = (MATHJAX_COMPONENT, "output/chtml", "input/tex/extensions", "a11y", "ui")
"""What tex-mml-chtml needs at run time, relative to MathJax's es5/ folder (about 4 MB)."""


def mathjax_source() -> Path:
    """MathJax 3's es5/ folder inside the installed django-static-mathjax package."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        es5 = Path(folder) / "static" / "mathjax" / "es5"
        if (es5 / MATHJAX_COMPONENT).is_file():
            return es5
    raise ExtensionError("neurolab_book needs the django-static-mathjax package to ship MathJax offline")


def _use_local_mathjax(app: Sphinx, config: Config) -> None:
    config.mathjax_path = f"mathjax/{MATHJAX_COMPONENT}"


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)


def _copy_plotly_js(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = plotly_js_source()
    target = Path(app.outdir) / "_static" / PLOTLY_JS
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (target.is_file() and filecmp.cmp(source, target, shallow=False)):
        shutil.copyfile(source, target)


CHAPTERS_PREFIX = "chapters/"
"""Docnames of the course's chapters start with this (the folder they live in)."""

NOTEBOOKS_DIR = "notebooks"
"""Folder of the built site holding ``student/<chapter>.ipynb`` and ``instructor/<chapter>.ipynb``."""


def _is_chapter(docname: str) -> bool:
    return docname.startswith(CHAPTERS_PREFIX)


def _link_chapter_notebooks(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """A box under a chapter's title with download links to its two notebooks."""
    if app.builder.format != "html" or not _is_chapter(docname):
        return
    page = app.builder.get_target_uri(docname)
    stem = posixpath.basename(docname)
    href = {
        edition: html.escape(relative_uri(page, f"{NOTEBOOKS_DIR}/{edition}/{stem}.ipynb"))
        for edition in ("student", "instructor")
    }
    text = (
        f'<p>Download the <a class="reference external" href="{href["student"]}" download>student '
        f"notebook</a> (the exercises are yours to solve: each one's cell raises an error until you "
        f'do) or the <a class="reference external" href="{href["instructor"]}" download>instructor '
        f"notebook</a> (with the solutions), or open it on Colab or Binder from the rocket menu at the "
        f"top of the page: its first cell installs the course package on Colab.</p>"
    )
    box = nodes.admonition("", classes=["tip", "neurolab-notebooks"])
    box += nodes.title("", "Run this chapter yourself")
    box += nodes.raw("", text, format="html")
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and len(section) and isinstance(section[0], nodes.title):
        section.insert(1, box)
    else:
        doctree.insert(0, box)


LAUNCH_GROUP = "launch-buttons"
"""The label sphinx-book-theme gives its rocket menu in ``context["header_buttons"]``."""


def _launch_chapter_notebooks(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """On a chapter page, the rocket menu's Colab and Binder entries open the chapter's notebooks."""
    if not _is_chapter(pagename):
        return
    from editions import launch_urls  # beside this file

    theme = app.config.html_theme_options or {}
    url, branch = theme.get("repository_url", "").rstrip("/"), theme.get("repository_branch", "main")
    if not url:
        return
    stem = posixpath.basename(pagename)
    for group in context.get("header_buttons", []):
        if group.get("label") != LAUNCH_GROUP:
            continue
        icons = {button["text"]: button.get("icon") for button in group.get("buttons", [])}
        buttons = []
        for edition, suffix in (("student", ""), ("instructor", ", instructor")):
            urls = launch_urls(url, branch, stem, edition)
            for service, text in (("colab", "Colab"), ("binder", "Binder")):
                buttons.append(
                    {
                        "type": "link",
                        "text": f"{text}{suffix}",
                        "tooltip": f"Open the {edition} notebook on {text}",
                        "icon": icons.get(text) or f"_static/images/logo_{service}.svg",
                        "url": urls[service],
                        "label": f"launch-{service}-{edition}",
                    }
                )
        group["buttons"] = buttons


STATIC_DIR = Path(__file__).parent / "static"
CSS_FILE = "neurolab.css"

ACCESSIBILITY_FIXES = (
    # myst-nb's hide-input toggle: the visible "Show code cell source" is its name
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
    # the search field shows "Search Ctrl+K": let that text be its name
    (
        '<button class="btn search-button-field search-button__button pst-js-only" title="Search" aria-label="Search"',
        '<button class="btn search-button-field search-button__button pst-js-only" title="Search"',
    ),
    # the colour-mode button is named "Color mode"; its three icons are decoration, and their
    # titles ("Light", "Dark", ...), which Font Awesome turns into <title> elements, contradict it
    (r'<i (?:aria-hidden="true" )?class="theme-switch ([^"]*)" data-mode="(\w+)"\s+title="[^"]*"></i>',
     r'<i aria-hidden="true" class="theme-switch \1" data-mode="\2"></i>'),
    # docutils' citation list holds citations, not list items
    ('<div role="list" class="citation-list">', '<div class="citation-list">'),
    # and each citation's role doc-biblioentry is deprecated in ARIA 1.2 (axe: minor)
    (' role="doc-biblioentry"', ""),
)
"""(before, after) applied to every built HTML page (see item 7 above); a ``before`` that starts with
``<i `` is a regular expression, the others plain text."""


def accessible_html(text: str) -> str:
    """A page's HTML with ``ACCESSIBILITY_FIXES`` applied."""
    for before, after in ACCESSIBILITY_FIXES:
        if before.startswith("<i "):
            text = re.sub(before, after, text)
        else:
            text = text.replace(before, after)
    return text


def _add_static(app: Sphinx) -> None:
    app.config.html_static_path = [*app.config.html_static_path, str(STATIC_DIR)]


def _fix_accessibility(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = accessible_html(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def _write_chapter_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Write the student and instructor notebooks of every chapter into the built site."""
    if exception is not None or app.builder.format != "html":
        return
    from editions import write_notebooks  # beside this file (book/_ext is on sys.path)

    chapters = [Path(app.env.doc2path(docname)) for docname in sorted(app.env.found_docs) if _is_chapter(docname)]
    theme = app.config.html_theme_options or {}
    url = theme.get("repository_url", "").rstrip("/")
    repository = (url, theme.get("repository_branch", "main")) if url else None  # else: from _config.yml
    try:
        write_notebooks(chapters, Path(app.outdir) / NOTEBOOKS_DIR, repository=repository)
    except (ValueError, OSError) as exc:
        raise ExtensionError(f"could not write the chapters' student/instructor notebooks: {exc}") from exc


class CoursePlanDirective(SphinxDirective):
    """``{course-plan} chapters`` or ``{course-plan} exercises``: a planning table of the instructors'
    page, made at build time from the chapters, the checkers and book/course_plan.yml
    (``course_plan.py`` beside this file); the build fails when the plan misses an exercise."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        import course_plan
        from docutils.statemachine import StringList

        root = Path(self.env.srcdir)
        makers = {"chapters": course_plan.chapters_markdown, "exercises": course_plan.exercises_markdown}
        what = self.arguments[0]
        if what not in makers:
            raise self.error(f"course-plan: the argument must be one of {sorted(makers)}, not {what!r}")
        try:
            text = makers[what](root)
        except ValueError as error:
            raise self.error(f"course-plan: {error}") from None
        for dependency in ("book/course_plan.yml", "benchmarks/results/benchmarks.json",
                           "benchmarks/results/chapter_profile.json"):
            if (root / dependency).is_file():
                self.env.note_dependency(str(root / dependency))
        container = nodes.container(classes=["course-plan"])
        self.state.nested_parse(StringList(text.split("\n"), source="course_plan"), self.content_offset, container)
        return [container]


def setup(app: Sphinx) -> dict:
    app.add_directive("course-plan", CoursePlanDirective)
    app.setup_extension("myst_nb")  # registers myst_substitutions before config-inited fires
    app.connect("config-inited", _add_repository_substitutions)
    app.connect("html-page-context", _load_plotly_where_used)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    app.add_js_file(None, body=THEME_MODE_FIX, priority=1)
    app.connect("build-finished", _copy_plotly_js)
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    app.connect("doctree-resolved", _link_chapter_notebooks)
    # After sphinx-book-theme's add_launch_buttons (priority 501) has built the rocket menu.
    app.connect("html-page-context", _launch_chapter_notebooks, priority=502)
    app.connect("build-finished", _write_chapter_notebooks)
    app.connect("builder-inited", _add_static)
    app.add_css_file(CSS_FILE)
    app.connect("build-finished", _fix_accessibility)
    plotly_js_source()  # fail at start-up, not after executing every notebook
    mathjax_source()
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
