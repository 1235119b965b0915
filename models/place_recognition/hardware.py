"""A trained module on neuromorphic hardware: its learning switched off, its
thresholds frozen, its weights static.

Neither target runs the module as it learns (SpiNNaker's IF_cond_exp has no
adaptive threshold, Loihi's compartment is current-based and learns pair STDP
only), but a trained module in test mode needs none of that: the input weights
are fixed and so is each neuron's threshold. ``hardware_network`` writes that
module as static synapses and one ``v_thresh`` per neuron:

- ``"spinnaker"``: ``IF_cond_exp`` as trained (conductances in nS);
- ``"loihi"``: the current-based variant (``network.module_network(current_based=True)``:
  each conductance weight becomes its current at the population's reference
  potential), with the inhibitory synapses' time constant set to the excitatory
  one, since a Loihi compartment has one synaptic current, and the input weights
  that its 8-bit mantissa would round to 0 set to 0 (the weakest, up to the
  first cut, in steps of half an octave, that its check accepts).

SpiNNaker runs at dt = 0.1 ms (of the steps it accepts, 1 ms would be coarser
than the inhibitory synapse's 0.5 ms), Loihi at the trained 0.5 ms; the delays
are the trained ones, and both populations start at rest. ``emulate`` shows the query
images to the emulated module one after another, as ``TrainedModule.responses``
does on a float backend.
"""
from __future__ import annotations

import numpy as np
from brian2 import ms

from spikemem.connectors import FromList
from spikemem.errors import ModelError
from spikemem.network import Network

from spikemem.backends import simulation

from .module import Presenter, TrainedModule, check_images, rates_of
from .network import EXC, INH, SYNAPSES, _neurons, weight_scale

TARGETS = ("spinnaker", "loihi")
#: SpiNNaker takes 1 ms or 0.1 ms (1 ms is coarser than the inhibitory synapse's 0.5 ms);
#: Loihi keeps the trained step, where 10 ms of delay is 20 of its at most 63 delay steps
DT = {"spinnaker": 0.1 * ms, "loihi": 0.5 * ms}


def hardware_network(module: TrainedModule, target: str = "spinnaker") -> Network:
    """The trained ``module`` as a static network for ``target`` (see above)."""
    if target not in TARGETS:
        raise ModelError(f"hardware_network: target must be one of {TARGETS}, got {target!r}")
    current = target == "loihi"
    trained = {p.name: p for p in module.network().build().projections}
    net = Network(dt=DT[target], seed=module.seed)
    net.poisson_source("input", module.n_inputs, 0.0)
    synapses = dict(SYNAPSES, tau_syn_I=SYNAPSES["tau_syn_E"]) if current else SYNAPSES
    exc = _neurons(EXC, module.n_e, current, adaptive=False, synapses=synapses)
    inh = _neurons(INH, module.n_e, current, adaptive=False, synapses=synapses)
    net.population("exc", module.n_e, exc, params={"v_thresh": np.asarray(module.state["exc.vt"], float)},
                   init={"v": EXC["v_rest"]})
    net.population("inh", module.n_e, inh, init={"v": INH["v_rest"]})
    weights = {"input_to_exc": np.asarray(module.state["input_to_exc.w"], float)}
    for name, (pre, post, receptor) in {"input_to_exc": ("input", "exc", "exc"), "exc_to_inh": ("exc", "inh", "exc"),
                                        "inh_to_exc": ("inh", "exc", "inh")}.items():
        p = trained[name]
        w = weights.get(name, p.w)
        if current:      # the conductance as a current at the reference potential; inhibition negative
            w = w / weight_scale(False) * weight_scale(True, post, receptor)
        delay = p.delay * module.dt
        net.connect(pre, post, FromList(np.column_stack([p.i, p.j, w, delay])), receptor=receptor,
                    delay_rounding="ceil", name=name)
    net.record_spikes("exc")
    if current:
        _drop_lost_weights(net)
    return net


def _drop_lost_weights(net: Network) -> None:
    """Set to 0 the input weights that Loihi's 8-bit mantissa (one exponent per
    projection) rounds to 0, which its check refuses while they are not 0: the
    weakest first, the cut raised by half an octave until the check is satisfied."""
    from spikemem.targets import TARGETS

    def lost():
        return any(v.what == "weights that quantize to 0" and "'input_to_exc'" in v.where
                   for v in TARGETS.get("loihi").check(net))

    w = next(p.w for p in net.build().projections if p.name == "input_to_exc")
    cut = np.max(np.abs(w)) / 256
    while lost():
        net.set_weights("input_to_exc", np.where(np.abs(w) < cut, 0.0, w))
        cut *= np.sqrt(2)


def emulate(module: TrainedModule, images, target: str = "spinnaker", backend: str | None = None,
            progress=None) -> np.ndarray:
    """Spike counts (images x n_e) of the trained module's static network for
    ``target``, run on ``backend`` (default: the target's emulator; "numba" runs
    the same static network in floating point)."""
    rates = rates_of(check_images(images, module.n_inputs), module.n_inputs)
    sim = simulation(hardware_network(module, target), backend or target, progress=False)
    show = Presenter(sim, module.n_e, module.present, module.rest)
    return np.stack([show(r) for r in rates]).astype(float)
