"""spikemem's NIR convention: how a graph without a time step is run, and the
node forms spikemem reads and writes (see ``docs/interop/nir.md``)."""
from __future__ import annotations

from dataclasses import dataclass

from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork

CONVENTION = (
    "spikemem NIR convention: fixed step dt seconds (metadata spikemem.dt); one forward-Euler "
    "step per dt with I the node's input in that step (sum of incoming Affine outputs W s + b): "
    "LIF/LI v += dt/tau*(v_leak - v + r*I); IF v += dt*r*I; CubaLIF i_syn += dt/tau_syn*(w_in*I - i_syn) "
    "then v += dt/tau_mem*(v_leak - v + r*i_syn) with the updated i_syn. Spike when v > v_threshold "
    "after the update, then v = v_reset (explicit v_reset, NIR >= 1.0); Threshold after LI: spike when "
    "v > threshold, no reset; no refractoriness. Initial v = v_leak (0 for IF), i_syn = 0. A spikemem "
    "projection with delay d >= 1 steps is Affine (same step) + Delay((d-1)*dt); its remaining step "
    "makes a population k projections from the inputs spike k steps later in spikemem than in a "
    "same-step consumer (spikemem.step_lags); a projection onto its own population keeps one step in both. "
    "An Affine bias is the bias of the population it feeds; spikemem switches it on at the population's "
    "lag, when a same-step consumer starts."
)

LEGACY_RESETS = ("zero", "subtract")


@dataclass(frozen=True)
class NodeForm:
    """A NIR neuron node and the spikemem template of the same name (same parameter names)."""
    name: str
    params: tuple
    spiking: bool = True


FORMS = {f.name: f for f in (
    NodeForm("LIF", ("tau", "r", "v_leak", "v_threshold", "v_reset")),
    NodeForm("CubaLIF", ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")),
    NodeForm("IF", ("r", "v_threshold", "v_reset")),
    NodeForm("LI", ("tau", "r", "v_leak"), spiking=False),
)}
LINEAR = ("Affine", "Linear", "Scale", "Delay")
IMPORTED = ("Input", "Output", "Threshold", "NIRGraph") + LINEAR + tuple(FORMS)


def problems_error(what: str, problems: list) -> ModelError:
    """One ModelError listing every problem found (refusals name every offender at once)."""
    return ModelError(f"{what}:\n  " + "\n  ".join(problems))


def lags(sources, edges) -> dict:
    """Projections on the way from ``sources`` to each node; None where that is not one number."""
    edges = [(a, b) for a, b in edges if a != b]
    lag = {name: 0 for name in sources}
    frontier = list(lag)
    while frontier:
        nxt = []
        for pre, post in edges:
            if pre in frontier and post not in lag:
                lag[post] = lag[pre] + 1
                nxt.append(post)
        frontier = nxt
    bad = {post for pre, post in edges if pre not in lag or lag[post] != lag[pre] + 1}
    while True:                     # everything downstream of a bad node is bad too
        more = {post for pre, post in edges if pre in bad} - bad
        if not more:
            return {name: value for name, value in lag.items() if name not in bad}
        bad |= more


def step_lags(network) -> dict:
    """Steps by which each population's spikes trail a consumer that applies Affine nodes in the same step.

    Spike sources lag 0; a population reached through k projections lags k.
    ``None`` where no constant lag exists: populations no input reaches, and
    populations (with everything downstream) fed by projections that skip or
    go back across layers.
    """
    built = network if isinstance(network, BuiltNetwork) else network.build()
    lag = lags([name for name, p in built.populations.items() if p.kind != "neuron"],
                [(p.pre, p.post) for p in built.projections])
    return {name: lag.get(name) for name in built.populations}

