"""A synthetic twin of a natimg2800 recording, in the same layout and with known ground truth.

The generator is a linear-nonlinear population model:

    drive[t, n] = W[:, n] . (f[image(t)] + eta[t])  +  U[n] . z[t]  +  eps[t, n]  - threshold[n]
    resp[t, n]  = gain[n] * softplus(drive[t, n]) ** 2 / 2

* f[i] (n_latents,): latent features of image i with a power-law variance spectrum
  (variance of feature k proportional to k**-latent_alpha), plus a class offset of strength
  ``category_strength`` for the image's real ImageNet class (the 'unknown' class has none).
* W (n_latents, n_neurons): tuning. A fraction ``spatial_share`` of it is a smooth function of the
  neuron's cortical x/y position (retinotopy: nearby neurons have similar tuning), the rest is
  neuron-specific.
* eta[t]: trial-to-trial noise *along the stimulus dimensions* (information-limiting correlations,
  Moreno-Bote et al. 2014), with the same spectrum as f and variance ``info_noise`` times it.
* z[t] (n_spont_dims,): slow, behaviour-like fluctuations shared by many neurons, present both in
  spontaneous activity and on top of every stimulus trial (what ``SpontaneousPCs`` removes).
* eps: private noise of each neuron.

The rectifying, expansive output makes responses sparse and heavy-tailed like deconvolved
calcium signals. Default parameters are calibrated so that, after ``SpontaneousPCs(32)``, the
'full' recording matches what the authors report on real data (cvPCA exponent ~1, 2,800-way
identity decoding ~0.4, signal variance fraction ~0.17): see ``benchmarks/calibration.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from neurolab._validation import check_labels, check_rng, seed_of
from neurolab.recording import GREY, N_IMAGES, Recording, SyntheticTruth


@dataclass(frozen=True)
class SyntheticParams:
    """Every setting of the generator (positions in micrometres, variances in units of the drive)."""

    n_neurons: int = 11_000
    image_step: int = 1  # use images 0, step, 2*step, ... of the 2,800
    n_repeats: int = 2
    n_grey: int = 200  # grey-screen trials interleaved with the images
    n_spont: int = 3_000  # spontaneous timepoints
    n_planes: int = 11
    plane_spacing_um: float = 35.0
    field_um: float = 1_000.0  # x/y extent of the field of view
    n_latents: int = 1_000
    latent_alpha: float = 0.85  # power-law exponent of the latent feature spectrum
    signal_var: float = 1.0  # drive variance from the image features
    # info_noise and private_var are calibrated (benchmarks/calibration.py) so that the full-size
    # twin gives what python/powerlaws.ipynb prints on M170714_MP032_2017-09-14 with its own
    # rules: identity 0.412 by the dot product, alpha 0.974 (ranks 12-500), repeat correlation 0.165
    info_noise: float = 0.95  # stimulus-dimension noise variance, relative to signal_var
    spont_var: float = 0.6  # drive variance from shared spontaneous fluctuations
    n_spont_dims: int = 64
    spont_alpha: float = 1.0  # spectrum of the spontaneous dimensions
    spont_tau_trials: float = 20.0  # time constant of the spontaneous fluctuations
    private_var: float = 1.15  # private noise variance
    spatial_share: float = 0.3  # share of tuning variance that is smooth in cortical space
    spatial_scale_um: float = 150.0  # length scale of the smooth tuning
    n_spatial_features: int = 64
    category_strength: float = 0.02  # class-offset variance relative to the image features (weak)
    threshold_mean: float = 0.8
    threshold_sd: float = 0.3
    gain_sd: float = 0.5  # log-normal spread of neuron gains


SIZES: dict[str, SyntheticParams] = {
    "smoke": SyntheticParams(n_neurons=600, image_step=5, n_grey=40, n_spont=600, n_latents=300),
    "course": SyntheticParams(n_neurons=3_000, n_spont=1_500),
    "full": SyntheticParams(),
}
"""Named sizes: 'smoke' runs in about a second (tests), 'course' for laptops, 'full' is the book."""


def make_recording(
    size: str = "full", rng=0, *, labels, keep_grey: bool = False, **overrides
) -> Recording:
    """Generate a synthetic natimg2800 recording.

    A pure function: everything it depends on is passed in (no file is read).

    Parameters
    ----------
    size : {'smoke', 'course', 'full'}
        Named size (see ``SIZES``).
    rng : int or numpy.random.Generator
        An int seed gives identical arrays on every call.
    labels : array-like of shape (2800,)
        Class of each image (0 = 'unknown'), e.g. ``neurolab.io.load_classes()[0]``.
    keep_grey : bool
        Keep grey-screen trials (istim == -1); dropped by default, like ``load_recording``.
    **overrides
        Any ``SyntheticParams`` field.

    Returns
    -------
    Recording
        With ``truth`` set (rows of ``truth.clean`` follow ``truth.image_ids``).
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {sorted(SIZES)}")
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(SyntheticParams)})
    if unknown:
        raise TypeError(f"make_recording got unknown generator settings {unknown}; see SyntheticParams")
    params = dataclasses.replace(SIZES[size], **overrides)
    _check_params(params)
    labels = check_labels(labels)
    generator = check_rng(rng)  # refuses anything but an int seed or a Generator
    seed = None if isinstance(rng, np.random.Generator) else seed_of(rng)
    name = f"synthetic-{size}-seed{seed}" if seed is not None else f"synthetic-{size}"
    rec = _generate(params, generator, labels, name=name, seed=seed)
    return rec if keep_grey else rec.without_grey()


# --------------------------------------------------------------------------------------------
_COUNTS = {  # name: smallest valid value
    "n_neurons": 1, "image_step": 1, "n_repeats": 1, "n_grey": 0, "n_spont": 0, "n_planes": 1,
    "n_latents": 1, "n_spont_dims": 1, "n_spatial_features": 1,
}
_POSITIVE = ("field_um", "signal_var", "spont_tau_trials", "spatial_scale_um")
_NON_NEGATIVE = ("plane_spacing_um", "latent_alpha", "info_noise", "spont_var", "spont_alpha",
                 "private_var", "category_strength", "threshold_sd", "gain_sd")
_FRACTIONS = ("spatial_share",)


def _check_params(p: SyntheticParams) -> None:
    """Every generator setting in its valid range, before any work: else a ValueError naming it."""
    for name, low in _COUNTS.items():
        value = getattr(p, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"make_recording: {name} must be an int >= {low}, got {value!r}")
    if p.image_step > N_IMAGES:
        raise ValueError(f"make_recording: image_step must be at most {N_IMAGES}, got {p.image_step}")
    for name in _POSITIVE + _NON_NEGATIVE + _FRACTIONS + ("threshold_mean",):
        value = getattr(p, name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(value):
            raise ValueError(f"make_recording: {name} must be a finite number, got {value!r}")
        if name in _POSITIVE and value <= 0:
            raise ValueError(f"make_recording: {name} must be > 0, got {value!r}")
        if name in _NON_NEGATIVE and value < 0:
            raise ValueError(f"make_recording: {name} must be >= 0 (a variance or spread), got {value!r}")
        if name in _FRACTIONS and not 0 <= value <= 1:
            raise ValueError(f"make_recording: {name} must lie between 0 and 1, got {value!r}")


def _generate(p: SyntheticParams, rng: np.random.Generator, labels: np.ndarray, name: str,
              seed: int | None) -> Recording:
    f32 = np.float32
    images = np.arange(0, N_IMAGES, p.image_step)
    n_img, n_neu, n_lat = len(images), p.n_neurons, p.n_latents

    # --- positions: planes in depth, uniform in x/y
    plane = rng.integers(0, p.n_planes, n_neu)
    xy = rng.uniform(0, p.field_um, (n_neu, 2))
    xyz = np.column_stack([xy, plane * p.plane_spacing_um]).astype(f32)

    # --- latent image features with a power-law spectrum, plus class offsets
    lam = latent_variances(n_lat, p.latent_alpha)
    sd = np.sqrt(lam).astype(f32)
    n_classes = int(labels.max()) + 1
    class_means = (rng.standard_normal((n_classes, n_lat), dtype=f32) * sd) * np.sqrt(p.category_strength)
    class_means[0] = 0.0  # 'unknown' images share no category signal
    latents = rng.standard_normal((n_img, n_lat), dtype=f32) * sd + class_means[labels[images]]
    latents /= latent_scale(p.category_strength, labels[images])

    # --- tuning: neuron-specific part + part smooth in cortical x/y (random Fourier features)
    omega = rng.standard_normal((p.n_spatial_features, 2)) / p.spatial_scale_um
    phase = rng.uniform(0, 2 * np.pi, p.n_spatial_features)
    phi = np.sqrt(2.0 / p.n_spatial_features) * np.cos(xy @ omega.T + phase)  # (n_neu, n_feat)
    smooth = rng.standard_normal((n_lat, p.n_spatial_features)) @ phi.T  # (n_lat, n_neu)
    W = np.sqrt(1 - p.spatial_share) * rng.standard_normal((n_lat, n_neu)) + np.sqrt(p.spatial_share) * smooth
    W = W.astype(f32)
    W *= np.sqrt(p.signal_var / np.sum(W.astype(np.float64) ** 2 * lam[:, None], axis=0)).astype(f32)
    # (each neuron's signal drive variance is now exactly signal_var for unit-variance features)

    # --- trial order: each repeat is a random permutation; grey trials at random positions
    order = np.concatenate([rng.permutation(n_img) for _ in range(p.n_repeats)])
    istim = images[order].astype(np.int64)
    grey_at = np.sort(rng.choice(len(istim) + p.n_grey, p.n_grey, replace=False))
    is_grey = np.zeros(len(istim) + p.n_grey, bool)
    is_grey[grey_at] = True
    full_istim = np.full(len(is_grey), GREY, np.int64)
    full_istim[~is_grey] = istim
    img_row = np.full(len(is_grey), -1)
    img_row[~is_grey] = order
    n_trials = len(full_istim)

    # --- neuron output parameters
    threshold = (p.threshold_mean + p.threshold_sd * rng.standard_normal(n_neu)).astype(f32)
    gain = np.exp(p.gain_sd * rng.standard_normal(n_neu)).astype(f32)
    out = lambda drive: _output(drive, threshold, gain)  # noqa: E731

    # --- shared spontaneous dimensions (slow AR(1) in time)
    mu = np.arange(1, p.n_spont_dims + 1, dtype=np.float64) ** -p.spont_alpha
    mu *= p.spont_var / mu.sum()
    U = (rng.standard_normal((p.n_spont_dims, n_neu)) * np.sqrt(mu)[:, None]).astype(f32)

    def spont_latents(n):
        if n == 0:  # no spontaneous block (n_spont=0)
            return np.zeros((0, p.n_spont_dims), f32)
        a = np.exp(-1.0 / p.spont_tau_trials)
        z = rng.standard_normal((n, p.n_spont_dims)).astype(np.float64)
        z[0] /= np.sqrt(1 - a * a)
        for t in range(1, n):
            z[t] += a * z[t - 1]
        return (z * np.sqrt(1 - a * a)).astype(f32)

    private_sd = np.float32(np.sqrt(p.private_var))

    # --- stimulus trials
    signal = latents @ W  # (n_img, n_neu) noise-free drive
    eta = rng.standard_normal((n_trials, n_lat), dtype=f32) * (sd * np.sqrt(np.float32(p.info_noise)))
    eta[is_grey] = 0.0
    drive = eta @ W
    drive[~is_grey] += signal[order]
    drive += spont_latents(n_trials) @ U
    drive += rng.standard_normal((n_trials, n_neu), dtype=f32) * private_sd
    resp = out(drive)
    del drive, eta

    # --- spontaneous block
    sp = spont_latents(p.n_spont) @ U
    sp += rng.standard_normal((p.n_spont, n_neu), dtype=f32) * private_sd
    spont = out(sp)
    del sp

    truth = SyntheticTruth(
        clean=out(signal),
        latents=latents,
        category_means=class_means,
        labels=labels.copy(),
        image_ids=images,
        category_strength=p.category_strength,
        params=dataclasses.asdict(p) | {"seed": seed},
    )
    return Recording(
        resp=resp, istim=full_istim, spont=spont, xyz=xyz, name=name, source="synthetic", truth=truth
    )


def latent_variances(n_latents: int, alpha: float) -> np.ndarray:
    """(n_latents,) float64 variance of each latent image feature: k**-alpha, summing to 1."""
    lam = np.arange(1, n_latents + 1, dtype=np.float64) ** -float(alpha)
    return lam / lam.sum()


def latent_scale(category_strength: float, image_labels) -> np.float64:
    """The factor the stored latents were divided by, so that their total variance stays ~1.

    image_labels: (n_images,) class of each generated image; 'unknown' (0) images get no offset.
    """
    known_share = 1 - np.mean(np.asarray(image_labels) == 0)
    return np.sqrt(1.0 + category_strength * known_share)  # np.float64


def latent_spectrum(truth) -> np.ndarray:
    """The generator's own stimulus spectrum: eigenvalues of the covariance of its image latents.

    truth: ``Recording.truth`` of a synthetic recording (``latents`` (n_images, n_latents)).
    Returns (min(n_images, n_latents),) float64, descending, summed over images like ``cvpca``.
    Raises ValueError for real data (truth None): the true spectrum of a real brain is unknown.
    """
    if truth is None:
        raise ValueError("real recordings have no ground truth: their latent spectrum is unknown")
    z = np.asarray(truth.latents, dtype=np.float64)
    z = z - z.mean(axis=0)
    s = np.linalg.svd(z, compute_uv=False)
    return s**2


def _output(drive: np.ndarray, threshold: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Rectifying, expansive output: gain * softplus(drive - threshold)^2 / 2, in place, float32."""
    drive -= threshold
    np.logaddexp(np.float32(0), drive, out=drive)
    np.square(drive, out=drive)
    drive *= gain * np.float32(0.5)
    return drive
