"""A population's spikes split per recorded neuron, as Neo and NWB store them."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..results import SpikeTrain


def per_neuron(train: SpikeTrain) -> Iterator[tuple[int, np.ndarray]]:
    """(neuron id, positions of its spikes in ``train``'s arrays) for each recorded
    neuron in id order, also for neurons without a spike. The positions keep the
    neuron's spikes in their recorded order; together they are a permutation, which
    puts the spikes back in their population's order when read."""
    recorded = np.arange(train.n) if train.recorded is None else train.recorded
    by_neuron = np.argsort(train.ids, kind="stable")
    start = np.searchsorted(train.ids[by_neuron], recorded, side="left")
    stop = np.searchsorted(train.ids[by_neuron], recorded, side="right")
    for k, nid in enumerate(recorded):
        yield int(nid), by_neuron[start[k]:stop[k]]
