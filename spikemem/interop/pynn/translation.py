"""The PyNN translation table: spikemem templates, projections and STDP rules as
PyNN cell types, connectors and mechanisms (the table and its conventions:
``docs/interop/pynn.md``)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spikemem import neurons as _neurons
from spikemem import plasticity as _plasticity
from spikemem.errors import ModelError
from spikemem.network import Network, own_dt
from spikemem.synapses import STATIC

MS, MV, NA, NF, US = 1e3, 1e3, 1e9, 1e9, 1e6

#: spikemem template -> (PyNN cell type, [(spikemem name, PyNN name, factor)],
#: initial values [(state variable, PyNN name, factor)], receptors, weight factor)
CELL_TYPES = {
    "IF_curr_exp": dict(
        pynn="IF_curr_exp",
        params=[("c_m", "cm", NF), ("tau_m", "tau_m", MS), ("tau_syn_E", "tau_syn_E", MS),
                ("tau_syn_I", "tau_syn_I", MS), ("v_rest", "v_rest", MV), ("v_reset", "v_reset", MV),
                ("v_thresh", "v_thresh", MV)],
        state_params=[("i_offset", "i_offset", NA)],
        initial=[("v", "v", MV), ("isyn_exc", "isyn_exc", NA), ("isyn_inh", "isyn_inh", NA)],
        receptors={"isyn_exc": "excitatory", "isyn_inh": "inhibitory"},
        weight_factor=NA, weight_unit="nA", conductance=False),
    "IF_cond_exp": dict(
        pynn="IF_cond_exp",
        params=[("c_m", "cm", NF), ("tau_m", "tau_m", MS), ("tau_syn_E", "tau_syn_E", MS),
                ("tau_syn_I", "tau_syn_I", MS), ("e_rev_E", "e_rev_E", MV), ("e_rev_I", "e_rev_I", MV),
                ("v_rest", "v_rest", MV), ("v_reset", "v_reset", MV), ("v_thresh", "v_thresh", MV)],
        state_params=[("i_offset", "i_offset", NA)],
        initial=[("v", "v", MV), ("gsyn_exc", "gsyn_exc", US), ("gsyn_inh", "gsyn_inh", US)],
        receptors={"gsyn_exc": "excitatory", "gsyn_inh": "inhibitory"},
        weight_factor=US, weight_unit="uS", conductance=True),
}


def _stdp_rules():
    """Synapse-model name -> (template, PyNN weight dependence, how A maps)."""
    rules = {}
    for wd, cls in (("additive", "AdditiveWeightDependence"),
                    ("multiplicative", "MultiplicativeWeightDependence")):
        for scaled in ((False, True) if wd == "additive" else (False,)):
            model = _plasticity.stdp(wd, "all", scale_by_w_max=scaled)
            a_map = "per_w_max" if (wd == "additive" and not scaled) else "copy"
            rules[model.name] = (model, cls, a_map)
    rules["spinnaker_stdp"] = (_plasticity.spinnaker_stdp(), "AdditiveWeightDependence", "copy")
    return rules


STDP_RULES = _stdp_rules()
_STDP_VARS = ("apre", "apost", "pending")


@dataclass
class PyNNModel:
    """What ``run.py`` builds: ``spec`` (JSON) and ``arrays`` (``network.npz``)."""
    spec: dict
    arrays: dict = field(default_factory=dict)


def _same_synapse(model, template) -> bool:
    return (model.equations.strip() == template.equations.strip()
            and model.on_pre.strip() == template.on_pre.strip()
            and model.on_post.strip() == template.on_post.strip())


def _grid_ms(steps, dt_ms):
    """Whole steps as ms, rounded to the nearest double of the grid point: NEST
    moves a time that lies a rounding error past a grid point to the next one
    (3 * 0.1 = 0.30000000000000004 would become 0.4)."""
    return np.round(np.asarray(steps, dtype=float) * dt_ms, 9)


def _value(v, factor):
    """A shared float or a per-neuron array, as JSON (a float or a list)."""
    a = np.asarray(v, dtype=float) * factor
    if a.ndim == 0 or np.all(a == a.flat[0]):
        return float(a.flat[0]) if a.size else 0.0
    return a.tolist()


def translate(network: Network, duration=None) -> PyNNModel:
    """Check ``network`` against the translation table and translate it.

    Raises one ModelError listing every population, projection, input and
    monitor that PyNN cannot express, before anything is written.
    """
    model, bad = translation(network, duration)
    if bad:
        raise ModelError("cannot translate the network to PyNN:\n  - " + "\n  - ".join(bad))
    return model


def translation(network: Network, duration=None, built=None):
    """(the PyNNModel, or None; what ``translate`` refuses, as "where: why" lines).
    ``built``: ``network.build()`` when the caller has it already."""
    if not isinstance(network, Network):
        raise ModelError(f"translate needs a spikemem Network, got {type(network).__name__}")
    built = network.build() if built is None else built
    built = built.explicit(who="the PyNN translation")      # PyNN gets a convolution's synapses listed
    dt_ms = built.dt * MS
    bad: list[str] = []
    pops, arrays = [], {}
    cell_of = {}
    for name, bp in built.populations.items():
        where = f"population '{name}'"
        if bp.kind == "spikes":
            pops.append({"name": name, "size": bp.size, "kind": "spikes"})
            arrays[f"src__{name}__times"] = _grid_ms(bp.spike_steps, dt_ms)
            arrays[f"src__{name}__ids"] = bp.spike_ids.astype(np.int64)
            continue
        if bp.kind == "poisson":
            pops.append({"name": name, "size": bp.size, "kind": "poisson", "rate": _value(bp.rate, 1.0)})
            continue
        model = bp.model
        if bp.refractory_condition is not None:
            bad.append(f"{where}: refractory condition {bp.refractory_condition!r} cannot be expressed (PyNN cell "
                       f"types hold a neuron for a fixed period, tau_refrac)")
            continue
        if bp.every > 1:
            bad.append(f"{where}: its {own_dt(bp, built.dt)} cannot be expressed (a PyNN simulation has one "
                       f"time step)")
        entry = CELL_TYPES.get(model.name)
        if entry is None or not _neurons.is_template(model, model.name):
            bad.append(f"{where}: neuron model '{model.name}' has no PyNN cell type "
                       f"(supported: unmodified templates {sorted(CELL_TYPES)})")
            continue
        cell_of[name] = entry
        params = {pn: _value(bp.params[sn], f) for sn, pn, f in entry["params"]}
        params.update({pn: _value(bp.init[sn], f) for sn, pn, f in entry["state_params"]})
        # NEST and sPyNNaker hold v for ceil(tau_refrac/dt) steps after the spike step:
        # the held steps as a duration (unchanged for pynn counting) hold just as many there
        params["tau_refrac"] = float(_grid_ms(bp.refractory_steps, dt_ms))
        initial = {pn: _value(bp.init[sn], f) for sn, pn, f in entry["initial"]}
        pops.append({"name": name, "size": bp.size, "kind": "neuron", "cell_type": entry["pynn"],
                     "params": params, "initial": initial})

    for inp in built.inputs:
        bad.append(f"current input on '{inp.population}' ('{inp.variable}'): time-varying inputs "
                   f"are not exported (give the population a constant i_offset)")
    for mon in built.state_monitors:
        bad.append(f"state monitor on '{mon.population}' {list(mon.variables)}: only spikes are "
                   f"recorded by the PyNN export")

    projs = []
    for k, (bpj, decl) in enumerate(zip(built.projections, network.projections)):
        where = f"projection '{bpj.name}'"
        entry = cell_of.get(bpj.post)
        if entry is None:
            bad.append(f"{where}: its post population '{bpj.post}' is not exported")
            continue
        receptor = entry["receptors"].get(bpj.target)
        if receptor is None:
            bad.append(f"{where}: drives '{bpj.target}', not a PyNN receptor "
                       f"({sorted(entry['receptors'])})")
            continue
        if bpj.on_pre != f"{bpj.target}_post += w":
            bad.append(f"{where}: custom delivery on_pre={bpj.on_pre!r} (PyNN adds the weight)")
            continue
        w = np.asarray(bpj.w, float)
        synapse = {"type": "static"}
        if _same_synapse(decl.synapse, STATIC):
            pass
        else:
            rule = STDP_RULES.get(decl.synapse.name)
            if rule is None or not _same_synapse(decl.synapse, rule[0]):
                bad.append(f"{where}: synapse model '{decl.synapse.name}' has no PyNN equivalent "
                           f"(supported: static, {sorted(STDP_RULES)})")
                continue
            synapse, why = stdp_spec(bpj, rule, entry["weight_factor"])
            frozen, why = (None, why) if why else learning_switch(bpj)
            if why:
                bad.append(f"{where}: {why}")
                continue
            if frozen:      # its weights stay as they are: PyNN's static synapse
                synapse = {"type": "static"}
            elif receptor == "inhibitory":
                bad.append(f"{where}: plastic inhibitory projections are not exported")
                continue
        arrays[f"proj{k}__i"] = bpj.i.astype(np.int64)
        arrays[f"proj{k}__j"] = bpj.j.astype(np.int64)
        arrays[f"proj{k}__w"] = w * entry["weight_factor"]
        arrays[f"proj{k}__delay"] = _grid_ms(bpj.delay, dt_ms)
        projs.append({"key": f"proj{k}", "name": bpj.name, "pre": bpj.pre, "post": bpj.post,
                      "receptor": receptor, "synapse": synapse, "weight_unit": entry["weight_unit"],
                      "connector": type(decl.connector).__name__})
    if bad:
        return None, bad
    delays = [float(arrays[f"{p['key']}__delay"].max()) for p in projs if arrays[f"{p['key']}__delay"].size]
    spec = {"format": "spikemem-pynn", "version": 1, "dt_ms": dt_ms, "seed": built.seed,
            "max_delay_ms": max(delays + [dt_ms]), "network_hash": built.hash,
            "duration_ms": None if duration is None else float(duration) * MS,
            "populations": pops, "projections": projs, "record": list(built.spike_monitors),
            "record_ids": {name: ids.tolist() for name, ids in built.spike_ids.items()}}
    return PyNNModel(spec, arrays), []


def learning_switch(bpj):
    """(whether a plastic projection is frozen, None), or (None, the reason it
    cannot be exported): its switch ``plastic`` must be 1 (learning) or 0
    (frozen) on every synapse, as PyNN's synapse is plastic or static."""
    values = np.unique(np.asarray(bpj.namespace.get("plastic", bpj.state.get("plastic", 1.0)), float))
    if values.size > 1 or (values.size and values[0] not in (0.0, 1.0)):
        return None, (f"learning switch 'plastic' is {values.tolist()}; PyNN's synapse learns (1) or "
                      f"not (0, exported static) on every synapse alike")
    return bool(values.size and values[0] == 0.0), None


def stdp_spec(bpj, rule, wf):
    """The STDPMechanism of a recognised rule; (spec, reason it cannot be exported)."""
    template, wd, a_map = rule
    values = {}
    for name in ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_min", "w_max"):
        if name in bpj.namespace:
            values[name] = float(bpj.namespace[name])
        else:
            a = np.asarray(bpj.state[name], float)
            if a.size and not np.all(a == a[0]):
                return None, f"STDP parameter '{name}' differs between synapses (PyNN: one value)"
            values[name] = float(a[0]) if a.size else 0.0
    for var in _STDP_VARS:
        if var in bpj.state and np.any(np.asarray(bpj.state[var]) != 0):
            return None, f"synaptic variable '{var}' starts non-zero (PyNN's traces start at 0)"
    a_plus, a_minus = values["A_plus"], values["A_minus"]
    if a_map == "per_w_max":
        if not values["w_max"] > 0:
            return None, "additive STDP with A in weight units needs w_max > 0 to become PyNN's A/w_max"
        a_plus, a_minus = a_plus / values["w_max"], a_minus / values["w_max"]
    return {"type": "stdp", "rule": template.name, "weight_dependence": wd,
            "tau_plus": values["tau_plus"] * MS, "tau_minus": values["tau_minus"] * MS,
            "A_plus": a_plus, "A_minus": a_minus,
            "w_min": values["w_min"] * wf, "w_max": values["w_max"] * wf}, None
