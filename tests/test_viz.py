import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from neurolab import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def cloud():
    rng = np.random.default_rng(0)
    n = 500
    xyz = np.column_stack([rng.uniform(0, 1000, n), rng.uniform(0, 800, n), rng.integers(0, 5, n) * 35.0])
    values = rng.standard_normal(n)
    return xyz.astype(np.float32), values


# ------------------------------------------------------------------------------ subsampling, colours
def test_subsample_is_deterministic_sorted_and_bounded():
    a = viz.subsample(1000, 100, rng=1)
    assert a.shape == (100,) and np.all(np.diff(a) > 0) and a.max() < 1000
    np.testing.assert_array_equal(a, viz.subsample(1000, 100, rng=1))
    assert not np.array_equal(a, viz.subsample(1000, 100, rng=2))
    np.testing.assert_array_equal(viz.subsample(10, None), np.arange(10))
    np.testing.assert_array_equal(viz.subsample(10, 50), np.arange(10))
    with pytest.raises(ValueError, match="max_points"):
        viz.subsample(10, 0)


def test_robust_limits_ignore_outliers_and_degenerate_input():
    v = np.r_[np.linspace(0, 1, 1000), 1e6]
    lo, hi = viz.robust_limits(v)
    assert 0 <= lo < 0.05 and 0.95 < hi < 2
    assert viz.robust_limits(np.full(5, 3.0)) == (2.5, 3.5)
    assert viz.robust_limits([np.nan]) == (0.0, 1.0)


def test_map_colours_follows_the_colormap_and_clips():
    rgba = viz.map_colours([0, 0.5, 1, 2, -1], "viridis", clim=(0, 1))
    cmap = matplotlib.colormaps["viridis"]
    assert rgba.shape == (5, 4)
    np.testing.assert_allclose(rgba[0], cmap(0.0))
    np.testing.assert_allclose(rgba[2], cmap(1.0))
    np.testing.assert_allclose(rgba[3], rgba[2])  # clipped high
    np.testing.assert_allclose(rgba[4], rgba[0])  # clipped low
    capitalised = viz.map_colours([0, 1], "Viridis", (0, 1))
    np.testing.assert_allclose(capitalised, viz.map_colours([0, 1], "viridis", (0, 1)))
    with pytest.raises(ValueError, match="unknown colormap"):
        viz.map_colours([0, 1], "no-such-map")


# ------------------------------------------------------------------------------ 3D view
def test_neurons_3d_plotly_maps_values_to_colours(cloud):
    import plotly.graph_objects as go

    xyz, values = cloud
    fig = viz.neurons_3d(xyz, values, title="one image", colorbar_title="z")
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    trace = fig.data[0]
    assert trace.type == "scatter3d" and trace.mode == "markers"
    np.testing.assert_allclose(trace.x, xyz[:, 0])
    np.testing.assert_allclose(trace.z, xyz[:, 2])
    np.testing.assert_allclose(trace.marker.color, values, rtol=1e-6)
    lo, hi = viz.robust_limits(values)
    assert trace.marker.cmin == pytest.approx(lo) and trace.marker.cmax == pytest.approx(hi)
    assert trace.marker.colorbar.title.text == "z"
    assert fig.layout.title.text == "one image"
    ratio = fig.layout.scene.aspectratio
    assert ratio.x == pytest.approx(1.0) and ratio.y == pytest.approx(np.ptp(xyz[:, 1]) / np.ptp(xyz[:, 0]))
    assert ratio.z >= 0.25  # thin stack of planes stretched to stay visible


def test_neurons_3d_subsamples_the_same_points_every_time(cloud):
    xyz, values = cloud
    a = viz.neurons_3d(xyz, values, max_points=100).data[0]
    b = viz.neurons_3d(xyz, values, max_points=100).data[0]
    assert len(a.x) == 100
    np.testing.assert_array_equal(a.x, b.x)
    keep = viz.subsample(len(xyz), 100, rng=0)
    np.testing.assert_allclose(a.marker.color, values[keep], rtol=1e-6)
    np.testing.assert_allclose(a.y, xyz[keep, 1])


def test_neurons_3d_defaults_to_depth_and_explicit_limits(cloud):
    xyz, _ = cloud
    trace = viz.neurons_3d(xyz, clim=(-1, 2)).data[0]
    np.testing.assert_allclose(trace.marker.color, xyz[:, 2])
    assert (trace.marker.cmin, trace.marker.cmax) == (-1, 2)


def test_neurons_3d_errors_are_clear(cloud):
    xyz, values = cloud
    with pytest.raises(ValueError, match="unknown backend 'vtk'"):
        viz.neurons_3d(xyz, values, backend="vtk")
    with pytest.raises(ValueError, match=r"xyz must have shape \(n_neurons, 3\)"):
        viz.neurons_3d(xyz[:, :2], values)
    with pytest.raises(ValueError, match=r"values must have shape \(500,\)"):
        viz.neurons_3d(xyz, values[:10])


def test_neurons_3d_ipyvolume_colours(cloud):
    pytest.importorskip("ipyvolume")
    xyz, values = cloud
    fig = viz.neurons_3d(xyz, values, backend="ipyvolume", max_points=50)
    scatter = fig.scatters[0]
    keep = viz.subsample(len(xyz), 50, rng=0)
    assert len(scatter.x) == 50
    expected = viz.map_colours(values[keep], "Viridis")[:, :3]
    np.testing.assert_allclose(np.asarray(scatter.color), expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(scatter.z), -xyz[keep, 2])


def _headless(monkeypatch):
    monkeypatch.delenv(viz.PLOTLY_MODE_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def test_show_plotly_emits_a_div_without_the_library(cloud, monkeypatch):
    import IPython.display

    _headless(monkeypatch)
    assert viz.plotly_mode() == "book"
    xyz, values = cloud
    fig = viz.neurons_3d(xyz, values, max_points=200, title="one response")
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    monkeypatch.setattr(type(fig), "show", lambda self, renderer=None: pytest.fail("fig.show() in book mode"))
    assert viz.show_plotly(fig, alt="Neurons as points & coloured by their response.") is None
    ((bundle, raw),) = shown
    assert raw and set(bundle) == {"text/html"}  # myst-nb fails the -W build on unknown mime types
    html = bundle["text/html"]
    assert "plotly-graph-div" in html and "Plotly.newPlot" in html
    assert "cdn.plot.ly" not in html and "* plotly.js v" not in html and "<html" not in html
    assert len(html) < 100_000  # 200 points: a few tens of kB, not the 4 MB library
    # a text alternative: the figure is labelled (title and alt) and captioned (alt)
    assert 'aria-label="one response. Neurons as points &amp; coloured by their response."' in html
    assert "<figcaption>Neurons as points &amp; coloured by their response.</figcaption>" in html


def test_show_plotly_needs_a_title_and_a_text_alternative(cloud):
    xyz, values = cloud
    with pytest.raises(ValueError, match="alt="):
        viz.show_plotly(viz.neurons_3d(xyz, values, max_points=20, title="t"), alt=" ")
    with pytest.raises(ValueError, match="title"):
        viz.show_plotly(viz.neurons_3d(xyz, values, max_points=20), alt="points")


@pytest.mark.parametrize(
    "env, renderer",
    [({"JPY_SESSION_NAME": "/home/me/01_data.ipynb"}, None), ({viz.PLOTLY_MODE_ENV: "live"}, None),
     ({}, "json")],
)
def test_show_plotly_uses_fig_show_when_live_or_asked(cloud, monkeypatch, env, renderer):
    import IPython.display

    _headless(monkeypatch)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    xyz, values = cloud
    fig = viz.neurons_3d(xyz, values, max_points=20, title="t")
    calls = []
    monkeypatch.setattr(type(fig), "show", lambda self, renderer=None: calls.append(renderer))
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: pytest.fail("static HTML when live"))
    viz.show_plotly(fig, alt="points", renderer=renderer)
    assert calls == [renderer]


def test_plotly_mode_can_be_forced_and_checks_the_value(monkeypatch):
    _headless(monkeypatch)
    monkeypatch.setenv("JPY_SESSION_NAME", "x.ipynb")
    assert viz.plotly_mode() == "live"
    monkeypatch.setenv(viz.PLOTLY_MODE_ENV, "book")
    assert viz.plotly_mode() == "book"
    monkeypatch.setenv(viz.PLOTLY_MODE_ENV, "cdn")
    with pytest.raises(ValueError, match="'book' or 'live'"):
        viz.plotly_mode()


def test_book_figure_of_3000_neurons_stays_small():
    rng = np.random.default_rng(1)
    xyz = rng.uniform(0, 1000, (20_000, 3)).astype(np.float32)
    fig = viz.neurons_3d(xyz, rng.standard_normal(20_000), max_points=3000)
    html = fig.to_html(include_plotlyjs=False, full_html=False)
    assert len(html) < 300_000


# ------------------------------------------------------------------------------ matplotlib plots
def test_plot_planes_one_panel_per_plane(cloud):
    xyz, values = cloud
    fig = viz.plot_planes(xyz, values, ncols=3)
    panels = [ax for ax in fig.axes if ax.collections and ax.get_title().startswith("plane")]
    assert len(panels) == 5
    counts = [int(ax.get_title().split("(")[1].split()[0]) for ax in panels]
    assert sum(counts) == len(xyz)
    first = panels[0].collections[0]
    on = xyz[:, 2] == 0
    np.testing.assert_allclose(first.get_array(), values[on])


def test_plot_raster_marks_grey_trials():
    resp = np.random.default_rng(0).random((40, 10))
    grey = np.zeros(40, bool)
    grey[[3, 7]] = True
    ax = viz.plot_raster(resp, grey=grey)
    assert ax.images[0].get_array().shape == (10, 40)  # neurons x trials
    ticks = [line for line in ax.lines if line.get_label() == "grey screen"]
    np.testing.assert_array_equal(ticks[0].get_xdata(), [3, 7])
    with pytest.raises(ValueError, match="grey must have shape"):
        viz.plot_raster(resp, grey=grey[:5])
    with pytest.raises(ValueError, match="2-D"):
        viz.plot_raster(resp[0])


def test_plot_blocks_shares_one_colour_scale_and_sorts_by_spont_pc():
    rng = np.random.default_rng(0)
    shared = rng.standard_normal((500, 1)) @ np.linspace(-1, 1, 40)[None]  # one shared fluctuation
    spont = 5 + shared + 0.1 * rng.standard_normal((500, 40))
    resp = 5 + rng.standard_normal((60, 40))
    grey = np.zeros(60, bool)
    grey[::10] = True
    fig = viz.plot_blocks(resp, spont, grey=grey, n_neurons=30, n_points=50)
    left, right = fig.axes[0].images[0], fig.axes[1].images[0]
    assert left.get_array().shape == (30, 50) and right.get_array().shape == (30, 50)
    assert left.get_clim() == right.get_clim()
    loading = np.abs(np.corrcoef(np.asarray(right.get_array()))[0, -1])
    assert loading > 0.9  # first and last rows are the extremes of the shared fluctuation
    with pytest.raises(ValueError, match="same neurons"):
        viz.plot_blocks(resp, spont[:, :5])


def test_plot_class_counts_sorted_with_unknown_in_grey():
    labels = np.r_[np.zeros(5, int), np.ones(10, int), np.full(3, 2)]
    ax = viz.plot_class_counts(labels, ["unknown", "birds", "cats"])
    widths = [p.get_width() for p in ax.patches]
    assert widths == [3, 5, 10]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == ["cats", "unknown", "birds"]
    assert matplotlib.colors.to_hex(ax.patches[1].get_facecolor()) == matplotlib.colors.to_hex("0.6")
    with pytest.raises(ValueError, match="names"):
        viz.plot_class_counts(np.array([0, 5]), ["a", "b"])


def test_plot_spectrum_and_sweep():
    ax = viz.plot_spectrum(1 / np.arange(1, 11), label="spont", fit=1 / np.arange(1, 11))
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
    with pytest.raises(ValueError, match="fit"):
        viz.plot_spectrum(np.ones(5), fit=np.ones(4))
    ax = viz.plot_sweep([0, 1, 4, 32], {"acc": [0.1, 0.2, 0.3, 0.35]}, mark=32, chance=0.01)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 2, 3])  # evenly spaced
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "4", "32"]
    mark = [line for line in ax.lines if line.get_color() == "tab:red"][0]
    assert mark.get_xdata()[0] == 3
    ax = viz.plot_sweep([0, 1, 4, 32], {"acc": [0.1, 0.2, 0.3, 0.35]}, spacing="linear")
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 4, 32])
    with pytest.raises(ValueError, match="curve 'acc'"):
        viz.plot_sweep([0, 1], {"acc": [1, 2, 3]})
    with pytest.raises(ValueError, match="ascending"):
        viz.plot_sweep([4, 1], {"acc": [1, 2]})


def test_diverging_maps_are_centred_at_zero():
    values = np.r_[np.linspace(-2, 10, 200)]
    lo, hi = viz.plots.colour_limits(values, "RdBu_r")
    assert lo == -hi and hi == pytest.approx(9.88, abs=0.05)
    lo, hi = viz.plots.colour_limits(values, "viridis")
    assert lo > -2 and hi < 10 and lo != -hi
    fig = viz.neurons_3d(np.random.default_rng(0).uniform(0, 500, (200, 3)), values, colorscale="RdBu_r")
    marker = fig.data[0].marker
    assert marker.cmin == -marker.cmax
