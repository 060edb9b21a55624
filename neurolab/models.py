"""Neural-network decoders (PyTorch) and a scikit-learn-style wrapper that trains them with fastai.

* ``MouseNet``: the original write-up's 3D CNN over voxelised responses, reproduced exactly.
* ``PointNet``: each neuron a point (x, y, z, response); a shared per-point MLP and a symmetric
  pooling make it independent of neuron order (Qi et al. 2017).
* ``TabularMLP``: fastai's tabular model on continuous features only.
* ``FastaiClassifier``: ``fit``/``predict`` around a fastai ``Learner`` (Adam, decoupled weight
  decay, one-cycle schedule), so the same grouped cross-validation runs every model.
"""

from __future__ import annotations

import contextlib
from functools import partial

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

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
        from neurolab.features import normalise_positions

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


class FastaiClassifier(ClassifierMixin, BaseEstimator):
    """Train a PyTorch classifier with a fastai ``Learner``, scikit-learn style.

    build: callable (n_features, n_classes) -> nn.Module.
    epochs, lr, wd, bs: one-cycle schedule length, peak learning rate, decoupled (true) weight decay,
    batch size. valid_frac: share of the training data held out to show validation metrics during
    training (never used to choose anything). progress: show fastai's progress bar and metrics table.
    seed: seeds numpy, Python and torch for a reproducible fit.

    X: (n_samples, n_features) float32 (flatten voxels; ``MouseNet`` and ``PointNet`` reshape inside).
    """

    def __init__(self, build, epochs: int = 10, lr: float = 3e-3, wd: float = 1e-2, bs: int = 64,
                 valid_frac: float = 0.1, progress: bool = False, seed: int = 0):
        self.build, self.epochs, self.lr, self.wd, self.bs = build, epochs, lr, wd, bs
        self.valid_frac, self.progress, self.seed = valid_frac, progress, seed

    def fit(self, X, y):
        import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar and the progress bar)
        import fastai.callback.schedule  # noqa: F401  (adds Learner.fit_one_cycle)
        from fastai.basics import Adam, CrossEntropyLossFlat, DataLoaders, Learner, accuracy, set_seed
        from fastai.data.load import DataLoader
        from fastai.metrics import BalancedAccuracy

        X = np.ascontiguousarray(X, dtype=np.float32)
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        set_seed(self.seed, reproducible=True)
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(X))
        n_valid = max(1, int(round(self.valid_frac * len(X))))
        valid, train = order[:n_valid], order[n_valid:]
        xt, yt = torch.from_numpy(X), torch.from_numpy(y_idx.astype(np.int64))
        train_ds = [(xt[i], yt[i]) for i in train]
        valid_ds = [(xt[i], yt[i]) for i in valid]
        dls = DataLoaders(
            DataLoader(train_ds, bs=self.bs, shuffle=True, drop_last=len(train) > self.bs, device="cpu"),
            DataLoader(valid_ds, bs=256, device="cpu"),
        )
        self.model_ = self.build(X.shape[1], len(self.classes_))
        self.learner_ = Learner(
            dls, self.model_, loss_func=CrossEntropyLossFlat(), opt_func=partial(Adam, decouple_wd=True),
            metrics=[accuracy, BalancedAccuracy()], wd=self.wd,
        )
        quiet = contextlib.ExitStack()
        if not self.progress:
            quiet.enter_context(self.learner_.no_bar())
            quiet.enter_context(self.learner_.no_logging())
        with quiet:
            self.learner_.fit_one_cycle(self.epochs, lr_max=self.lr, wd=self.wd)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(n_samples, n_classes) class probabilities, columns ordered as ``classes_``."""
        check_is_fitted(self, "model_")
        X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        self.model_.eval()
        with torch.no_grad():
            logits = torch.cat([self.model_(X[i : i + 512]) for i in range(0, len(X), 512)])
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
