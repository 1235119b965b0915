"""Spike rasters, the form NIR consumers step through: (steps, neurons) 0/1 arrays."""
from __future__ import annotations

import numpy as np

from spikemem.errors import ModelError
from spikemem.results import SpikeTrain


def spikes_from_raster(raster, dt, n=None, where="raster") -> tuple:
    """(times, ids) of a (T, N) 0/1 spike raster whose row k is step k (time k*dt)."""
    try:
        a = np.asarray(raster)
        numeric = a.dtype.kind in "biuf"
    except (TypeError, ValueError):
        numeric = False
    if not numeric or a.ndim != 2:
        raise ModelError(f"{where}: expected a (steps, neurons) array of 0/1 spikes")
    if n is not None and a.shape[1] != n:
        raise ModelError(f"{where}: {a.shape[1]} columns for an input of {n} neurons")
    if not np.all((a == 0) | (a == 1)):
        raise ModelError(f"{where}: spikes must be 0 or 1 (graded spikes are not carried)")
    steps, ids = np.nonzero(a)
    return steps * dt, ids


def to_raster(train: SpikeTrain, dt, n_steps, lag=0) -> np.ndarray:
    """A (n_steps, n) bool raster of ``train`` whose row k holds the spikes of step k + lag."""
    steps = np.rint(np.asarray(train.times) / dt).astype(np.int64) - int(lag)
    keep = (steps >= 0) & (steps < n_steps)
    out = np.zeros((n_steps, train.n), dtype=bool)
    out[steps[keep], train.ids[keep]] = True
    return out
