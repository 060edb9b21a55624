"""Parameter sweeps that reuse one expensive fit: how many spontaneous PCs to remove?

``denoise_sweep(rec, ns)`` fits ``SpontaneousPCs`` once, with the largest n, and evaluates every
smaller n with the leading rows of the same components (``truncate``). It never materialises a
cleaned copy of the responses per n: every measure is a function of a few Gram matrices, and
removing the first n components only subtracts the inner products of the projections onto them.
At full size (2,800 images x 11,000 neurons) the whole sweep costs about one fit plus one
identity decoding, instead of seven of each. ``projection_sweep`` does the same for any orthonormal
directions and z-scoring (controls: random directions, stimulus-period statistics), and
``project_trials`` / ``project_repeats`` show the responses along given directions.

The identities used: with orthonormal spontaneous PCs C (n x N), cleaning is y = w (I - C^T C),
where w is a z-scored, centred response. For any two responses a, b with q = w C^T,
``y_a . y_b = w_a . w_b - q_a . q_b`` and ``sum(y_a) = sum(w_a) - q_a . (C 1)``, which is all that
correlations across neurons (identity decoding) and covariances across images (signal variance)
need.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from neurolab._validation import check_rng, seed_of
from neurolab.preprocessing import SpontaneousPCs
from neurolab.recording import GREY, Recording, split_repeats

__all__ = [
    "DEFAULT_NS",
    "DenoiseSweep",
    "denoise_sweep",
    "project_repeats",
    "project_trials",
    "projection_sweep",
    "random_directions",
]

DEFAULT_NS = (0, 1, 4, 16, 32, 64, 128)
"""The numbers of spontaneous PCs the course sweeps (the original write-up removed 32)."""


@dataclass
class DenoiseSweep:
    """Outcome of ``denoise_sweep``: one entry per number of removed PCs (arrays of shape (k,)).

    Attributes
    ----------
    n_components : ndarray of shape (k,)
        The numbers of spontaneous PCs removed, ascending.
    identity_accuracy : ndarray of shape (k,)
        n_images-way identity decoding between the two repeats (``identity_accuracy`` on the
        cleaned responses); chance is ``chance``.
    signal_variance_fraction : ndarray of shape (k,)
        Population fraction of response variance that repeats (``signal_variance_fraction``).
    same_image_corr, other_image_corr : ndarray of shape (k,)
        Mean correlation across neurons between the two repeats of the same image, and between a
        repeat-2 response and the repeat-1 response of other images.
    stimulus_variance_removed : ndarray of shape (k,)
        Fraction of the (z-scored, centred) single-trial stimulus-response variance that lies in
        the removed PCs.
    spont_variance_removed : ndarray of shape (k,)
        Fraction of z-scored spontaneous variance in the removed PCs.
    truth_signal_removed : ndarray of shape (k,) or None
        Synthetic data only: fraction of the variance of the noise-free responses
        (``truth.clean``, z-scored by the same statistics) that the removed PCs take away, the
        price of the cleaning, known only where the truth is.
    chance : float
        1 / n_images.
    n_images : int
        Images with two repeats.
    transformer : SpontaneousPCs or None
        Fitted once at the largest n (``truncate`` it to reuse); None from ``projection_sweep``.
    """

    n_components: np.ndarray
    identity_accuracy: np.ndarray
    signal_variance_fraction: np.ndarray
    same_image_corr: np.ndarray
    other_image_corr: np.ndarray
    stimulus_variance_removed: np.ndarray
    spont_variance_removed: np.ndarray
    truth_signal_removed: np.ndarray | None
    chance: float
    n_images: int
    transformer: SpontaneousPCs | None = field(default=None, repr=False)

    def best(self, metric: str = "identity_accuracy") -> int:
        """The number of PCs that maximises ``metric`` (the smallest such n on a tie)."""
        values = np.asarray(getattr(self, metric))
        return int(self.n_components[int(np.argmax(values))])

    def at(self, n_components: int, metric: str = "identity_accuracy") -> float:
        """The value of ``metric`` at one swept number of PCs."""
        hit = np.flatnonzero(self.n_components == n_components)
        if not len(hit):
            raise KeyError(f"{n_components} PCs were not swept; swept: {self.n_components.tolist()}")
        return float(np.asarray(getattr(self, metric))[hit[0]])

    def table(self) -> dict:
        """{column: list} of every per-n measure, e.g. for ``pandas.DataFrame(sweep.table())``."""
        skip = ("chance", "n_images", "transformer")
        cols = [f.name for f in dataclasses.fields(self) if f.name not in skip]
        return {c: np.asarray(getattr(self, c)).tolist() for c in cols if getattr(self, c) is not None}


def random_directions(n_neurons: int, n_directions: int, rng=0) -> np.ndarray:
    """(n_directions, n_neurons) float32 orthonormal rows spanning a uniformly random subspace:
    the control for 'remove the spontaneous PCs' (remove as many directions that mean nothing)."""
    if not 0 <= n_directions <= n_neurons:
        raise ValueError(f"n_directions={n_directions} must be between 0 and n_neurons={n_neurons}")
    rng = check_rng(rng)
    q, r = np.linalg.qr(rng.standard_normal((n_neurons, n_directions)))
    q *= np.sign(np.diag(r))  # a unique, uniformly distributed basis
    return np.ascontiguousarray(q.T, dtype=np.float32)


def project_trials(rec: Recording, directions, mean, scale) -> np.ndarray:
    """Stimulus trials seen along given directions: (n_stimulus_trials, k) float32.

    Each trial is z-scored with ``mean``/``scale`` (n_neurons,), centred over the stimulus trials
    (as ``SpontaneousPCs.transform``) and projected on the rows of ``directions`` (k, n_neurons),
    e.g. spontaneous PCs or ``random_directions``. Rows follow the stimulus trials of ``rec`` in
    presentation order (grey trials skipped), so a column is that direction's time course.
    """
    directions = np.asarray(directions, dtype=np.float32)
    if directions.ndim != 2 or directions.shape[1] != rec.n_neurons:
        raise ValueError(f"directions must have shape (k, {rec.n_neurons}), got {directions.shape}")
    stim = rec.istim != GREY
    w = (rec.resp[stim] - np.asarray(mean, np.float32)) / np.asarray(scale, np.float32)
    proj = w @ directions.T
    return proj - proj.mean(axis=0)


def project_repeats(rec: Recording, directions, mean, scale) -> tuple[np.ndarray, np.ndarray]:
    """``project_trials`` paired into repeats like ``split_repeats``: (P (2, n_images, k), image_ids).

    Projection is linear, so this equals projecting ``split_repeats`` of the z-scored responses,
    at a fraction of the memory. P can go straight into ``geometry.signal_variance_fraction(P,
    per_neuron=True)``: the share of each direction's variance that repeats.
    """
    proj = project_trials(rec, directions, mean, scale)
    k = proj.shape[1]
    stim = rec.istim != GREY
    light = Recording(resp=proj, istim=rec.istim[stim], spont=np.zeros((0, k), np.float32),
                      xyz=np.zeros((k, 3), np.float32), name=rec.name, source=rec.source)
    return split_repeats(light)


def denoise_sweep(rec: Recording, ns=DEFAULT_NS, rng=0) -> DenoiseSweep:
    """Remove n = each of ``ns`` spontaneous PCs and measure what it does to the responses.

    ``SpontaneousPCs(max(ns))`` is fitted once on ``rec.spont`` and every n uses its first n
    components (see ``truncate``). Every measure equals what ``denoise_recording`` ->
    ``split_repeats`` -> ``identity_accuracy`` / ``signal_variance_fraction`` give with those
    components (tested).

    Parameters
    ----------
    rec : Recording
        With spontaneous activity (grey trials, if kept, are ignored).
    ns : sequence of int
        Numbers of PCs (0 = z-score only).
    rng : int or numpy.random.Generator
        Seed of the randomized SVD.

    Returns
    -------
    DenoiseSweep
        Its ``transformer`` is the fit at the largest n.
    """
    ns = _checked_ns(ns)
    sp = SpontaneousPCs(int(ns[-1]), rng=seed_of(rng)).fit(rec.spont)
    return projection_sweep(rec, sp.components_, ns, mean=sp.mean_, scale=sp.scale_, _transformer=sp)


def projection_sweep(rec: Recording, components, ns=None, mean=None, scale=None, _transformer=None):
    """Z-score, remove the first n of the given directions for each n in ``ns``, and measure.

    The cleaned responses are ((resp - mean) / scale) (I - C_n^T C_n), centred over stimulus
    trials, as ``denoise_recording`` makes them. Cost: one (n_images x n_images x n_neurons)
    product, whatever ns.

    Parameters
    ----------
    rec : Recording
    components : array-like of shape (k, n_neurons)
        Orthonormal rows, e.g. spontaneous PCs or ``random_directions``.
    ns : sequence of int, optional
        Numbers of leading directions to remove (default the ``DEFAULT_NS`` values <= k).
    mean, scale : array-like of shape (n_neurons,), optional
        Z-scoring statistics; default those of the spontaneous activity (as ``SpontaneousPCs``).
        Pass e.g. the stimulus trials' own mean and SD to compare.

    Returns
    -------
    DenoiseSweep
        ``transformer`` None unless called by ``denoise_sweep``.
    """
    C32 = np.ascontiguousarray(components, dtype=np.float32)
    if C32.ndim != 2 or C32.shape[1] != rec.n_neurons:
        raise ValueError(f"components must have shape (k, {rec.n_neurons}), got {C32.shape}")
    gram_c = C32 @ C32.T
    if not np.allclose(gram_c, np.eye(len(C32)), atol=1e-3):
        raise ValueError("components must have orthonormal rows (C @ C.T == identity)")
    k = len(C32)
    ns = _checked_ns([n for n in DEFAULT_NS if n <= k] if ns is None else ns)
    if ns[-1] > k:
        raise ValueError(f"cannot remove {ns[-1]} directions: only {k} given")
    if mean is None or scale is None:
        ref = SpontaneousPCs(0).fit(rec.spont)
        mean = ref.mean_ if mean is None else mean
        scale = ref.scale_ if scale is None else scale
    mean = np.asarray(mean, dtype=np.float32)
    scale = np.asarray(scale, dtype=np.float32)
    if mean.shape != (rec.n_neurons,) or scale.shape != (rec.n_neurons,) or not np.all(scale > 0):
        raise ValueError(f"mean and scale must have shape ({rec.n_neurons},), scale > 0")
    C = C32.astype(np.float64)
    n_neurons = rec.n_neurons

    # z-score and centre over the stimulus trials, as SpontaneousPCs.transform does
    stim = rec.istim != GREY
    w = (rec.resp[stim] - mean) / scale
    w -= w.mean(axis=0)
    q_trials = (w @ C32.T).astype(np.float64)  # (n_trials, k)
    total_trial_var = _sumsq(w)
    X, _ = split_repeats(dataclasses.replace(rec, resp=w, istim=rec.istim[stim]))
    del w
    n_img = X.shape[1]
    x0, x1 = X[0], X[1]  # float32 (n_images, N); big products in float32, the rest in float64

    gram = (x1 @ x0.T).astype(np.float64)  # (test, template) inner products
    q0, q1 = (x0 @ C32.T).astype(np.float64), (x1 @ C32.T).astype(np.float64)  # (n_images, k)
    sum0, sum1 = x0.sum(axis=1, dtype=np.float64), x1.sum(axis=1, dtype=np.float64)
    sq0, sq1 = _rowsumsq(x0), _rowsumsq(x1)
    dot01 = float(np.trace(gram))
    mean0, mean1 = x0.mean(axis=0, dtype=np.float64), x1.mean(axis=0, dtype=np.float64)  # over images
    del X, x0, x1
    c_sum = C.sum(axis=1)  # (k,) each direction's sum over neurons
    qm0, qm1 = mean0 @ C.T, mean1 @ C.T  # projections of the image means
    m01, m00, m11 = float(mean0 @ mean1), float(mean0 @ mean0), float(mean1 @ mean1)

    # spontaneous activity, z-scored the same way and centred (nothing to measure if k == 0)
    spont_q, spont_total = np.zeros((0, k)), 1.0
    if k and len(rec.spont):
        zs = (rec.spont - mean) / scale
        zs -= zs.mean(axis=0)
        spont_q = (zs @ C32.T).astype(np.float64)
        spont_total = max(_sumsq(zs), 1e-300)
        del zs

    truth_q, truth_total = np.zeros((0, k)), 1.0
    if rec.truth is not None and k:
        truth_z = rec.truth.clean / scale  # float32 (n_images, N)
        truth_z -= truth_z.mean(axis=0)
        truth_q = (truth_z @ C32.T).astype(np.float64)
        truth_total = max(_sumsq(truth_z), 1e-300)
        del truth_z

    out = {k: [] for k in ("acc", "svf", "same", "other", "stim", "spont", "truth")}
    diagonal = np.arange(n_img)
    for n in ns:
        a0, a1 = q0[:, :n], q1[:, :n]
        # correlation across neurons between each test response (repeat 2) and each template,
        # built in place: (dot - sum1 sum0 / N) / sqrt(var1 var0)
        s0, s1 = sum0 - a0 @ c_sum[:n], sum1 - a1 @ c_sum[:n]
        v0 = sq0 - np.einsum("ij,ij->i", a0, a0) - s0**2 / n_neurons
        v1 = sq1 - np.einsum("ij,ij->i", a1, a1) - s1**2 / n_neurons
        corr = gram - a1 @ a0.T
        corr -= np.outer(s1 / n_neurons, s0)
        corr /= np.sqrt(np.maximum(v1, 1e-300))[:, None]
        corr /= np.sqrt(np.maximum(v0, 1e-300))[None, :]
        out["acc"].append(float(np.mean(np.argmax(corr, axis=1) == diagonal)))
        same = float(np.trace(corr))
        out["same"].append(same / n_img)
        out["other"].append((float(corr.sum()) - same) / (n_img * (n_img - 1)) if n_img > 1 else float("nan"))
        del corr
        # signal variance: covariance across images of the two repeats, summed over neurons
        b0, b1 = qm0[:n], qm1[:n]
        signal = (dot01 - float(np.sum(a0 * a1))) / n_img - (m01 - float(b0 @ b1))
        var0 = (float(sq0.sum()) - float(np.sum(a0 * a0))) / n_img - (m00 - float(b0 @ b0))
        var1 = (float(sq1.sum()) - float(np.sum(a1 * a1))) / n_img - (m11 - float(b1 @ b1))
        out["svf"].append(signal / (0.5 * (var0 + var1)))
        out["stim"].append(float(np.sum(q_trials[:, :n] ** 2)) / total_trial_var)
        out["spont"].append(float(np.sum(spont_q[:, :n] ** 2)) / spont_total)
        if rec.truth is not None:
            out["truth"].append(float(np.sum(truth_q[:, :n] ** 2)) / truth_total)

    return DenoiseSweep(
        n_components=ns,
        identity_accuracy=np.array(out["acc"]),
        signal_variance_fraction=np.array(out["svf"]),
        same_image_corr=np.array(out["same"]),
        other_image_corr=np.array(out["other"]),
        stimulus_variance_removed=np.array(out["stim"]),
        spont_variance_removed=np.array(out["spont"]),
        truth_signal_removed=np.array(out["truth"]) if rec.truth is not None else None,
        chance=1.0 / n_img,
        n_images=int(n_img),
        transformer=_transformer,
    )


def _checked_ns(ns) -> np.ndarray:
    ns = np.unique(np.asarray(ns, dtype=np.int64))
    if ns.size == 0 or ns[0] < 0:
        raise ValueError(f"ns must be non-negative numbers of components, got {ns.tolist()}")
    return ns


def _rowsumsq(a: np.ndarray) -> np.ndarray:
    """Sum of squares of each row, accumulated in float64 one block of rows at a time."""
    out = np.empty(len(a))
    for i in range(0, len(a), 256):
        block = a[i : i + 256].astype(np.float64)
        out[i : i + 256] = np.einsum("ij,ij->i", block, block)
    return out


def _sumsq(a: np.ndarray) -> float:
    return float(_rowsumsq(a).sum())
