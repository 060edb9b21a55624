"""Neural-network decoders (PyTorch modules).

* ``MouseNet``: the original write-up's 3D CNN over voxelised responses, reproduced exactly.
* ``PointNet``: each neuron a point (x, y, z, response); a shared per-point MLP and a symmetric
  pooling make it invariant to the order of the points (Qi et al. 2017).
* ``SubsetPointNet``: a ``PointNet`` evaluated the way it is trained, on subsets of points.
* ``TabularMLP``: fastai's tabular model on continuous features only.
* ``layer_shapes``, ``n_parameters``, ``model_summary``: what a model is made of.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from neurolab._validation import check_rng
from neurolab.spatial import normalise_positions

__all__ = [
    "MOUSENET_VOXELS",
    "MouseNet",
    "PointNet",
    "SubsetPointNet",
    "TabularMLP",
    "layer_shapes",
    "model_summary",
    "n_parameters",
    "parameter_count",
    "pointnet_builder",
    "subset_indices",
]

MOUSENET_VOXELS = (11, 12, 12)
"""Voxel grid of the original MouseNet input: 11 planes x 12 x 12 (x, y) bins."""


class MouseNet(nn.Module):
    """The original 3D CNN. Input (batch, 1, 11, 12, 12); output (batch, n_classes) logits.

    Conv3d 1->16 (stride 1,2,2), BN, ReLU; Conv3d 16->32 (stride 2), BN, ReLU; Conv3d 32->32, BN,
    ReLU; MaxPool3d(3); Flatten; Linear 64->n_classes. Every convolution is 3x3x3, padding 1, no bias.
    With n_classes=13 it has 42,909 parameters. A flat input (batch, 1584) is reshaped to voxels.
    """

    def __init__(self, n_classes: int = 13, voxels=MOUSENET_VOXELS):
        super().__init__()
        self.voxels = tuple(voxels)

        def block(c_in, c_out, stride):
            return [
                nn.Conv3d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False),
                nn.BatchNorm3d(c_out),
                nn.ReLU(inplace=True),
            ]

        self.features = nn.Sequential(
            *block(1, 16, (1, 2, 2)), *block(16, 32, 2), *block(32, 32, 1), nn.MaxPool3d(3), nn.Flatten()
        )
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, 1, *self.voxels)).shape[1]
        self.classifier = nn.Linear(n_flat, n_classes)

    def forward(self, x):
        if x.dim() == 2:
            x = x.view(len(x), 1, *self.voxels)
        return self.classifier(self.features(x))


def layer_shapes(model: nn.Module, x: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """Output shape (without batch) of every leaf layer for input x, e.g. for a model summary."""
    shapes, hooks = [], []
    for name, mod in model.named_modules():
        if len(list(mod.children())) == 0:
            hooks.append(mod.register_forward_hook(lambda m, i, o, n=name: shapes.append((n, tuple(o.shape[1:])))))
    try:
        with torch.no_grad():
            was_training = model.training
            model.eval()
            model(x)
            model.train(was_training)
    finally:
        for h in hooks:
            h.remove()
    return shapes


def n_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class PointNet(nn.Module):
    """A PointNet-style classifier over neurons as points (x, y, z, response).

    positions: (n_neurons, 3) neuron positions (normalised to [-1, 1] inside); the input is the
    response vector (batch, n_neurons), so positions are stored once, not per trial.
    n_points: neurons sampled at random per forward pass while training (None = all); in eval mode
    all neurons are used, so predictions are deterministic.
    widths: sizes of the shared per-point MLP; pooling: 'max' or 'maxmean' (max and mean concatenated).
    use_positions / use_intensity: switch off either input to measure what it contributes.
    """

    def __init__(
        self,
        positions,
        n_classes: int,
        widths=(32, 64, 128),
        head=(64,),
        n_points: int | None = 1024,
        pooling: str = "maxmean",
        dropout: float = 0.2,
        use_positions: bool = True,
        use_intensity: bool = True,
    ):
        super().__init__()
        if pooling not in ("max", "maxmean"):
            raise ValueError(f"pooling must be 'max' or 'maxmean', not {pooling!r}")
        pos = torch.as_tensor(normalise_positions(positions))
        self.register_buffer("positions", pos if use_positions else torch.zeros_like(pos))
        self.use_intensity = use_intensity
        self.n_points, self.pooling = n_points, pooling
        layers, c = [], 4
        for w in widths:
            layers += [nn.Conv1d(c, w, 1, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True)]
            c = w
        self.point_mlp = nn.Sequential(*layers)
        c *= 2 if pooling == "maxmean" else 1
        head_layers = []
        for h in head:
            head_layers += [nn.Linear(c, h), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            c = h
        self.head = nn.Sequential(*head_layers, nn.Linear(c, n_classes))

    def point_logits(self, resp: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Logits from the points given: resp (batch, n) responses of n neurons at pos (n, 3)."""
        intensity = resp if self.use_intensity else torch.zeros_like(resp)
        pts = torch.cat([pos.T.unsqueeze(0).expand(len(resp), -1, -1), intensity.unsqueeze(1)], dim=1)
        feat = self.point_mlp(pts)  # (batch, channels, points)
        pooled = feat.amax(dim=2)
        if self.pooling == "maxmean":
            pooled = torch.cat([pooled, feat.mean(dim=2)], dim=1)
        return self.head(pooled)

    def forward(self, resp):
        n = resp.shape[1]
        pos = self.positions
        if self.training and self.n_points is not None and self.n_points < n:
            idx = torch.randperm(n, device=resp.device)[: self.n_points]
            resp, pos = resp[:, idx], pos[idx]
        return self.point_logits(resp, pos)


class TabularMLP(nn.Module):
    """fastai's ``TabularModel`` with continuous inputs only: (batch, n_features) -> logits."""

    def __init__(self, n_features: int, n_classes: int, layers=(200, 100), dropout: float = 0.1):
        super().__init__()
        from fastai.tabular.model import TabularModel

        self.model = TabularModel(
            emb_szs=[], n_cont=n_features, out_sz=n_classes, layers=list(layers), ps=dropout, bn_cont=True
        )

    def forward(self, x):
        return self.model(x.new_zeros(len(x), 0, dtype=torch.long), x)


def model_summary(model, input_shape):
    """A layer table of a PyTorch model, like fastai's ``Learner.summary``.

    input_shape: shape of one sample without the batch axis, e.g. (1, 11, 12, 12).
    Returns a pandas DataFrame with one row per leaf layer: layer (name), type, output shape
    (without batch) and parameters (trainable), in forward order. The total is
    ``table['parameters'].sum()``.
    """
    import pandas as pd

    modules = dict(model.named_modules())
    shapes = layer_shapes(model, torch.zeros(2, *input_shape))
    rows = []
    for name, shape in shapes:
        mod = modules[name]
        params = sum(p.numel() for p in mod.parameters(recurse=False) if p.requires_grad)
        rows.append(
            {"layer": name, "type": type(mod).__name__, "output shape": list(shape), "parameters": params}
        )
    return pd.DataFrame(rows)


def subset_indices(n_neurons: int, n_points: int | None, n_subsets: int | None, rng=0) -> list[np.ndarray]:
    """Disjoint random subsets of ``range(n_neurons)``, fixed by ``rng`` (an int seed or Generator).

    n_points: neurons per subset (None, or >= n_neurons: one subset holding every neuron).
    n_subsets: how many subsets; None = as many as partition all neurons (the last ones may be one
    neuron smaller, as ``np.array_split`` makes them). At most ``n_neurons // n_points`` subsets of
    the full size fit; asking for more gives that many.
    Returns a list of (n_points,) int64 index arrays, each sorted ascending.
    """
    if n_neurons < 1:
        raise ValueError(f"n_neurons must be >= 1, got {n_neurons}")
    if n_points is None or n_points >= n_neurons:
        return [np.arange(n_neurons, dtype=np.int64)]
    if n_points < 1:
        raise ValueError(f"n_points must be >= 1 or None, got {n_points}")
    if n_subsets is not None and n_subsets < 1:
        raise ValueError(f"n_subsets must be >= 1 or None, got {n_subsets}")
    order = check_rng(rng).permutation(n_neurons)
    if n_subsets is None:
        parts = np.array_split(order, int(np.ceil(n_neurons / n_points)))
    else:
        k = min(n_subsets, n_neurons // n_points)
        parts = [order[i * n_points : (i + 1) * n_points] for i in range(k)]
    return [np.sort(p).astype(np.int64) for p in parts]


class SubsetPointNet(PointNet):
    """``PointNet`` that predicts from fixed subsets of neurons the size it was trained on.

    Training is ``PointNet``'s: a fresh random subset of ``n_points`` neurons every batch. Input
    (batch, n_neurons) responses; output (batch, n_classes) logits. Changing ``eval_points`` or
    ``eval_subsets`` after training is allowed (e.g. to ask how many points a trained model needs).

    Parameters
    ----------
    positions : array-like of shape (n_neurons, 3)
        Neuron positions (any units; normalised to [-1, 1] inside).
    n_classes : int
    eval_points : int or None
        Neurons per evaluation subset, default ``n_points`` (None: all neurons at once).
    eval_subsets : int or None
        Number of disjoint evaluation subsets whose logits are averaged; None partitions every
        neuron into subsets of about ``eval_points``.
    eval_rng : int
        Seed of the evaluation subsets (the same seed, the same subsets, every call).
    **kwargs
        widths, head, n_points, pooling, dropout, use_positions, use_intensity: as ``PointNet``.
    """

    def __init__(self, positions, n_classes: int, *, eval_points: int | None = -1,
                 eval_subsets: int | None = 4, eval_rng: int = 0, **kwargs):
        super().__init__(positions, n_classes, **kwargs)
        self.eval_points = self.n_points if eval_points == -1 else eval_points
        self.eval_subsets = eval_subsets
        self.eval_rng = eval_rng

    def forward(self, resp):
        if self.training:
            return super().forward(resp)
        n = resp.shape[1]
        if n != len(self.positions):
            raise ValueError(f"got responses of {n} neurons; the model has {len(self.positions)} positions")
        subsets = subset_indices(n, self.eval_points, self.eval_subsets, self.eval_rng)
        logits = 0
        for idx in subsets:
            idx_t = torch.from_numpy(idx).to(resp.device)
            logits = logits + self.point_logits(resp[:, idx_t], self.positions[idx_t])
        return logits / len(subsets)


def pointnet_builder(positions, **kwargs):
    """``build(n_features, n_classes) -> SubsetPointNet(positions, n_classes, **kwargs)`` for
    ``FastaiClassifier``; checks that the data has one column per position."""
    positions = np.asarray(positions, dtype=np.float32)

    def build(n_features: int, n_classes: int) -> SubsetPointNet:
        if n_features != len(positions):
            raise ValueError(f"X has {n_features} columns but there are {len(positions)} neuron positions")
        return SubsetPointNet(positions, n_classes, **kwargs)

    return build


def parameter_count(model_or_builder, n_features: int | None = None, n_classes: int | None = None) -> int:
    """Trainable parameters of a torch module, or of the module ``build(n_features, n_classes)`` makes."""
    if isinstance(model_or_builder, nn.Module):
        return n_parameters(model_or_builder)
    return n_parameters(model_or_builder(n_features, n_classes))
