"""Every chapter runs on a real recording when its DATA parameter names one.

No machine here reaches figshare, so the test writes a small synthetic recording in the real
figshare layout (MATLAB file, 1-based istim, grey = 2801, med, stat) into a fresh data cache under
a real recording's file name, then runs each chapter with DATA set to that name: the package finds
it in the cache, loads it through the real loader (``load_recording``), and the chapter has to cope
with what real data lacks (no ground truth).
"""

from __future__ import annotations

import os
import shutil

import pytest
from chapter_runner import ROOT, execute_chapter, first_output_text, read_glue, self_check_verdicts, toc_chapters

import neurolab.io.fetch as fetch
from neurolab.io import load_classes, write_recording
from neurolab.io.fetch import recording_filename
from neurolab.synthetic import make_recording

NAME = "M170714_MP032_2017-09-14"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def real_layout_cache(tmp_path_factory):
    """A data cache holding the class files and a smoke-sized recording named like a real one."""
    cache = tmp_path_factory.mktemp("cache")
    for f in SHARED_DATA.glob("stimuli_class_assignment*.mat"):
        shutil.copy(f, cache / f.name)
    old = os.environ.get("NEUROLAB_DATA_DIR")
    os.environ["NEUROLAB_DATA_DIR"] = str(cache)  # inherited by the notebook kernels
    try:
        rec = make_recording("smoke", 7, labels=load_classes()[0], keep_grey=True)
        path = write_recording(rec, cache / recording_filename(NAME))
        # as a verified download leaves it: its SHA256 in the registry (a file with none is refused)
        fetch._record(cache, path.name, {"sha256": fetch._digest(path, "sha256"), "size": path.stat().st_size,
                                         "source": "test", "verified": "md5", "md5": fetch._digest(path, "md5")})
        yield cache
    finally:
        if old is None:
            os.environ.pop("NEUROLAB_DATA_DIR", None)
        else:
            os.environ["NEUROLAB_DATA_DIR"] = old


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_chapter_runs_on_a_named_recording(chapter, real_layout_cache, tmp_path):
    out = execute_chapter(chapter, tmp_path, DATA=NAME, SIZE="smoke", SEED=0, EPOCHS=1)
    first = first_output_text(out)
    assert NAME in first and "synthetic" not in first.lower(), first
    assert read_glue(out), "the chapter glued nothing"
    failed = [line for lines in self_check_verdicts(out).values() for line in lines if not line.startswith("✓")]
    assert not failed, f"{chapter.name}: solutions failing their self-check on a named recording: {failed}"
