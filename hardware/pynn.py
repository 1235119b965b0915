"""PyNN export: a spikemem network as a standalone PyNN script (NEST, SpiNNaker).

``translate(network)`` checks the whole network against the translation table
below and returns a ``PyNNModel`` (a JSON-able description plus arrays);
anything it cannot express raises one ``ModelError`` that lists *every*
offending population, projection, input and monitor. ``export_pynn`` writes
that model as a folder -- ``run.py``, ``model.json``, ``network.npz`` -- that
runs with ``python run.py --simulator nest`` (or ``--simulator spinnaker``)
and writes ``spikes.npz``; ``read_spikes`` reads that back as a ``Result``.

Translation table (in the spirit of PyNN's own ``build_translations``)
----------------------------------------------------------------------
Units: spikemem is SI; PyNN uses ms, mV, nA, nF, uS, Hz (``CELL_TYPES``).

=====================  ==================================================
spikemem               PyNN
=====================  ==================================================
``IF_curr_exp``        ``IF_curr_exp`` (c_m -> cm, refractory -> tau_refrac,
                       i_offset's initial value -> i_offset)
``IF_cond_exp``        ``IF_cond_exp`` (not ``adaptive=True``)
spike source           ``SpikeSourceArray`` (spike at step n -> n*dt ms)
Poisson source         ``SpikeSourcePoisson`` (rate; its own random stream)
static projection      ``FromListConnector`` with the built (i, j, w, delay)
                       of every synapse, ``StaticSynapse``
receptor exc / inh     ``receptor_type="excitatory" / "inhibitory"``
``stdp`` (all-to-all,  ``STDPMechanism(SpikePairRule(tau_plus, tau_minus,
additive/multipl.)``   A_plus, A_minus), Additive/MultiplicativeWeightDependence
                       (w_min, w_max))``
``spinnaker_stdp``     the same with ``AdditiveWeightDependence``
=====================  ==================================================

Weights: current-based inhibitory weights are negative in spikemem (and in
PyNN on NEST, which routes a current by its sign); ``model.json`` stores
spikemem's signed weights and ``run.py`` passes their magnitude on SpiNNaker,
where the receptor gives the sign. Conductances are positive everywhere.

STDP amplitudes: PyNN's additive rule on NEST (``stdp_synapse``: ``lambda``,
``Wmax``) moves a weight by ``A * w_max * trace``: A is a fraction of w_max.
sPyNNaker 7 writes an additive A unscaled (its weight units), so ``run.py``
passes ``A * w_max`` there. ``spinnaker_stdp`` and ``stdp(scale_by_w_max=True)`` use that
convention already (A copied); ``stdp(additive)`` has A in weight units
(A / w_max is exported); the multiplicative rule is the same in all three
(``A_plus*(w_max - w)``, ``A_minus*(w - w_min)``). NEST supports w_min = 0 only.
Not exported: nearest-neighbour pairing (PyNN's ``SpikePairRule`` is all-to-all),
triplet and rate rules, plastic inhibitory projections.

Timing (measured by ``tests/test_hardware_pynn.py``)
-----------------------------------------------------
spikemem: a spike in step n with a delay of d steps is delivered at the start
of step n + d and moves v in that same step, so a strong input fires its target
in step n + d. The PyNN delay is ``d * dt`` ms (on SpiNNaker this is the same
convention). NEST (``iaf_psc_exp`` with ``spike_precision="on_grid"``, which
``run.py`` selects) adds an arriving current to the synaptic current at the
end of a step and stamps a spike with the end of the step in which v crossed:

* source -> neuron: a source spike at n*dt crosses in step n + d, stamped
  (n + d + 1)*dt. ``read_spikes(align=True)`` subtracts dt from the spike times
  of NEST's neuron populations (not of sources), so these agree exactly.
* neuron -> neuron: one step more than in spikemem (the stamp n + 1 plus d).
  ``run.py`` takes that step off every neuron -> neuron delay of two steps or
  more, which makes those hops exact; NEST's minimum delay is dt, so a
  one-step hop stays one step late (two steps on NEST).
* refractoriness: spikemem (as Brian2) holds v for R - 1 steps after the spike
  step (R = tau_refrac/dt); NEST's ``t_ref`` and sPyNNaker's ``T_refract`` hold
  it R steps, so ``run.py`` passes ``tau_refrac - dt`` (at least 0) on both.
* spike sources: PyNN emits NEST's spikes min_delay early (to cover its relay
  neurons), so spikes at steps 0 and 1 are lost; ``run.py`` refuses them on NEST.
* threshold: NEST and sPyNNaker fire at v >= v_thresh, spikemem at v > v_thresh.
* STDP on NEST (``stdp_synapse``) pairs a pre spike at t_pre with a post spike
  at t_post + delay (the whole delay is dendritic), ignores lag 0 for
  depression and clips after every term; with a one-step delay that is the
  pairing of ``spinnaker_stdp`` (which clips once per pre spike); ``stdp``
  pairs t_post with t_pre.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from spikemem import neurons as _neurons
from spikemem import plasticity as _plasticity
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.results import Result, SpikeTrain, staged_dir
from spikemem.synapses import STATIC

MS, MV, NA, NF, US = 1e3, 1e3, 1e9, 1e9, 1e6

# --------------------------------------------------------------- translation table
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

_TEMPLATE_FACTORY = {"IF_curr_exp": _neurons.IF_curr_exp, "IF_cond_exp": _neurons.IF_cond_exp}


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
_STDP_VARS = ("apre", "apost", "pending", "tpost")


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
        entry = CELL_TYPES.get(model.name)
        if entry is None or not model.same_dynamics(_TEMPLATE_FACTORY[model.name]()):
            bad.append(f"{where}: neuron model '{model.name}' has no PyNN cell type "
                       f"(supported: unmodified templates {sorted(CELL_TYPES)})")
            continue
        cell_of[name] = entry
        params = {pn: _value(bp.params[sn], f) for sn, pn, f in entry["params"]}
        params.update({pn: _value(bp.init[sn], f) for sn, pn, f in entry["state_params"]})
        params["tau_refrac"] = bp.refractory * MS
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
            if why:
                bad.append(f"{where}: {why}")
                continue
            if receptor == "inhibitory":
                bad.append(f"{where}: plastic inhibitory projections are not exported")
                continue
        # signs: current-based inh weights negative, everything else positive
        negative = receptor == "inhibitory" and not entry["conductance"]
        if w.size and (np.any(w > 0) if negative else np.any(w < 0)):
            bad.append(f"{where}: {'positive' if negative else 'negative'} weights on the {receptor} "
                       f"receptor of a {'current' if not entry['conductance'] else 'conductance'}-based "
                       f"cell cannot be expressed in PyNN")
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
            "populations": pops, "projections": projs, "record": list(built.spike_monitors)}
    return PyNNModel(spec, arrays), []


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


# --------------------------------------------------------------- export
def export_pynn(network: Network, directory, duration, force: bool = False) -> str:
    """Write a standalone PyNN script for ``network`` into ``directory``.

    ``duration`` in seconds. Files: ``run.py`` (``python run.py --simulator
    nest|spinnaker [--out spikes.npz]``), ``model.json``, ``network.npz``,
    ``README.txt``. Atomic: everything is written into a temporary folder
    beside ``directory`` and renamed onto it. A non-empty ``directory`` is
    refused unless ``force=True`` (then it is replaced).
    """
    from brian2 import second
    from spikemem.units import to_si
    duration = to_si(duration, "duration", second.dim)
    if not duration > 0:
        raise ModelError(f"duration must be positive, got {duration}")
    directory = os.path.abspath(os.fspath(directory))
    _check_folder(directory, force)
    model = translate(network, duration)        # every check before anything is written
    with staged_dir(directory, lambda path: _check_folder(path, force)) as tmp:
        with open(os.path.join(tmp, "model.json"), "w") as f:
            json.dump(model.spec, f, indent=1)
        np.savez(os.path.join(tmp, "network.npz"), **model.arrays)
        with open(os.path.join(tmp, "run.py"), "w") as f:
            f.write(RUN_PY)
        with open(os.path.join(tmp, "README.txt"), "w") as f:
            f.write(_README)
    return directory


def _check_folder(directory: str, force: bool) -> None:
    if os.path.exists(directory):
        if not os.path.isdir(directory):
            raise ModelError(f"{directory}: exists and is not a folder")
        if os.listdir(directory) and not force:
            raise ModelError(f"{directory}: folder is not empty (use force=True to replace it)")


def read_spikes(path, align: bool = True) -> Result:
    """Read ``spikes.npz`` written by ``run.py`` (or the export folder holding it).

    Times in seconds. ``align``: NEST stamps a neuron's spike with the end of
    the step in which it crossed threshold; spikemem labels it with the step's
    start, so dt is subtracted from NEST's neuron spike times (not from spike
    sources, which fire at their given times).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "spikes.npz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        spikes = {}
        for pop in meta["populations"]:
            name = pop["name"]
            times = np.asarray(data[f"{name}__times"], float) / MS
            if align and meta["simulator"] == "nest" and pop["kind"] == "neuron":
                times = times - meta["dt_ms"] / MS
            spikes[name] = SpikeTrain(times, data[f"{name}__ids"], pop["size"])
    meta = {"backend": f"pynn-{meta['simulator']}", "dt": meta["dt_ms"] / MS,
            "duration": meta["duration_ms"] / MS, "aligned": bool(align), **{
                k: v for k, v in meta.items() if k not in ("populations",)}}
    return Result(spikes, {}, meta)


_README = """Exported by spikemem.hardware.pynn.export_pynn.

    python run.py --simulator nest         # pyNN.nest (pip install pynn nest-simulator)
    python run.py --simulator spinnaker    # pyNN.spiNNaker (sPyNNaker)

writes spikes.npz (times in ms as the simulator reports them, ids), read it with
spikemem.hardware.pynn.read_spikes. model.json: populations, projections and
their synapse types; network.npz: every synapse (i, j, weight, delay in ms)
and the spike sources' times in ms. See spikemem/hardware/pynn.py for the
conventions (units, delays, STDP amplitudes, NEST's timing).
"""

RUN_PY = r'''"""Standalone PyNN script exported by spikemem (spikemem.hardware.pynn).

python run.py --simulator nest|spinnaker [--out spikes.npz] [--duration MS]
"""
import argparse
import json
import os
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--simulator", choices=["nest", "spinnaker"], default="nest")
    ap.add_argument("--out", default=os.path.join(HERE, "spikes.npz"))
    ap.add_argument("--duration", type=float, default=None, help="ms (default: the exported duration)")
    ap.add_argument("--neurons-per-core", type=int, default=None,
                    help="spinnaker: at most this many neurons of a population on one core")
    ap.add_argument("--placements", default=None,
                    help="spinnaker: write sPyNNaker's core placements to this JSON file instead of "
                         "reading spikes back (for a virtual board, where nothing runs)")
    args = ap.parse_args()
    with open(os.path.join(HERE, "model.json")) as f:
        spec = json.load(f)
    data = np.load(os.path.join(HERE, "network.npz"))
    dt = spec["dt_ms"]
    duration = args.duration if args.duration is not None else spec["duration_ms"]
    if args.simulator == "nest":
        import pyNN.nest as sim
        # on-grid iaf_psc_exp (PyNN's default off_grid uses iaf_psc_exp_ps)
        sim.setup(timestep=dt, min_delay=dt, max_delay=spec["max_delay_ms"],
                  spike_precision="on_grid", rng_seed=spec["seed"] + 1)
    else:
        import pyNN.spiNNaker as sim
        sim.setup(timestep=dt, min_delay=dt, max_delay=spec["max_delay_ms"])

    def arr(v):
        return np.asarray(v, dtype=float) if isinstance(v, list) else v

    pops = {}
    for p in spec["populations"]:
        name, n = p["name"], p["size"]
        if p["kind"] == "spikes":
            t, ids = data["src__%s__times" % name], data["src__%s__ids" % name]
            if args.simulator == "nest":
                # PyNN gives NEST's spike_generator precise times minus min_delay; a float
                # error above a grid point (64.9 - 0.1 = 64.80000000000001) would move the
                # spike to the next step, a hair below keeps it in the intended one
                t = t - 1e-6 * dt
                if t.size and t.min() < dt:
                    raise SystemExit("population %s: PyNN on NEST drops source spikes before step 2 "
                                     "(%.6g ms); start the input at 2*dt or later" % (name, t.min() + 1e-6 * dt))
            times = [sorted(t[ids == k].tolist()) for k in range(n)]
            # sPyNNaker's spike-density check fails on a list of n empty lists
            cell = sim.SpikeSourceArray(spike_times=times if t.size else [])
            pops[name] = sim.Population(n, cell, label=name)
        elif p["kind"] == "poisson":
            pops[name] = sim.Population(n, sim.SpikeSourcePoisson(rate=arr(p["rate"])), label=name)
        else:
            params = {k: arr(v) for k, v in p["params"].items()}
            # NEST and sPyNNaker hold v for t_ref/dt steps after the spike step, spikemem one fewer
            params["tau_refrac"] = max(params["tau_refrac"] - dt, 0.0)
            cell = getattr(sim, p["cell_type"])(**params)
            pops[name] = sim.Population(n, cell, label=name,
                                        initial_values={k: arr(v) for k, v in p["initial"].items()})
            if args.simulator == "spinnaker" and args.neurons_per_core:
                pops[name].set_max_atoms_per_core(args.neurons_per_core)
    kinds = {p["name"]: p["kind"] for p in spec["populations"]}
    for pr in spec["projections"]:
        key = pr["key"]
        w = np.asarray(data[key + "__w"], float)
        if args.simulator == "spinnaker" and pr["receptor"] == "inhibitory":
            w = np.abs(w)          # sPyNNaker: positive weights, the receptor gives the sign
        delay = np.asarray(data[key + "__delay"], float)
        if args.simulator == "nest" and kinds[pr["pre"]] == "neuron":
            # NEST sends a neuron's spike one step after spikemem does (see hardware/pynn.py);
            # take that step off every delay that has one to spare
            delay = np.where(delay >= 2 * dt - 1e-9, delay - dt, delay)
        conns = np.column_stack([data[key + "__i"], data[key + "__j"], w, delay])
        connector = sim.FromListConnector(conns, column_names=["weight", "delay"])
        s = pr["synapse"]
        if s["type"] == "static":
            synapse = sim.StaticSynapse()
        else:
            a_plus, a_minus = s["A_plus"], s["A_minus"]
            if args.simulator == "spinnaker" and s["weight_dependence"] == "AdditiveWeightDependence":
                # sPyNNaker 7 reads an additive A in weight units, not as a fraction of w_max
                a_plus, a_minus = a_plus * s["w_max"], a_minus * s["w_max"]
            synapse = sim.STDPMechanism(
                timing_dependence=sim.SpikePairRule(tau_plus=s["tau_plus"], tau_minus=s["tau_minus"],
                                                    A_plus=a_plus, A_minus=a_minus),
                weight_dependence=getattr(sim, s["weight_dependence"])(w_min=s["w_min"], w_max=s["w_max"]),
                weight=0.0, delay=dt)
        sim.Projection(pops[pr["pre"]], pops[pr["post"]], connector, synapse_type=synapse,
                       receptor_type=pr["receptor"], label=pr["name"])
    for name in spec["record"]:
        pops[name].record("spikes")
    sim.run(duration)
    if args.placements:
        write_placements(args.placements)
        sim.end()
        return
    out, meta_pops = {}, []
    for name in spec["record"]:
        trains = pops[name].get_data("spikes").segments[0].spiketrains
        times, ids = [], []
        for k, st in enumerate(trains):
            idx = st.annotations.get("source_index", k)
            t = np.asarray(st.rescale("ms").magnitude, float)
            times.append(t)
            ids.append(np.full(t.size, idx, dtype=np.int64))
        times = np.concatenate(times) if times else np.zeros(0)
        ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        order = np.lexsort((ids, times))
        out[name + "__times"], out[name + "__ids"] = times[order], ids[order]
        kind = next(p["kind"] for p in spec["populations"] if p["name"] == name)
        meta_pops.append({"name": name, "size": pops[name].size, "kind": kind})
    sim.end()
    meta = {"simulator": args.simulator, "dt_ms": dt, "duration_ms": duration,
            "network_hash": spec["network_hash"], "populations": meta_pops}
    out["meta"] = np.asarray(json.dumps(meta))
    target = os.path.abspath(args.out)
    fd, tmp = tempfile.mkstemp(suffix=".npz", prefix=".spikes.", dir=os.path.dirname(target))
    os.close(fd)
    try:
        np.savez(tmp, **out)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    print("wrote %s" % target)


def write_placements(path):
    """Every core sPyNNaker placed: (x, y, p), its vertex and the population it serves."""
    from spinn_front_end_common.data import FecDataView
    cores = []
    for pl in FecDataView.iterate_placemements():
        v = pl.vertex
        app = v.app_vertex
        cores.append({"x": pl.x, "y": pl.y, "p": pl.p, "vertex": type(v).__name__,
                      "label": v.label, "app_label": app.label if app is not None else None,
                      "app_vertex": type(app).__name__ if app is not None else None,
                      "atoms": v.vertex_slice.n_atoms if app is not None else 0})
    machine = FecDataView.get_machine()
    with open(path, "w") as f:
        json.dump({"cores": cores, "machine_chips": machine.n_chips}, f, indent=1)


if __name__ == "__main__":
    main()
'''
