"""Training networks scikit-learn style: a fastai ``Learner`` behind ``fit`` / ``predict``.

The device is chosen once per fit (``choose_device``): the ``device`` parameter, else the
environment variable ``NEUROLAB_DEVICE``, else CUDA when a GPU is present, else the CPU. Chapters
do not change: the same call trains on a laptop's CPU and on a GPU runtime.
"""

from __future__ import annotations

import contextlib
import os
from functools import partial

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from neurolab._validation import check_int, seed_of

__all__ = ["DEVICE_ENV", "FastaiClassifier", "choose_device"]

DEVICE_ENV = "NEUROLAB_DEVICE"
"""Environment variable that overrides the automatic device choice ('cpu', 'cuda', 'cuda:1', ...)."""


def _validation_split(n: int, groups, valid_frac: float, rng: np.random.Generator):
    """(valid, train) indices: about ``valid_frac`` of the samples, whole groups at a time."""
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"groups must have shape ({n},), one per sample, got {groups.shape}")
        _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
        if 2 <= len(counts) < n:  # one sample per group: the plain split below is the same thing
            order = rng.permutation(len(counts))
            k = int(np.searchsorted(np.cumsum(counts[order]), valid_frac * n)) + 1
            held = np.isin(inverse, order[: min(max(k, 1), len(counts) - 1)])
            return np.flatnonzero(held), np.flatnonzero(~held)
    order = rng.permutation(n)
    n_valid = max(1, int(round(valid_frac * n)))
    return order[:n_valid], order[n_valid:]


def _on(device, xt, yt, rows) -> tuple:
    """The samples ``rows`` of (xt, yt), copied once onto ``device`` when they fit (all the training
    data moves together, not one batch at a time); on a GPU with less than four times their size
    free they stay in host memory and fastai moves each batch."""
    index = torch.from_numpy(np.asarray(rows, dtype=np.int64))
    x, y = xt[index], yt[index]
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if 4 * (x.nbytes + y.nbytes) > free:
            return x.pin_memory(), y.pin_memory()
    return x.to(device), y.to(device)


def choose_device(device: str | torch.device | None = None) -> torch.device:
    """The torch device to train on.

    Parameters
    ----------
    device : str or torch.device, optional
        Used as given; None falls back to ``$NEUROLAB_DEVICE``, then to 'cuda' when
        ``torch.cuda.is_available()``, then to 'cpu'.

    Returns
    -------
    torch.device
    """
    chosen = device if device is not None else os.environ.get(DEVICE_ENV, "").strip() or None
    if chosen is None:
        chosen = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        chosen = torch.device(chosen)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device {chosen!r} is not a torch device ('cpu', 'cuda', 'cuda:0', ...)") from error
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(chosen)!r} was asked for (the device parameter or ${DEVICE_ENV}), "
                         "but torch sees no CUDA GPU here")
    return chosen


class FastaiClassifier(ClassifierMixin, BaseEstimator):
    """Train a PyTorch classifier with a fastai ``Learner``, scikit-learn style.

    build: callable (n_features, n_classes) -> nn.Module.
    epochs, lr, wd, bs: one-cycle schedule length, peak learning rate, decoupled (true) weight decay,
    batch size. valid_frac: share of the training data held out to show validation metrics during
    training (never used to choose anything); with ``groups`` given to ``fit`` (the image of each
    trial, as the cross-validation engine passes them) whole images are held out, so an image's
    repeats never straddle the training and validation sets. progress: show fastai's progress bar and metrics table.
    rng: int seed (or Generator) for numpy, Python and torch: on the CPU the same seed gives the
    same fitted model and predictions on every run.
    device: where to train (see ``choose_device``); None chooses automatically.

    X: (n_samples, n_features) float32 (flatten voxels; ``MouseNet`` and ``PointNet`` reshape inside).
    """

    def __init__(self, build, epochs: int = 10, lr: float = 3e-3, wd: float = 1e-2, bs: int = 64,
                 valid_frac: float = 0.1, progress: bool = False, rng=0, device=None):
        self.build, self.epochs, self.lr, self.wd, self.bs = build, epochs, lr, wd, bs
        self.valid_frac, self.progress, self.rng, self.device = valid_frac, progress, rng, device

    def fit(self, X, y, groups=None):
        import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar and the progress bar)
        import fastai.callback.schedule  # noqa: F401  (adds Learner.fit_one_cycle)
        from fastai.basics import Adam, DataLoaders, Learner, TrainEvalCallback, accuracy, set_seed
        from fastai.metrics import BalancedAccuracy

        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float32, order="C")
        check_classification_targets(y)
        if len(X) < 2:
            raise ValueError(f"FastaiClassifier needs at least 2 samples (one to train on, one to validate), "
                             f"got {len(X)} sample (n_samples = 1)")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        seed = seed_of(self.rng)
        self.device_ = choose_device(self.device)
        set_seed(seed, reproducible=True)
        rng = np.random.default_rng(seed)
        valid, train = _validation_split(len(X), groups, self.valid_frac, rng)
        if len(train) == 0:
            raise ValueError(f"valid_frac={self.valid_frac} holds out all {len(X)} samples: nothing is left "
                             "to train on")
        xt, yt = torch.from_numpy(X), torch.from_numpy(y_idx.astype(np.int64))
        from neurolab.nn._loader import TensorBatches as loader
        dls = DataLoaders(
            loader(*_on(self.device_, xt, yt, train), bs=self.bs, shuffle=True, drop_last=len(train) > self.bs,
                   device=self.device_),
            loader(*_on(self.device_, xt, yt, valid), bs=256, device=self.device_),
            device=self.device_,
        )
        self.model_ = self.build(X.shape[1], len(self.classes_)).to(self.device_)
        self._check_outputs(xt[:2], len(self.classes_))
        # Without the progress display nothing reads the per-batch records or the validation
        # metrics: fastai's Recorder (and its batch-type cast, a no-op on plain tensors) are left out,
        # which changes no number (they only observe) and saves fastai's per-batch event dispatch.
        extra = {} if self.progress else {"default_cbs": False, "cbs": [TrainEvalCallback()]}
        self.learner_ = Learner(
            dls, self.model_, loss_func=torch.nn.CrossEntropyLoss(), opt_func=partial(Adam, decouple_wd=True),
            metrics=[accuracy, BalancedAccuracy()], wd=self.wd, **extra,
        )
        quiet = contextlib.ExitStack()
        if not self.progress:
            quiet.enter_context(self.learner_.no_bar())
            quiet.enter_context(self.learner_.no_logging())
        with quiet:
            self.learner_.fit_one_cycle(self.epochs, lr_max=self.lr, wd=self.wd)
        self.model_.cpu()  # predictions, pickles and clones need no GPU
        return self

    def _check_params(self) -> None:
        """Every hyper-parameter in its valid range, before any work: else a ValueError naming it."""
        def number(name, low, high=None, low_open=False, high_open=True):
            value = getattr(self, name)
            ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))
            ok = ok and np.isfinite(value) and (value > low if low_open else value >= low)
            ok = ok and (high is None or (value < high if high_open else value <= high))
            if not ok:
                bound = f"> {low}" if low_open else f">= {low}"
                bound += f" and < {high}" if high is not None else ""
                raise ValueError(f"FastaiClassifier: {name} must be a finite number {bound}, got {value!r}")

        for name in ("epochs", "bs"):
            check_int(getattr(self, name), f"FastaiClassifier: {name}", 1)
        number("lr", 0, low_open=True)
        number("wd", 0)
        number("valid_frac", 0, 1)
        if not callable(self.build):
            raise TypeError(f"FastaiClassifier: build must be a callable (n_features, n_classes) -> "
                            f"nn.Module, got {self.build!r}")

    def _check_outputs(self, x, n_classes: int) -> None:
        """The network maps (batch, n_features) to (batch, n_classes) logits; the RNG is untouched."""
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            self.model_.eval()
            try:
                out = self.model_(x.to(self.device_))
            finally:
                self.model_.train()
        if tuple(out.shape) != (len(x), n_classes):
            raise ValueError(f"FastaiClassifier: the network built by {getattr(self.build, '__name__', self.build)!r} "
                             f"returns shape {tuple(out.shape)} for {len(x)} samples, but y has {n_classes} "
                             f"classes: it must return ({len(x)}, {n_classes}) logits")

    def predict_proba(self, X) -> np.ndarray:
        """(n_samples, n_classes) class probabilities, columns ordered as ``classes_``."""
        check_is_fitted(self, "model_")
        X = torch.from_numpy(validate_data(self, X, dtype=np.float32, order="C", reset=False))
        device = self.device_
        model = self.model_.to(device).eval()
        try:
            with torch.no_grad():
                logits = torch.cat([model(X[i : i + 512].to(device)).cpu() for i in range(0, len(X), 512)])
        finally:
            self.model_.cpu()
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample: ndarray of shape (n_samples,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
