"""What Loihi 1 refuses, each with its fix.

These rules read the network alone; the limits that depend on the quantised
numbers (decays that round to 0, threshold and bias mantissas, weights that
vanish or overflow, learning rates) are found while quantising, so the
``check`` verb runs the whole quantisation (``quantize.check``).
"""
from __future__ import annotations

import numpy as np

from spikemem.neurons import is_template
from spikemem.plasticity import spinnaker_stdp, stdp
from spikemem.targets import Violation

from .formats import DELAY_MAX, REFRACTORY_MAX

#: accepted synapse models: (on_pre, on_post) statements of the templates -> rule name
RULES = {(m.on_pre.strip(), m.on_post.strip()): m.name
         for m in (stdp(), stdp(scale_by_w_max=True), spinnaker_stdp())}


def monitor_violations(built) -> list:
    """State monitors of anything but v (a compartment has one current u)."""
    out = []
    for mon in built.state_monitors:
        bad = [v for v in mon.variables if v != "v"]
        if bad:
            out.append(Violation(f"population '{mon.population}'", "recorded variables", bad, "['v']",
                                 "a Loihi compartment has one current u, not isyn_exc / isyn_inh; record 'v' "
                                 "and read u with sim.get(population, 'u')"))
    return out


def bias_inputs(built) -> tuple:
    """({population: its constant i_offset}, violations): a constant i_offset set
    at step 0 is Loihi's bias; any other current input is refused."""
    bias, out = {}, []
    for inp in built.inputs:
        values = inp.values
        if inp.variable == "i_offset" and inp.steps[0] == 0 and np.all(values == values[0]):
            bias[inp.population] = values[0]
        else:
            out.append(Violation(f"population '{inp.population}'", "current input",
                                 f"'{inp.variable}' set at {inp.steps.size} step(s) from step {inp.steps[0]}",
                                 "a constant i_offset (Loihi's bias)",
                                 "Loihi has no time-varying current input: drive the population with spike "
                                 "sources, or give i_offset one constant value"))
    return bias, out


#: why rate units, stochastic firing and signals stay off the board (``rate_violations``)
UNEXPRESSIBLE = {
    "rate": "a rate unit (its output s is a continuous value; it never spikes), and Loihi 1's compartments "
            "send each other spikes only",
    "stochastic": "has no counterpart on Loihi 1: a compartment fires when v crosses its threshold (its noise "
                  "is added to u or v, it does not draw a spike with probability rate*dt), and spikemem's "
                  "Loihi formats and emulator have no noise",
    "signal": "a time-varying value shared by every neuron, and a Loihi compartment takes only spikes and a "
              "constant bias"}
#: Loihi's neuron, in the words of ``glia_violations``
GLIA_NEURON = "a current-based LIF compartment (a fixed weight into one decaying current u)"


def model_violation(pop):
    """The violation of a neuron model other than IF_curr_exp, or of a
    refractory condition, or None."""
    condition = ("a refractory condition cannot be expressed: a Loihi compartment is held for a fixed number "
                 "of steps after its spike; give a duration")
    if is_template(pop.model, "IF_curr_exp"):
        if pop.refractory_condition is None:
            return None
        return Violation(f"population '{pop.name}'", "refractory condition", pop.refractory_condition,
                         "a refractory period", condition)
    fix = "Loihi's compartment is a current-based LIF: use spikemem.neurons.IF_curr_exp (or a spike source)"
    if pop.refractory_condition is not None:        # both, so that neither hides the other
        fix += f"; and its refractory condition {pop.refractory_condition!r}: {condition}"
    return Violation(f"population '{pop.name}'", "neuron model", pop.model.name, "IF_curr_exp", fix)


def clock_violation(pop, dt):
    """The violation of a population with a dt of its own, or None."""
    if pop.every == 1:
        return None
    return Violation(f"population '{pop.name}'", "own dt",
                     f"{pop.every * dt:g} s, every {pop.every} steps of the network's", f"{dt:g} s, the network's dt",
                     "Loihi 1 updates every compartment on every time step: give the population no dt")


def loihi_refractory(pop) -> int:
    """Loihi's refractory delay of a population: a compartment integrates again
    once ``t - last_spike >= refractory``, so it holds v for refractory - 1 steps
    after its spike; one more than the held steps every backend uses."""
    return pop.refractory_steps + 1


def receptors(pop, built) -> set:
    """The receptors the population's incoming projections drive."""
    return {proj.target for proj in built.projections if proj.post == pop.name}


def neuron_violations(pop, built) -> list:
    """The rules of an IF_curr_exp population: a reset below the threshold,
    synaptic currents starting at 0, the refractory period's 6 bits, and one
    synaptic time constant per compartment."""
    where, n = f"population '{pop.name}'", pop.size
    p = {k: np.broadcast_to(np.asarray(pop.params[k], dtype=float), (n,))
         for k in ("tau_syn_E", "tau_syn_I", "v_reset", "v_thresh")}
    out = []
    if np.any(p["v_thresh"] <= p["v_reset"]):
        k = int(np.argmin(p["v_thresh"] - p["v_reset"]))
        out.append(Violation(where, "v_thresh - v_reset", f"{p['v_thresh'][k] - p['v_reset'][k]:g} V "
                             f"(v_reset {p['v_reset'][k]:g} V, v_thresh {p['v_thresh'][k]:g} V)", "> 0",
                             "Loihi resets v to 0 and its threshold is a positive distance above 0: put v_reset "
                             "below v_thresh (a reset at or above threshold fires again as soon as the "
                             "refractory period ends; make the refractory period that interval instead)"))
    for var in ("isyn_exc", "isyn_inh"):
        if np.any(pop.init[var] != 0):
            out.append(Violation(where, f"initial {var}", f"{np.max(np.abs(pop.init[var])):g} A", 0,
                                 "start the synaptic currents at 0 (Loihi's u starts empty)"))
    if loihi_refractory(pop) > REFRACTORY_MAX:
        out.append(Violation(where, "refractory period",
                             f"{pop.refractory_steps} held steps ({pop.refractory:g} s)",
                             f"{REFRACTORY_MAX - 1} held steps", "shorten the refractory period or use a larger dt"))
    if {"isyn_exc", "isyn_inh"} <= receptors(pop, built) and np.any(p["tau_syn_E"] != p["tau_syn_I"]):
        out.append(Violation(where, "tau_syn_E != tau_syn_I",
                             f"{np.max(p['tau_syn_E']):g} s / {np.max(p['tau_syn_I']):g} s",
                             "one synaptic time constant per compartment",
                             "give both receptors the same tau_syn (a Loihi compartment has one current u)"))
    return out


def learning_rule(proj) -> tuple:
    """(the accepted rule's name, or None for a static projection or a refused
    one; the violations): Loihi's learning engine runs pair STDP, one rule per
    projection, on excitatory weights clipped at 0."""
    where = f"projection '{proj.name}'"
    if not proj.plastic_pre and not proj.on_post and set(proj.dims) == {"w"}:
        return None, []
    rule = RULES.get((proj.plastic_pre, proj.on_post))
    if rule is None:
        return None, [Violation(where, "synapse model", "a rule other than static or pair STDP",
                                "static, stdp(additive, all-to-all), spinnaker_stdp",
                                "Loihi's learning engine runs pair STDP here (dw = A+ x1 y0 - A- y1 x0); "
                                "use one of the accepted rules")]
    ns, state = proj.namespace, proj.state
    per_synapse = sorted(k for k in ("A_plus", "A_minus", "tau_plus", "tau_minus", "w_min", "w_max", "plastic")
                         if k in state)
    if per_synapse:
        return None, [Violation(where, "per-synapse rule parameters", per_synapse, "shared values",
                                "Loihi's learning rule is one per projection: give these one value")]
    if proj.target != "isyn_exc":
        return None, [Violation(where, "plastic receptor", proj.target, "isyn_exc",
                                "plastic projections must be excitatory here (inhibitory sign mode "
                                "learning is not mapped)")]
    if ns.get("plastic", 1.0) not in (0.0, 1.0):
        return None, [Violation(where, "learning switch 'plastic'", ns["plastic"], "1 or 0",
                                "Loihi's learning engine runs the rule (1) or is off for the projection (0)")]
    if ns["w_min"] != 0 or not ns["w_max"] > 0:
        return None, [Violation(where, "weight bounds", f"[{ns['w_min']:g}, {ns['w_max']:g}] A", "[0, w_max > 0]",
                                "Loihi clips learned excitatory weights at mantissa 0 and 255: use w_min = 0")]
    return rule, []


def delivery_violation(proj):
    """The violation of a projection that does not add its weight to a current, or None."""
    if proj.target in ("isyn_exc", "isyn_inh") and proj.on_pre == f"{proj.target}_post += w":
        return None
    return Violation(f"projection '{proj.name}'", "delivery", f"'{proj.on_pre}'",
                     "'isyn_exc_post += w' or 'isyn_inh_post += w'",
                     "Loihi adds a weight to the compartment's current: connect to receptor 'exc' or 'inh'")


def projection_violations(proj) -> list:
    """Delays beyond Loihi's 6 bits. (Weights of the wrong sign for the receptor,
    which Loihi's sign mode could not hold, are refused by ``Network.build``.)"""
    where, out = f"projection '{proj.name}'", []
    if proj.delay.size and proj.delay.max() - 1 > DELAY_MAX:
        out.append(Violation(where, "delay", f"{int(proj.delay.max())} steps", f"{DELAY_MAX + 1} steps",
                             "Loihi 1's synaptic delay is 6 bits: shorten the delay, use a larger dt, or "
                             "relay the spikes through a chain of neurons"))
    return out
