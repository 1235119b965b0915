"""``predict``: a trained network's output spike counts on any backend."""
from __future__ import annotations


def predict(network, spikes, *, backend: str = "numba", input: str = "input", output: str | None = None):
    raise NotImplementedError
