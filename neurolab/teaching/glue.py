"""Putting a run's numbers into a chapter's prose: the chapters' two glue helpers, written once.

A chapter writes ``{glue:text}`name:.1%``` (a number) or ``{glue:md}`name``` (a sentence) in its
prose; these store the value under that name in the executed notebook (myst-nb's ``glue``), so
the book shows the number of the run it was built from.
"""

from __future__ import annotations

__all__ = ["glue_markdown", "glue_value"]


def glue_value(key: str, value) -> None:
    """Glue a plain Python number or string for ``{glue:text}`` (numpy scalars made plain)."""
    from myst_nb import glue

    glue(key, value.item() if hasattr(value, "item") else value, display=False)


def glue_markdown(key: str, text: str) -> None:
    """Glue a sentence that depends on the data, rendered as Markdown by ``{glue:md}``."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(key, Markdown(text), display=False)
