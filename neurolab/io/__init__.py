"""Reading the data: the natimg2800 MATLAB files, their download and cache, the image classes.

* ``load(data, size, rng)``: the one call a chapter makes (a recording name, a ``.mat`` path, or
  ``'synthetic'`` for the calibrated twin with the real class labels).
* ``load_recording(path)``: one natimg2800 file, checked, as a ``Recording``.
* ``load_classes(path=None, kind)``: the class of each of the 2,800 images.
* ``fetch_recording(name)`` / ``fetch_classes(kind)``: the cached file, downloaded and verified.
* ``write_recording(rec, path)``: a ``Recording`` in the real file layout (for tests and sharing).
"""

from neurolab._store import cache_dir
from neurolab.io.fetch import CLASS_FILES, RECORDINGS, fetch_classes, fetch_recording
from neurolab.io.load import describe_source, load, load_classes, load_recording
from neurolab.io.matfile import write_natimg_mat, write_recording

__all__ = [
    "CLASS_FILES",
    "RECORDINGS",
    "cache_dir",
    "describe_source",
    "fetch_classes",
    "fetch_recording",
    "load",
    "load_classes",
    "load_recording",
    "write_natimg_mat",
    "write_recording",
]
