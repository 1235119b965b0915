import os

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from spikemem import plot
from spikemem.results import Result, SpikeTrain, Trace


@pytest.fixture
def result():
    rng = np.random.default_rng(3)
    exc = SpikeTrain(np.sort(rng.uniform(0, 0.5, 300)), rng.integers(0, 40, 300), 40)
    inh = SpikeTrain(np.sort(rng.uniform(0, 0.5, 100)), rng.integers(0, 10, 100), 10)
    t = np.arange(500) * 1e-3
    v = Trace(t, [0, 5], np.column_stack([np.sin(t), np.cos(t)]) * 0.01 - 0.065, "V")
    return Result(spikes={"exc": exc, "inh": inh}, traces={"exc.v": v}, meta={"duration": 0.5})


def n_points(ax):
    return sum(len(c.get_offsets()) for c in ax.collections)


def test_raster_points_and_offsets(result):
    ax = plot.raster(result)
    assert n_points(ax) == 400
    # Populations are stacked: inh ids are shifted above the 40 exc neurons.
    inh_y = ax.collections[1].get_offsets()[:, 1]
    assert inh_y.min() >= 40 and inh_y.max() < 50
    assert [t.get_text() for t in ax.get_yticklabels()] == ["exc", "inh"]
    colours = [tuple(c.get_edgecolor()[0]) for c in ax.collections]
    assert colours[0] != colours[1]


def test_raster_selection_and_thinning(result):
    assert n_points(plot.raster(result, populations=["inh"])) == 100
    assert n_points(plot.raster(result, max_points=100)) <= 100
    assert n_points(plot.raster(result.spikes["exc"])) == 300
    with pytest.raises(KeyError):
        plot.raster(result, populations=["nope"])


def test_raster_on_given_axes(result):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.raster(result, ax=ax) is ax


@pytest.mark.parametrize("draw", [plot.raster, plot.population_rate, plot.traces])
def test_plots_save_png(tmp_path, result, draw):
    ax = draw(result)
    path = tmp_path / "fig.png"
    plot.save_figure(ax.figure, path)
    data = path.read_bytes()
    assert len(data) > 0 and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["fig.png"]


def test_population_rate_lines(result):
    ax = plot.population_rate(result, bin_size=0.05)
    assert len(ax.lines) == 2
    assert len(ax.lines[0].get_xdata()) == 10


def test_traces_lines(result):
    ax = plot.traces(result, key="exc.v")
    assert len(ax.lines) == 2
    assert "V" in ax.get_ylabel()
    with pytest.raises(KeyError):
        plot.traces(result, key="inh.v")


def test_save_figure_failure_leaves_nothing(tmp_path, monkeypatch):
    fig = Figure()
    fig.add_subplot().plot([0, 1])

    def boom(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(fig, "savefig", boom)
    with pytest.raises(RuntimeError):
        plot.save_figure(fig, tmp_path / "fig.png")
    assert os.listdir(tmp_path) == []


# --- issue 21, item 9: readable figures -------------------------------------------


@pytest.fixture
def mixed():
    """A 1 s run whose only spikes fall in the first 2 ms, with voltage and current traces."""
    t = np.arange(1000) * 1e-3
    v = Trace(t, [0, 1], np.column_stack([np.sin(t), np.cos(t)]) * 0.01 - 0.065, "V")
    i = Trace(t, [0], (np.sin(20 * t) * 2e-10)[:, None], "A")
    spikes = SpikeTrain(np.array([0.0005, 0.001, 0.002]), np.array([0, 1, 2]), 3)
    meta = {"duration": 1.0, "backend": "numba", "model": "cuba"}
    return Result(spikes={"exc": spikes}, traces={"exc.v": v, "exc.I": i}, meta=meta)


def test_raster_time_axis_spans_the_run(mixed):
    ax = plot.raster(mixed)
    assert ax.get_xlim() == pytest.approx((0.0, 1.0))
    assert plot.raster(mixed, duration=2.0).get_xlim() == pytest.approx((0.0, 2.0))


def test_raster_without_duration_falls_back_to_the_data(mixed):
    bare = Result(spikes=mixed.spikes, traces={}, meta={})
    lo, hi = plot.raster(bare).get_xlim()
    assert lo == 0.0 and hi == pytest.approx(0.002)
    lo, hi = plot.raster(mixed.spikes["exc"]).get_xlim()
    assert lo == 0.0 and hi == pytest.approx(0.002)


def test_population_rate_time_axis_spans_the_run(mixed):
    assert plot.population_rate(mixed, bin_size=0.1).get_xlim() == pytest.approx((0.0, 1.0))


def test_traces_one_axis_per_quantity_scaled_to_readable_units(mixed):
    ax = plot.traces(mixed)
    axes = ax.figure.axes
    assert len(axes) == 2
    labels = [a.get_ylabel() for a in axes]
    assert labels == ["v (mV)", "I (nA)"]
    v_line, i_line = axes[0].lines[0], axes[1].lines[0]
    assert np.max(np.abs(v_line.get_ydata())) == pytest.approx(65, abs=11)     # mV, not V
    assert np.max(np.abs(i_line.get_ydata())) == pytest.approx(0.2, rel=0.01)  # nA, not A
    assert len(axes[0].lines) == 2 and len(axes[1].lines) == 1
    assert axes[-1].get_xlabel() == "time (s)"
    assert all(a.get_xlim() == pytest.approx((0.0, 1.0)) for a in axes)


def test_traces_split_a_given_axes_cell(mixed):
    fig = Figure()
    given = fig.add_subplot()
    ax = plot.traces(mixed, ax=given)
    assert ax is given and len(fig.axes) == 2
    assert len(plot.traces(mixed, key="exc.I").figure.axes) == 1


def test_titles_name_model_backend_size_and_duration(mixed):
    for draw in (plot.raster, plot.population_rate, plot.traces):
        title = draw(mixed).get_title()
        assert title == "cuba, numba, N=3, 1 s"
    assert plot.describe(Result(spikes={}, traces={}, meta={})) == ""
    # a title the caller set is kept
    fig = Figure()
    ax = fig.add_subplot()
    ax.set_title("mine")
    assert plot.raster(mixed, ax=ax).get_title() == "mine"


# --- inline display in notebooks, the run's figure set, the difference raster
PNG = b"\x89PNG\r\n\x1a\n"


def test_figures_and_axes_render_themselves_in_a_notebook(result):
    # IPython shows the value of a cell through _repr_png_ where pyplot does not manage the figure
    assert plot.raster(result)._repr_png_().startswith(PNG)
    assert plot.traces(result)._repr_png_().startswith(PNG)
    fig = plot.show(result)
    assert fig._repr_png_().startswith(PNG)
    assert len(fig.axes) == 3          # raster, rate and one axes for the volts
    assert [ax.get_title() for ax in fig.axes].count("") == 2      # one title, on top


def test_figures_are_what_the_result_recorded(result, tmp_path):
    assert list(plot.figures(result)) == ["raster", "rate", "traces"]
    only_traces = Result(traces=result.traces, meta=result.meta)
    assert list(plot.figures(only_traces)) == ["traces"]              # no empty raster or rate
    assert plot.figures(Result(meta={"duration": 1.0})) == {}
    paths = plot.save_figures(result, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["raster.png", "rate.png", "traces.png"]
    assert all(open(p, "rb").read(8) == PNG for p in paths)
    with pytest.raises(ValueError, match="no spikes and no traces"):
        plot.show(Result())


def _pair():
    """Two runs of one network that agree on part of their spikes (dt = 1 ms)."""
    a = Result(spikes={"exc": SpikeTrain([0.001, 0.002, 0.003, 0.010], [0, 1, 2, 3], 5),
                       "inh": SpikeTrain([0.004], [0], 2)}, meta={"dt": 1e-3, "duration": 0.02})
    b = Result(spikes={"exc": SpikeTrain([0.001, 0.0021, 0.004, 0.011, 0.012], [0, 1, 2, 3, 4], 5),
                       "inh": SpikeTrain([0.004, 0.005], [0, 1], 2)}, meta={"dt": 1e-3, "duration": 0.02})
    return a, b


def test_difference_raster_legend_counts_equal_the_computed_differences():
    from spikemem.analysis import compare_spikes
    a, b = _pair()
    ax = plot.difference_raster(a, b, labels=("float64", "spinnaker"))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    d = compare_spikes(a, b, 1e-3)
    same, missing, extra = (sum(x[k] for x in d.values()) for k in ("same", "missing", "extra"))
    assert (same, missing, extra) == (3, 2, 4)
    assert legend == [f"both ({same})", f"only float64 ({missing})", f"only spinnaker ({extra})"]
    # the points: inh's neuron 1 only in b, stacked above the 5 exc neurons, at 5 ms
    only_b = ax.collections[2].get_offsets()
    assert [0.005, 6.0] in only_b.tolist() and len(only_b) == extra
    assert ax.get_xlim() == (0.0, 0.02)
    assert ax._repr_png_().startswith(PNG)


def test_difference_raster_needs_a_time_step():
    a, b = _pair()
    a.meta.pop("dt")
    with pytest.raises(ValueError, match="dt > 0"):
        plot.difference_raster(a, b)
    assert plot.difference_raster(a, b, dt=1e-3).get_legend() is not None


def test_ipython_formats_the_returned_axes_and_figures_as_images(result):
    formatters = pytest.importorskip("IPython.core.formatters")
    display = formatters.DisplayFormatter()
    for value in (plot.raster(result), plot.population_rate(result), plot.show(result)):
        data, _ = display.format(value)
        assert data["image/png"].startswith(PNG)


def test_the_title_counts_the_recorded_neurons_of_a_subset(mixed):
    subset = Result(spikes={"exc": SpikeTrain(np.array([0.001]), np.array([4]), 100, recorded=[4, 7])},
                    traces={}, meta={"duration": 1.0, "backend": "numba", "model": "cuba"})
    assert plot.describe(subset) == "cuba, numba, N=2, 1 s"      # of a population of 100


def test_figures_and_describe_show_units_alike():
    from brian2 import farad

    from spikemem import describe, units
    assert not hasattr(plot, "_DISPLAY_UNITS") and not hasattr(describe, "DISPLAY")   # one table
    for si, (shown, factor) in units.DISPLAY.items():
        assert units.display_unit(si) == (shown, factor)
    assert units.display_unit("F") == ("nF", 1e9) and describe.quantity(2e-10, farad.dim) == "0.2 nF"
    cm = Trace(np.arange(3) * 1e-3, [0], np.full((3, 1), 2e-10), "F")
    ax = plot.traces(Result(spikes={}, traces={"exc.cm": cm}, meta={}))
    assert ax.get_ylabel() == "cm (nF)" and ax.lines[0].get_ydata()[0] == pytest.approx(0.2)


def test_population_rate_without_duration_counts_every_spike():
    bare = Result(spikes={"a": SpikeTrain([0.001, 0.004, 0.010], [0, 1, 1], 2)}, traces={}, meta={})
    ax = plot.population_rate(bare, bin_size=0.005)
    centres, rate = ax.lines[0].get_data()
    assert ax.get_xlim() == pytest.approx((0.0, 0.015))
    assert rate.sum() * 0.005 * 2 == pytest.approx(3)      # rate x bin x neurons = spikes, the last one included


# ----------------------------------------------------------------- sweeps
def sweep_dataset(seeds=3):
    """A sweep's dataset as Sweep.dataset() lays it out: w (volts) x tau (seconds) x n (one value) x seed."""
    import xarray as xr
    rng = np.random.default_rng(5)
    shape = (3, 2, 1, seeds)
    coords = {"w": ("w", [0.001, 0.002, 0.004], {"units": "V"}), "tau": ("tau", [0.01, 0.02], {"units": "s"}),
              "n": ("n", [100]), "seed": ("seed", list(range(seeds)))}
    dims = ["w", "tau", "n", "seed"]
    data = {"exc.rate_hz": (dims, rng.uniform(1, 20, shape)), "exc.cv_isi": (dims, rng.uniform(0, 1, shape))}
    return xr.Dataset(data, coords=coords, attrs={"experiment": "toy"})


def test_sweep_figures_one_per_metric_and_parameter_with_several_values():
    figs = plot.sweep_figures(sweep_dataset())
    # n has one value: nothing to plot against it
    assert set(figs) == {f"{m}-vs-{p}" for m in ("exc.rate_hz", "exc.cv_isi") for p in ("w", "tau")}
    assert all(isinstance(f, Figure) for f in figs.values())


def test_sweep_figure_shows_mean_and_std_over_seeds_in_display_units():
    ds = sweep_dataset()
    ax = plot.sweep_figures(ds)["exc.rate_hz-vs-w"].axes[0]
    assert ax.get_xlabel() == "w (mV)"
    assert ax.get_ylabel() == "exc.rate_hz"
    lines = ax.get_lines()
    assert len(lines) == 2                          # one per value of tau
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["tau=10 ms", "tau=20 ms"]
    data = ds["exc.rate_hz"].values[:, :, 0, :]     # w x tau x seed
    for k, line in enumerate(lines):
        np.testing.assert_allclose(line.get_xdata(), [1, 2, 4])
        np.testing.assert_allclose(line.get_ydata(), data[:, k].mean(axis=1))
    bands = ax.collections
    assert len(bands) == 2
    for k, band in enumerate(bands):
        ys = band.get_paths()[0].vertices[:, 1]
        mean, sd = data[:, k].mean(axis=1), data[:, k].std(axis=1, ddof=1)
        np.testing.assert_allclose([ys.min(), ys.max()], [(mean - sd).min(), (mean + sd).max()])
    assert "std over 3 seeds" in ax.get_title()


def test_sweep_figure_with_one_seed_has_no_band_and_a_saved_dataset_plots_alike(tmp_path):
    from spikemem.experiments import load_dataset, save_dataset
    one = sweep_dataset(seeds=1)
    ax = plot.sweep_figures(one)["exc.cv_isi-vs-tau"].axes[0]
    assert not ax.collections and "one seed" in ax.get_title()
    assert ax.get_xlabel() == "tau (ms)"
    save_dataset(sweep_dataset(), tmp_path / "m.nc")
    again = plot.sweep_figures(load_dataset(tmp_path / "m.nc"))["exc.rate_hz-vs-w"].axes[0]
    assert again.get_xlabel() == "w (mV)" and len(again.get_lines()) == 2


def test_sweep_figure_of_a_text_parameter_names_its_values():
    import xarray as xr
    ds = xr.Dataset({"r": (["method", "seed"], [[1.0, 2.0], [3.0, 5.0]])},
                    coords={"method": ["euler", "exact"], "seed": [0, 1]})
    ax = plot.sweep_figures(ds)["r-vs-method"].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["euler", "exact"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.5, 4.0])
