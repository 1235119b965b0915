"""Small convolution networks for the convolution tests: the same network with
a ``Convolution`` or with its synapses listed (``FromList``)."""
import numpy as np

import spikemem as sm
from spikemem.connectors import FromList


def connector(n, k, classes, boundary, seed, scale, sign=0, explicit=False, tile=None):
    """A random kernel (some taps zero, ``scale`` in size) over an n x n sheet; ``sign`` > 0: weights >= 0;
    ``tile``: a class map repeating a random (qy, qx) tile, else random throughout."""
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(classes, k, k)) if classes > 1 else rng.normal(size=(k, k))
    if sign > 0:
        kernel = np.abs(kernel)
    kernel *= scale
    kernel[rng.random(kernel.shape) < 0.3] = 0.0
    conn = sm.Convolution(kernel, sheet=(n, n), boundary=boundary,
                          classes=None if classes == 1 else rng.integers(0, classes, size=(n, n)) if tile is None
                          else np.tile(np.arange(tile[0] * tile[1]).reshape(tile) % classes,
                                       (n // tile[0], n // tile[1])))
    if explicit:
        i, j, w, _ = conn.build(n * n, n * n, None, "explicit")
        conn = FromList(np.stack([i, j, w], 1).tolist())
    return conn


def rate_net(n=8, k=5, classes=3, boundary="periodic", explicit=False, seed=1, tile=None):
    """Rate units summing ``w * r_pre`` over the kernel: traces of r."""
    rng = np.random.default_rng(seed)
    net = sm.Network(dt=0.5e-3, seed=seed)
    net.population("g", n * n, sm.RateUnit(tau=10 * sm.ms, gain=50 * sm.Hz), init={"r": rng.random(n * n)})
    net.current("g", [0.0], rng.uniform(0, 1, (1, n * n)), variable="i_offset")
    net.connect("g", "g", connector(n, k, classes, boundary, seed, 0.01, explicit=explicit, tile=tile), receptor="I",
                weight=None, synapse=sm.summed("r", "I"), name="rec")
    net.record_state("g", ("r", "I"))
    return net


def spiking_net(n=8, k=5, classes=2, boundary="periodic", explicit=False, seed=2, delay=1.5e-3):
    """Current-based LIF neurons driven above threshold, exciting each other through
    the kernel after ``delay``: spikes."""
    rng = np.random.default_rng(seed)
    net = sm.Network(dt=0.5e-3, seed=seed)
    net.population("g", n * n, sm.IF_curr_exp(), init={"v": rng.uniform(-65, -52, n * n) * sm.mV})
    net.current("g", [0.0], rng.uniform(0.6, 1.2, (1, n * n)) * sm.nA, variable="i_offset")
    conn = connector(n, k, classes, boundary, seed, 0.4e-9, sign=1, explicit=explicit)
    net.connect("g", "g", conn, receptor="exc", delay=delay, name="rec")
    net.record_spikes("g")
    net.record_state("g", "isyn_exc")
    return net
