"""Backends: each turns a built network into a stateful ``Simulation``.

A backend is looked up by name; models and the CLI never import one directly.
Every simulation offers ``run(duration)`` (repeatable: state carries over) and
``result()``.
"""
from __future__ import annotations

import importlib

from ..errors import ModelError

# name -> (module, class, options fixed by the name)
BACKENDS = {
    "numba": ("spikemem.backends.numba", "NumbaSimulation", {}),
    "brian2": ("spikemem.backends.brian2", "Brian2Simulation", {}),
    "brian2-numpy": ("spikemem.backends.brian2", "Brian2Simulation", {"target": "numpy"}),
    "brian2-cython": ("spikemem.backends.brian2", "Brian2Simulation", {"target": "cython"}),
    "brian2-cpp": ("spikemem.backends.brian2", "Brian2Simulation", {"target": "cpp_standalone"}),
    "torch": ("spikemem.backends.torch", "TorchSimulation", {}),
    "torch-float64": ("spikemem.backends.torch", "TorchSimulation", {"dtype": "float64"}),
    "norse": ("spikemem.backends.norse", "NorseSimulation", {}),
    "loihi": ("spikemem.hardware.loihi", "LoihiSimulation", {}),   # the Loihi target's fixed-point emulator
    "spinnaker": ("spikemem.hardware.spinnaker_emulator", "SpiNNakerSimulation", {}),  # the SpiNNaker target's s16.15 emulator
}


def simulation(network, backend: str = "numba", **options):
    """Build ``network`` on ``backend``; all validation happens here, before any run."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend '{backend}'; choose one of {sorted(BACKENDS)}")
    module, cls, fixed = BACKENDS[backend]
    built = network.build()
    sim_cls = getattr(importlib.import_module(module), cls)
    return sim_cls(built, **{**fixed, **options})


def simulate(network, duration, backend: str = "numba", progress=None, **options):
    """Build, run for ``duration`` seconds and return the ``Result``."""
    from ..units import to_si
    from brian2 import second
    duration = to_si(duration, "duration", second.dim)
    if not duration > 0:
        raise ModelError(f"duration must be positive, got {duration}")
    sim = simulation(network, backend, **options)
    sim.run(duration, progress=progress)
    return sim.result()
