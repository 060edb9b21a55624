"""The science audit's fixes that code can pin, checked on the executed chapters (smoke size) and
on the calibration script."""

from __future__ import annotations

import ast
import importlib.util
import json
import re

import pytest
from chapter_runner import ROOT, read_chapter, read_glue, toc_chapters


def _glue(executed_chapters, stem: str) -> dict:
    chapter = next(c for c in executed_chapters if c.stem == stem)
    return read_glue(executed_chapters[chapter])


@pytest.mark.slow
def test_the_ladder_has_a_pca_rung(executed_chapters):
    glued = _glue(executed_chapters, "09_ceiling")
    for key in ("ch9_step_pca", "ch9_oracle_k", "ch9_n_components"):
        assert key in glued, f"chapter 9 glues no {key}"
    assert "PCA" in glued["ch9_gap_text"] and "every latent" in glued["ch9_gap_text"]
    assert "fold-SEM" not in glued["ch9_avg_text"] and "paired" in glued["ch9_avg_text"]


@pytest.mark.slow
def test_identity_is_measured_by_the_authors_rules(executed_chapters):
    glued = _glue(executed_chapters, "07_geometry")
    assert {"id_acc_dot", "id_acc_z", "id_acc32"} <= set(glued)


@pytest.mark.slow
@pytest.mark.parametrize("stem, keys", [("05_mousenet", ("ch5_vox_p", "ch5_chance_p")),
                                        ("08_pointcloud", ("pc_win_p", "pc_pn_chance_p"))])
def test_decoders_are_compared_by_paired_tests(executed_chapters, stem, keys):
    glued = _glue(executed_chapters, stem)
    for key in keys:
        assert 0 < glued[key] <= 1, f"{stem}: {key} is not a p-value"


def test_the_calibration_uses_the_notebooks_rules():
    spec = importlib.util.spec_from_file_location("calibration", ROOT / "benchmarks" / "calibration.py")
    calibration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(calibration)
    assert "identity_accuracy_dot" in calibration.TARGETS
    assert "signal_variance_fraction_notebook" in calibration.TARGETS
    assert "identity_accuracy" not in calibration.TARGETS  # the correlation rule is reported, not targeted
    measured = calibration.measure("smoke", 0)
    for key in ("identity_accuracy_dot", "identity_accuracy_zscore", "identity_accuracy",
                "signal_variance_fraction_notebook", "signal_variance_fraction", "alpha"):
        assert key in measured


def test_the_recorded_calibration_is_current_and_on_target():
    """benchmarks/results/calibration.json (shown on the Statistics page) was measured with the
    generator's current settings, and every target is inside its range."""
    import dataclasses

    from neurolab.synthetic import SyntheticParams

    report = json.loads((ROOT / "benchmarks" / "results" / "calibration.json").read_text())
    assert report["size"] == "full"
    assert report["params"] == json.loads(json.dumps(dataclasses.asdict(SyntheticParams()))), (
        "the generator changed since the calibration: run python benchmarks/calibration.py"
    )
    for name in ("alpha", "identity_accuracy_dot", "signal_variance_fraction_notebook"):
        assert report["checks"][name]["ok"], (name, report["checks"][name])


PERMUTATION_NAME = re.compile(r"perm|shuffle|swap", re.I)


def _full_size_counts(source: str) -> dict[str, int]:
    """{name: count at full size} of every permutation, shuffle or swap count a chapter sets:
    `NAME = {"smoke": a, "course": b, "full": c}[SIZE]` or `NAME = 999`."""
    counts = {}
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Name) and PERMUTATION_NAME.search(target.id)):
            continue
        value = node.value
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Dict):
            table = {ast.literal_eval(k): ast.literal_eval(v) for k, v in zip(value.value.keys, value.value.values)}
            counts[target.id] = table["full"]
        elif isinstance(value, ast.Constant) and isinstance(value.value, int):
            counts[target.id] = value.value
    return counts


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_every_p_value_of_the_full_book_rests_on_199_permutations_or_more(chapter):
    """No printed p-value at full size rests on fewer than 199 permutations (label shuffles, or
    swaps in a paired test): counts set per size must reach 199 at 'full', and every literal
    `n_permutations=` too. (At smoke size fewer are used, and the pages state the floor of p.)"""
    code = "\n".join(
        re.sub(r"^\s*[%!].*$", "", cell.source, flags=re.M)
        for cell in read_chapter(chapter).cells
        if cell.cell_type == "code"
    )
    counts = _full_size_counts(code)
    low = {name: n for name, n in counts.items() if 0 < n < 199}
    assert not low, f"{chapter.name}: too few permutations at full size: {low}"
    for call in re.finditer(r"n_permutations\s*=\s*(\w+)", code):
        value = call.group(1)
        if value.isdigit():
            assert int(value) >= 199, f"{chapter.name}: n_permutations={value}"
        elif value not in ("n_perm", "N_PERM", "N_SWAPS", "n_permutations") and value not in counts:
            pytest.fail(f"{chapter.name}: n_permutations={value} is not a count this test can read")
