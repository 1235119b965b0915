"""PyNN's IF_curr_exp as NIR's CubaLIF, through the one translation every
CubaLIF export uses: the CubaLIF whose Euler step (the convention) is a given
linear recurrence (the Loihi export writes Loihi's recurrence with it too).

IF_curr_exp integrated exactly over a step of dt, with the weights X that
arrive in the step added to the current first (spikemem's step order), is::

    I' = a (I + X)
    v' = v_inf + b (v - v_inf) + c (I + X)

with a = exp(-dt/tau_syn), b = exp(-dt/tau_m), c = (a - b) / (c_m (1/tau_m -
1/tau_syn)) and v_inf = v_rest + i_offset tau_m / c_m. That is the Euler
CubaLIF with i_syn = I, x = X, a synaptic leak 1 - a and gain a, a membrane
leak 1 - b towards v_leak = v_inf and gain c / a on the updated current: the
same spikes, up to rounding, not an approximation.
"""
from __future__ import annotations

import numpy as np

from spikemem.neurons import integration_of

#: the CubaLIF parameters, in nir.CubaLIF's order
CUBALIF = ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")


def cubalif_of_recurrence(dt, syn_leak, syn_gain, mem_leak, mem_gain, v_leak, v_threshold, v_reset) -> dict:
    """The CubaLIF whose Euler step is ``i' = (1 - syn_leak) i + syn_gain x`` then
    ``v' = v + mem_leak (v_leak - v) + mem_gain i'`` (spike when v' > v_threshold, then v_reset)."""
    return dict(tau_syn=dt / syn_leak, tau_mem=dt / mem_leak, r=mem_gain / mem_leak, v_leak=v_leak,
                v_threshold=v_threshold, v_reset=v_reset, w_in=syn_gain / syn_leak)


def _params(pop) -> dict:
    names = ("c_m", "tau_m", "tau_syn_E", "tau_syn_I", "v_rest", "v_reset", "v_thresh", "i_offset")
    values = {**pop.params, **pop.init}         # i_offset is a variable (a current input may set it)
    return {k: np.broadcast_to(np.asarray(values[k], dtype=float), (pop.size,)) for k in names}


def _tau_syn(p, receptors):
    """The one synaptic time constant: that of the driven receptor (tau_syn_E where none is)."""
    return p["tau_syn_I"] if receptors == {"isyn_inh"} else p["tau_syn_E"]


def v_leak(pop) -> np.ndarray:
    """Where an IF_curr_exp relaxes to: v_rest + i_offset tau_m / c_m (NIR's start too)."""
    p = _params(pop)
    return p["v_rest"] + p["i_offset"] * p["tau_m"] / p["c_m"]


def if_curr_exp_problems(pop, receptors: set) -> list:
    """Why an IF_curr_exp population has no CubaLIF form; ``receptors``: the currents its projections drive."""
    if integration_of(pop.model) != "exact":
        return [f"IF_curr_exp with integration '{integration_of(pop.model)}' (only the exact "
                f"integration is a NIR CubaLIF)"]
    p, out = _params(pop), []
    if {"isyn_exc", "isyn_inh"} <= receptors and np.any(p["tau_syn_E"] != p["tau_syn_I"]):
        out.append(f"tau_syn_E {np.max(p['tau_syn_E']):g} s != tau_syn_I {np.max(p['tau_syn_I']):g} s with "
                   f"both receptors driven (a NIR CubaLIF has one synaptic current: give them the same tau_syn)")
    start = v_leak(pop)
    v0 = np.broadcast_to(np.asarray(pop.init.get("v", p["v_rest"]), dtype=float), (pop.size,))
    if np.any(v0 != start):
        k = int(np.argmax(v0 != start))
        out.append(f"initial v {v0[k]:g} V (neuron {k}) differs from NIR's start v_leak = v_rest + "
                   f"i_offset*tau_m/c_m = {start[k]:g} V (set init={{'v': ...}} to it)")
    for var in ("isyn_exc", "isyn_inh"):
        if np.any(np.asarray(pop.init.get(var, 0.0)) != 0):
            out.append(f"initial {var} not 0 (NIR's CubaLIF starts with no current)")
    return out


def if_curr_exp_as_cubalif(pop, receptors: set, dt: float) -> dict:
    """The CubaLIF parameters (per-neuron float64 arrays) of an IF_curr_exp population
    that ``if_curr_exp_problems`` passes."""
    p = _params(pop)
    tau_syn = _tau_syn(p, receptors)
    a, b = np.exp(-dt / tau_syn), np.exp(-dt / p["tau_m"])
    c = (a - b) / (p["c_m"] * (1 / p["tau_m"] - 1 / tau_syn))
    return cubalif_of_recurrence(dt, -np.expm1(-dt / tau_syn), a, -np.expm1(-dt / p["tau_m"]), c / a,
                                 v_leak(pop), p["v_thresh"].copy(), p["v_reset"].copy())
