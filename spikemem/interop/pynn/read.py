"""The spikes an exported ``run.py`` wrote (``spikes.npz``), as a spikemem Result."""
from __future__ import annotations

import json
import os

import numpy as np

from spikemem.results import Result, SpikeTrain

from .translation import MS


def read_spikes(path, align: bool = True) -> Result:
    """Read ``spikes.npz`` written by ``run.py`` (or the export folder holding it).

    Times in seconds. ``align``: NEST stamps a neuron's spike with the end of
    the step in which it crossed threshold; spikemem labels it with the step's
    start, so dt is subtracted from NEST's neuron spike times (not from spike
    sources, which fire at their given times).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "spikes.npz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        spikes = {}
        for pop in meta["populations"]:
            name = pop["name"]
            times = np.asarray(data[f"{name}__times"], float) / MS
            if align and meta["simulator"] == "nest" and pop["kind"] == "neuron":
                times = times - meta["dt_ms"] / MS
            spikes[name] = SpikeTrain(times, data[f"{name}__ids"], pop["size"], pop.get("recorded"))
    meta = {"backend": f"pynn-{meta['simulator']}", "dt": meta["dt_ms"] / MS,
            "duration": meta["duration_ms"] / MS, "aligned": bool(align), **{
                k: v for k, v in meta.items() if k not in ("populations",)}}
    return Result(spikes, {}, meta)
