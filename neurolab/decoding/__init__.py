"""Decoding: the one cross-validation engine, the tasks it scores, the estimators, the ceilings.

* ``cv``: grouped folds, scoring, chance on the same folds, permutation p-values, results table.
* ``tasks``: a recording as (X, y, groups) for category decoding, in its variants.
* ``identity``: which of the 2,800 images was shown (repeat-to-repeat correlation).
* ``estimators``: the model zoo and the course's own scikit-learn estimators.
* ``ceiling``: how far a decoder is from what the data could give.
* ``denoise_sweep``: identity and signal variance against the number of spontaneous PCs removed.
"""

from neurolab._stats import p_value, sem
from neurolab.decoding.ceiling import (
    OracleClassifier,
    ceiling_curves,
    dprime_from_accuracy,
    extrapolate,
    gap_to_ceiling,
    latent_model,
    nested_subsets,
    oracle_result,
)
from neurolab.decoding.cv import (
    DecodeResult,
    PairedTest,
    balanced_accuracy,
    chance_test,
    comparison_table,
    cross_validate,
    cross_validate_decoder,
    cross_validate_many,
    fold_models,
    fold_scores,
    grouped_folds,
    paired_test,
    permute_within_folds,
    permute_within_groups,
    quiet_warnings,
    rank_decoders,
    results_table,
    single_threaded,
)
from neurolab.decoding.denoise_sweep import (
    DEFAULT_NS,
    denoise_sweep,
    project_repeats,
    project_trials,
    projection_sweep,
    random_directions,
)
from neurolab.decoding.estimators import (
    CachedPCA,
    CorrelationNearestNeighbour,
    LabelEncoded,
    SerialLogisticRegression,
    chosen_c,
    linear_decoder,
    linear_parameters,
    make_reducer,
    ridge_logistic_cv,
    tabular_models,
)
from neurolab.decoding.identity import (
    identity_accuracy,
    identity_scores,
    identity_vs_neurons,
    shuffle_identity,
)
from neurolab.decoding.tasks import category_task, repeat_task, truth_task

__all__ = [
    "DEFAULT_NS",
    "CachedPCA",
    "CorrelationNearestNeighbour",
    "DecodeResult",
    "PairedTest",
    "LabelEncoded",
    "OracleClassifier",
    "SerialLogisticRegression",
    "balanced_accuracy",
    "category_task",
    "chance_test",
    "ceiling_curves",
    "cross_validate",
    "cross_validate_decoder",
    "comparison_table",
    "cross_validate_many",
    "denoise_sweep",
    "dprime_from_accuracy",
    "extrapolate",
    "fold_models",
    "fold_scores",
    "gap_to_ceiling",
    "grouped_folds",
    "identity_accuracy",
    "identity_scores",
    "identity_vs_neurons",
    "latent_model",
    "linear_decoder",
    "linear_parameters",
    "make_reducer",
    "nested_subsets",
    "oracle_result",
    "p_value",
    "paired_test",
    "permute_within_folds",
    "permute_within_groups",
    "project_repeats",
    "project_trials",
    "projection_sweep",
    "quiet_warnings",
    "random_directions",
    "rank_decoders",
    "repeat_task",
    "results_table",
    "sem",
    "shuffle_identity",
    "single_threaded",
    "chosen_c",
    "ridge_logistic_cv",
    "STRENGTH_DECODERS",
    "strength_sweep",
    "tabular_models",
    "truth_task",
]


def __getattr__(name):
    # ``strength`` is imported on first use, not here: ``python -m neurolab.decoding.strength`` then
    # runs a module that its package has not imported yet (runpy warns otherwise)
    if name in ("strength_sweep", "STRENGTH_DECODERS"):
        from neurolab.decoding import strength

        return strength.strength_sweep if name == "strength_sweep" else strength.DECODERS
    raise AttributeError(f"module 'neurolab.decoding' has no attribute {name!r}")

