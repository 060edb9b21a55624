"""Self-checks of chapter 4: grid averaging."""

from __future__ import annotations

import numpy as np

from neurolab.teaching.exercises._core import Wrong, _array, _close, _rearranged, exercise


@exercise("ex-04-budget", "4.1",
          "the sweep row of the coarsest grid keeping a third of the category margin over chance")
def _budget(coarsest, *, sweep, category_chance, all_cat):
    rows = sweep[sweep.kind.isin(["grid", "all neurons"])]
    kept = (rows.category - category_chance) / (all_cat - category_chance)
    ok = rows[kept >= 1 / 3]
    ref = ok.iloc[ok.units.argmin()]
    units = getattr(coarsest, "units", None)
    if units is None:
        raise Wrong("`coarsest` should be a row of `sweep` (a pandas Series with .units, .grid ...)")
    if getattr(coarsest, "kind", "grid") not in ("grid", "all neurons"):
        raise Wrong(f"`coarsest` is a {coarsest.kind!r} row; compare the grids (kind 'grid')")
    if int(units) == int(ref.units):
        return f"{int(ref.units):,} units, ~{ref.neurons_per_unit:.0f} neurons per unit."
    raw = rows[rows.category / all_cat >= 1 / 3]
    if len(raw) and int(units) == int(raw.iloc[raw.units.argmin()].units):
        raise Wrong("measure the margin over chance, (category - chance) / (all - chance), not the raw "
                    "accuracy ratio: chance alone would keep a third")
    if int(units) > int(ref.units):
        raise Wrong("a coarser grid (fewer units) still keeps a third of the margin: look for the smallest "
                    "`units` among the rows that qualify")
    raise Wrong("that grid keeps less than a third of the all-neuron margin over chance")


@exercise("ex-04-shuffle", "4.2",
          "positions permuted across neurons, and 8 x 8 grid pooling on them")
def _grid_shuffle(shuffled_xyz, Xs, *, X, xyz):
    from neurolab.spatial import grid_groups, pool_units

    xyz = np.asarray(xyz)
    s = _rearranged("shuffled_xyz", shuffled_xyz, xyz, "the original positions: permute its rows")
    rows = lambda a: a[np.lexsort(a.T[::-1])]  # noqa: E731 - rows in a canonical order
    if not np.array_equal(rows(s), rows(xyz)):
        if np.array_equal(np.sort(s, axis=0), np.sort(xyz, axis=0)):
            raise Wrong("each coordinate was shuffled on its own, which invents new positions; permute whole "
                        "rows (neurons) with one permutation: xyz[rng.permutation(len(xyz))]")
        raise Wrong("`shuffled_xyz` should hold the same positions as xyz in another order (a permutation of the rows)")
    ref = pool_units(X, grid_groups(s, 8))
    got = _array("Xs", Xs)
    if got.shape != ref.shape:
        raise Wrong(f"`Xs` should have shape {ref.shape} (repeats, images, grid cells of an 8 x 8 grid per "
                    f"plane); got {got.shape}")
    if not _close(got, ref, 1e-4):
        if _close(got, pool_units(X, grid_groups(xyz, 8)), 1e-4):
            raise Wrong("`Xs` pools on the original positions; pass shuffled_xyz to grid_groups")
        raise Wrong("`Xs` differs from pool_units(X, grid_groups(shuffled_xyz, 8))")
    return f"{ref.shape[-1]} units on shuffled positions."


@exercise("ex-04-planes", "4.3",
          "8 x 8 columns pooled through all planes, for both repeats")
def _planes(columns, *, X, xyz):
    from neurolab.spatial import grid_groups, pool_units

    ref = pool_units(X, grid_groups(xyz, 8, per_plane=False))
    got = _array("columns", columns)
    if got.shape != ref.shape:
        n_per_plane = int(grid_groups(xyz, 8).max()) + 1
        if got.shape[-1] == n_per_plane:
            raise Wrong("`columns` has a cell per plane; pool through all planes with per_plane=False")
        raise Wrong(f"`columns` should have shape {ref.shape} (2 repeats, images, columns); got {got.shape}")
    if not _close(got, ref, 1e-4):
        raise Wrong("`columns` differs from pool_units(X, grid_groups(xyz, 8, per_plane=False))")
    return f"{ref.shape[-1]} columns."
