"""Putting a run's numbers into a chapter's prose, in the book and in the notebooks alike.

In the book, a chapter writes ``{glue:text}`name:.1%``` (a number) or ``{glue:md}`name``` (a
sentence) in its prose; :func:`glue` stores the value under that name in the executed notebook
(myst-nb's ``glue``), so the page shows the number of the run it was built from.

In a notebook (Jupyter, JupyterLab, Colab, Binder) MyST roles are not rendered. The notebook
editions turn each paragraph that holds glued values into a small code cell,
``show("... {name:.1%} ...")``: a ``str.format`` template (``{{`` and ``}}`` for literal braces)
that :func:`show` displays as Markdown with the values of the learner's own run. A value that the
notebook computes further down shows as a placeholder first and is filled in, in place, when the
cell that computes it runs (IPython's display updates).

The values of this kernel's run are kept in a dictionary (:func:`glued`); every glue of a chapter
goes through this module, so the book and the notebooks read the same numbers.
"""

from __future__ import annotations

import string

__all__ = ["PENDING", "glue", "glue_markdown", "glue_value", "glued", "render", "show"]

PENDING = "\u27e8computed below\u27e9"
"""What a value not computed yet shows as: ``show`` fills it in when the value is glued."""

_VALUES: dict[str, object] = {}
_PENDING: list[tuple[str, object]] = []  # (template, display handle) still waiting for a value


def glued() -> dict[str, object]:
    """{name: value} of everything glued in this kernel so far (a copy)."""
    return dict(_VALUES)


def glue(name: str, value, display: bool = False) -> None:
    """Record ``value`` under ``name`` for the prose: myst-nb's ``glue`` (for the book) and this
    kernel's dictionary (for :func:`show`). Same signature as ``myst_nb.glue``.

    Any paragraph shown by :func:`show` that was waiting for ``name`` is updated in place.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue name {name!r} must be a Python identifier (letters, digits, _)")
    _VALUES[name] = value
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # a bare runtime: the notebooks need only the dictionary
        if display:
            from IPython.display import display as show_now

            show_now(value)
    else:
        myst_glue(name, value, display=display)
    _refresh()


def glue_value(key: str, value) -> None:
    """Glue a plain Python number or string for ``{glue:text}`` (numpy scalars made plain)."""
    glue(key, value.item() if hasattr(value, "item") else value, display=False)


def glue_markdown(key: str, text: str) -> None:
    """Glue a sentence that depends on the data, rendered as Markdown by ``{glue:md}``."""
    from IPython.display import Markdown

    glue(key, Markdown(text), display=False)


class _Formatter(string.Formatter):
    def __init__(self, values: dict):
        super().__init__()
        self.values, self.missing = values, []

    def get_value(self, key, args, kwargs):
        if key not in self.values:
            self.missing.append(key)
            return PENDING
        return self.values[key]

    def format_field(self, value, format_spec):
        if value is PENDING:
            return PENDING
        data = getattr(value, "data", None)  # an IPython Markdown object
        if isinstance(data, str) and not isinstance(value, str):
            return format(data, format_spec)
        if isinstance(value, str) or not format_spec:
            return format(value, format_spec) if isinstance(value, str) else str(value)
        return format(value, format_spec)


def render(template: str, values: dict | None = None) -> tuple[str, list[str]]:
    """(markdown, names not glued yet): ``template`` with each ``{name:spec}`` replaced by the
    glued value formatted with ``spec`` (``format(value, spec)``), a glued Markdown object by its
    text, and a name not glued yet by :data:`PENDING`."""
    formatter = _Formatter(_VALUES if values is None else values)
    return formatter.format(template), formatter.missing


def show(template: str) -> None:
    """Display ``template`` (see :func:`render`) as Markdown with this run's values; a paragraph
    still waiting for a value is updated in place once the value is glued."""
    from IPython.display import Markdown, display

    text, missing = render(template)
    handle = display(Markdown(text), display_id=True)
    if missing and handle is not None:
        _PENDING.append((template, handle))


def _refresh() -> None:
    from IPython.display import Markdown

    for item in list(_PENDING):
        template, handle = item
        text, missing = render(template)
        handle.update(Markdown(text))
        if not missing:
            _PENDING.remove(item)
