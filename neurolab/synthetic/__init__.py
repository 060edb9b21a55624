"""The calibrated synthetic twin of a natimg2800 recording, and its disk cache.

``make_recording(size, rng, labels=labels)`` is pure (the class labels are passed in);
``cached_recording`` is the same call through a disk cache. See ``generator`` for the model.
"""

from neurolab.synthetic.cache import cache_file, cached_recording  # noqa: E402  (after generator)
from neurolab.synthetic.generator import (
    SIZES,
    SyntheticParams,
    latent_scale,
    latent_spectrum,
    latent_variances,
    make_recording,
)

__all__ = [
    "SIZES",
    "SyntheticParams",
    "cache_file",
    "cached_recording",
    "latent_scale",
    "latent_spectrum",
    "latent_variances",
    "make_recording",
]
