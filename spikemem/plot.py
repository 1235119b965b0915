"""Quick-look plots of simulation results.

Figures are built with :class:`matplotlib.figure.Figure` directly rather than pyplot,
so plotting works headless (no display, no global figure registry to leak memory in
long parameter sweeps) and never changes the user's pyplot state.
"""

from __future__ import annotations

import os

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spikemem import analysis
from spikemem.results import Result, SpikeTrain, atomic_write


def _new_axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else Figure(figsize=(8, 4), layout="constrained").add_subplot()


def _thin(n_total: int, budget: int) -> np.ndarray:
    """Evenly spaced indices keeping at most ``budget`` of ``n_total`` points (deterministic)."""
    if n_total <= budget:
        return np.arange(n_total)
    return np.linspace(0, n_total - 1, budget).astype(np.int64)


def raster(
    result_or_train: Result | SpikeTrain,
    ax: Axes | None = None,
    populations: list[str] | None = None,
    max_points: int = 200_000,
) -> Axes:
    """Spike raster; populations are stacked vertically, one colour each.

    At most ``max_points`` spikes are drawn in total (thinned evenly, proportionally to
    each population's share) because scatter plots of millions of points are slow to
    render and unreadable anyway.
    """
    if isinstance(result_or_train, SpikeTrain):
        trains = {"spikes": result_or_train}
    else:
        trains = result_or_train.spikes
    names = list(trains) if populations is None else list(populations)
    missing = [p for p in names if p not in trains]
    if missing:
        raise KeyError(f"unknown population(s) {missing}; available: {sorted(trains)}")

    ax = _new_axes(ax)
    total = sum(trains[p].count() for p in names)
    offset = 0
    ticks, labels = [], []
    for i, pop in enumerate(names):
        train = trains[pop]
        budget = train.count() if total <= max_points else int(max_points * train.count() / total)
        keep = _thin(train.count(), budget)
        ax.scatter(
            train.times[keep], train.ids[keep] + offset,
            s=4, marker="|", linewidths=0.6, color=f"C{i}", label=pop, rasterized=True,
        )
        ticks.append(offset + train.n / 2)
        labels.append(pop)
        offset += train.n
        if i < len(names) - 1:
            ax.axhline(offset - 0.5, color="0.8", linewidth=0.5)
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    return ax


def population_rate(result: Result, bin_size: float = 5e-3, ax: Axes | None = None) -> Axes:
    """Binned population rate (Hz per neuron) of every population over time."""
    ax = _new_axes(ax)
    duration = result.meta.get("duration")
    if duration is None:
        # Without a recorded duration the last spike is the best available bound.
        last = [t.times.max() for t in result.spikes.values() if t.count()]
        duration = max(last, default=0.0) or bin_size
    for i, (pop, train) in enumerate(result.spikes.items()):
        centres, rate = analysis.population_rate(train, float(duration), bin_size)
        ax.plot(centres, rate, color=f"C{i}", label=pop)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    if result.spikes:
        ax.legend(loc="upper right", fontsize="small")
    return ax


def traces(result: Result, key: str | None = None, ax: Axes | None = None) -> Axes:
    """Plot recorded state variables: the trace ``key`` ("population.variable"), or all."""
    if key is not None and key not in result.traces:
        raise KeyError(f"no trace {key!r}; available: {sorted(result.traces)}")
    keys = [key] if key is not None else list(result.traces)
    ax = _new_axes(ax)
    n_lines = 0
    for k in keys:
        tr = result.traces[k]
        for j, nid in enumerate(tr.ids):
            ax.plot(tr.times, tr.values[:, j], linewidth=0.8, label=f"{k}[{nid}]")
            n_lines += 1
    ax.set_xlabel("time (s)")
    units = sorted({result.traces[k].unit for k in keys if result.traces[k].unit})
    ax.set_ylabel(f"value ({', '.join(units)})" if units else "value")
    # Beyond a handful of lines a legend hides the data it is meant to explain.
    if 0 < n_lines <= 10:
        ax.legend(loc="upper right", fontsize="small")
    return ax


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 150) -> None:
    """Write ``fig`` as PNG atomically, so a crash never leaves a truncated image."""
    with atomic_write(path) as tmp:
        # Format must be explicit: the temp file's ".tmp" suffix would not imply PNG.
        fig.savefig(tmp, format="png", dpi=dpi)
