"""The astrocyte-modulated spiking unit (AM-SU) as a neuron template.

A leaky integrate-and-fire neuron (``neurons.Leaky``) with a slow astrocytic
compartment: ``a`` integrates the spikes of the neuron it contacts and
modulates the efficacy of the neuron's afferent synapses (``k``) and its
excitability (``b``). Shen et al. (2023) name the unit; their equations were
not available, so these are our interpretation of the mechanism (a slow,
calcium-like state, much slower than the membrane, integrating activity and
modulating efficacy and excitability)::

    dv/dt = -v/tau                    (membrane, dimensionless)
    da/dt = -a/tau_a                  (astrocytic state, tau_a >> tau)
    m = 1 + k*a                       (synaptic efficacy)
    spike when v + b*a > v_th;  then v -= v_th,  a += alpha*(1 - a)

A spike of weight w arriving at the neuron adds ``m*w`` to v. A step is
``Leaky``'s: delivery (``v += m*w`` for the spikes of the step before, with m
at the step's start), exact decay of v and a, threshold, reset. ``k > 0``
strengthens the synapses of an active neuron (facilitation), ``k < 0``
weakens them; ``b > 0`` lowers the threshold of an active neuron, ``b < 0``
raises it (spike-frequency adaptation). A projection's weight scale must be a
state variable, so the efficacy is held as its own state ``m`` with the same
decay (``dm/dt = (1 - m)/tau_a``, ``m += k*alpha*(1 - a)`` per spike), which
keeps ``m = 1 + k*a`` at every step. A spike moves ``a`` a fraction ``alpha``
of the way to 1: the state saturates (as IP3's activation of its receptor,
``m_inf``, does in Li-Rinzel), so it stays in [0, 1] and the gains k and b
need no scaling with the rate or with tau_a.

Grounding in the biological astrocyte (``glia.LiRinzel``): ``a`` is the
Li-Rinzel astrocyte reduced to its slowest linear part. There, IP3 relaxes
with ``tau_IP3`` (7 s) and jumps by ``delta_IP3*w`` per presynaptic spike; its
calcium follows IP3 through the IP3 receptor's fast gating, and the slow
inward current ``SIC_scale*ln((Ca - SIC_th)/nM)`` excites the neurons. Here
IP3 becomes ``a`` (``tau_a`` for ``tau_IP3``, ``alpha`` for ``delta_IP3*w``,
driven by the neuron's own spikes rather than by its presynaptic ones),
calcium is taken as following it without its own dynamics (no
calcium-induced calcium release, no oscillations), the SIC becomes the linear
threshold shift ``b*a`` (excitability), and the gliotransmitter's effect on
release probability (G-ChI synapses) becomes the linear gain ``k*a``
(efficacy). In ``AMSU`` the astrocyte is one compartment per neuron driven by
that neuron's spikes (a microdomain).

Shared astrocytes. A biological astrocyte contacts many neurons; with
``shared_astrocytes`` a group of g neurons (``AMSUShared``) shares one
astrocyte (``AMSUAstrocyte``, a population of its own, without a threshold)
that integrates the group's spikes and that each of them reads::

    dc/dt = -c/tau_a                  (the astrocyte, one per group)
    c += alpha*(1 - c)                for each spike of a neuron of the group,
                                      one step after it (a synapse's delay)
    a = c;  m = 1 + k*a               (each neuron's copy: summed, every step)
    spike when v + b*a > v_th;  then v -= v_th

``S`` spikes of the group in a step move ``c`` to ``1 - (1 - c)*(1 - alpha)**S``
(each spike takes the same fraction of what is left, so the order does not
matter). The neurons keep their own gains k and b: one astrocyte, read by
each neuron in its own way. A step of the network: the group's spikes of the
step before arrive at the astrocyte, each neuron copies its astrocyte's ``c``
into ``a`` and ``m`` (the copy into ``m`` scales the next step's arriving
weights), then the astrocyte decays and the neurons integrate, fire and
reset. The projection that carries the spikes to the astrocyte has a
saturating, not additive, ``on_pre``: every backend applies it spike by
spike (torch in rounds of distinct astrocytes), and they agree.

The torch layer with the same dynamics, trainable through surrogate
gradients, is ``spikemem.models.astrocytes.amsu``.
"""
from __future__ import annotations

import numpy as np
from brian2 import ms

from ..errors import ModelError
from ..neurons import NeuronModel
from ..units import plain

_EQUATIONS = """
dv/dt = -v/tau : 1
da/dt = -a/tau_a : 1
dm/dt = (1 - m)/tau_a : 1
tau : second (constant)
tau_a : second (constant)
v_th : 1 (constant)
k : 1 (constant)
b : 1 (constant)
alpha : 1 (constant)
"""


def _check(where, checks):
    for name, value, ok, what in checks:
        values = np.asarray(plain(value), dtype=float)
        if not np.all(ok(values)) or not np.all(np.isfinite(values)):
            raise ModelError(f"{where}: {name} must be {what} (and finite), got {value!r}")


def _positive(x):
    return x > 0


def AMSU(*, tau=10 * ms, tau_a=500 * ms, v_th=1.0, k=0.0, b=0.0, alpha=0.5) -> NeuronModel:
    """The AM-SU (see the module text): membrane time constant ``tau``,
    astrocytic time constant ``tau_a`` (seconds or Brian2 quantities),
    threshold ``v_th`` (> 0), efficacy gain ``k``, excitability gain ``b``
    and the fraction ``alpha`` (in [0, 1]) of the way to 1 that a spike moves
    the astrocytic state; each one value
    or one per neuron. It starts at rest: v = a = 0, m = 1. Receptors
    ``exc``, ``inh`` and ``input`` all add ``m*w`` to v, weights of either
    sign. With k = b = 0 it is ``Leaky``."""
    _check("AMSU", (("tau", tau, _positive, "> 0"), ("tau_a", tau_a, _positive, "> 0"),
                    ("v_th", v_th, _positive, "> 0"), ("alpha", alpha, lambda x: (x >= 0) & (x <= 1), "in [0, 1]"),
                    ("k", k, np.isfinite, "finite"), ("b", b, np.isfinite, "finite")))
    return NeuronModel(
        name="AMSU", equations=_EQUATIONS, threshold="v + b*a > v_th",
        reset="v -= v_th\nm += k*alpha*(1 - a)\na += alpha*(1 - a)",     # m before a: it reads the old a
        method="exact", params={"tau": tau, "tau_a": tau_a, "v_th": v_th, "k": k, "b": b, "alpha": alpha},
        receptors={"exc": "v", "inh": "v", "input": "v"}, weight_scale={"v": "m"},
        init={"v": 0.0, "a": 0.0, "m": 1.0})


def is_amsu(model) -> bool:
    """Whether a neuron model is the ``AMSU`` template, with any parameters."""
    return model.name == "AMSU" and model.same_dynamics(AMSU())


_SHARED_EQUATIONS = """
dv/dt = -v/tau : 1
a : 1
m : 1
tau : second (constant)
v_th : 1 (constant)
k : 1 (constant)
b : 1 (constant)
"""


def AMSUShared(*, tau=10 * ms, v_th=1.0, k=0.0, b=0.0) -> NeuronModel:
    """The AM-SU whose astrocyte is shared (see the module text): ``AMSU``
    without an astrocytic state of its own; ``a`` (and ``m = 1 + k*a``) are
    set every step by ``shared_astrocytes``, which reads the astrocyte into
    every neuron of the population (k travels as the reading synapse's
    weight). Without ``shared_astrocytes`` a and m stay at 0 and 1: ``Leaky``."""
    _check("AMSUShared", (("tau", tau, _positive, "> 0"), ("v_th", v_th, _positive, "> 0"),
                          ("k", k, np.isfinite, "finite"), ("b", b, np.isfinite, "finite")))
    return NeuronModel(
        name="AMSUShared", equations=_SHARED_EQUATIONS, threshold="v + b*a > v_th", reset="v -= v_th",
        method="exact", params={"tau": tau, "v_th": v_th, "k": k, "b": b},
        receptors={"exc": "v", "inh": "v", "input": "v"}, weight_scale={"v": "m"},
        init={"v": 0.0, "a": 0.0, "m": 1.0})


def AMSUAstrocyte(*, tau_a=500 * ms) -> NeuronModel:
    """The astrocyte that a group of ``AMSUShared`` neurons shares: a state
    ``c`` in [0, 1] that decays with ``tau_a`` (seconds or a Brian2 quantity,
    one value or one per astrocyte) and that the group's spikes raise
    (receptor ``spikes``, through ``shared_astrocytes``). No threshold."""
    _check("AMSUAstrocyte", (("tau_a", tau_a, _positive, "> 0"),))
    return NeuronModel(name="AMSUAstrocyte", equations="dc/dt = -c/tau_a : 1\ntau_a : second (constant)\n",
                       threshold=None, reset=None, method="exact", params={"tau_a": tau_a},
                       receptors={"spikes": "c"}, init={"c": 0.0})


#: reads each neuron's astrocyte into the neuron's a and m (a summed projection, one synapse per neuron); the
#: weight is the neuron's k, since a scalar k is a namespace constant and no ``k_post`` exists to read
_READ = "w : 1\na_post = c_pre : 1 (summed)\nm_post = 1 + w*c_pre : 1 (summed)\n"


def shared_astrocytes(net, neurons: str, group: int, *, tau_a=500 * ms, alpha=0.5, name: str = "astrocytes"):
    """Adds to ``net`` a population ``name`` of ceil(n/g) ``AMSUAstrocyte``
    (``tau_a``: one value or one per astrocyte), neuron i of the ``AMSUShared``
    population ``neurons`` (n neurons) sharing astrocyte i // ``group``; a
    projection ``<name>_in`` that raises an astrocyte by ``alpha*(1 - c)`` for
    each spike of its neurons (one step later), and a summed projection
    ``<name>_out`` that sets each neuron's a and m from its astrocyte every
    step (every neuron has its synapse, its weight the neuron's k). Returns
    the astrocyte population."""
    from ..connectors import FromList
    from ..synapses import SynapseModel
    where = f"shared_astrocytes('{neurons}')"
    pop = net.populations.get(neurons)
    if pop is None:
        raise ModelError(f"{where}: unknown population {neurons!r}")
    if pop.model.name != "AMSUShared":
        raise ModelError(f"{where}: population '{neurons}' is a {pop.model.name!r}, not an AMSUShared neuron")
    if not isinstance(group, (int, np.integer)) or isinstance(group, bool) or group < 1:
        raise ModelError(f"{where}: group must be an integer >= 1, got {group!r}")
    if np.ndim(alpha) != 0:
        raise ModelError(f"{where}: alpha is one value for every astrocyte, got {alpha!r}")
    _check(where, (("alpha", alpha, lambda x: (x >= 0) & (x <= 1), "in [0, 1]"),))
    n_astro = -(-pop.size // group)
    astro = net.population(name, n_astro, AMSUAstrocyte(tau_a=tau_a))
    pairs = [(i, i // int(group)) for i in range(pop.size)]
    net.connect(neurons, name, FromList(pairs), weight=float(alpha), receptor="spikes",
                on_pre="c_post += w*(1 - c_post)", name=f"{name}_in")
    k = np.broadcast_to(np.asarray(plain(pop.model.params["k"]), dtype=float), (pop.size,))
    net.connect(name, neurons, FromList([(j, i) for i, j in pairs]), weight=k.copy(), synapse=SynapseModel(_READ),
                name=f"{name}_out")
    return astro
