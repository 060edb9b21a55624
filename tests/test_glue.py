"""neurolab.teaching.glue: one dictionary of glued values, and show(), which prints a paragraph with
them in a notebook and fills in a value computed later, in place (a real kernel runs it)."""

from __future__ import annotations

import nbformat
import pytest
from chapter_runner import KERNEL
from IPython.display import Markdown
from nbclient import NotebookClient

from neurolab.teaching import glue as glue_module
from neurolab.teaching.glue import PENDING, render


def test_render_formats_like_myst_nb():
    values = {"acc": 0.41234, "n": 11000, "name": "bird", "sentence": Markdown("*clear*"), "p": 0.0005}
    text, missing = render("{acc:.1%} of {n:,} ({name}); {sentence}; p = {p:.1e}; {{literal}}", values)
    assert text == "41.2% of 11,000 (bird); *clear*; p = 5.0e-04; {literal}"
    assert missing == []
    text, missing = render("{acc:.1%} and {later:.2f}", values)
    assert text == f"41.2% and {PENDING}" and missing == ["later"]


def test_glue_names_must_be_identifiers():
    with pytest.raises(ValueError, match="identifier"):
        glue_module.glue("not a name", 1)


@pytest.mark.slow
def test_show_fills_in_values_computed_later_in_a_real_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('from neurolab.teaching.glue import glue, show\nshow("x is {x:.2f}, then {y}")'),
        nbformat.v4.new_code_cell('glue("x", 0.123)'),
        nbformat.v4.new_code_cell('show("y was {y}")\nglue("y", "done")'),
    ]
    NotebookClient(nb, timeout=120, kernel_name=KERNEL).execute()
    shown = [
        [o["data"]["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {})] for cell in nb.cells
    ]
    assert shown[0] == ["x is 0.12, then done"]  # updated in place twice
    assert shown[2] == ["y was done"]
