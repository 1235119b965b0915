"""Quick-look plots of simulation results.

Figures are built with :class:`matplotlib.figure.Figure` directly rather than pyplot,
so plotting works headless (no display, no global figure registry to leak memory in
long parameter sweeps) and never changes the user's pyplot state. pyplot's registry
is also what a notebook draws from, so the figures and axes made here render
themselves instead (``_repr_png_``): the value of a notebook cell ending in
``sm.plot.raster(result)`` or ``sm.plot.show(result)`` is shown as the figure.

``figures(result)`` are the figures ``spikemem run --out`` and ``spikemem plot``
write; ``difference_raster(a, b)`` sets two runs of one network side by side,
spike for spike (an emulation against its float64 reference). ``sweep_figures(dataset)``
are the figures of a parameter sweep (``spikemem sweep``): each metric against each
swept parameter, mean and spread over seeds.
"""

from __future__ import annotations

import io
import itertools
import os

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spikemem import analysis
from spikemem.results import Result, SpikeTrain, atomic_write
from spikemem.units import display_unit


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


class InlineFigure(Figure):
    """A figure a notebook shows when it is a cell's value."""

    def _repr_png_(self) -> bytes:
        return _png(self)


class InlineAxes(Axes):
    """Axes a notebook shows, as their whole figure, when they are a cell's value."""

    def _repr_png_(self) -> bytes:
        return _png(self.figure)


def _figure(**options) -> Figure:
    return InlineFigure(layout="constrained", **options)


def _new_axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else _figure(figsize=(8, 4)).add_subplot(axes_class=InlineAxes)


def _duration(result: Result | None, trains: dict) -> float | None:
    """Span of the run: ``meta["duration"]`` where recorded, else the last spike (None if none)."""
    if result is not None and result.meta.get("duration") is not None:
        duration = float(result.meta["duration"])
        if duration > 0:
            return duration
    last = [float(t.times.max()) for t in trains.values() if t.count()]
    return max(last) if last and max(last) > 0 else None


def _format_seconds(t: float) -> str:
    return f"{t * 1e3:g} ms" if t < 1 else f"{t:g} s"


def describe(result: Result) -> str:
    """Short title: model, backend, number of neurons, duration (those that are known)."""
    meta = result.meta
    parts = []
    model = meta.get("model") or meta.get("network")
    if isinstance(model, str) and model:
        parts.append(model)
    if isinstance(meta.get("backend"), str) and meta["backend"]:
        parts.append(meta["backend"])
    if result.spikes:
        parts.append(f"N={sum(t.n_recorded for t in result.spikes.values())}")   # the neurons shown
    if meta.get("duration") is not None:
        parts.append(_format_seconds(float(meta["duration"])))
    return ", ".join(parts)


def _set_title(ax: Axes, result: Result | None) -> None:
    # Never overwrite a title the caller has already set on a given axes.
    if result is not None and not ax.get_title():
        title = describe(result)
        if title:
            ax.set_title(title, fontsize="medium")


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
    duration: float | None = None,
) -> Axes:
    """Spike raster; populations are stacked vertically, one colour each.

    The time axis spans the whole run, 0 to ``duration`` (default: the result's
    ``meta["duration"]``, else the last spike), not just the interval holding spikes.

    At most ``max_points`` spikes are drawn in total (thinned evenly, proportionally to
    each population's share) because scatter plots of millions of points are slow to
    render and unreadable anyway.
    """
    if isinstance(result_or_train, SpikeTrain):
        trains = {"spikes": result_or_train}
        result = None
    else:
        trains = result_or_train.spikes
        result = result_or_train
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
    span = float(duration) if duration is not None else _duration(result, {p: trains[p] for p in names})
    if span is not None and span > 0:
        ax.set_xlim(0.0, span)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    _set_title(ax, result)
    return ax


def population_rate(result: Result, bin_size: float = 5e-3, ax: Axes | None = None) -> Axes:
    """Binned population rate (Hz per neuron) of every population over time."""
    ax = _new_axes(ax)
    duration = result.meta.get("duration")
    if duration is None:
        # Without a recorded duration, whole bins up to just past the last spike, which
        # would be left out of a partial bin or a bin that ends on it.
        last = max((t.times.max() for t in result.spikes.values() if t.count()), default=0.0)
        duration = (np.floor(last / bin_size) + 1) * bin_size
    for i, (pop, train) in enumerate(result.spikes.items()):
        centres, rate = analysis.population_rate(train, float(duration), bin_size)
        ax.plot(centres, rate, color=f"C{i}", label=pop)
    ax.set_xlim(0.0, float(duration))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    _set_title(ax, result)
    if result.spikes:
        ax.legend(loc="upper right", fontsize="small")
    return ax


def traces(result: Result, key: str | None = None, ax: Axes | None = None) -> Axes:
    """Plot recorded state variables: the trace ``key`` ("population.variable"), or all.

    Each physical quantity (unit) gets its own axes, stacked with a shared time axis,
    values scaled to a readable unit (V -> mV, A -> nA, S -> nS) named in the y label:
    on one axis, currents of ~1e-10 A would look like zero next to ~-0.065 V.
    Returns the top axes; all of them are in ``returned_ax.figure.axes``. Where ``ax``
    is given and several quantities are plotted, ``ax``'s grid cell is split into one
    axes per quantity (``ax`` itself is reused as the top one).
    """
    if key is not None and key not in result.traces:
        raise KeyError(f"no trace {key!r}; available: {sorted(result.traces)}")
    keys = [key] if key is not None else list(result.traces)
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(result.traces[k].unit, []).append(k)
    if not groups:
        groups = {"": []}
    axes = _stacked_axes(ax, len(groups))
    for ax_i, (unit, group) in zip(axes, groups.items()):
        shown, factor = display_unit(unit)
        n_lines = 0
        for k in group:
            tr = result.traces[k]
            for j, nid in enumerate(tr.ids):
                ax_i.plot(tr.times, tr.values[:, j] * factor, linewidth=0.8, label=f"{k}[{nid}]")
                n_lines += 1
        names = sorted({k.rsplit(".", 1)[-1] for k in group})
        quantity = ", ".join(names) if names else "value"
        ax_i.set_ylabel(f"{quantity} ({shown})" if shown else quantity)
        # Beyond a handful of lines a legend hides the data it is meant to explain.
        if 0 < n_lines <= 10:
            ax_i.legend(loc="upper right", fontsize="small")
        if ax_i is not axes[-1]:
            ax_i.tick_params(labelbottom=False)
    duration = result.meta.get("duration")
    if duration is not None and float(duration) > 0:
        for ax_i in axes:
            ax_i.set_xlim(0.0, float(duration))
    axes[-1].set_xlabel("time (s)")
    _set_title(axes[0], result)
    return axes[0]


def _stacked_axes(ax: Axes | None, n: int) -> list[Axes]:
    """``n`` axes stacked vertically with a shared x axis: a new figure, or ``ax``'s cell split."""
    if ax is None:
        fig = _figure(figsize=(8, 2.2 + 1.8 * n))
        first = fig.add_subplot(n, 1, 1, axes_class=InlineAxes)
        return [first] + [fig.add_subplot(n, 1, i + 1, sharex=first, axes_class=InlineAxes) for i in range(1, n)]
    if n == 1:
        return [ax]
    spec = ax.get_subplotspec()
    if spec is None:
        raise ValueError(f"{n} quantities need {n} axes: pass key=..., ax=None, or axes made with add_subplot")
    cells = spec.subgridspec(n, 1)
    ax.set_subplotspec(cells[0])
    return [ax] + [ax.figure.add_subplot(cells[i], sharex=ax) for i in range(1, n)]


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 150) -> None:
    """Write ``fig`` as PNG atomically, so a crash never leaves a truncated image."""
    with atomic_write(path) as tmp:
        # Format must be explicit: the temp file's ".tmp" suffix would not imply PNG.
        fig.savefig(tmp, format="png", dpi=dpi)


def figures(result: Result) -> dict[str, Figure]:
    """The quick-look figures of ``result`` by file stem: ``raster`` and ``rate`` where
    spikes were recorded, ``traces`` where states were (none for neither)."""
    out = {}
    if result.spikes:
        out["raster"] = raster(result).figure
        out["rate"] = population_rate(result).figure
    if result.traces:
        out["traces"] = traces(result).figure
    return out


def save_figures(result: Result, folder: str | os.PathLike, drawn: dict | None = None) -> list[str]:
    """Write ``figures(result)`` (or ``drawn``, those figures already made) into
    ``folder`` as ``<name>.png``; return the paths."""
    paths = []
    for name, fig in (figures(result) if drawn is None else drawn).items():
        paths.append(os.path.join(folder, f"{name}.png"))
        save_figure(fig, paths[-1])
    return paths


def show(result: Result) -> Figure:
    """One figure with everything ``result`` recorded (raster, rate, traces), for a
    notebook cell or ``fig.savefig``."""
    rows = (["raster", "rate"] if result.spikes else []) + (["traces"] if result.traces else [])
    if not rows:
        raise ValueError("the result holds no spikes and no traces: nothing to plot")
    heights = {"raster": 3.0, "rate": 1.6, "traces": 1.8 * len({t.unit for t in result.traces.values()})}
    fig = _figure(figsize=(8, 1.0 + sum(heights[r] for r in rows)))
    cells = fig.add_gridspec(len(rows), 1, height_ratios=[heights[r] for r in rows])
    drawn = {"raster": raster, "rate": population_rate, "traces": traces}
    for k, row in enumerate(rows):
        ax = drawn[row](result, ax=fig.add_subplot(cells[k]))
        if k:
            ax.set_title("")        # the title once, on top
    return fig


def difference_raster(a: Result, b: Result, dt: float | None = None, labels: tuple = ("a", "b"),
                      ax: Axes | None = None, duration: float | None = None) -> Axes:
    """Two runs of one network spike for spike: spikes in both (grey), only in ``a``,
    only in ``b``, in three colours with their counts in the legend.

    Spikes match on (time step, neuron), times rounded to ``dt`` (default ``a``'s
    ``meta["dt"]``), as ``analysis.compare_spikes`` counts them: the legend's counts
    are its ``same``, ``missing`` and ``extra`` summed over the populations both
    runs recorded, which are stacked as in ``raster``."""
    dt = a.meta.get("dt") if dt is None else dt
    if dt is None or not float(dt) > 0:
        raise ValueError(f"difference_raster: a time step dt > 0 is needed to match spikes, got {dt!r}")
    names = [p for p in a.spikes if p in b.spikes]
    ax = _new_axes(ax)
    kinds = {"both": ([], "0.5", 8.0), f"only {labels[0]}": ([], "C3", 14.0),
             f"only {labels[1]}": ([], "C0", 14.0)}
    offset, ticks = 0, []
    for name in names:
        sa, sb = analysis.spike_set(a.spikes[name], dt), analysis.spike_set(b.spikes[name], dt)
        n = max(a.spikes[name].n, b.spikes[name].n)
        ka, kb = sa[:, 0] * n + sa[:, 1], sb[:, 0] * n + sb[:, 1]       # one integer per (step, neuron)
        for (points, _, _), keys in zip(kinds.values(), (np.intersect1d(ka, kb), np.setdiff1d(ka, kb),
                                                        np.setdiff1d(kb, ka))):
            points.append(np.column_stack((keys // n * dt, keys % n + offset)))
        ticks.append((offset + n / 2, name))
        offset += n
        ax.axhline(offset - 0.5, color="0.85", linewidth=0.5)
    for label, (points, colour, size) in kinds.items():
        xy = np.concatenate(points) if points else np.zeros((0, 2))
        ax.scatter(xy[:, 0], xy[:, 1], s=size, marker="|", linewidths=0.9, color=colour,
                   label=f"{label} ({len(xy):,})", rasterized=True)
    if ticks:
        ax.set_yticks([t for t, _ in ticks], [name for _, name in ticks])
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    span = duration if duration is not None else _duration(a, {**a.spikes, **b.spikes})
    if span:
        ax.set_xlim(0.0, float(span))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    ax.legend(loc="upper right", fontsize="small", markerscale=1.5)
    if not ax.get_title():
        ax.set_title(f"{labels[0]} vs {labels[1]}: spikes in both and in one only", fontsize="medium")
    return ax


#: the dimensions of a sweep's dataset that are no swept parameter
SWEEP_DIMS = ("seed", "backend")


def _format_value(value, unit: str) -> str:
    shown, factor = display_unit(unit)
    if isinstance(value, (float, np.floating)):
        return f"{float(value) * factor:g}{' ' + shown if shown else ''}"
    return str(value)


def sweep_figures(dataset) -> dict[str, Figure]:
    """The figures of a sweep's dataset (``Sweep.dataset()`` or a saved one) by file
    stem: ``<metric>-vs-<parameter>`` for every metric and every swept parameter
    with two or more values. Each shows the metric's mean over seeds against the
    parameter (in the unit of ``spikemem.units.DISPLAY``), a band of one standard
    deviation (ddof=1: none with one seed) around it, and one line per combination
    of the other swept parameters' values (and backends)."""
    out = {}
    for metric in sorted(dataset.data_vars):
        data = dataset[metric]
        swept = [d for d in data.dims if d not in SWEEP_DIMS]
        for x in swept:
            if data.sizes[x] < 2:
                continue
            out[f"{metric}-vs-{x}"] = _sweep_figure(dataset, metric, x)
    return out


def _sweep_figure(dataset, metric: str, x: str) -> Figure:
    data = dataset[metric]
    seeds = data.sizes.get("seed", 1)
    mean = data.mean("seed", skipna=True) if "seed" in data.dims else data
    spread = data.std("seed", ddof=1, skipna=True) if "seed" in data.dims and seeds > 1 else None
    unit = dataset[x].attrs.get("units", "")
    shown, factor = display_unit(unit)
    values = dataset[x].values
    numeric = values.dtype.kind in "iuf"
    xs = values * factor if numeric else np.arange(len(values))
    others = [d for d in mean.dims if d != x and mean.sizes[d] > 1]
    ax = _new_axes(None)
    combos = list(itertools.product(*(range(mean.sizes[d]) for d in others)))
    for i, combo in enumerate(combos):
        at = dict(zip(others, combo))
        line = mean.isel(at).squeeze().values.reshape(-1)      # dimensions of one value drop out
        label = ", ".join(f"{d}={_format_value(dataset[d].values[k], dataset[d].attrs.get('units', ''))}"
                          for d, k in at.items())
        ax.plot(xs, line, marker="o", color=f"C{i % 10}", label=label or None)
        if spread is not None:
            sd = spread.isel(at).squeeze().values.reshape(-1)
            ax.fill_between(xs, line - sd, line + sd, color=f"C{i % 10}", alpha=0.2, linewidth=0)
    if not numeric:
        ax.set_xticks(xs, [str(v) for v in values])
    ax.set_xlabel(f"{x} ({shown})" if shown else x)
    ax.set_ylabel(metric)
    experiment = dataset.attrs.get("experiment", "")
    band = f"mean ± std over {seeds} seeds" if spread is not None else "one seed"
    ax.set_title(f"{experiment + ': ' if experiment else ''}{metric} against {x} ({band})", fontsize="medium")
    if len(combos) > 1:
        ax.legend(loc="best", fontsize="small")
    return ax.figure
