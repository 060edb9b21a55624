"""The in-memory recording: one session of responses to natural images."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

GREY = -1
"""Value of ``Recording.istim`` for a grey-screen trial."""

N_IMAGES = 2800
"""Number of natural images in the natimg2800 stimulus set."""


@dataclass(frozen=True)
class SyntheticTruth:
    """What generated a synthetic recording (absent from real data).

    clean: (n_images, n_neurons) float32, the noise-free response to each image (preprocessed
    exactly like ``Recording.resp`` once the recording has been through ``denoise_recording``).
    latents: (n_images, n_latents) float32, each image's latent stimulus features.
    category_means: (n_classes, n_latents) float32, the latent offset added per class.
    labels: (2800,) int, the class of every image of the set (0 = 'unknown').
    image_ids: (n_images,) int, the image index of each row of ``clean`` and ``latents``.
    category_strength: float, scale of the category offset relative to the image features.
    params: dict, every generator setting (sizes, noise levels), for the record.
    """

    clean: np.ndarray
    latents: np.ndarray
    category_means: np.ndarray
    labels: np.ndarray
    image_ids: np.ndarray
    category_strength: float
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Recording:
    """One natimg2800 session.

    resp: (n_trials, n_neurons) float32, single-trial responses in presentation order.
    istim: (n_trials,) int64, 0-based image index of each trial, ``GREY`` (-1) for a grey screen.
    spont: (n_timepoints, n_neurons) float32, spontaneous activity (grey screen, no stimulus).
    xyz: (n_neurons, 3) float32, neuron positions (x, y in micrometres, z = imaging depth).
    name: recording name, e.g. 'M170714_MP032_2017-09-14' or 'synthetic-full-seed0'.
    source: 'figshare' or 'synthetic'.
    truth: ground truth for a synthetic recording, None for real data.
    """

    resp: np.ndarray
    istim: np.ndarray
    spont: np.ndarray
    xyz: np.ndarray
    name: str
    source: str
    truth: SyntheticTruth | None = None

    def __post_init__(self):
        n_trials, n_neurons = self.resp.shape
        if self.istim.shape != (n_trials,):
            raise ValueError(f"istim has shape {self.istim.shape}, expected ({n_trials},)")
        if self.istim.dtype.kind not in "iu":
            raise ValueError(f"istim must hold integer image indices, got dtype {self.istim.dtype}"
                             + (" with NaN values" if self.istim.dtype.kind == "f" and np.isnan(self.istim).any()
                                else ""))
        if n_trials and (self.istim.min() < GREY or self.istim.max() >= N_IMAGES):
            bad = self.istim[(self.istim < GREY) | (self.istim >= N_IMAGES)]
            raise ValueError(f"istim holds {len(bad)} values outside {GREY}..{N_IMAGES - 1} (e.g. {int(bad[0])}): "
                             f"image indices are 0-based into the {N_IMAGES} images, {GREY} for a grey screen")
        if self.spont.ndim != 2 or self.spont.shape[1] != n_neurons:
            raise ValueError(f"spont has shape {self.spont.shape}, expected (n_timepoints, {n_neurons})")
        if self.xyz.shape != (n_neurons, 3):
            raise ValueError(f"xyz has shape {self.xyz.shape}, expected ({n_neurons}, 3)")
        if self.source not in ("figshare", "synthetic"):
            raise ValueError(f"source must be 'figshare' or 'synthetic', not {self.source!r}")

    @property
    def n_trials(self) -> int:
        return self.resp.shape[0]

    @property
    def n_neurons(self) -> int:
        return self.resp.shape[1]

    @property
    def is_grey(self) -> np.ndarray:
        """(n_trials,) bool, True for grey-screen trials."""
        return self.istim == GREY

    def without_grey(self) -> Recording:
        """The same recording with grey-screen trials removed."""
        keep = ~self.is_grey
        return dataclasses.replace(self, resp=self.resp[keep], istim=self.istim[keep])

    def subset_neurons(self, idx) -> Recording:
        """The recording restricted to neurons ``idx`` (index array or boolean mask).

        Ground truth is subset too, so a synthetic subset stays self-consistent.
        """
        idx = np.asarray(idx)
        truth = self.truth
        if truth is not None:
            truth = dataclasses.replace(truth, clean=truth.clean[:, idx])
        return dataclasses.replace(
            self, resp=self.resp[:, idx], spont=self.spont[:, idx], xyz=self.xyz[idx], truth=truth
        )

    def __repr__(self) -> str:
        n_grey = int(self.is_grey.sum())
        n_img = len(np.unique(self.istim[~self.is_grey]))
        return (
            f"Recording({self.name!r}, source={self.source!r}, {self.n_trials} trials "
            f"({n_img} images, {n_grey} grey), {self.n_neurons} neurons, "
            f"{self.spont.shape[0]} spontaneous timepoints)"
        )


def split_repeats(rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """Pair the repeats of each image, as the authors do.

    Each image's presentations are taken in time order and split into a first and a second half;
    the halves are averaged. Images shown fewer than twice are dropped; grey trials are ignored.

    Returns X: (2, n_images, n_neurons) float32 and image_ids: (n_images,) int, sorted ascending.
    """
    istim = np.asarray(rec.istim)
    stim_trials = np.flatnonzero(istim != GREY)
    order = stim_trials[np.argsort(istim[stim_trials], kind="stable")]  # by image, then time
    ids, starts, counts = np.unique(istim[order], return_index=True, return_counts=True)
    keep = counts >= 2
    if not keep.any():
        raise ValueError(f"recording {rec.name!r}: no image was shown at least twice")
    ids, starts, counts = ids[keep], starts[keep], counts[keep]
    X = np.empty((2, len(ids), rec.n_neurons), dtype=np.float32)
    if np.all(counts == 2):  # the common case: one first and one second presentation
        X[0] = rec.resp[order[starts]]
        X[1] = rec.resp[order[starts + 1]]
    else:
        for j, (s, c) in enumerate(zip(starts, counts)):
            half = c // 2
            X[0, j] = rec.resp[order[s : s + half]].mean(axis=0)
            X[1, j] = rec.resp[order[s + half : s + c]].mean(axis=0)
    return X, ids
