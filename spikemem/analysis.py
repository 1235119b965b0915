"""Spike-train measures, computed by Elephant, plus spikemem's own spike-for-spike comparison.

The measures follow Elephant's conventions (``elephant.statistics``,
``elephant.spike_train_correlation``), over the recorded neurons of a
:class:`~spikemem.results.SpikeTrain` (``train.recorded``; every neuron when
None). A measure over a recording of ``duration`` seconds counts the spikes in
[0, duration], as Elephant counts those in [t_start, t_stop]. Binned measures
use whole bins of ``bin_size`` from 0, as Elephant bins: when ``duration`` is not
a multiple of ``bin_size`` the final partial bin and its spikes are left out
(Elephant warns how many spikes it left out).

Times go to Elephant in seconds. A population's spikes become
``neo.SpikeTrain`` objects with one sort and no per-spike Python work
(:func:`neo_trains`); the rate and ISI measures make a handful of Elephant
calls rather than one per neuron, so a population of thousands of neurons
takes milliseconds.
"""

from __future__ import annotations

import contextlib

import elephant.utils
import neo
import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.spike_train_correlation import correlation_coefficient
from elephant.statistics import cv, fanofactor, isi, mean_firing_rate, time_histogram

from spikemem.errors import ModelError
from spikemem.results import Result, SpikeTrain


def _check_positive(**values) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ModelError(f"{name} must be positive, got {value}")


def _check_bins(duration: float, bin_size: float) -> None:
    _check_positive(duration=duration, bin_size=bin_size)
    if bin_size > duration * (1 + 1e-9):
        raise ModelError(f"bin_size ({bin_size} s) is longer than duration ({duration} s): no whole bin fits")


def _recorded_ids(train: SpikeTrain) -> np.ndarray:
    return np.arange(train.n) if train.recorded is None else np.unique(train.recorded)


def _by_neuron(train: SpikeTrain, neurons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spike times sorted by neuron, then time, and where each of ``neurons`` (sorted ids) starts and ends in them."""
    order = np.lexsort((train.times, train.ids))
    ids = train.ids[order]
    return train.times[order], np.searchsorted(ids, neurons), np.searchsorted(ids, neurons, side="right")


def _window(train: SpikeTrain, t_stop: float) -> SpikeTrain:
    """The spikes in [0, t_stop], the span of a ``neo.SpikeTrain`` from 0 to ``t_stop``."""
    _check_positive(duration=t_stop)
    inside = (train.times >= 0) & (train.times <= t_stop)
    return train if inside.all() else SpikeTrain(train.times[inside], train.ids[inside], train.n, train.recorded)


def _pooled(train: SpikeTrain, t_stop: float) -> neo.SpikeTrain:
    """All recorded neurons' spikes in [0, t_stop] as one ``neo.SpikeTrain``.

    A rate per recorded neuron is the pooled train's rate divided by their number,
    so the population measures need one Elephant call, not one per neuron.
    """
    return neo.SpikeTrain(_window(train, t_stop).times, t_stop=float(t_stop), units=pq.s)


def neo_trains(train: SpikeTrain, t_stop: float) -> list[neo.SpikeTrain]:
    """One ``neo.SpikeTrain`` (seconds, from 0 to ``t_stop``) per recorded neuron, in increasing id order.

    Spikes outside [0, t_stop] are left out, since a ``neo.SpikeTrain`` holds none.
    The trains are slices of one array sorted once, so converting thousands of
    neurons costs no per-spike Python work.
    """
    _check_positive(t_stop=t_stop)
    train = _window(train, t_stop)
    times, starts, ends = _by_neuron(train, _recorded_ids(train))
    # Slicing one neo.SpikeTrain is far cheaper than building one per neuron.
    pooled = neo.SpikeTrain(times, t_stop=float(t_stop), units=pq.s)
    return [pooled[a:b] for a, b in zip(starts, ends)]


@contextlib.contextmanager
def _quiet_binning():
    # Spike times on the dt grid often sit a rounding error below a bin edge; Elephant
    # moves them into the right bin, as it should, and logs each time it does.
    logger = elephant.utils.logger
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def mean_rate(train: SpikeTrain, duration: float) -> float:
    """Mean firing rate in Hz of the recorded neurons over [0, duration]; nan when none was recorded.

    Elephant's ``mean_firing_rate`` of all the recorded neurons' spikes together,
    divided by their number: the mean of the per-neuron rates, silent neurons included.
    """
    pooled = _pooled(train, duration)
    if train.n_recorded == 0:
        return float("nan")
    return float(mean_firing_rate(pooled).rescale(pq.Hz).magnitude) / train.n_recorded


def cv_isi(train: SpikeTrain) -> float:
    """Coefficient of variation of inter-spike intervals, averaged over neurons.

    Per neuron, Elephant's ``cv`` (standard deviation with ddof=0 over mean) of its
    ``isi``. Only neurons with >= 3 spikes (>= 2 intervals) contribute, since a
    single interval has no spread, and neurons whose spikes all share one time
    stamp have no CV. Returns nan if no neuron qualifies.
    """
    times, starts, ends = _by_neuron(train, _recorded_ids(train))
    counts = ends - starts
    cvs = []
    # Neurons with the same number of spikes form one (neurons, spikes) block, so
    # Elephant is called once per distinct spike count rather than once per neuron.
    for k in np.unique(counts[counts >= 3]):
        first = starts[counts == k]
        intervals = isi(times[first[:, None] + np.arange(k)], axis=1)
        intervals = intervals[intervals.mean(axis=1) > 0]
        if intervals.size:
            cvs.append(cv(intervals, axis=1))
    return float(np.concatenate(cvs).mean()) if cvs else float("nan")


def population_rate(train: SpikeTrain, duration: float, bin_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Population-averaged rate (Hz per recorded neuron) in whole bins of ``bin_size`` from 0 to ``duration``.

    Returns ``(bin_centres, rate)``: Elephant's ``time_histogram`` (``output="rate"``)
    of the recorded neurons' spikes together, divided by their number. As in
    Elephant, a final partial bin, when ``duration`` is not a multiple of
    ``bin_size``, is left out together with its spikes (Elephant warns); every bin
    spans ``bin_size``, so none is biased low. The rate is nan when no neuron was
    recorded.
    """
    _check_bins(duration, bin_size)
    with _quiet_binning():
        hist = time_histogram([_pooled(train, duration)], bin_size * pq.s, t_start=0.0 * pq.s,
                              t_stop=float(duration) * pq.s, output="rate")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = hist.rescale(pq.Hz).magnitude[:, 0] / train.n_recorded
    return hist.times.rescale(pq.s).magnitude + bin_size / 2, rate


def correlation(train: SpikeTrain, duration: float, bin_size: float, ids=None) -> float:
    """Mean pairwise Pearson correlation of spike counts in bins of ``bin_size`` over [0, duration].

    Over the neurons ``ids`` (default: every recorded neuron) that spike at least
    once: Elephant's ``correlation_coefficient`` of their ``BinnedSpikeTrain``,
    averaged over pairs. Bins are Elephant's (whole bins only). A pair whose
    correlation is undefined (a neuron with the same count in every bin) is left
    out; nan when fewer than 2 neurons spike. The matrix is neurons x neurons, so
    pass ``ids`` to measure a sample of a large population.
    """
    _check_bins(duration, bin_size)
    if ids is not None:
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        unknown = np.setdiff1d(ids, _recorded_ids(train))
        if unknown.size:
            raise ModelError(f"correlation: neurons {unknown.tolist()[:10]} were not recorded "
                             f"(ids must lie in [0, {train.n}) and among train.recorded)")
        train = train.subset(ids)
    trains = [t for t in neo_trains(train, duration) if len(t)]
    if len(trains) < 2:
        return float("nan")
    with _quiet_binning(), np.errstate(invalid="ignore", divide="ignore"):
        matrix = correlation_coefficient(BinnedSpikeTrain(trains, bin_size=bin_size * pq.s, t_start=0.0 * pq.s,
                                                          t_stop=float(duration) * pq.s))
    pairs = np.isfinite(matrix)
    np.fill_diagonal(pairs, False)
    return float(matrix[pairs].mean()) if pairs.any() else float("nan")


def fano_factor(train: SpikeTrain, duration: float) -> float:
    """Fano factor (variance over mean, ddof=0) of the recorded neurons' spike counts in [0, duration].

    Elephant's ``fanofactor``, which takes one count per spike train: here one per
    recorded neuron, so it measures how unevenly the population's spikes are spread
    over its neurons (1 for independent Poisson neurons of one rate). nan when no
    recorded neuron spikes.
    """
    return float(fanofactor(neo_trains(train, duration)))


def spike_set(train: SpikeTrain, dt: float) -> np.ndarray:
    """Spikes as an (N, 2) int64 array of (time step, neuron id), sorted by step then id.

    Rounding times to the integration grid makes spike-for-spike comparison between
    backends exact: ``np.array_equal(spike_set(a, dt), spike_set(b, dt))``.
    """
    steps = np.rint(train.times / dt).astype(np.int64)
    order = np.lexsort((train.ids, steps))
    return np.column_stack((steps[order], train.ids[order])).astype(np.int64, copy=False)


def compare_spikes(reference: Result, other: Result, dt: float) -> dict:
    """Per population: how far ``other``'s spikes are from ``reference``'s.

    ``same`` counts (step, neuron) pairs present in both; ``missing`` are only in
    the reference, ``extra`` only in ``other``; ``first_difference_step`` is the
    earliest step at which they differ (None when identical); ``rate_ratio`` is
    the spike-count ratio other/reference. Populations missing from ``other`` are
    left out.
    """
    out = {}
    for name in reference.spikes:
        if name not in other.spikes:
            continue
        a, b = spike_set(reference.spikes[name], dt), spike_set(other.spikes[name], dt)
        sa, sb = set(map(tuple, a.tolist())), set(map(tuple, b.tolist()))
        diff = sa ^ sb
        out[name] = {"reference": len(a), "emulated": len(b), "same": len(sa & sb),
                     "missing": len(sa - sb), "extra": len(sb - sa),
                     "first_difference_step": min(s for s, _ in diff) if diff else None,
                     "rate_ratio": (len(b) / len(a)) if len(a) else (None if len(b) else 1.0)}
    return out


def activity(result: Result, duration: float) -> dict:
    """Per recorded population: ``rate_hz`` (``mean_rate``) and ``cv_isi``, the
    metrics a sweep of a network's activity reports."""
    return {pop: {"rate_hz": mean_rate(train, duration), "cv_isi": cv_isi(train)}
            for pop, train in result.spikes.items()}
