"""``predict``: a trained network's output spike counts on any backend.

All samples run in one compiled simulation, one after another: T steps of a
sample's input spikes, then one step in which every membrane is held far below
threshold, so that the spikes still on their way (one step of delay) die
there, then every membrane back at rest. Each sample therefore sees what the
torch model sees when it starts it at rest.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..network import Network
from .network import layered

#: the membrane during the step between two samples: no delivered weight lifts it to threshold
SILENT = -1e30


def predict(network: Network, spikes, *, backend: str = "numba", input: str = "input", output: str | None = None,
            **options) -> np.ndarray:
    """Spike counts (samples, n_out) of ``output`` (default: the last layer) of
    a layered ``Leaky`` network (``compile``'s kind; e.g. ``to_network()`` of a
    trained model) driven by ``spikes`` (T, samples, n_in) of zeros and ones
    on ``input``, run on ``backend`` (``options`` go to its simulation, which
    runs without a progress bar: a short run per sample)."""
    if "progress" in options:
        raise ModelError("predict: progress is not an option; predict runs each sample without a progress bar")
    plan = layered(network, input, output)
    x = np.asarray(spikes.detach().cpu().numpy() if hasattr(spikes, "detach") else spikes)
    n_in = plan.layers[0].n_pre
    if x.ndim != 3 or x.shape[2] != n_in or 0 in x.shape:
        raise ModelError(f"predict: spikes must be (steps, samples, {n_in}), got shape {x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ModelError("predict: spikes must be zeros and ones (analog input, encode 'repeat', runs on the "
                         "torch engines only)")
    from ..backends import simulation
    T, B = x.shape[:2]
    net = Network.from_spec(network.spec())
    net.monitors = []
    net.record_spikes(plan.output)
    sim = simulation(net, backend, progress=False, **options)
    t, b, i = np.nonzero(x)
    steps = b * (T + 1) + t
    order = np.lexsort((i, steps))
    sim.set_spikes(input, steps[order] * plan.dt, i[order])
    pops = [layer.post for layer in plan.layers]
    for _ in range(B):
        sim.run(T * plan.dt, progress=False)
        for p in pops:
            sim.set(p, "v", SILENT)
        sim.run(plan.dt, progress=False)
        for p in pops:
            sim.set(p, "v", 0.0)
    train = sim.result().spikes[plan.output]
    steps = np.rint(train.times / plan.dt).astype(np.int64)
    counts = np.zeros((B, plan.layers[-1].n_post), dtype=np.int64)
    np.add.at(counts, (steps // (T + 1), train.ids), 1)
    return counts
