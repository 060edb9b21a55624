"""Self-checks of chapter 2: denoising."""

from __future__ import annotations

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _close, _pct, exercise


def _sweep_like(name: str, value):
    from neurolab.decoding.denoise_sweep import DenoiseSweep

    if not isinstance(value, DenoiseSweep):
        raise Wrong(f"`{name}` should be the DenoiseSweep that projection_sweep returns, got {type(value).__name__}")
    return value


@exercise("ex-02-stimulus-zscore", "2.1",
          "a projection_sweep with no PCs removed, z-scored by the stimulus trials")
def _stimulus_zscore(by_stim, *, rec):
    from neurolab.decoding import projection_sweep

    sweep = _sweep_like("by_stim", by_stim)
    if list(np.asarray(sweep.n_components)) != [0]:
        raise Wrong(f"remove no PCs here (ns=[0]); `by_stim` swept {np.asarray(sweep.n_components).tolist()}")
    none = np.zeros((0, rec.n_neurons), dtype=np.float32)

    def accuracy(a):
        a = np.asarray(a, dtype=np.float64)
        sd = a.std(axis=0)
        return projection_sweep(rec, none, [0], mean=a.mean(axis=0), scale=np.where(sd > 0, sd, 1.0)).at(0)

    got = sweep.at(0)
    tol = 2.5 / max(sweep.n_images, 1)
    stim = np.asarray(rec.resp)[np.asarray(rec.istim) >= 0]
    if abs(got - accuracy(stim)) <= tol:
        return f"Identity accuracy {_pct(got)} with stimulus z-scoring."
    if abs(got - accuracy(rec.spont)) <= tol:
        raise Wrong("`by_stim` still uses the spontaneous statistics; the exercise asks for each "
                    "neuron's statistics over the stimulus trials instead")
    raise Wrong("`by_stim` does not match z-scoring every neuron by its own statistics over the "
                "image trials: check which array the mean and the scale come from, and their axis")


@exercise("ex-02-random-control", "2.2",
          "the same sweep with random orthonormal directions removed instead of spontaneous PCs")
def _random_control(control, *, sweep, NS, rec):
    control = _sweep_like("control", control)
    ns = np.asarray(NS)
    if not np.array_equal(np.asarray(control.n_components), ns):
        raise Wrong(f"sweep the same numbers of directions as the chapter (NS = {ns.tolist()}); "
                    f"`control` swept {np.asarray(control.n_components).tolist()}")
    if 0 in ns and abs(control.at(0) - sweep.at(0)) > 1e-9:
        raise Wrong("with nothing removed `control` should equal the spontaneous sweep: z-score with the "
                    "same statistics (mean=sp.mean_, scale=sp.scale_)")
    n_max = int(ns.max())
    expected = n_max / rec.n_neurons  # a random subspace holds about its share of any variance
    removed = float(np.asarray(control.spont_variance_removed)[-1])
    if _close(control.identity_accuracy, sweep.identity_accuracy) and _close(
            control.spont_variance_removed, sweep.spont_variance_removed):
        raise Wrong("`control` is the spontaneous-PC sweep again; pass random_directions(rec.n_neurons, "
                    "max(NS), seed=...) as the directions")
    if removed > 3 * expected + 0.02:
        raise Wrong(f"the removed directions hold {_pct(removed)} of the spontaneous variance, far more than "
                    f"random directions would (about {_pct(expected)}): are they spontaneous PCs?")
    return (f"{n_max} random directions remove {_pct(removed)} of the spontaneous variance "
            f"(spontaneous PCs: {_pct(float(np.asarray(sweep.spont_variance_removed)[-1]))}).")
