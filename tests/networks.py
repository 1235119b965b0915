"""Deterministic test networks shared by the agreement tests."""
import numpy as np
from brian2 import ms, mV, nA

from spikemem.connectors import FixedProbability, AllToAll
from spikemem.distributions import Normal
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp
from spikemem.models.cuba.network import cuba


def if_curr_exp_network(seed=3, n=120, n_in=40, duration=1.0, dt=0.1 * ms):
    """IF_curr_exp neurons driven by a spike-source array, with random weights,
    per-synapse delays of 1..30 steps, exc and inh receptors, refractoriness,
    and a step current on part of the population."""
    rng = np.random.default_rng(seed)
    net = Network(dt=dt, seed=seed)
    times = [np.sort(rng.uniform(0, duration, rng.poisson(20 * duration))) for _ in range(n_in)]
    net.spike_source("inp", n_in, times)
    net.population("cells", n, IF_curr_exp(tau_refrac=2 * ms, tau_syn_E=3 * ms, tau_syn_I=6 * ms),
                   init={"v": Normal(-60 * mV, 4 * mV)})
    step = float(dt)
    net.connect("inp", "cells", FixedProbability(0.3), weight=Normal(0.8 * nA, 0.3 * nA, low=0 * nA),
                delay=None, receptor="exc", name="feed")
    net.connect("cells", "cells", FixedProbability(0.1, allow_self=False),
                weight=Normal(-0.6 * nA, 0.2 * nA, high=0 * nA), receptor="inh", name="recurrent_inh")
    net.connect("cells", "cells", AllToAll(allow_self=False), weight=0.05 * nA,
                receptor="exc", name="recurrent_exc")
    # heterogeneous delays: whole steps between 1 and 30
    net.projections[0].delay = rng.integers(1, 31, size=_count(net, "feed")) * step
    net.projections[1].delay = rng.integers(1, 31, size=_count(net, "recurrent_inh")) * step
    net.projections[2].delay = 2 * step
    net.step_current("cells", 0.3 * nA, 200 * ms, 600 * ms)
    net.record_spikes("cells")
    net.record_state("cells", ["v", "isyn_exc"], ids=[0, 5, 7], every=10)
    return net


def _count(net, name):
    proj = next(p for p in net.projections if p.name == name)
    delay, proj.delay = proj.delay, None
    built = net.build()
    proj.delay = delay
    return next(p for p in built.projections if p.name == name).i.size


__all__ = ["if_curr_exp_network", "cuba"]
