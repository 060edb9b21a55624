"""Neural networks (PyTorch; this is the only subpackage that imports torch and fastai).

* ``models``: MouseNet, PointNet and its subset-evaluated form, fastai's tabular MLP.
* ``train``: ``FastaiClassifier`` (scikit-learn ``fit``/``predict`` around a fastai ``Learner``)
  and ``choose_device`` (GPU when present, ``$NEUROLAB_DEVICE`` or ``device=`` to override).
"""

from neurolab.nn.models import (
    MOUSENET_VOXELS,
    MouseNet,
    PointNet,
    SubsetPointNet,
    TabularMLP,
    layer_shapes,
    model_summary,
    n_parameters,
    parameter_count,
    pointnet_builder,
    subset_indices,
)
from neurolab.nn.train import DEVICE_ENV, FastaiClassifier, choose_device

__all__ = [
    "DEVICE_ENV",
    "MOUSENET_VOXELS",
    "FastaiClassifier",
    "MouseNet",
    "PointNet",
    "SubsetPointNet",
    "TabularMLP",
    "choose_device",
    "layer_shapes",
    "model_summary",
    "n_parameters",
    "parameter_count",
    "pointnet_builder",
    "subset_indices",
]
