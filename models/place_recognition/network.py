"""One place-recognition module: Diehl and Cook's unsupervised STDP network as
Hussaini, Milford and Fischer (RA-L 2022, ICRA 2023) configure it.

Populations: ``input`` (a Poisson source, one neuron per pixel, rates set per
image with ``Simulation.set_rates``), ``exc`` (n_e conductance LIF neurons with
an adaptive threshold) and ``inh`` (n_e conductance LIF neurons). Projections:
``input_to_exc`` (all-to-all, plastic, ``diehl_cook_stdp``), ``exc_to_inh``
(one-to-one) and ``inh_to_exc`` (all but self: winner-take-all).

How the authors' Brian2 equations become spikemem's ``IF_cond_exp`` template:

- membrane: the authors write ``dv/dt = ((v_rest - v) + ge*(0 mV - v) +
  gi*(E_inh - v))/tau`` with dimensionless ``ge``, ``gi``: a leak conductance of
  1 nS. The template's ``(v_rest - v)/tau_m + (gsyn*(E - v))/c_m`` is the same
  equation with ``c_m = tau * 1 nS`` and weights in nS (``LEAK``); both are
  integrated by forward Euler, as the authors' ``method='euler'``.
- threshold: the authors fire at ``v > v_thresh_e + theta - offset`` (offset
  20 mV), theta starting at 20 mV, rising 0.05 mV per spike and decaying with
  tau_theta = 1e7 ms. ``IF_cond_exp(adaptive=True)`` fires at ``v > vt`` with
  ``dvt/dt = (v_thresh - vt)/tau_vt`` and ``vt += delta_vt`` per spike: with
  ``v_thresh = v_thresh_e - offset`` (-72 mV) and ``vt`` starting at -52 mV,
  ``vt - v_thresh`` is exactly the authors' theta (``theta_of``). The
  authors' test mode loads theta and stops both its rise and its decay;
  ``Simulation.freeze('exc')`` does the same.
- the authors' threshold also asks ``timer > refrac_e`` with
  ``dtimer/dt = 0.1`` and ``timer = 0`` at each spike: an excitatory neuron
  cannot fire again within 50 ms of its spike (v integrates again after
  5 ms). The template has no such timer, and the spec's table leaves it out:
  by default an excitatory neuron may fire again after its 5 ms refractory
  period. ``timer=True`` adds the authors' timer to the template (``with_timer``:
  the same Euler step, so the same step of release, 101 steps at dt = 0.5 ms);
  the model is then no longer the template, which hardware targets and
  template-only backends refuse.
- refractory periods count as Brian2 counts them (``refractory_counting="brian2"``).
- delays: Brian2 rounds ``U(0, 10) ms`` to the nearest step, 0 included;
  spikemem delays are at least one step, so the input delays are rounded up
  (``delay_rounding="ceil"``: 1..20 steps at dt = 0.5 ms, uniformly), and the
  authors' undelayed exc -> inh and inh -> exc connections take one step.
- STDP: ``diehl_cook_stdp`` depresses by ``nu_pre * post1`` at a presynaptic
  spike, as Diehl and Cook's code does; the authors' VPRSNN code adds
  ``nu_pre * post1`` there instead (``pre_potentiates=True`` builds that).
- both populations start at ``v_rest - 40 mV``, as the authors set them.

``current_based=True``: the same topology with ``IF_curr_exp`` neurons (for
targets without conductances, such as Loihi). A conductance weight g becomes
the current g * (E - v_ref), its drive at ``v_ref``, the midpoint between the
population's resting potential and its firing threshold (``DRIVE``); the
plastic rule's nu_pre, nu_post and w_max scale with it, and so does the
normalisation total (``weight_scale``). That template has no adaptive
threshold: each excitatory neuron's ``v_thresh`` is a parameter of its own,
``v_thresh_e + theta - offset`` with theta = 20 mV, where a trained module's
theta is written (the authors' test mode, where theta is frozen anyway).
"""
from __future__ import annotations

import dataclasses

import numpy as np
from brian2 import mV, ms, nS

from spikemem.connectors import AllToAll, OneToOne
from spikemem.distributions import Uniform
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_cond_exp, IF_curr_exp
from spikemem.plasticity import diehl_cook_stdp

#: the authors' dimensionless conductances are in units of this leak conductance
LEAK = 1 * nS
N_INPUTS = 784                  # 28 x 28 pixels
OFFSET = 20 * mV                # threshold = v_thresh_e + theta - OFFSET
THETA_0 = 20 * mV               # theta at the start of training

EXC = dict(v_rest=-65 * mV, v_reset=-65 * mV, v_thresh=-52 * mV, tau_m=100 * ms, tau_refrac=5 * ms,
           e_rev_E=0 * mV, e_rev_I=-100 * mV)
INH = dict(v_rest=-60 * mV, v_reset=-45 * mV, v_thresh=-40 * mV, tau_m=10 * ms, tau_refrac=2 * ms,
           e_rev_E=0 * mV, e_rev_I=-85 * mV)
SYNAPSES = dict(tau_syn_E=1 * ms, tau_syn_I=0.5 * ms)
THETA = dict(delta_vt=0.05 * mV, tau_vt=1e7 * ms)

W_INPUT = (0.01, 1.01, 0.3 * nS)        # initial input weights: U(0.01, 1.01) * 0.3 nS
W_EXC_INH = 10.4 * nS
W_INH_EXC = 17.0 * nS
DELAY = (0 * ms, 10 * ms)
STDP = dict(nu_pre=1e-4 * nS, nu_post=1e-2 * nS, w_max=1 * nS, tau_pre=20 * ms, tau_post1=20 * ms,
            tau_post2=40 * ms)
#: each excitatory neuron's input weights sum to this before every image (784 inputs)
TOTAL_784 = 78 * nS

#: reference potential of each (population, receptor) at which a conductance weight
#: becomes a current in the current-based variant: midway between rest and threshold
DRIVE = {pop: {"exc": p["e_rev_E"] - (p["v_rest"] + p["v_thresh"]) / 2,
               "inh": p["e_rev_I"] - (p["v_rest"] + p["v_thresh"]) / 2} for pop, p in (("exc", EXC), ("inh", INH))}


def weight_scale(current_based: bool = False, post: str = "exc", receptor: str = "exc") -> float:
    """What 1 nS of the authors' weights is in this variant's weight unit (SI):
    1 nS itself, or its current at the reference potential (``DRIVE``)."""
    return float(LEAK) * (float(DRIVE[post][receptor]) if current_based else 1.0)


def normalisation_total(n_inputs: int = N_INPUTS, current_based: bool = False) -> float:
    """The sum of an excitatory neuron's input weights (SI): 78 nS for 784 inputs, in proportion otherwise."""
    return float(TOTAL_784 / nS) * n_inputs / N_INPUTS * weight_scale(current_based)


def theta_of(vt) -> np.ndarray:
    """The authors' theta (volts) from the template's threshold ``vt``."""
    return np.asarray(vt) - float(EXC["v_thresh"] - OFFSET)


def vt_of(theta) -> np.ndarray:
    """The template's threshold ``vt`` (volts) for the authors' theta."""
    return np.asarray(theta) + float(EXC["v_thresh"] - OFFSET)


#: the authors' timer: it runs at a tenth of real time from 0 at each spike, and the
#: neuron fires only once it passes the refractory period (50 ms after the spike)
TIMER = """
        dtimer/dt = timer_rate : second
        timer_rate : 1 (constant)
        timer_hold : second (constant)
        """


def with_timer(model, rate: float = 0.1, hold=EXC["tau_refrac"]):
    """``model`` firing only once its timer (``dtimer/dt = rate``, 0 at each
    spike) has passed ``hold``, as the authors' excitatory neurons."""
    return dataclasses.replace(
        model, equations=model.equations + TIMER, threshold=f"({model.threshold}) and timer > timer_hold",
        reset=model.reset + "\ntimer = 0*second", params={**model.params, "timer_rate": rate, "timer_hold": hold},
        name=model.name + "_timer")


def _check(n_e, n_inputs, seed):
    for name, value in (("n_e", n_e), ("n_inputs", n_inputs)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ModelError(f"module_network: {name} must be an integer >= 1, got {value!r}")
    if n_e < 2:
        raise ModelError(f"module_network: n_e must be >= 2 (inhibition reaches every other neuron), got {n_e}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ModelError(f"module_network: seed must be an integer >= 0, got {seed!r}")


def _neurons(p: dict, n: int, current_based: bool, adaptive: bool, synapses: dict = SYNAPSES):
    """The template of one population: conductances as the authors write them, or currents."""
    common = dict(c_m=p["tau_m"] * LEAK, tau_m=p["tau_m"], v_rest=p["v_rest"], v_reset=p["v_reset"],
                  tau_refrac=p["tau_refrac"], refractory_counting="brian2", **synapses)
    if current_based:
        return IF_curr_exp(v_thresh=p["v_thresh"], **common)
    if adaptive:
        return IF_cond_exp(adaptive=True, v_thresh=p["v_thresh"] - OFFSET, e_rev_E=p["e_rev_E"],
                           e_rev_I=p["e_rev_I"], **THETA, **common)
    return IF_cond_exp(v_thresh=p["v_thresh"], e_rev_E=p["e_rev_E"], e_rev_I=p["e_rev_I"], **common)


def module_network(n_e: int = 400, n_inputs: int = N_INPUTS, seed: int = 0, dt=0.5 * ms,
                   current_based: bool = False, *, pre_potentiates: bool = False, timer: bool = False) -> Network:
    """The module's network (see the module text for the departures from the
    authors' equations). ``pre_potentiates``: the VPRSNN code's sign of the
    presynaptic STDP update (adds ``nu_pre * post1``) instead of Diehl and Cook's.
    ``timer``: the authors' 50 ms hold-off of the excitatory neurons (``with_timer``)."""
    _check(n_e, n_inputs, seed)
    net = Network(dt=dt, seed=seed)
    net.poisson_source("input", n_inputs, 0.0)
    exc = _neurons(EXC, n_e, current_based, adaptive=True)
    if timer:
        exc = with_timer(exc)
    exc_init = {"v": EXC["v_rest"] - 40 * mV}
    exc_params = {}
    if current_based:        # one threshold per neuron, where a trained theta is written
        exc_params["v_thresh"] = np.full(n_e, float(EXC["v_thresh"] + THETA_0 - OFFSET))
    else:
        exc_init["vt"] = EXC["v_thresh"] + THETA_0 - OFFSET
    net.population("exc", n_e, exc, params=exc_params, init=exc_init)
    net.population("inh", n_e, _neurons(INH, n_e, current_based, adaptive=False),
                   init={"v": INH["v_rest"] - 40 * mV})

    scale = weight_scale(current_based)
    low, high, unit = W_INPUT
    stdp = {k: (float(v / nS) * scale if k in ("nu_pre", "nu_post", "w_max") else v) for k, v in STDP.items()}
    if pre_potentiates:
        stdp["nu_pre"] = -stdp["nu_pre"]
    net.connect("input", "exc", AllToAll(), weight=Uniform(low * float(unit / nS) * scale,
                                                           high * float(unit / nS) * scale),
                delay=Uniform(*DELAY), delay_rounding="ceil", synapse=diehl_cook_stdp(**stdp),
                name="input_to_exc")
    net.connect("exc", "inh", OneToOne(), weight=float(W_EXC_INH / nS) * weight_scale(current_based, "inh", "exc"),
                name="exc_to_inh")
    # a current-based template takes its inhibitory weights negative (PyNN's sign convention)
    inh_w = float(W_INH_EXC / nS) * weight_scale(current_based, "exc", "inh")
    net.connect("inh", "exc", AllToAll(allow_self=False), weight=inh_w if current_based else abs(inh_w),
                receptor="inh", name="inh_to_exc")
    net.record_spikes("exc")
    return net
