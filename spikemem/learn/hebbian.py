"""HLOP's subspace neurons as a spikemem network: Oja's subspace rule on spike trains.

Three populations: ``input`` replays Poisson spike trains of the activity, ``x``
holds each input's firing-rate trace ``r`` (it jumps by 1/(rate*tau) at each
spike and decays with ``tau``, so its mean is the activity) and the
reconstruction ``xhat``, and ``y`` holds the M subspace neurons' output
``y = H r``. The projection ``H`` (x -> y) learns with
``plasticity.oja_subspace``: dH/dt = eta y (r - H^T y)^T, ``y`` summed onto the
postsynaptic side and ``xhat = H^T y`` onto the presynaptic side in the same
step. The rows of H converge to the principal subspace of the activity's
second moment E[a a^T] (not centred, as HLOP uses it).

Each sample is shown for ``steps`` steps (after a first step with no input);
``r`` is set to zero at its first step (a current input on ``r``) and its
spikes reach the trace in its own steps, so a trace never mixes two samples:
within a sample its mean is the activity times (1 - exp(-t/tau)), a scale
that leaves the subspace as it is. Spike trains are drawn here from the seed,
so every backend sees the same spikes. The spikes' noise (about a/(2 rate
tau) per trace) leaves the subspace a few degrees off; the angle shrinks as
``steps`` and ``tau`` grow (benchmarks/hebbian_subspace.py).
"""
from __future__ import annotations

import numpy as np

from ..connectors import AllToAll, OneToOne
from ..errors import ModelError
from ..network import Network
from ..neurons import NeuronModel
from ..plasticity import oja_subspace
from . import checks
from .checks import is_whole


def trace_unit(tau: float) -> NeuronModel:
    """A presynaptic rate trace ``dr/dt = -r/tau`` (receptor "input" adds the
    weight to r) with the reconstruction ``xhat`` the subspace rule sums onto it."""
    return NeuronModel("dr/dt = -r/tau : 1\nxhat : 1\ntau : second (constant)", params={"tau": tau},
                       receptors={"input": "r"}, name="trace_unit")


def subspace_unit() -> NeuronModel:
    """A linear subspace neuron: its output ``y`` is the sum its projection writes."""
    return NeuronModel("y : 1", receptors={"input": "y"}, name="subspace_unit")


#: the backends ``learn_subspace`` runs on: they set the traces to zero at a sample's first step only
#: (Brian2 holds a current input's value in every step); the others are not tested with this network
BACKENDS = ("numba", "torch", "torch-float64")


def _check(activity, m, eta, steps, rate, tau, dt, epochs, seed):
    checks.seed(seed, "learn_subspace")
    a = np.asarray(activity, dtype=float)
    if a.ndim != 2 or not a.size:
        raise ModelError(f"learn_subspace: activity must be a non-empty (samples, n) array, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
        raise ModelError("learn_subspace: activity must be finite rates in [0, 1]")
    if not is_whole(m) or not 1 <= m <= a.shape[1]:
        raise ModelError(f"learn_subspace: m must be an integer in [1, {a.shape[1]}] (the inputs), got {m!r}")
    if not is_whole(steps) or steps < 1:
        raise ModelError(f"learn_subspace: steps must be an integer >= 1, got {steps!r}")
    if not is_whole(epochs) or epochs < 1:
        raise ModelError(f"learn_subspace: epochs must be an integer >= 1, got {epochs!r}")
    for name, v in (("eta", eta), ("rate", rate), ("tau", tau), ("dt", dt)):
        if not np.isscalar(v) or not np.isfinite(v) or not v > 0:
            raise ModelError(f"learn_subspace: {name} must be a positive number, got {v!r}")
    if rate * dt > 1:
        raise ModelError(f"learn_subspace: rate*dt = {rate * dt} > 1; at most one spike per step "
                         f"(lower rate or dt)")
    return a


def subspace_network(activity, m, *, eta, steps, epochs=1, rate=200.0, tau=0.01, dt=1e-3, init=None,
                     seed=0) -> Network:
    """The network ``learn_subspace`` runs (see the module text): ``activity``
    (samples, n) in [0, 1], shown in a shuffled order each epoch for ``steps``
    steps as Poisson spikes at ``activity * rate`` Hz; the projection ``H``
    from ``x`` to ``y`` starts at ``init`` (m, n) or random orthonormal rows. ``eta``:
    the change of H per sample, eta y (x - H^T y)^T, spread over its steps."""
    return _network(_check(activity, m, eta, steps, rate, tau, dt, epochs, seed), m, eta, steps, epochs, rate,
                    tau, dt, init, seed)


def _network(a, m, eta, steps, epochs, rate, tau, dt, init, seed) -> Network:
    samples, n = a.shape
    rng = np.random.default_rng(seed)
    if init is None:
        init = np.linalg.qr(rng.normal(size=(n, m)))[0].T      # random orthonormal rows
    init = np.asarray(init, dtype=float)
    if init.shape != (m, n) or not np.all(np.isfinite(init)):
        raise ModelError(f"learn_subspace: init must be a finite ({m}, {n}) array, got shape {init.shape}")
    order = np.concatenate([rng.permutation(samples) for _ in range(epochs)])
    # sample k's spikes are emitted in steps k*steps ... (k+1)*steps - 1 and, a step later, reach
    # its trace, which is set to zero at its first step, 1 + k*steps (before the delivery)
    steps_of, ids = [], []
    for e in range(epochs):          # an epoch at a time: the draws of one epoch in memory
        shown = np.repeat(a[order[e * samples:(e + 1) * samples]], steps, axis=0)
        k, i = np.nonzero(rng.random(shown.shape) < shown * (rate * dt))
        steps_of.append(k + e * samples * steps)
        ids.append(i)
    net = Network(dt=dt, seed=seed)
    net.spike_source("input", n, np.concatenate(steps_of) * dt, np.concatenate(ids))
    net.population("x", n, trace_unit(tau))
    net.population("y", m, subspace_unit())
    net.connect("input", "x", OneToOne(), weight=1.0 / (rate * tau), receptor="input", name="trace")
    net.current("x", (1 + np.arange(order.size) * steps) * dt, np.zeros((order.size, n)), variable="r")
    # AllToAll lists synapses by presynaptic neuron, then postsynaptic: w[i*m + j] = H[j, i]
    net.connect("x", "y", AllToAll(), weight=init.T.ravel(), receptor="input", name="H",
                synapse=oja_subspace(eta=eta / (steps * dt)))
    return net


def weights(sim, m: int, n: int) -> np.ndarray:
    """The projection ``H``'s weights as the (m, n) matrix H[post, pre]."""
    proj = sim.built_projection("H")
    H = np.zeros((m, n))
    H[proj.j, proj.i] = sim.get("H", "w")
    return H


def learn_subspace(activity, m, *, eta, steps, backend="numba", seed=0, epochs=1, rate=200.0, tau=0.01,
                   dt=1e-3, init=None) -> np.ndarray:
    """H (m, n): M subspace neurons trained with Oja's subspace rule on Poisson
    spike trains of ``activity`` (samples, n), rates in [0, 1] of ``rate`` Hz,
    each sample for ``steps`` steps of ``dt``, ``epochs`` passes in shuffled
    order (``subspace_network``), simulated on ``backend`` (one of ``BACKENDS``:
    the traces are set to zero by a current input, which the Brian2 backend
    applies in every step, not once). The rule sees the
    trace after its decay in the step (``plasticity.oja_subspace``), so the rows
    are returned divided by sqrt(beta), beta = exp(-dt/tau): near orthonormal,
    spanning the principal subspace of E[a a^T]."""
    from ..backends import simulation
    if backend not in BACKENDS:
        raise ModelError(f"learn_subspace: backend {backend!r} cannot run this network (Brian2 holds a current "
                         f"input's value in every step, so the traces would stay at zero); use one of "
                         f"{list(BACKENDS)}")
    a = _check(activity, m, eta, steps, rate, tau, dt, epochs, seed)
    net = _network(a, m, eta, steps, epochs, rate, tau, dt, init, seed)
    sim = simulation(net, backend, progress=False)
    sim.run((1 + a.shape[0] * epochs * steps) * dt)
    return weights(sim, m, a.shape[1]) / np.sqrt(np.exp(-dt / tau))
