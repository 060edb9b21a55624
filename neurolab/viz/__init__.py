"""Every plot of the course (matplotlib), and the 3D neuron view (plotly / ipyvolume).

Plotting functions take arrays and results and return a Figure or Axes; they compute nothing the
analyses do not already give.
"""

from neurolab.viz.ceiling import plot_ceilings
from neurolab.viz.plots import (
    BACKENDS,
    PLOTLY_MODE_ENV,
    map_colours,
    neurons_3d,
    plot_blocks,
    plot_class_counts,
    plot_decoding,
    plot_planes,
    plot_raster,
    plot_spectrum,
    plot_sweep,
    plotly_mode,
    robust_limits,
    show_plotly,
    subsample,
)
from neurolab.viz.spatial import (
    plot_point_cloud,
    plot_pooled_maps,
    plot_voxel_planes,
    plot_voxel_trials,
)

__all__ = [
    "BACKENDS",
    "PLOTLY_MODE_ENV",
    "map_colours",
    "neurons_3d",
    "plot_blocks",
    "plot_ceilings",
    "plot_class_counts",
    "plot_decoding",
    "plot_planes",
    "plot_point_cloud",
    "plot_pooled_maps",
    "plot_raster",
    "plot_spectrum",
    "plot_sweep",
    "plot_voxel_planes",
    "plot_voxel_trials",
    "plotly_mode",
    "robust_limits",
    "show_plotly",
    "subsample",
]
