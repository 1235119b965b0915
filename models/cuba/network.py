"""Brian2's CUBA benchmark network (Vogels and Abbott 2005, as in Brian2's examples).

4000 LIF neurons, 80 % excitatory / 20 % inhibitory, connection probability
0.02, exponential current-like synapses (ge, gi in volts), dt = 0.1 ms, exact
integration, refractory 5 ms. Synaptic delay: one time step (the smallest
spikemem allows).

``cuba_curr_exp`` is the same network written with the ``IF_curr_exp``
template, so hardware targets (which recognise templates, not equations) can
take it: ge/taum = isyn/c_m, so a jump of ge by w volts is a current jump of
w*c_m/taum amperes.
"""
from __future__ import annotations

from dataclasses import replace

from brian2 import mV, ms, nF

from spikemem.connectors import FixedProbability
from spikemem.distributions import Uniform
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, NeuronModel

CUBA_EQUATIONS = """
dv/dt  = (ge + gi - (v - El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
taum : second (constant)
taue : second (constant)
taui : second (constant)
El : volt (constant)
Vt : volt (constant)
Vr : volt (constant)
"""


def cuba_model(refractory=5 * ms) -> NeuronModel:
    return NeuronModel(
        name="CUBA", equations=CUBA_EQUATIONS, threshold="v > Vt", reset="v = Vr",
        refractory=refractory, method="exact", distinct=(("taum", "taue"), ("taum", "taui")),
        params=dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, El=-49 * mV, Vt=-50 * mV, Vr=-60 * mV),
        receptors={"exc": "ge", "inh": "gi"})


WE, WI = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV      # jumps of ge, gi


def cuba(n: int = 4000, p: float = 0.02, seed: int = 0, dt=0.1 * ms, record_state: bool = False,
         tau_m=20 * ms, w_exc=WE, w_inh=WI) -> Network:
    """The CUBA network; ``n`` neurons split 80/20 into populations 'exc' and 'inh'.
    ``w_exc``, ``w_inh``: the jumps of ge and gi per spike."""
    model = cuba_model()
    if tau_m != model.params["taum"]:
        model = replace(model, params={**model.params, "taum": tau_m})
    return _cuba(model, w_exc, w_inh, n, p, seed, dt, record_state)


def cuba_curr_exp(n: int = 4000, p: float = 0.02, seed: int = 0, dt=0.1 * ms,
                  record_state: bool = False, tau_syn_I=10 * ms) -> Network:
    """The CUBA network with ``IF_curr_exp`` neurons (c_m = 1 nF), for hardware targets.
    ``tau_syn_I``: Loihi needs it equal to tau_syn_E (5 ms): one current per compartment."""
    c_m, tau_m = 1 * nF, 20 * ms
    model = IF_curr_exp(c_m=c_m, tau_m=tau_m, tau_syn_E=5 * ms, tau_syn_I=tau_syn_I, v_rest=-49 * mV,
                        v_reset=-60 * mV, v_thresh=-50 * mV, tau_refrac=5 * ms)
    return _cuba(model, WE * c_m / tau_m, WI * c_m / tau_m, n, p, seed, dt, record_state)


def _cuba(model, we, wi, n, p, seed, dt, record_state) -> Network:
    net = Network(dt=dt, seed=seed)
    n_exc = int(round(0.8 * n))
    init = {"v": Uniform(-60 * mV, -50 * mV)}
    net.population("exc", n_exc, model, init=init)
    net.population("inh", n - n_exc, model, init=init)
    for post in ("exc", "inh"):
        net.connect("exc", post, FixedProbability(p), weight=we, receptor="exc", name=f"exc_{post}")
        net.connect("inh", post, FixedProbability(p), weight=wi, receptor="inh", name=f"inh_{post}")
    net.record_spikes("exc")
    net.record_spikes("inh")
    if record_state:
        net.record_state("exc", "v", ids=[0, 1, 2])
    return net
