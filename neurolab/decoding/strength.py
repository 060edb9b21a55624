"""What would it take? Decoders against the category strength planted in the synthetic twin.

How strongly V1 separates ImageNet categories on single trials is unknown: the twin sets it with one
constant, ``SyntheticParams.category_strength``. ``strength_sweep`` generates the twin at several
strengths, measures for each the category share of the stimulus variance the way one would on a
real recording (``geometry.category_signal_fraction``, so a real recording can be placed on the
same axis), and scores the course's fast decoders on the same folds, with the oracle (which knows
the generator) beside them. A paired test against always answering the largest class says, for
each decoder and strength, whether a null result like the write-up's would be expected.

Results are cached on disk (``neurolab._store.cache_dir``), one file per strength keyed by every
argument and the package version, so a book build pays for each twin once.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence

import numpy as np

from neurolab._stats import check_permutations
from neurolab._store import atomic_path, cache_dir, remove_orphans
from neurolab._validation import check_int, check_labels, seed_of

__all__ = ["DECODERS", "ZOO", "strength_sweep"]

DECODERS = ("nearest centroid", "logistic regression", "logistic regression, repeats averaged", "oracle")
"""What ``strength_sweep`` scores by default: chapter 6's nearest centroid and chapter 3's logistic
regression (PCA front end) on single trials, the same regression on repeat-averaged responses
(chapter 7's setting), and the oracle (chapter 9), which knows the generator's class means."""

ZOO = ("random forest", "AdaBoost", "XGBoost", "fastai MLP")
"""The rest of chapter 3's learners (``tabular_models``), added with ``learners="all"``: on the
same PCA features of single trials, as chapter 3 and the write-up ran them."""

_COLUMNS = ("category_strength", "category_fraction", "category_null_95", "decoder", "balanced_accuracy",
            "chance", "difference", "p_value", "n_swaps", "n_neurons", "n_images")


def _key(**arguments) -> str:
    import neurolab

    text = json.dumps({**arguments, "version": neurolab.__version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def strength_sweep(strengths: Sequence[float], labels, size: str = "course", rng=0, n_neurons: int | None = None,
                   n_components: int = 64, n_swaps: int = 999, learners: str = "fast", epochs: int = 5,
                   cache: bool = True):
    """Score the course's decoders on twins that differ only in their planted category strength.

    Parameters
    ----------
    strengths : sequence of float
        Values of ``category_strength`` (0 plants no category signal; the course's twin uses 0.02).
    labels : array-like of shape (2800,)
        Class of each image (0 = 'unknown'), e.g. ``neurolab.io.load_classes()[0]``.
    size : {'smoke', 'course', 'full'}
        The twin's size (``synthetic.SIZES``); every image of the 2,800 is shown twice except at
        'smoke'.
    rng : int or numpy.random.Generator
        One seed for every twin (the same neurons and images; only the strength differs) and for
        the folds.
    n_neurons : int, optional
        Fewer neurons than the size's, to make the sweep cheaper.
    n_components : int
        PCA dimensions in front of the logistic regressions (chapter 3 uses 64).
    n_swaps : int
        Swaps of the paired test of each decoder against always answering the largest class.
    learners : {'fast', 'all'}
        ``DECODERS`` only, or also the rest of chapter 3's learners (``ZOO``).
    epochs : int
        Training epochs of the fastai MLP (``learners="all"``).
    cache : bool
        Reuse (and store) the result on disk.

    Returns
    -------
    pandas.DataFrame
        One row per strength and decoder: category_strength, category_fraction (the category share
        of the stimulus variance, measured as on a real recording) and category_null_95 (its 95th
        percentile under label shuffles), decoder, balanced_accuracy, chance (1 / n_classes),
        difference and p_value of the paired test against the majority answer, n_swaps,
        n_neurons, n_images.
    """
    import pandas as pd

    if learners not in ("fast", "all"):
        raise ValueError(f"learners must be 'fast' or 'all', not {learners!r}")
    strengths = _check_strengths(strengths)
    from neurolab.synthetic import SIZES

    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, not {size!r}")
    if n_neurons is not None:
        n_neurons = check_int(n_neurons, "n_neurons", 2)
    n_components = check_int(n_components, "n_components", 1)
    epochs = check_int(epochs, "epochs", 1)
    n_swaps = check_permutations(n_swaps, "n_swaps", low=1)
    if not isinstance(cache, (bool, np.bool_)):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    labels = check_labels(labels)
    seed = seed_of(rng)
    labels_digest = hashlib.sha256(labels.tobytes()).hexdigest()
    n_rows = len(DECODERS) + (len(ZOO) if learners == "all" else 0)
    rows = []
    for strength in strengths:  # one cache file per strength: a new strength costs only itself
        key = _key(strength=strength, labels=labels_digest, size=size, seed=seed, n_neurons=n_neurons,
                   n_components=n_components, n_swaps=n_swaps, learners=learners, epochs=epochs)
        path = cache_dir() / "strength_sweep" / f"{key}.json"
        found = _read_cache(path, strength, n_rows) if cache and path.exists() else None
        if found is None:
            found = _one_strength(strength, labels, size, seed, n_neurons, n_components, n_swaps, learners,
                                  epochs)
            if cache:
                _write_cache(path, found)
        rows += found
    return pd.DataFrame(rows)[list(_COLUMNS)]


def _check_strengths(strengths) -> list[float]:
    """A non-empty sequence of finite numbers >= 0 (no string, no bool), as floats."""
    if isinstance(strengths, (str, bytes)) or not isinstance(strengths, Sequence | np.ndarray):
        raise ValueError(f"strengths must be a list of numbers (category strengths), got {strengths!r}")
    out = []
    for s in strengths:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, float, np.integer, np.floating)) \
                or not np.isfinite(s) or s < 0:
            raise ValueError(f"strengths must be finite numbers >= 0, got {s!r} in {list(strengths)!r}")
        out.append(float(s))
    if not out:
        raise ValueError("strengths is empty: give at least one category strength")
    return out


def _read_cache(path, strength: float, n_rows: int) -> list[dict] | None:
    """The cached rows of one strength, or None (with a warning naming the file) when it is damaged."""
    try:
        found = json.loads(path.read_text())
        ok = (isinstance(found, list) and len(found) == n_rows
              and all(isinstance(r, dict) and set(_COLUMNS) <= set(r) for r in found)
              and all(r["category_strength"] == strength for r in found))
        problem = None if ok else "it does not hold one whole row per decoder"
    except (OSError, UnicodeDecodeError, ValueError) as error:
        problem = f"{type(error).__name__}: {error}"
    if problem is None:
        return found
    warnings.warn(f"strength-sweep cache file {path} is damaged ({problem}); computing it again",
                  stacklevel=3)
    return None


def _write_cache(path, rows: list[dict]) -> None:
    """Store rows; a cache that cannot be written only warns (the result is returned all the same)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_orphans(path.parent)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(rows))
    except OSError as error:
        warnings.warn(f"could not store the strength sweep in {path.parent} ({error}); the result is "
                      "returned but will be computed again next time", stacklevel=3)


def _one_strength(strength, labels, size, seed, n_neurons, n_components, n_swaps, learners, epochs) -> list[dict]:
    from sklearn.neighbors import NearestCentroid
    from threadpoolctl import threadpool_limits

    from neurolab.decoding.ceiling import oracle_result
    from neurolab.decoding.cv import chance_test, cross_validate
    from neurolab.decoding.estimators import make_reducer, tabular_models
    from neurolab.decoding.tasks import category_task, truth_task
    from neurolab.geometry import category_signal_fraction
    from neurolab.preprocessing import denoise_recording
    from neurolab.synthetic import make_recording

    overrides = {"category_strength": strength}
    if n_neurons is not None:
        overrides["n_neurons"] = int(n_neurons)
    rec = make_recording(size, seed, labels=labels, **overrides)
    with threadpool_limits(1, user_api="blas"):
        rec, _ = denoise_recording(rec, 32)
        fraction = category_signal_fraction(rec, labels, rng=seed)
        X, y, groups = category_task(rec, labels)
        Xa, ya, ga = category_task(rec, labels, average_repeats=True)
        k = min(n_components, X.shape[1], len(ya) // 2)
        reducer = make_reducer(k, seed)
        zoo = tabular_models(rng=seed, size=size, epochs=epochs)  # chapter 3's learners
        lr = zoo["logistic regression"]
        models = {"nearest centroid": NearestCentroid(), "logistic regression": lr}
        if learners == "all":
            models |= {name: zoo[name] for name in ZOO}
        single = cross_validate(models, X, y, groups, reducer=reducer, rng=seed)
        averaged = cross_validate({"logistic regression, repeats averaged": lr}, Xa, ya, ga,
                                  reducer=make_reducer(k, seed), rng=seed)
        oracle = oracle_result(rec, rng=seed)
    _, y_oracle, g_oracle = truth_task(rec, "latents")  # the oracle scores images
    tasks = {name: (y, groups) for name in models} | {
        "logistic regression, repeats averaged": (ya, ga), "oracle": (y_oracle, g_oracle)}
    results = {**single, **averaged, "oracle": oracle}
    rows = []
    for name in [*DECODERS, *(ZOO if learners == "all" else ())]:
        result = results[name]
        y_t, g_t = tasks[name]
        test = chance_test(result, y_t, g_t, n_permutations=n_swaps, rng=seed)
        rows.append({
            "category_strength": strength,
            "category_fraction": float(fraction["category_fraction"]),
            "category_null_95": float(fraction["null_95"]),
            "decoder": name,
            "balanced_accuracy": float(result.balanced_accuracy),
            "chance": 1.0 / len(np.unique(y_t)),
            "difference": float(test.difference),
            "p_value": float(test.p_value),
            "n_swaps": int(n_swaps),
            "n_neurons": int(rec.n_neurons),
            "n_images": int(len(ya)),
        })
    return rows


def _measure(args) -> int:
    from neurolab.geometry import category_signal_fraction
    from neurolab.io import describe_source, load, load_classes
    from neurolab.preprocessing import denoise_recording

    rec = load(args.recording, "full", args.seed)
    print(describe_source(rec))
    result = category_signal_fraction(denoise_recording(rec, 32)[0], load_classes()[0], rng=args.seed)
    print(f"category_fraction {result['category_fraction']:.4f} (shuffled labels: mean "
          f"{result['null_mean']:.4f}, 95th percentile {result['null_95']:.4f}; p = {result['p']:.3g}). "
          f"Chapter 11's curve gives the accuracy a decoder would reach at this value.")
    return 0


def main(argv=None) -> int:
    """``python -m neurolab.decoding.strength RECORDING``: the category share of one recording's
    stimulus variance, measured as chapter 11's curve measures the twins (32 spontaneous PCs out).

    Exit status 0, or 2 with one line naming the problem (``--debug`` shows the traceback)."""
    import argparse

    from neurolab._cli import int_at_least, run_cli

    parser = argparse.ArgumentParser(prog="python -m neurolab.decoding.strength", description=main.__doc__)
    parser.add_argument("recording", help="a recording's name (e.g. M170714_MP032_2017-09-14), a .mat path, "
                                          "or 'synthetic'")
    parser.add_argument("--seed", type=int_at_least(0, "a seed is a non-negative int"), default=0,
                        help="synthetic data only")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_cli(_measure, args, debug=args.debug)


if __name__ == "__main__":
    import sys

    sys.exit(main())
