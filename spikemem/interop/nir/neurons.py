"""NIR's neuron forms as spikemem templates: unitless, with NIR's parameter names.

``export_nir`` maps them one to one onto nir.LIF, nir.CubaLIF, nir.IF and nir.LI.
They integrate with forward Euler, as the NIR consumers (norse, snntorch) do,
so that a graph runs step for step alike here and there. ``x`` is the node's
input during one step: projections add their weights to it, the update reads
it, and ``dx/dt = -x/dt`` makes Euler's update set it back to exactly 0
(Brian2's state updater simplifies the step to ``x = 0``). ``bias`` is the
constant part of that input (an Affine's bias); it is a per-neuron variable so
that a current input can switch it on at a given step (an imported graph
switches a population's bias on when its first input can arrive).
"""
from __future__ import annotations

from brian2 import Hz, ms

from spikemem.neurons import NeuronModel

_NIR_RECEPTORS = {"exc": "x", "inh": "x", "input": "x"}
_NIR_INPUT = """
        dx/dt = -x/dt : 1
        bias : 1
        """


def _nir_model(name, equations, params, defaults, threshold=None, reset=None, init=None):
    return NeuronModel(name=name, equations=equations + _NIR_INPUT, threshold=threshold, reset=reset,
                       refractory=0.0, method="euler", params={**defaults, **params},
                       receptors=dict(_NIR_RECEPTORS), init=init or {})


def _nir_spiking(name, equations, params, defaults, init=None):
    """A NIR form that spikes when v > v_threshold, then sets v = v_reset."""
    equations += """    v_threshold : 1 (constant)
        v_reset : 1 (constant)
        """
    defaults = {"v_threshold": 1.0, "v_reset": 0.0, **defaults}
    return _nir_model(name, equations, params, defaults, "v > v_threshold", "v = v_reset", init)


def _at_leak(params, defaults):
    """Initial state: v at v_leak."""
    return {"v": params.get("v_leak", defaults["v_leak"])}


def LIF(**params) -> NeuronModel:
    """NIR LIF: tau dv/dt = v_leak - v + r*(x + bias); spike when v > v_threshold, then v = v_reset."""
    defaults = dict(tau=10 * ms, r=1.0, v_leak=0.0, bias=0.0)
    return _nir_spiking("LIF", """
        dv/dt = (v_leak - v + r*(x + bias))/tau : 1
        tau : second (constant)
        r : 1 (constant)
        v_leak : 1 (constant)
        """, params, defaults, _at_leak(params, defaults))


def CubaLIF(**params) -> NeuronModel:
    """NIR CubaLIF: tau_syn di_syn/dt = w_in*(x + bias) - i_syn; tau_mem dv/dt = v_leak - v + r*i_syn;
    spike when v > v_threshold, then v = v_reset.

    The membrane reads the current *after* this step's current update (the
    ``i_syn + dt*...`` term), which is how norse and snntorch step the two
    equations: current first, then membrane.
    """
    defaults = dict(tau_syn=5 * ms, tau_mem=10 * ms, r=1.0, v_leak=0.0, w_in=1.0, bias=0.0)
    return _nir_spiking("CubaLIF", """
        dv/dt = (v_leak - v + r*(i_syn + dt*(w_in*(x + bias) - i_syn)/tau_syn))/tau_mem : 1
        di_syn/dt = (w_in*(x + bias) - i_syn)/tau_syn : 1
        tau_syn : second (constant)
        tau_mem : second (constant)
        r : 1 (constant)
        v_leak : 1 (constant)
        w_in : 1 (constant)
        """, params, defaults, _at_leak(params, defaults))


def IF(**params) -> NeuronModel:
    """NIR IF: dv/dt = r*(x + bias) (r in 1/s); spike when v > v_threshold, then v = v_reset."""
    defaults = dict(r=1000 * Hz, bias=0.0)
    return _nir_spiking("IF", """
        dv/dt = r*(x + bias) : 1
        r : hertz (constant)
        """, params, defaults)


def LI(v_threshold=None, **params) -> NeuronModel:
    """NIR LI: tau dv/dt = v_leak - v + r*(x + bias); no spikes.

    With ``v_threshold`` it is NIR's LI followed by a Threshold node: a spike
    in every step with v > v_threshold, and no reset.
    """
    defaults = dict(tau=10 * ms, r=1.0, v_leak=0.0, bias=0.0)
    equations = """
        dv/dt = (v_leak - v + r*(x + bias))/tau : 1
        tau : second (constant)
        r : 1 (constant)
        v_leak : 1 (constant)
        """
    threshold = reset = None
    if v_threshold is not None:
        equations += "    v_threshold : 1 (constant)\n        "
        params = {**params, "v_threshold": v_threshold}
        threshold, reset = "v > v_threshold", ""      # "": no reset, and Brian2 is told so
    return _nir_model("LI", equations, params, defaults, threshold, reset, _at_leak(params, defaults))


NIR_TEMPLATES = {f.__name__: f for f in (LIF, CubaLIF, IF, LI)}
