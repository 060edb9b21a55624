"""Training networks scikit-learn style: a fastai ``Learner`` behind ``fit`` / ``predict``.

The device is chosen once per fit (``choose_device``): the ``device`` parameter, else the
environment variable ``NEUROLAB_DEVICE``, else CUDA when a GPU is present, else the CPU. Chapters
do not change: the same call trains on a laptop's CPU and on a GPU runtime.

A fit on the CPU is remembered (``_store.memo_write``, in ``<cache_dir()>/memo/fastai_fit/``): the
same data, validation split, network (its architecture and initial weights), hyper-parameters,
seed, thread count and library versions give the same trained weights, so a second fit with
all of them equal (the next build of the book, another cell on the same fold) loads the weights
and the random-number states that training left behind instead of training again: every
prediction, and every number drawn afterwards, is what training would have given. Fits with the
progress display train for real (the display is the point; what they train is remembered for the
fits that follow), and so do fits on a GPU (not
bit-reproducible) and on fewer than ``MEMO_MIN_SIZE`` input values. ``NEUROLAB_MEMO=0`` turns
the memo off.
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

from neurolab._store import digest_arrays, memo_read, memo_write
from neurolab._validation import check_int, seed_of

__all__ = ["DEVICE_ENV", "FastaiClassifier", "choose_device"]

MEMO_MIN_SIZE = 1_000_000
"""Inputs (n_samples x n_features values) below this size are trained every time: cheap anyway."""

DEVICE_ENV = "NEUROLAB_DEVICE"
"""Environment variable that overrides the automatic device choice ('cpu', 'cuda', 'cuda:1', ...)."""


_MEMO = "fastai_fit"


def _trained_state(model: torch.nn.Module) -> dict:
    """The trained weights (and buffers) and the random-number states after training, as arrays."""
    import random

    state = {f"w:{name}": t.detach().cpu().numpy().copy() for name, t in model.state_dict().items()}
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 - what fastai seeds
    version, internal, gauss_next = random.getstate()
    state["rng:torch"] = torch.get_rng_state().numpy().copy()
    state["rng:numpy_keys"] = np.asarray(keys, dtype=np.uint32)
    state["rng:numpy_rest"] = np.array([pos, has_gauss, gauss], dtype=np.float64)
    state["rng:python"] = np.array([version, *internal, np.nan if gauss_next is None else gauss_next],
                                   dtype=np.float64)
    return state


def _restore(model: torch.nn.Module, state: dict) -> None:
    """Load ``_trained_state`` back: the weights into ``model``, the random-number states globally."""
    import random

    weights = {name[2:]: torch.from_numpy(np.array(a)) for name, a in state.items() if name.startswith("w:")}
    model.load_state_dict(weights)
    torch.set_rng_state(torch.from_numpy(np.array(state["rng:torch"], dtype=np.uint8)))
    pos, has_gauss, gauss = state["rng:numpy_rest"]
    keys = np.array(state["rng:numpy_keys"], dtype=np.uint32)
    np.random.set_state(("MT19937", keys, int(pos), int(has_gauss), float(gauss)))  # noqa: NPY002
    py = state["rng:python"]
    gauss_next = None if np.isnan(py[-1]) else float(py[-1])
    random.setstate((int(py[0]), tuple(int(v) for v in py[1:-1]), gauss_next))


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
        key = self._memo_key(X, y_idx, train, valid, seed)
        stored = memo_read(_MEMO, key) if key is not None and not self.progress else None
        if stored is not None:
            _restore(self.model_, stored)
        else:
            quiet = contextlib.ExitStack()
            if not self.progress:
                quiet.enter_context(self.learner_.no_bar())
                quiet.enter_context(self.learner_.no_logging())
            with quiet:
                self.learner_.fit_one_cycle(self.epochs, lr_max=self.lr, wd=self.wd)
            if key is not None:
                memo_write(_MEMO, key, _trained_state(self.model_))
        self.model_.cpu()  # predictions, pickles and clones need no GPU
        return self

    def _memo_key(self, X, y_idx, train, valid, seed) -> dict | None:
        """What a trained network depends on (see the module's docstring), or None: not memoised."""
        if self.device_.type != "cpu" or X.size < MEMO_MIN_SIZE:
            return None
        import fastai

        init = {name: t.detach().cpu().numpy() for name, t in self.model_.state_dict().items()}
        return {
            "X": X, "y": y_idx.astype(np.int64), "train": np.asarray(train), "valid": np.asarray(valid),
            "network": f"{type(self.model_).__module__}.{type(self.model_).__qualname__}\n{self.model_}",
            "init": digest_arrays(init), "epochs": int(self.epochs), "lr": float(self.lr),
            "wd": float(self.wd), "bs": int(self.bs), "valid_frac": float(self.valid_frac), "seed": int(seed),
            "threads": torch.get_num_threads(), "torch": torch.__version__, "fastai": fastai.__version__,
        }

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
