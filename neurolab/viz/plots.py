"""Standard plots of the course (matplotlib) and the 3D neuron view (plotly / ipyvolume)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from neurolab._validation import check_rng


def plot_decoding(results: dict, metric: str = "balanced_accuracy", ax=None, title: str | None = None):
    """Every decoder against its chance level, with fold-to-fold error bars.

    results: {name: DecodeResult}; metric: 'accuracy' or 'balanced_accuracy'.
    Bars show the mean over folds with +-1 SEM; a black tick marks each decoder's chance level
    (most-frequent dummy on the same folds) and the permutation p-value is written above the bar.
    Returns the matplotlib Axes.
    """
    if metric not in ("accuracy", "balanced_accuracy"):
        raise ValueError(f"metric must be 'accuracy' or 'balanced_accuracy', not {metric!r}")
    ax = ax or plt.subplots(figsize=(1.2 + 1.1 * len(results), 3.2))[1]
    names = list(results)
    x = np.arange(len(names))
    folds = [getattr(r, f"fold_{metric}") for r in results.values()]
    means = [f.mean() for f in folds]
    sems = [f.std(ddof=1) / np.sqrt(len(f)) if len(f) > 1 else 0 for f in folds]
    chance = [getattr(r, f"chance_{metric}") for r in results.values()]
    ax.bar(x, means, yerr=sems, color="tab:blue", alpha=0.8, capsize=3, label="decoder (±1 SEM over folds)")
    ax.hlines(chance, x - 0.4, x + 0.4, color="k", lw=2, label="chance (same folds)")
    for xi, m, s, r in zip(x, means, sems, results.values()):
        p = getattr(r, "p_value_balanced", r.p_value) if metric == "balanced_accuracy" else r.p_value
        if np.isfinite(p):
            ax.text(xi, m + s + 0.01, f"p={p:.2g}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_ylim(0, max(max(means) + max(sems) + 0.08, max(chance) + 0.08))
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    if title:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------------------------------------------
# Neurons in space: the 3D view (plotly in the book, ipyvolume live) and the plane-by-plane view

BACKENDS = ("plotly", "ipyvolume")
"""Backends of ``neurons_3d``: 'plotly' (static book and notebooks), 'ipyvolume' (live notebooks)."""


def subsample(n: int, max_points: int | None, rng=0) -> np.ndarray:
    """Indices of a random subset of ``n`` items, at most ``max_points`` of them, sorted ascending.

    The same (n, max_points, int rng) always gives the same subset. With ``max_points`` None or >= n,
    every index is returned. Returns (n_kept,) int64.
    """
    if max_points is None or max_points >= n:
        return np.arange(n, dtype=np.int64)
    if max_points < 1:
        raise ValueError(f"max_points must be >= 1 or None, got {max_points}")
    rng = check_rng(rng)
    return np.sort(rng.choice(n, size=int(max_points), replace=False)).astype(np.int64)


def robust_limits(values, percentiles=(1.0, 99.0)) -> tuple[float, float]:
    """Colour limits that ignore outliers: the given percentiles of the finite values.

    Deconvolved responses are heavy-tailed, so min/max limits would leave most points one colour.
    Returns (vmin, vmax) floats with vmax > vmin.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(v, percentiles)
    if not hi > lo:
        lo, hi = float(v.min()), float(v.max())
    if not hi > lo:
        lo, hi = lo - 0.5, lo + 0.5
    return float(lo), float(hi)


DIVERGING = ("rdbu", "rdbu_r", "coolwarm", "bwr", "seismic", "piyg", "prgn", "brbg", "puor", "rdylbu",
             "rdylbu_r", "rdgy", "spectral")
"""Diverging colour maps: their neutral middle colour must sit at 0, so their limits are symmetric."""


def colour_limits(values, cmap: str) -> tuple[float, float]:
    """``robust_limits``, made symmetric around 0 for a diverging map (white = 0, not the median)."""
    lo, hi = robust_limits(values)
    if str(cmap).lower() in DIVERGING:
        m = max(abs(lo), abs(hi))
        return -m, m
    return lo, hi


def map_colours(values, cmap: str = "viridis", clim=None) -> np.ndarray:
    """Values -> RGBA colours (n, 4) float in [0, 1], through a matplotlib colormap.

    cmap: a matplotlib colormap name (plotly's capitalised names such as 'Viridis' work too).
    clim: (vmin, vmax); default ``robust_limits(values)``. Values outside are clipped to the ends.
    """
    import matplotlib

    values = np.asarray(values, dtype=np.float64).ravel()
    name = cmap if cmap in matplotlib.colormaps else str(cmap).lower()
    if name not in matplotlib.colormaps:
        raise ValueError(f"unknown colormap {cmap!r}; use a matplotlib colormap name such as 'viridis'")
    vmin, vmax = colour_limits(values, cmap) if clim is None else (float(clim[0]), float(clim[1]))
    scaled = np.clip((values - vmin) / (vmax - vmin if vmax > vmin else 1.0), 0.0, 1.0)
    return matplotlib.colormaps[name](scaled)


def _checked_xyz_values(xyz, values):
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"xyz must have shape (n_neurons, 3), got {xyz.shape}")
    if values is None:
        values = xyz[:, 2]  # colour by depth
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(xyz),):
        raise ValueError(f"values must have shape ({len(xyz)},) (one per neuron), got {values.shape}")
    return xyz, values


def _aspect(xyz: np.ndarray, min_depth_share: float = 0.25) -> dict:
    """Aspect ratio proportional to the data ranges, the depth axis stretched to at least
    ``min_depth_share`` of the x/y extent so that ~300 um of planes under a 1 mm field stay visible."""
    span = np.ptp(xyz, axis=0)
    span = np.where(span > 0, span, 1.0)
    xy = max(span[0], span[1])
    z = max(span[2], min_depth_share * xy)
    return dict(x=span[0] / xy, y=span[1] / xy, z=z / xy)


def neurons_3d(
    xyz,
    values=None,
    backend: str = "plotly",
    max_points: int | None = None,
    title: str | None = None,
    colorscale: str = "Viridis",
    clim=None,
    marker_size: float = 2.0,
    colorbar_title: str = "response",
    rng=0,
):
    """Neurons as points in 3D (x, y, z = imaging-plane depth), coloured by a value.

    The depth axis is drawn to scale but stretched to at least a quarter of the x/y extent.

    Parameters
    ----------
    xyz : array-like of shape (n_neurons, 3)
        Positions, e.g. ``rec.xyz``.
    values : array-like of shape (n_neurons,), optional
        One number per neuron, e.g. the response to one image; default depth.
    backend : {'plotly', 'ipyvolume'}
        'plotly' gives a ``plotly.graph_objects.Figure`` (show it with ``show_plotly``);
        'ipyvolume' a figure widget for live notebooks (it needs a running kernel).
    max_points : int or None
        Draw a random subset of at most this many neurons (fixed by ``rng``). 3,000 points keep
        a book page's figure at about 100 kB of HTML.
    colorscale : str
        Plotly colorscale / matplotlib colormap name ('Viridis', 'RdBu_r', ...).
    clim : (float, float), optional
        Colour limits; default the 1st and 99th percentiles of the values drawn, made symmetric
        around 0 for a diverging map (``DIVERGING``), so that its middle colour means 0.
    """
    xyz, values = _checked_xyz_values(xyz, values)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    keep = subsample(len(xyz), max_points, rng)
    xyz, values = xyz[keep], values[keep]
    vmin, vmax = colour_limits(values, colorscale) if clim is None else (float(clim[0]), float(clim[1]))
    if backend == "ipyvolume":
        return _neurons_ipyvolume(xyz, values, colorscale, (vmin, vmax), marker_size)

    import plotly.graph_objects as go

    marker = dict(
        size=marker_size,
        color=values.astype(np.float32),
        colorscale=colorscale,
        cmin=vmin,
        cmax=vmax,
        opacity=0.8,
        colorbar=dict(title=dict(text=colorbar_title), thickness=14, len=0.7),
    )
    trace = go.Scatter3d(
        x=xyz[:, 0].astype(np.float32),
        y=xyz[:, 1].astype(np.float32),
        z=xyz[:, 2].astype(np.float32),
        mode="markers",
        marker=marker,
        hovertemplate="x %{x:.0f} um<br>y %{y:.0f} um<br>z %{z:.0f}<br>%{marker.color:.2f}<extra></extra>",
    )
    fig = go.Figure(trace)
    fig.update_layout(
        title=dict(text=title) if title else None,
        height=520,
        margin=dict(l=0, r=0, t=40 if title else 10, b=0),
        scene=dict(
            xaxis_title="x (um)",
            yaxis_title="y (um)",
            zaxis_title="depth (um)",
            aspectmode="manual",
            aspectratio=_aspect(xyz),
            zaxis=dict(autorange="reversed"),  # deeper planes drawn lower
        ),
    )
    return fig


def _neurons_ipyvolume(xyz, values, colorscale, clim, marker_size):
    try:
        import ipyvolume as ipv
    except ImportError as exc:  # pinned in requirements.txt, but optional for the package
        raise ImportError("backend='ipyvolume' needs the ipyvolume package (pip install ipyvolume)") from exc
    import warnings

    colours = map_colours(values, colorscale, clim)[:, :3].astype(np.float32)
    x, y, z = (xyz[:, i].astype(np.float32) for i in range(3))
    with warnings.catch_warnings():  # ipyvolume 0.6 passes an argument traitlets deprecates
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="traitlets")
        fig = ipv.figure(width=640, height=480)
        ipv.scatter(x, y, -z, color=colours, size=marker_size, marker="sphere")  # deeper planes lower
    centre, half = xyz.mean(axis=0), np.ptp(xyz, axis=0).max() / 2
    ipv.xlim(centre[0] - half, centre[0] + half)
    ipv.ylim(centre[1] - half, centre[1] + half)
    ipv.zlim(-centre[2] - half, -centre[2] + half)
    ipv.xyzlabel("x (um)", "y (um)", "-depth (um)")
    return fig


PLOTLY_MODE_ENV = "NEUROLAB_PLOTLY"
"""Environment variable forcing ``show_plotly``'s choice: 'book' (static HTML) or 'live' (fig.show())."""


def plotly_mode() -> str:
    """'live' when a person is looking at a running notebook, 'book' when a notebook is executed
    headless (Jupyter Book's jupyter-cache, papermill, nbclient: its outputs become a static page).

    ``$NEUROLAB_PLOTLY`` ('book' or 'live') decides if set. Otherwise 'live' means Colab
    (``google.colab`` imported), a kernel started by a Jupyter server (JupyterLab, Notebook 7 and
    nbclassic on jupyter_server 2 set ``JPY_SESSION_NAME`` for their kernels), or VS Code (it puts
    ``__vsc_ipynb_file__`` in the user namespace). Headless executors set none of these.
    """
    import os
    import sys

    forced = os.environ.get(PLOTLY_MODE_ENV, "").strip().lower()
    if forced in ("book", "live"):
        return forced
    if forced:
        raise ValueError(f"${PLOTLY_MODE_ENV} must be 'book' or 'live', not {forced!r}")
    if "google.colab" in sys.modules or os.environ.get("JPY_SESSION_NAME"):
        return "live"
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython comes with every notebook kernel
        shell = None
    if shell is not None and "__vsc_ipynb_file__" in shell.user_ns:
        return "live"
    return "book"


def show_plotly(fig, alt: str, renderer: str | None = None):
    """Display a plotly figure so that it works both in the built book and in a live notebook.

    ``alt`` is the figure's text alternative: one or two sentences saying what it shows (what the
    points are, what the colour means, what to notice), for a reader who cannot see it. In the book
    it labels the figure for screen readers (``aria-label``) and is printed under it as its
    caption; the figure must also carry a title (``fig.layout.title``).

    In the book (``plotly_mode() == 'book'``: the notebook is executed headless, its outputs become
    a static page) plotly.js must be neither inlined into every page (~4.6 MB each) nor fetched from
    a CDN. The book's Sphinx extension (book/_ext/neurolab_book.py) ships ``plotly.min.js`` once and
    loads it on every page holding a plotly figure, so this displays only
    ``fig.to_html(include_plotlyjs=False, full_html=False)`` as HTML: a ``<div>`` and a short
    ``Plotly.newPlot`` call, a few hundred kB at most for a few thousand points (plotly 6 stores
    arrays as base64). It is the only representation in the output: myst-nb warns (and the book
    build, run with -W, fails) on any mime type it does not know, such as plotly's JSON.

    In a live notebook that HTML alone would draw nothing (no ``Plotly`` global), so there this
    calls ``fig.show()``: plotly picks the renderer of the front end (JupyterLab / Notebook 7 and
    VS Code draw the figure JSON with their bundled plotly.js, Colab its own renderer), all offline
    except Colab's. ``renderer`` forces ``fig.show(renderer=renderer)`` anywhere, e.g. 'notebook'
    for the classic notebook, or 'browser'. Returns None, like ``fig.show()``.
    """
    import html as html_lib

    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("show_plotly needs alt=: a sentence saying what the figure shows")
    title = getattr(getattr(fig.layout, "title", None), "text", None)
    if not title:
        raise ValueError("show_plotly: give the figure a title (fig.update_layout(title=...))")
    if renderer is not None or plotly_mode() == "live":
        fig.show(renderer=renderer)
        return None
    from IPython.display import display

    config = {"displaylogo": False, "responsive": True}
    body = fig.to_html(include_plotlyjs=False, full_html=False, config=config)
    label = html_lib.escape(f"{title}. {alt.strip()}", quote=True)
    html = (
        f'<figure class="neurolab-3d" role="group" aria-label="{label}">{body}'
        f"<figcaption>{html_lib.escape(alt.strip())}</figcaption></figure>"
    )
    display({"text/html": html}, raw=True)
    return None


def plot_planes(
    xyz,
    values=None,
    ncols: int | None = None,
    cmap: str = "viridis",
    clim=None,
    s: float = 2.0,
    colorbar_label: str = "response",
    panel_size: float = 1.9,
):
    """The neurons of each imaging plane as its own x/y map, coloured by a value (matplotlib).

    xyz: (n_neurons, 3); values: (n_neurons,), default depth; one panel per distinct depth
    (``neurolab.spatial.plane_index``), shallowest first, with one shared colour scale
    (``clim``, default the 1st/99th percentiles). Returns the matplotlib Figure.
    """
    from neurolab.spatial import plane_index

    xyz, values = _checked_xyz_values(xyz, values)
    plane = plane_index(xyz, n_planes=32)
    n_planes = int(plane.max()) + 1
    ncols = ncols or min(n_planes, 6)
    nrows = int(np.ceil(n_planes / ncols))
    vmin, vmax = colour_limits(values, cmap) if clim is None else clim
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols + 1.0, panel_size * nrows + 0.4), squeeze=False,
        sharex=True, sharey=True,
    )
    # a fixed layout: matplotlib's constrained layout costs seconds with a dozen panels
    fig.subplots_adjust(left=0.07, right=0.86, bottom=0.14 / nrows ** 0.5, top=0.93, wspace=0.08, hspace=0.3)
    for p, ax in enumerate(axes.flat):
        if p >= n_planes:
            ax.set_axis_off()
            continue
        on = plane == p
        sc = ax.scatter(
            xyz[on, 0], xyz[on, 1], c=values[on], s=s, cmap=cmap, vmin=vmin, vmax=vmax, linewidths=0
        )
        ax.set_title(f"plane {p} ({on.sum()} n.)", fontsize=8)
        ax.set_aspect("equal")
    lo, hi = xyz[:, :2].min(axis=0), xyz[:, :2].max(axis=0)
    axes[0, 0].set_xticks(np.round(np.linspace(lo[0], hi[0], 3), -1))  # few fixed ticks: drawing
    axes[0, 0].set_yticks(np.round(np.linspace(lo[1], hi[1], 3), -1))  # tick labels is the slow part
    for ax in axes.flat:
        ax.tick_params(labelsize=7)
    fig.colorbar(sc, cax=fig.add_axes((0.89, 0.2, 0.015, 0.6)), label=colorbar_label)
    fig.supxlabel("x (um)", fontsize=9)
    fig.supylabel("y (um)", fontsize=9)
    return fig


# ------------------------------------------------------------------------------------------------
# Standard plots of responses, classes and spectra


def plot_raster(
    resp,
    ax=None,
    grey=None,
    clim=None,
    cmap: str = "gray_r",
    xlabel: str = "trial (presentation order)",
    ylabel: str = "neuron",
    colorbar_label: str | None = "response",
):
    """A trials x neurons matrix as an image, trials along x (time), neurons along y.

    resp: (n_trials, n_neurons), rows in the order to draw (sort neurons before calling).
    grey: (n_trials,) bool, trials to mark with a tick above the raster (e.g. ``rec.is_grey``).
    clim: (vmin, vmax); default 1st/99th percentiles (heavy tails would wash the image out).
    Returns the Axes.
    """
    resp = np.asarray(resp)
    if resp.ndim != 2:
        raise ValueError(f"resp must be 2-D (trials, neurons), got shape {resp.shape}")
    ax = ax or plt.subplots(figsize=(7, 3))[1]
    vmin, vmax = colour_limits(resp, cmap) if clim is None else clim
    im = ax.imshow(resp.T, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest",
                   origin="lower")
    if grey is not None:
        grey = np.asarray(grey, dtype=bool)
        if grey.shape != (resp.shape[0],):
            raise ValueError(f"grey must have shape ({resp.shape[0]},), got {grey.shape}")
        t = np.flatnonzero(grey)
        ax.plot(t, np.full(len(t), resp.shape[1] * 1.02), "|", color="tab:orange", ms=6, clip_on=False,
                label="grey screen")
        ax.legend(loc="lower right", bbox_to_anchor=(1, 1.02), fontsize=8, frameon=False, borderaxespad=0)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if colorbar_label is not None:
        ax.figure.colorbar(im, ax=ax, label=colorbar_label, pad=0.01)
    return ax


def plot_blocks(resp, spont, grey=None, n_neurons: int = 300, n_points: int = 400, rng=0):
    """The stimulus block and the spontaneous block side by side, on one colour scale.

    resp: (n_trials, n_neurons) responses in presentation order; spont: (n_timepoints, n_neurons);
    grey: (n_trials,) bool grey-screen trials to tick. Draws ``n_neurons`` random neurons (fixed
    ``rng``) over the first ``n_points`` trials and timepoints, each neuron in units of its
    spontaneous SD above its spontaneous mean, sorted by its weight on the first principal component
    of spontaneous activity (so shared fluctuations show as vertical bands). Returns the Figure.
    """
    resp, spont = np.asarray(resp), np.asarray(spont)
    if resp.ndim != 2 or spont.ndim != 2 or resp.shape[1] != spont.shape[1]:
        raise ValueError(f"resp {resp.shape} and spont {spont.shape} must be 2-D with the same neurons")
    if len(spont) < 2:
        raise ValueError("spont needs at least 2 timepoints")
    rng = check_rng(rng)
    show = np.sort(rng.choice(resp.shape[1], size=min(n_neurons, resp.shape[1]), replace=False))
    mu, sd = spont[:, show].mean(axis=0), spont[:, show].std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    zs = (spont[:, show] - mu) / sd
    pc1 = np.linalg.svd(zs - zs.mean(axis=0), full_matrices=False)[2][0]
    order = np.argsort(pc1)
    stim_z = ((resp[:n_points, show] - mu) / sd)[:, order]
    spont_z = zs[:n_points, order]
    clim = robust_limits(stim_z)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True, layout="constrained")
    plot_raster(stim_z, ax=axes[0], grey=None if grey is None else np.asarray(grey)[:n_points], clim=clim,
                colorbar_label=None, ylabel="neuron (sorted by spont. PC 1)")
    axes[0].set_title("stimulus block (trials)", fontsize=10)
    plot_raster(spont_z, ax=axes[1], clim=clim, xlabel="spontaneous timepoint", ylabel="",
                colorbar_label="z (spont. units)")
    axes[1].set_title("spontaneous block (grey screen)", fontsize=10)
    return fig


def plot_class_counts(labels, names, ax=None, highlight: int | None = 0):
    """How many images each class holds, as horizontal bars, largest first.

    labels: (n_images,) int class index per image; names: class names (labels index them).
    highlight: a class drawn in grey (default 0, 'unknown', which is not a category).
    A dashed line marks the count every class would have if the known classes were balanced.
    Returns the Axes.
    """
    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=len(names))
    if len(counts) > len(names):
        raise ValueError(f"labels go up to {labels.max()} but only {len(names)} names were given")
    order = np.argsort(counts)
    ax = ax or plt.subplots(figsize=(4.5, 0.25 * len(names) + 0.8))[1]
    colours = ["0.6" if i == highlight else "tab:blue" for i in order]
    ax.barh(np.arange(len(order)), counts[order], color=colours)
    ax.set_yticks(np.arange(len(order)), [names[i] for i in order])
    known = [i for i in range(len(names)) if i != highlight]
    if known:
        ax.axvline(counts[known].sum() / len(known), color="k", ls="--", lw=1, label="balanced")
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_xlabel("images")
    return ax


def plot_spectrum(values, ax=None, label: str | None = None, fit=None, start: int = 1, **kwargs):
    """A variance spectrum on log-log axes: values[k] against rank k + start.

    values: (n,) variance (or variance fraction) per component, e.g. ``explained_variance_ratio_``
    or ``geometry.cvpca`` output (non-positive values are not drawn on a log axis).
    fit: optional (n,) fitted curve drawn dashed (e.g. ``geometry.powerlaw(ss)[1]``).
    Returns the Axes.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    ax = ax or plt.subplots(figsize=(3.6, 3))[1]
    ranks = np.arange(start, start + len(values))
    positive = values > 0
    ax.loglog(ranks[positive], values[positive], label=label, **kwargs)
    if fit is not None:
        fit = np.asarray(fit, dtype=np.float64).ravel()
        if fit.shape != values.shape:
            raise ValueError(f"fit has shape {fit.shape}, values {values.shape}")
        ax.loglog(ranks, fit, "k--", lw=1, label="power-law fit")
    ax.set(xlabel="component rank", ylabel="variance")
    if label is not None or fit is not None:
        ax.legend(fontsize=8, frameon=False)
    return ax


def plot_sweep(
    x,
    curves: dict,
    mark=None,
    mark_label: str | None = None,
    chance: float | None = None,
    ax=None,
    xlabel: str = "spontaneous PCs removed",
    ylabel: str | None = None,
    spacing: str = "even",
):
    """One or more measures against a swept setting, with a chosen value marked.

    x: (k,) setting values, ascending (e.g. numbers of PCs, 0 allowed); curves: {label: (k,) values};
    mark: a setting to mark with a vertical line (e.g. 32, the original choice; it need not be one
    of x); chance: a horizontal dotted line at the chance level.
    spacing: 'even' puts the swept values at equal distances, labelled with their values (readable
    for 0, 1, 4, 16, 32, 64, 128); 'linear' uses the values themselves. Returns the Axes.
    """
    x = np.asarray(x, dtype=np.float64)
    if spacing not in ("even", "linear"):
        raise ValueError(f"spacing must be 'even' or 'linear', not {spacing!r}")
    if spacing == "even" and np.any(np.diff(x) <= 0):
        raise ValueError("spacing='even' needs ascending x values")
    pos = np.arange(len(x), dtype=np.float64) if spacing == "even" else x
    ax = ax or plt.subplots(figsize=(4, 3))[1]
    for label, y in curves.items():
        y = np.asarray(y, dtype=np.float64)
        if y.shape != x.shape:
            raise ValueError(f"curve {label!r} has shape {y.shape}, x has {x.shape}")
        ax.plot(pos, y, "o-", ms=4, label=label)
    if chance is not None:
        ax.axhline(chance, color="k", ls=":", lw=1, label="chance")
    if mark is not None:
        ax.axvline(np.interp(mark, x, pos), color="tab:red", lw=1, alpha=0.7, label=mark_label)
    if spacing == "even":
        ax.set_xticks(pos, [f"{v:g}" for v in x])
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8, frameon=False)
    return ax
