"""neurolab: decoding natural images from ~10,000 mouse V1 neurons (Stringer et al. 2019).

The analysis library of the neurolab course, organised by concept. Data flows one way:

    io / synthetic -> preprocessing -> geometry / spatial -> decoding / nn -> viz

``neurolab.teaching`` (the course's pitfalls and exercise checks) sits on top and nothing below
imports it. Import the subpackage you need, e.g. ``from neurolab.io import load``.
"""

__version__ = "0.2.0"
