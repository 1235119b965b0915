"""Spike-train statistics shared by all backends (vectorised; no per-neuron Python loops)."""

from __future__ import annotations

import numpy as np

from spikemem.results import Result, SpikeTrain


def mean_rate(train: SpikeTrain, duration: float) -> float:
    """Mean firing rate per recorded neuron in Hz; nan for an empty population."""
    if duration <= 0:
        raise ValueError(f"duration must be positive, got {duration}")
    if train.n_recorded == 0:
        return float("nan")
    return train.count() / (train.n_recorded * float(duration))


def cv_isi(train: SpikeTrain) -> float:
    """Coefficient of variation of inter-spike intervals, averaged over neurons.

    Only neurons with >= 3 spikes (>= 2 intervals) contribute, since a single interval
    has no spread.  Uses the population std (ddof=0).  Returns nan if no neuron qualifies.
    """
    # Sort by neuron, then time, so consecutive entries of one neuron give its ISIs.
    order = np.lexsort((train.times, train.ids))
    times, ids = train.times[order], train.ids[order]
    same_neuron = ids[1:] == ids[:-1]
    isi = np.diff(times)[same_neuron]
    isi_ids = ids[1:][same_neuron]

    n_isi = np.bincount(isi_ids, minlength=train.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(isi_ids, weights=isi, minlength=train.n) / n_isi
        # Two-pass variance: subtracting the mean first keeps a regular train at CV ~ 0
        # instead of suffering cancellation in E[x^2] - E[x]^2.
        var = np.bincount(isi_ids, weights=(isi - mean[isi_ids]) ** 2, minlength=train.n) / n_isi
        cv = np.sqrt(var) / mean
    # mean > 0 excludes degenerate neurons whose spikes all share one time stamp.
    valid = (n_isi >= 2) & (mean > 0)
    return float(cv[valid].mean()) if valid.any() else float("nan")


def population_rate(train: SpikeTrain, duration: float, bin_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Population-averaged rate (Hz per recorded neuron) in bins of ``bin_size`` over [0, duration].

    Returns ``(bin_centres, rate)``.  A final partial bin is normalised by its actual
    width so it is not biased low.
    """
    if duration <= 0 or bin_size <= 0:
        raise ValueError(f"duration and bin_size must be positive, got {duration}, {bin_size}")
    # Round before ceil so e.g. 1.0 / 0.005 = 200.00000000000003 does not add a sliver bin.
    n_bins = max(1, int(np.ceil(round(duration / bin_size, 9))))
    edges = np.minimum(np.arange(n_bins + 1) * bin_size, duration)
    counts, _ = np.histogram(train.times, bins=edges)
    widths = np.diff(edges)
    centres = edges[:-1] + widths / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = counts / (train.n_recorded * widths)
    return centres, rate


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
