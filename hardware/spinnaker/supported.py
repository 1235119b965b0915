"""What the s16.15 emulator implements: IF_curr_exp and IF_cond_exp populations,
spike-source arrays and Poisson sources, static projections and the additive pair rules, each
refusal listed in full before any work starts (``quantize`` and the backend read the same)."""
from __future__ import annotations

import numpy as np
from brian2 import amp, siemens

from spikemem.errors import ModelError
from spikemem.interop import pynn
from spikemem.network import BuiltNetwork, BuiltProjection, own_dt
from spikemem.neurons import is_template

from .formats import COND_SCALE, NA, STATE, SYNAPSE_TYPE, US

#: the neuron templates the emulator runs (sPyNNaker's LIF with exponential synapses,
#: input_type_current.h or input_type_conductance.h)
CELLS = ("IF_curr_exp", "IF_cond_exp")
# a weight into a current or a conductance, its unit as build() writes it into the equations
WEIGHT_UNITS = tuple(u.dim._str_representation(python_code=True) for u in (amp, siemens))


#: the additive pair rules spikemem.interop.pynn exports (name -> (template, weight dependence, A map))
RULES = {name: rule for name, rule in pynn.STDP_RULES.items() if rule[1] == "AdditiveWeightDependence"}


def _norm(text: str) -> str:
    return " ".join(text.split())


def rule_of(bpj: BuiltProjection):
    """The ``RULES`` entry a projection was built from, or None."""
    for rule in RULES.values():
        model = rule[0]
        if (_norm(bpj.plastic_pre) == _norm(model.on_pre) and _norm(bpj.on_post) == _norm(model.on_post)
                and _norm(bpj.equations) in (_norm(model.equations_for(u)) for u in WEIGHT_UNITS)):
            return rule
    return None


def is_static(bpj: BuiltProjection) -> bool:
    return not bpj.plastic_pre and not bpj.on_post and _norm(bpj.equations) in (
        "w : weight", *(f"w : {u}" for u in WEIGHT_UNITS))


def is_conductance(pop) -> bool:
    """Whether a population runs sPyNNaker's conductance input (IF_cond_exp)."""
    return pop.kind == "neuron" and is_template(pop.model, "IF_cond_exp")


def weight_unit(pop) -> tuple:
    """(name, SI -> unit factor, global weight scale) of the weights into ``pop``:
    nA for a current cell; uS, scaled by 1024 on the host, for a conductance cell."""
    return ("uS", US, COND_SCALE) if is_conductance(pop) else ("nA", NA, 1)


def stdp_spec(bpj: BuiltProjection, unit: float = NA) -> dict:
    """The STDPMechanism parameters run.py gets from spikemem.interop.pynn (ms,
    weights times ``unit``: nA, or uS for a conductance cell; A as exported, a
    fraction of w_max)."""
    spec, why = pynn.stdp_spec(bpj, rule_of(bpj), unit)
    if why:
        raise ModelError(why)
    return spec


def emulator_problems(built: BuiltNetwork) -> list:
    """Every reason the emulator cannot run ``built`` (empty: it can)."""
    bad, rules = [], {}
    for name, pop in built.populations.items():
        where = f"population '{name}'"
        if pop.kind == "neuron" and pop.refractory_condition is not None:
            bad.append(f"{where}: refractory condition {pop.refractory_condition!r} cannot be expressed (sPyNNaker "
                       f"holds a neuron for a fixed period)")
        if pop.every > 1:
            bad.append(f"{where}: its {own_dt(pop, built.dt)} cannot be expressed (sPyNNaker updates every "
                       f"population at the machine time step)")
        if pop.kind == "neuron" and not any(is_template(pop.model, cell) for cell in CELLS):
            bad.append(f"{where}: neuron model '{pop.model.name}' is neither the IF_curr_exp nor the "
                       f"IF_cond_exp template (the emulator implements sPyNNaker's LIF with exponential "
                       f"current or conductance synapses)")
    bad += [f"current input on '{inp.population}' ('{inp.variable}'): only a constant i_offset is "
            f"emulated (give the population i_offset instead)" for inp in built.inputs]
    bad += [f"population '{name}': reads signal '{built.signals[k].name}' ('{var}'); only spikes and a "
            f"constant i_offset are emulated" for name in built.populations for k, _, var in built.signal_uses(name)]
    bad += [f"state monitor on '{mon.population}': '{var}' is not emulated (record {sorted(STATE)})"
            for mon in built.state_monitors for var in mon.variables if var not in STATE]
    for bpj in built.projections:
        where = f"projection '{bpj.name}'"
        post = built.populations[bpj.post]
        if post.kind != "neuron" or post.model.name not in CELLS:
            continue            # reported with the population
        if bpj.target not in SYNAPSE_TYPE:
            types = ", ".join(post.model.receptors.values())
            bad.append(f"{where}: drives '{bpj.target}', not a synapse type ({types})")
            continue
        if bpj.on_pre != f"{bpj.target}_post += w":
            bad.append(f"{where}: custom on_pre={bpj.on_pre!r} (SpiNNaker adds the weight)")
            continue
        inh = bpj.target == "isyn_inh"      # build() has held the weights to its sign
        if is_static(bpj):
            continue
        if rule_of(bpj) is None:
            bad.append(f"{where}: synapse model is neither static nor one of {sorted(RULES)}")
            continue
        if inh:
            bad.append(f"{where}: plastic inhibitory projections are not emulated")
            continue
        try:
            spec = stdp_spec(bpj, weight_unit(post)[1])
        except ModelError as e:
            bad.append(f"{where}: {e}")
            continue
        values = np.unique(np.asarray(bpj.namespace.get("plastic", bpj.state.get("plastic", 1.0)), float))
        if not np.isin(values, (0.0, 1.0)).all():
            bad.append(f"{where}: learning switch 'plastic' is {values.tolist()}; the emulator runs sPyNNaker's "
                       f"rule (1) or keeps the weights (0)")
        if spec["w_max"] < spec["w_min"]:      # w_min >= 0: build() holds the bounds to the sign
            bad.append(f"{where}: STDP needs 0 <= w_min <= w_max (weights are unsigned), got "
                       f"[{spec['w_min']}, {spec['w_max']}] {weight_unit(post)[0]}")
        # sPyNNaker merges the plastic projections into one post population into one rule
        if rules.setdefault(bpj.post, spec) != spec:
            bad.append(f"{where}: the plastic projections into '{bpj.post}' have different rules or "
                       f"parameters (sPyNNaker needs one rule per population)")
    return bad


def require_emulable(built: BuiltNetwork) -> BuiltNetwork:
    """``built``, or one ModelError listing every part the emulator cannot run."""
    bad = emulator_problems(built)
    if bad:
        raise ModelError(f"the SpiNNaker emulator cannot run {len(bad)} part(s) of the network:\n  - "
                         + "\n  - ".join(bad))
    return built
