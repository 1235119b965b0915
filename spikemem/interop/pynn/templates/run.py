"""Standalone PyNN script exported by spikemem (spikemem.interop.pynn).

python run.py --simulator nest|spinnaker [--out spikes.npz] [--duration MS]
"""
import argparse
import json
import os
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SPYNNAKER_STATE = {"gsyn_exc": "isyn_exc", "gsyn_inh": "isyn_inh"}


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
            cell = getattr(sim, p["cell_type"])(**params)
            initial = {k: arr(v) for k, v in p["initial"].items()}
            if args.simulator == "spinnaker":
                # sPyNNaker names a conductance cell's synaptic state isyn_exc / isyn_inh
                initial = {SPYNNAKER_STATE.get(k, k): v for k, v in initial.items()}
            pops[name] = sim.Population(n, cell, label=name, initial_values=initial)
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
            # NEST sends a neuron's spike one step after spikemem does (spikemem's
            # docs/interop/pynn.md, "Timing"): take that step off every delay that has one to spare
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
        recorded = spec.get("record_ids", {}).get(name)     # a subset: keep its neurons only
        if recorded is not None:
            keep = np.isin(ids, recorded)
            times, ids = times[keep], ids[keep]
        order = np.lexsort((ids, times))
        out[name + "__times"], out[name + "__ids"] = times[order], ids[order]
        kind = next(p["kind"] for p in spec["populations"] if p["name"] == name)
        meta_pops.append({"name": name, "size": pops[name].size, "kind": kind, "recorded": recorded})
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
