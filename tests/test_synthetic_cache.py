"""neurolab.synthetic.cache: a cached synthetic recording is the generated one, array for array; a bad
cache file is replaced; a changed recipe never reads a stale file."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from neurolab import synthetic
from neurolab.io import cache_dir, load, load_classes
from neurolab.synthetic import cache_file

LABELS = load_classes()[0]


def make(size, rng, **kwargs):
    return synthetic.make_recording(size, rng, labels=LABELS, **kwargs)


@pytest.fixture()
def course_is_small(monkeypatch, tmp_path):
    """A tiny 'course' size (cached, unlike 'smoke') and a cache folder holding only the class labels."""
    for labels in cache_dir().glob("stimuli_class_assignment*.mat"):
        shutil.copy2(labels, tmp_path)
    small = dataclasses.replace(synthetic.SIZES["smoke"], n_neurons=120, image_step=20, n_spont=100)
    monkeypatch.setitem(synthetic.SIZES, "course", small)
    monkeypatch.setenv("NEUROLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEUROLAB_SYNTHETIC_CACHE", raising=False)
    return tmp_path


def same(a, b):
    for field in ("resp", "istim", "spont", "xyz"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    for field in ("clean", "latents", "category_means", "labels", "image_ids"):
        np.testing.assert_array_equal(getattr(a.truth, field), getattr(b.truth, field))
    assert (a.name, a.source, a.truth.category_strength) == (b.name, b.source, b.truth.category_strength)
    assert a.truth.params == b.truth.params


def test_the_cached_recording_is_the_generated_one(course_is_small):
    path = cache_file("course", 3, LABELS)
    assert not path.exists()
    first = load("synthetic", "course", 3, keep_grey=True)
    assert path.is_file() and path.parent == course_is_small / "synthetic"
    assert not list(path.parent.glob("*.part"))  # nothing half-written left behind
    again = load("synthetic", "course", 3, keep_grey=True)
    same(first, again)
    same(again, make("course", 3, keep_grey=True))
    same(load("synthetic", "course", 3), make("course", 3))  # grey dropped


def test_a_new_recipe_gets_a_new_file(course_is_small, monkeypatch):
    before = cache_file("course", 3, LABELS)
    assert cache_file("course", 4, LABELS) != before
    monkeypatch.setitem(synthetic.SIZES, "course",
                        dataclasses.replace(synthetic.SIZES["course"], info_noise=2.0))
    assert cache_file("course", 3, LABELS) != before


def test_an_unreadable_cache_file_is_replaced_with_a_warning(course_is_small):
    path = cache_file("course", 5, LABELS)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz file")
    with pytest.warns(UserWarning, match="unreadable synthetic-data cache file"):
        rec = load("synthetic", "course", 5, keep_grey=True)
    same(rec, make("course", 5, keep_grey=True))
    same(load("synthetic", "course", 5, keep_grey=True), rec)  # the new file reads back


def test_smoke_and_switched_off_caches_write_nothing(course_is_small, monkeypatch):
    load("synthetic", "smoke", 0)
    monkeypatch.setenv("NEUROLAB_SYNTHETIC_CACHE", "0")
    load("synthetic", "course", 0)
    assert not (course_is_small / "synthetic").exists()
