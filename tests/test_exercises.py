"""neurolab.exercises: a checker for every exercise in the book, which passes a right answer and
fails a typical wrong one with the hint aimed at that mistake.

The right answers here are computed independently of the checkers (the executed solutions are
checked too: tests/test_chapters.py::test_every_solution_passes_its_self_check)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from chapter_runner import toc_chapters
from sklearn.model_selection import GroupKFold, StratifiedKFold

from neurolab.decoding import category_task, cross_validate
from neurolab.io import load, load_classes
from neurolab.preprocessing import SpontaneousPCs
from neurolab.recording import N_IMAGES
from neurolab.synthetic import SyntheticParams, make_recording
from neurolab.teaching.exercises import check, describe, exercises, help_for
from neurolab.teaching.pitfalls import label_survival, straddle_fraction

_LABEL = re.compile(r"^:label:\s*(ex-[\w-]+)\s*$", re.M)


def fails_with(feedback, *words):
    """The answer failed and the hint says each of ``words`` (case-insensitive)."""
    assert not feedback, f"expected a failure, got {feedback}"
    assert feedback.answered
    text = feedback.message.lower()
    for word in words:
        assert word.lower() in text, f"hint {feedback.message!r} lacks {word!r}"


def passes(feedback):
    assert feedback, f"expected a pass, got {feedback}"
    assert repr(feedback).startswith("✓")


@pytest.fixture(scope="module")
def rec():
    """A smoke-sized synthetic recording, grey trials kept."""
    return make_recording("smoke", 0, labels=load_classes()[0], keep_grey=True)


@pytest.fixture(scope="module")
def loaded():
    """The smoke recording as the chapters load it (grey trials dropped)."""
    return load("synthetic", "smoke", 0)


@pytest.fixture(scope="module")
def labels():
    """Class per image in runs, as the real table: 0 = 'unknown', 1..4 categories."""
    rng = np.random.default_rng(1)
    runs = rng.integers(3, 30, size=N_IMAGES)
    return np.repeat(rng.integers(0, 5, size=len(runs)), runs)[:N_IMAGES]


# ---------------------------------------------------------------------------------------------
# The registry and the call


def test_every_exercise_in_the_book_has_a_checker_numbered_in_book_order():
    book = []
    for chapter in toc_chapters():
        number = int(re.match(r"(\d+)", chapter.stem).group(1))
        book += [(f"{number}.{i}", label) for i, label in enumerate(_LABEL.findall(chapter.read_text()), 1)]
    assert exercises() == book


def test_check_takes_the_number_or_the_label_and_says_what_it_needs():
    rel = np.arange(100.0)
    assert check("1.1", np.arange(80, 100), rel=rel)
    assert check("ex-01-reliable", best20=np.arange(80, 100), rel=rel)
    assert describe("1.1")["answers"] == ("best20",) and describe("1.1")["given"] == ("rel",)
    assert help_for("1.1").startswith('check("ex-01-reliable", best20, rel=rel)')
    with pytest.raises(KeyError, match="no exercise"):
        check("ex-99-nothing", 1)
    with pytest.raises(TypeError, match="needs the chapter's rel"):
        check("1.1", np.arange(20))
    with pytest.raises(TypeError, match="unexpected"):
        check("1.1", np.arange(20), rel=rel, extra=1)


def test_an_unanswered_stub_is_feedback_not_an_error():
    feedback = check("ex-01-reliable", ..., rel=np.arange(50.0))
    assert not feedback and not feedback.answered
    assert "not answered yet" in repr(feedback) and "best20" in repr(feedback)
    partly = check("ex-01-counting", n_shown=np.ones(3), grey_trials=..., istim=np.arange(3))
    assert "grey_trials" in partly.message and "n_shown" not in partly.message


MALFORMED = [None, "0.5", [[1, 2], [3]], {"answer": 1}, np.zeros((2, 3, 4)), np.array([np.nan]), object()]


@pytest.mark.parametrize("number, label", exercises())
def test_a_malformed_answer_is_feedback_never_a_traceback(number, label, loaded):
    """Every checker, given answers of the wrong type or shape (and the chapter objects it needs,
    the smoke recording where it takes one), answers ✗ with a hint instead of raising."""
    info = describe(label)
    given = {name: loaded if name == "rec" else SimpleNamespace() for name in info["given"]}
    for bad in MALFORMED:
        answers = {name: bad for name in info["answers"]}
        feedback = check(label, **answers, **given)
        assert not feedback and feedback.answered, f"{number}: {bad!r} gave {feedback}"
        assert repr(feedback).startswith("✗") and feedback.message


def test_a_malformed_answer_says_what_it_is():
    feedback = check("2.1", np.zeros((3, 4)), rec=SimpleNamespace())
    assert "could not be checked" in feedback.message or "DenoiseSweep" in feedback.message
    odd = check("ex-01-reliable", {"a": 1}, rel=np.arange(100.0))
    assert not odd and "best20" in odd.message


# ---------------------------------------------------------------------------------------------
# Chapter 1


def test_reliable(rec):
    rel = np.random.default_rng(0).normal(size=rec.n_neurons)
    passes(check("1.1", np.argsort(rel)[::-1][:20], rel=rel))
    fails_with(check("1.1", np.argsort(rel)[:20], rel=rel), "least reliable", "argsort")
    fails_with(check("1.1", np.sort(rel)[::-1][:20], rel=rel), "non-integer")
    fails_with(check("1.1", np.argsort(rel)[::-1][:19], rel=rel), "20 neuron indices")
    fails_with(check("1.1", np.arange(20), rel=rel), "not among the 20 most reliable")


def test_counting(rec):
    stim = rec.istim[rec.istim >= 0]
    right = dict(n_shown=np.bincount(stim), grey_trials=np.flatnonzero(rec.istim < 0), istim=rec.istim)
    passes(check("1.2", **right))
    _, with_grey = np.unique(rec.istim, return_counts=True)
    fails_with(check("1.2", **right | {"n_shown": with_grey}), "grey")
    fails_with(check("1.2", **right | {"grey_trials": right["grey_trials"] + 1}), "off by one")
    fails_with(check("1.2", **right | {"grey_trials": rec.istim < 0}), "boolean mask")


def test_threshold(rec):
    mu, sd = rec.spont.mean(0), rec.spont.std(0)
    ok = (rec.resp > mu + 3 * sd).mean(1)
    passes(check("1.3", ok, resp=rec.resp, mu=mu, sd=sd))
    fails_with(check("1.3", (rec.resp > mu + 2 * sd).mean(1), resp=rec.resp, mu=mu, sd=sd), "2 sd")
    fails_with(check("1.3", (rec.resp > mu + 3 * sd).mean(0), resp=rec.resp, mu=mu, sd=sd), "per trial")
    fails_with(check("1.3", 100 * ok, resp=rec.resp, mu=mu, sd=sd), "percent")


# ---------------------------------------------------------------------------------------------
# Chapter 2


def test_stimulus_zscore(loaded):
    from neurolab.decoding import projection_sweep

    none = np.zeros((0, loaded.n_neurons), dtype=np.float32)
    stim_sd, spont_sd = loaded.resp.std(0), loaded.spont.std(0)
    right = projection_sweep(loaded, none, [0], mean=loaded.resp.mean(0), scale=np.where(stim_sd > 0, stim_sd, 1))
    spont = projection_sweep(loaded, none, [0], mean=loaded.spont.mean(0), scale=np.where(spont_sd > 0, spont_sd, 1))
    assert right.at(0) != spont.at(0)  # the two z-scorings must differ for the hint to be testable
    passes(check("2.1", right, rec=loaded))
    fails_with(check("2.1", spont, rec=loaded), "spontaneous")
    fails_with(check("2.1", 0.5, rec=loaded), "DenoiseSweep")
    wrong_axis = projection_sweep(loaded, none, [0], mean=loaded.resp.mean(1).mean() + 0 * stim_sd,
                                  scale=np.ones_like(stim_sd))
    feedback = check("2.1", wrong_axis, rec=loaded)
    fails_with(feedback, "axis")
    assert "rec.resp.mean" not in feedback.message and "std(axis=0)" not in feedback.message


def test_random_control(loaded):
    from neurolab.decoding import projection_sweep, random_directions

    ns = [0, 4, 16]
    sp = SpontaneousPCs(16).fit(loaded.spont)
    sweep = projection_sweep(loaded, sp.components_, ns, mean=sp.mean_, scale=sp.scale_)
    control = projection_sweep(loaded, random_directions(loaded.n_neurons, 16, rng=1), ns, mean=sp.mean_,
                               scale=sp.scale_)
    passes(check("2.2", control, sweep=sweep, NS=ns, rec=loaded))
    fails_with(check("2.2", sweep, sweep=sweep, NS=ns, rec=loaded), "spontaneous-pc sweep again")
    unscaled = projection_sweep(loaded, random_directions(loaded.n_neurons, 16, rng=1), ns,
                                mean=np.zeros(loaded.n_neurons), scale=np.ones(loaded.n_neurons))
    fails_with(check("2.2", unscaled, sweep=sweep, NS=ns, rec=loaded), "same statistics")


# ---------------------------------------------------------------------------------------------
# Chapter 3


def test_grouped(loaded, labels):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    from neurolab.decoding import make_reducer

    X, y, groups = category_task(loaded, labels)
    pair = {"logistic regression": LogisticRegression(max_iter=200), "1-nearest neighbour": KNeighborsClassifier(1)}
    reducer = make_reducer(20, 0)
    by_image = cross_validate(pair, X, y, groups, reducer=reducer, rng=0)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    by_trial = cross_validate(pair, X, y, groups, reducer=reducer, rng=0, cv=folds)
    given = dict(X=X, y=y, groups=groups, by_image=by_image)
    passes(check("3.1", trial_folds=folds, by_trial=by_trial, **given))
    fails_with(check("3.1", trial_folds=GroupKFold(5), by_trial=by_trial, **given), "repeats together")
    fails_with(check("3.1", trial_folds=folds, by_trial=by_image, **given), "cv=trial_folds")


def test_unknown(loaded, labels):
    _, yu, _ = category_task(loaded, labels, average_repeats=True, drop_unknown=False)
    _, ya, _ = category_task(loaded, labels, average_repeats=True)
    _, yt, _ = category_task(loaded, labels, drop_unknown=False)
    k = len(np.unique(yu))
    result = {"logistic regression": SimpleNamespace(balanced_accuracy=0.3, chance_balanced_accuracy=1 / k,
                                                     y_pred=yu.copy())}
    passes(check("3.2", yu=yu, with_unknown=result, rec=loaded, labels=labels))
    fails_with(check("3.2", yu=ya, with_unknown=result, rec=loaded, labels=labels), "drop_unknown=False")
    fails_with(check("3.2", yu=yt, with_unknown=result, rec=loaded, labels=labels), "one row per trial")
    stale = {"logistic regression": SimpleNamespace(balanced_accuracy=0.3, chance_balanced_accuracy=1 / (k - 1),
                                                    y_pred=ya.copy())}
    fails_with(check("3.2", yu=yu, with_unknown=stale, rec=loaded, labels=labels), "xu, yu, gu")


def _table():
    index = pd.MultiIndex.from_product([["single trials", "repeat-averaged"],
                                        ["most frequent", "logistic regression", "random forest"]],
                                       names=["task", "model"])
    bal = [0.25, 0.30, 0.27, 0.25, 0.36, 0.28]
    acc = [0.30, 0.33, 0.31, 0.30, 0.40, 0.29]
    return pd.DataFrame({("balanced accuracy", "mean"): bal, ("accuracy", "mean"): acc}, index=index)


def test_averaging():
    table = _table()
    bal = table[("balanced accuracy", "mean")].unstack("task")
    change = (bal["repeat-averaged"] - bal["single trials"]).drop("most frequent")
    passes(check("3.3", change, table=table))
    fails_with(check("3.3", -change, table=table), "sign")
    acc = table[("accuracy", "mean")].unstack("task")
    fails_with(check("3.3", (acc["repeat-averaged"] - acc["single trials"]).drop("most frequent"), table=table),
               "plain accuracy")
    fails_with(check("3.3", change.to_numpy(), table=table), "series")


# ---------------------------------------------------------------------------------------------
# Chapter 4


def test_budget():
    sweep = pd.DataFrame({
        "kind": ["all neurons", "grid", "grid", "grid", "random groups"],
        "grid": ["none", "16", "8", "4", "8"],
        "units": [10_000, 2_800, 700, 176, 700],
        "neurons_per_unit": [1, 3.6, 14, 57, 14],
        "category": [0.20, 0.16, 0.13, 0.115, 0.12],
    })
    chance = 0.1
    # margins kept: 16 -> 0.6, 8 -> 0.3, 4 -> 0.15: the answer is the 16 x 16 grid
    passes(check("4.1", sweep.iloc[1], sweep=sweep, category_chance=chance, all_cat=0.20))
    fails_with(check("4.1", sweep.iloc[3], sweep=sweep, category_chance=chance, all_cat=0.20), "margin over chance")
    fails_with(check("4.1", sweep.iloc[0], sweep=sweep, category_chance=chance, all_cat=0.20), "coarser grid")


def test_grid_shuffle(rec):
    from neurolab.spatial import grid_groups, pool_units

    X = np.random.default_rng(0).normal(size=(2, 30, rec.n_neurons)).astype(np.float32)
    shuffled = rec.xyz[np.random.default_rng(1).permutation(rec.n_neurons)]
    right = pool_units(X, grid_groups(shuffled, 8))
    passes(check("4.2", shuffled_xyz=shuffled, Xs=right, X=X, xyz=rec.xyz))
    fails_with(check("4.2", shuffled_xyz=shuffled, Xs=pool_units(X, grid_groups(rec.xyz, 8)), X=X, xyz=rec.xyz),
               "original positions")
    by_column = np.random.default_rng(2).permuted(rec.xyz, axis=0)
    fails_with(check("4.2", shuffled_xyz=by_column, Xs=right, X=X, xyz=rec.xyz), "each coordinate")
    fails_with(check("4.2", shuffled_xyz=rec.xyz, Xs=right, X=X, xyz=rec.xyz), "permute its rows")


def test_planes(rec):
    from neurolab.spatial import grid_groups, pool_units

    X = np.random.default_rng(0).normal(size=(2, 30, rec.n_neurons)).astype(np.float32)
    right = pool_units(X, grid_groups(rec.xyz, 8, per_plane=False))
    passes(check("4.3", right, X=X, xyz=rec.xyz))
    per_plane = pool_units(X, grid_groups(rec.xyz, 8))
    fails_with(check("4.3", per_plane, X=X, xyz=rec.xyz), "per_plane=false")


# ---------------------------------------------------------------------------------------------
# Chapter 5


def test_voxel_shuffle():
    rng = np.random.default_rng(0)
    flat = rng.normal(size=(40, 30)).astype(np.float32)
    pred = rng.integers(0, 3, size=10)
    right = flat[:, rng.permutation(30)]
    passes(check("5.1", scrambled=right, lr_plain=pred, lr_scrambled=pred, flat=flat))
    fails_with(check("5.1", scrambled=rng.permuted(flat, axis=1), lr_plain=pred, lr_scrambled=pred, flat=flat),
               "its own shuffle")
    fails_with(check("5.1", scrambled=flat[rng.permutation(40)], lr_plain=pred, lr_scrambled=pred, flat=flat),
               "trials (rows)")
    fails_with(check("5.1", scrambled=right, lr_plain=pred, lr_scrambled=(pred + 1) % 3, flat=flat), "agree")


def test_params():
    from neurolab.nn import MouseNet, n_parameters

    right = {"logistic on voxels": 1585 * 13, "logistic on neurons": 10_001 * 13,
             "MouseNet": n_parameters(MouseNet(13))}
    assert right["MouseNet"] == 42_909
    given = dict(n_vox=1584, n_neu=10_000, n_classes=13)
    passes(check("5.2", right, **given))
    fails_with(check("5.2", right | {"logistic on voxels": 1584 * 13}, **given), "intercepts")
    fails_with(check("5.2", right | {"MouseNet": 42_000}, **given), "n_parameters")


# ---------------------------------------------------------------------------------------------
# Chapter 6


def test_shift_more(labels):
    images = np.arange(0, N_IMAGES, 5)
    shifts = [1, 2, 5, 10, 20, 50, 100]
    right = {s: label_survival(labels, s, images) for s in shifts}
    res10 = SimpleNamespace(accuracy=0.2, balanced_accuracy=0.2)
    passes(check("6.1", survival=right, res10=res10, labels=labels, images=images))
    lost = {s: 1 - v for s, v in right.items()}
    fails_with(check("6.1", survival=lost, res10=res10, labels=labels, images=images), "lost")
    fails_with(check("6.1", survival={1: right[1]}, res10=res10, labels=labels, images=images), "lacks")


def test_straddle(loaded, labels):
    X, y, groups = category_task(loaded, labels)
    right = {k: straddle_fraction(list(StratifiedKFold(k, shuffle=True, random_state=3).split(X, y)), groups)
             for k in (2, 5, 10)}
    passes(check("6.2", right, X=X, y=y, groups=groups))
    fails_with(check("6.2", {k: 0.0 for k in right}, X=X, y=y, groups=groups), "grouped")
    fails_with(check("6.2", {k: 1 - v for k, v in right.items()}, X=X, y=y, groups=groups), "test fold")


def test_balanced_chance():
    y = np.repeat([0, 1, 2, 3], [50, 30, 15, 5])
    passes(check("6.3", 0.25, y=y))
    fails_with(check("6.3", 0.5, y=y), "most-frequent")
    fails_with(check("6.3", float(np.sum((np.bincount(y) / len(y)) ** 2)), y=y), "guessing")
    fails_with(check("6.3", 25, y=y), "percentage")


# ---------------------------------------------------------------------------------------------
# Chapter 7


def test_fit_range():
    from neurolab.geometry import powerlaw

    ss = np.arange(1, 801, dtype=float) ** -1.0 * (1 + 0.05 * np.random.default_rng(0).normal(size=800))
    right = {key: powerlaw(ss, fit_range=key)[0] for key in [(4, 50), (11, 500), (49, 800)]}
    passes(check("7.1", right, ss=ss))
    one_based = {(5, 50): 1.0, (12, 500): 1.0, (50, 800): 1.0}
    fails_with(check("7.1", one_based, ss=ss), "0-based")
    fails_with(check("7.1", right | {(4, 50): right[(4, 50)] + 0.1}, ss=ss), "powerlaw(ss")


def test_signal():
    from neurolab.geometry import signal_variance_fraction

    rng = np.random.default_rng(0)
    signal = rng.normal(size=(1, 200, 50))
    X0 = signal + rng.normal(size=(2, 200, 50)) * 2
    X32 = signal + rng.normal(size=(2, 200, 50))
    right = {0: signal_variance_fraction(X0), 32: signal_variance_fraction(X32)}
    passes(check("7.2", right, X0=X0, X32=X32))
    fails_with(check("7.2", {0: right[32], 32: right[0]}, X0=X0, X32=X32), "swapped")


def test_fixed_c():
    cs = np.logspace(-3, 0, 4)
    passes(check("7.3", {cs[0]: 0.2, cs[-1]: 0.25}, CS=cs))
    fails_with(check("7.3", {cs[1]: 0.2, cs[-1]: 0.25}, CS=cs), "cs[0]")
    fails_with(check("7.3", {cs[0]: SimpleNamespace(accuracy=0.2, balanced_accuracy=0.2), cs[-1]: 0.25}, CS=cs),
               "result object")


# ---------------------------------------------------------------------------------------------
# Chapter 8


def test_pointcloud_shuffle(rec):
    import copy

    import torch

    from neurolab.nn import PointNet

    demo = SimpleNamespace(model_=PointNet(rec.xyz, 3))
    passes(check("8.1", 0.3, demo=demo, xyz=rec.xyz))
    mutated = copy.deepcopy(demo)
    mutated.model_.positions = mutated.model_.positions[torch.randperm(rec.n_neurons)]
    fails_with(check("8.1", 0.3, demo=mutated, xyz=rec.xyz), "copy")


def test_points():
    X = np.zeros((10, 2000))
    passes(check("8.2", sizes=[64, 256, 1024, 2000], curve=[0.2, 0.22, 0.25, 0.26], X=X))
    fails_with(check("8.2", sizes=[64, 256, 1024], curve=[0.2, 0.22, 0.25], X=X), "all 2,000")
    fails_with(check("8.2", sizes=[64, 256, 1024, 2000], curve=[0.2, 0.22], X=X), "one score per size")


def test_pooling(rec):
    from neurolab.nn import PointNet

    max_only = SimpleNamespace(model_=PointNet(rec.xyz, 3, pooling="max"))
    passes(check("8.3", max_only=max_only, max_score=0.3))
    both = SimpleNamespace(model_=PointNet(rec.xyz, 3))
    fails_with(check("8.3", max_only=both, max_score=0.3), "pooling='max'")


# ---------------------------------------------------------------------------------------------
# Chapter 9


def test_strength():
    default = SyntheticParams().category_strength
    scores = {"oracle": 0.3, "noise-free": 0.2, "single trials": 0.15}
    right = {default: scores, 0.5: {"oracle": 0.9, "noise-free": 0.5, "single trials": 0.3}}
    passes(check("9.1", right))
    fails_with(check("9.1", {0.5: scores, 1.0: scores}), "default")
    fails_with(check("9.1", {default: scores}), "larger than the default")


def test_gap():
    passes(check("9.2", ceiling=0.4, gap_total=0.25, acc_single=0.15))
    fails_with(check("9.2", ceiling=0.4, gap_total=-0.25, acc_single=0.15), "sign")
    fails_with(check("9.2", ceiling=40, gap_total=25, acc_single=0.15), "between 0 and 1")


def test_dims(rec):
    n = rec.truth.latents.shape[1]
    passes(check("9.3", {1: 0.1, 10: 0.15, 100: 0.2, n: 0.3}, rec=rec))
    fails_with(check("9.3", {1: 0.1, 10: 0.15, 100: 0.2}, rec=rec), "all")
    real = SimpleNamespace(truth=None)
    passes(check("9.3", {}, rec=real))


@pytest.fixture(scope="module")
def sweep_rows(tmp_path_factory):
    """Identity rows of a three-twin smoke sweep with 0 and 32 spontaneous PCs removed."""
    from neurolab.io import RECORDINGS
    from neurolab.sweep import SweepConfig, run_sweep, twin

    config = SweepConfig(recordings=tuple(twin(n) for n in RECORDINGS[:3]), size="smoke",
                         grid={"analysis": ("identity",), "n_pcs": (0, 32)})
    return run_sweep(config, tmp_path_factory.mktemp("sweep"), progress=False).rows


def test_spread(sweep_rows):
    at32 = sweep_rows[(sweep_rows.analysis == "identity") & (sweep_rows.n_pcs == 32)]
    acc = pd.Series(at32.identity_accuracy.to_numpy(), index=[r.removeprefix("twin:") for r in at32.recording])
    z = (acc.max() - acc.mean()) / acc.std(ddof=1)
    passes(check("10.1", acc.idxmax(), z=z, rows=sweep_rows))
    fails_with(check("10.1", acc.idxmin(), z=z, rows=sweep_rows), "lowest")
    fails_with(check("10.1", acc.idxmax(), z=(acc.max() - acc.mean()) / acc.std(ddof=0), rows=sweep_rows),
               "ddof=1")
    fails_with(check("10.1", acc.idxmax(), z=acc.max() - acc.mean(), rows=sweep_rows), "divide")
    fails_with(check("10.1", "M999", z=z, rows=sweep_rows), "not one of the recordings")
    fails_with(check("10.1", 3, z=z, rows=sweep_rows), "str")


def test_alpha_identity():
    table = pd.DataFrame({"alpha": [0.9, 1.0, 1.1, 0.95, 1.05], "identity_accuracy": [0.3, 0.35, 0.5, 0.32, 0.4]},
                         index=list("abcde"))
    r = float(table.alpha.corr(table.identity_accuracy))
    passes(check("10.2", r, n=5, table=table))
    fails_with(check("10.2", r, n=4, table=table), "count the recordings")
    rho = float(table.alpha.corr(table.identity_accuracy, method="spearman"))
    fails_with(check("10.2", rho, n=5, table=table), "spearman")
    fails_with(check("10.2", 0.1, n=5, table=table), "pearson correlation")
    fails_with(check("10.2", 2.0, n=5, table=table), "between")


# ---------------------------------------------------------------------------------------------
# Chapter 11


def _sweep_rows():
    rows = []
    for strength, fraction, p_lr, p_or in ((0.0, 0.004, 0.6, 1.0), (0.01, 0.012, 0.3, 0.001),
                                           (0.05, 0.047, 0.002, 0.001), (0.1, 0.09, 0.001, 0.001)):
        for decoder, p in (("logistic regression", p_lr), ("oracle", p_or)):
            rows.append({"category_strength": strength, "category_fraction": fraction, "decoder": decoder,
                         "p_value": p, "difference": 0.1, "balanced_accuracy": 0.2})
    return pd.DataFrame(rows)


def test_strength_threshold():
    sweep = _sweep_rows()
    passes(check("11.1", 0.05, share_at_threshold=0.047, sweep=sweep))
    fails_with(check("11.1", 0.05, share_at_threshold=0.05, sweep=sweep), "strength again")
    fails_with(check("11.1", 0.0, share_at_threshold=0.004, sweep=sweep), "smallest strength of the sweep")
    fails_with(check("11.1", 0.01, share_at_threshold=0.012, sweep=sweep), "oracle")
    fails_with(check("11.1", 0.05, share_at_threshold=0.09, sweep=sweep), "category_fraction")
    never = sweep.assign(p_value=0.5)
    passes(check("11.1", float("nan"), share_at_threshold=float("nan"), sweep=never))
    fails_with(check("11.1", 0.05, share_at_threshold=0.05, sweep=never), "nan")


def test_repeats_against_neurons():
    rows = []
    for n, single, averaged in ((750, 0.20, 0.25), (3000, 0.30, 0.38)):
        rows += [{"n_neurons": n, "decoder": "logistic regression", "balanced_accuracy": single},
                 {"n_neurons": n, "decoder": "logistic regression, repeats averaged", "balanced_accuracy": averaged}]
    by_neurons = pd.DataFrame(rows)
    passes(check("11.2", 0.08, gain_neurons=0.10, by_neurons=by_neurons))
    fails_with(check("11.2", -0.08, gain_neurons=0.10, by_neurons=by_neurons), "sign")
    fails_with(check("11.2", 8.0, gain_neurons=0.10, by_neurons=by_neurons), "fraction")
    fails_with(check("11.2", 0.05, gain_neurons=0.10, by_neurons=by_neurons), "fewest neurons")
    fails_with(check("11.2", 0.08, gain_neurons=-0.10, by_neurons=by_neurons), "sign")
