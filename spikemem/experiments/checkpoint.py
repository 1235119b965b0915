"""Checkpoints: the state a later stage starts from (weights, thresholds), read from a
simulation and written back into a simulation of the same network on any backend."""
from __future__ import annotations

import numpy as np

from ..errors import ModelError

#: the state entry naming the network a checkpoint was taken from
NETWORK = "network_hash"


def capture(sim, variables: dict) -> dict:
    """``{"name.var": array}`` for each population or projection ``name`` and its
    ``variables[name]`` (``{"feed": ["w"], "exc": ["theta"]}``), with the network's hash."""
    state = {NETWORK: np.bytes_(sim.built.hash)}      # bytes: what HDF5 stores as it is
    for name, names in variables.items():
        for var in [names] if isinstance(names, str) else names:
            state[f"{name}.{var}"] = sim.get(name, var)
    return state


def restore(sim, state: dict) -> None:
    """Write a checkpoint into ``sim`` (before its next run). A checkpoint of another
    network, or one without the network's hash, is refused before anything is written."""
    taken = state.get(NETWORK)
    if taken is None:
        raise ModelError("this state is not a checkpoint (it names no network); make it with checkpoint.capture")
    taken = np.asarray(taken).item()
    taken = taken.decode() if isinstance(taken, bytes) else str(taken)
    if taken != sim.built.hash:
        raise ModelError(f"the checkpoint was taken from network {taken}, not from this one ({sim.built.hash})")
    entries = []
    for key, values in state.items():
        if key == NETWORK:
            continue
        name, dot, var = key.rpartition(".")
        if not dot:
            raise ModelError(f"checkpoint entry '{key}' is not 'population.variable' or 'projection.variable'")
        sim.get(name, var)              # an unknown name or variable is refused before anything is written
        entries.append((name, var, values))
    for name, var, values in entries:
        sim.set(name, var, values)
