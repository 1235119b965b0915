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
(efficacy). The astrocyte is one compartment per neuron driven by that
neuron's spikes (a microdomain), not a cell shared by many.

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


def AMSU(*, tau=10 * ms, tau_a=500 * ms, v_th=1.0, k=0.0, b=0.0, alpha=0.5) -> NeuronModel:
    """The AM-SU (see the module text): membrane time constant ``tau``,
    astrocytic time constant ``tau_a`` (seconds or Brian2 quantities),
    threshold ``v_th`` (> 0), efficacy gain ``k``, excitability gain ``b``
    and the fraction ``alpha`` (in [0, 1]) of the way to 1 that a spike moves
    the astrocytic state; each one value
    or one per neuron. It starts at rest: v = a = 0, m = 1. Receptors
    ``exc``, ``inh`` and ``input`` all add ``m*w`` to v, weights of either
    sign. With k = b = 0 it is ``Leaky``."""
    for name, value, ok, what in (("tau", tau, lambda x: x > 0, "> 0"), ("tau_a", tau_a, lambda x: x > 0, "> 0"),
                                  ("v_th", v_th, lambda x: x > 0, "> 0"),
                                  ("alpha", alpha, lambda x: (x >= 0) & (x <= 1), "in [0, 1]"),
                                  ("k", k, np.isfinite, "finite"), ("b", b, np.isfinite, "finite")):
        values = np.asarray(plain(value), dtype=float)
        if not np.all(ok(values)) or not np.all(np.isfinite(values)):
            raise ModelError(f"AMSU: {name} must be {what} (and finite), got {value!r}")
    return NeuronModel(
        name="AMSU", equations=_EQUATIONS, threshold="v + b*a > v_th",
        reset="v -= v_th\nm += k*alpha*(1 - a)\na += alpha*(1 - a)",     # m before a: it reads the old a
        method="exact", params={"tau": tau, "tau_a": tau_a, "v_th": v_th, "k": k, "b": b, "alpha": alpha},
        receptors={"exc": "v", "inh": "v", "input": "v"}, weight_scale={"v": "m"},
        init={"v": 0.0, "a": 0.0, "m": 1.0})
