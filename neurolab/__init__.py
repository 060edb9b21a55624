"""neurolab: helpers for decoding natural images from ~10,000 mouse V1 neurons.

Data flows one way: ``data``/``synthetic`` -> ``denoise`` -> ``features`` -> ``decode``/``models`` -> ``viz``.
"""

__version__ = "0.1.0"
