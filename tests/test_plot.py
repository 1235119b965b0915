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
