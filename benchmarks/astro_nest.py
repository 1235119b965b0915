"""The Li-Rinzel astrocyte (spikemem.glia) against NEST 3.10's astrocyte_lr_1994.

    python benchmarks/astro_nest.py --out benchmarks/results/astrocytes/01-nest.json

NEST and spikemem get the same deterministic presynaptic spikes (a fixed-seed
Poisson train, its times on the grid half a millisecond off the whole
milliseconds, so that no jump of IP3 falls on a recorded sample); both record
every millisecond. Cases:

- ``drive``: one astrocyte (delta_IP3 0.2 uM, NEST's examples' value) driven by
  a 2 Hz train of weight 1, sending its SIC (weight 1, 1 pA) to an AdEx with an
  I_SIC input (NEST: aeif_cond_alpha_astro), over 1 s and 60 s;
- ``astrocyte_single``: NEST's example of that name (delta_IP3 0.2 uM, a 1 Hz
  Poisson train of weight 1, 60 s), its Poisson train replaced by a fixed one;
- ``astrocyte_interaction``: NEST's example of that name (delta_IP3 0.2 uM; the
  presynaptic neuron's spikes, which NEST's Poisson drive at 1500 Hz makes,
  recorded in NEST and replayed to spikemem's astrocyte; weights 1; 60 s);
- ``astrocyte_small_network``: NEST's example of that name (10 + 10 neurons
  driven by 1000 pA, 5 astrocytes starting at IP3 = 0.4 uM, TripartiteConnect
  with pools of one astrocyte, 1 s): NEST's connections and the presynaptic
  spikes replayed, each spike's weight onto an astrocyte the weight factor its
  tsodyks_synapse sends (``tsodyks_weights``) times the connections.

The neurons themselves (aeif_cond_alpha_astro) are not rebuilt: spikemem's
neurons with an I_SIC input (AdEx_SIC) only show the current they receive.
The SIC connections keep NEST's delay, which spikemem's summed projection
takes as its ``delay``: one step in the drive cases, NEST's default of 1 ms in
the examples. For each, the maximum and root-mean-square differences of IP3,
Ca_astro, h_IP3R (uM, uM, 1) and I_SIC (pA). NEST runs in a child process
(``--nest CASE``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

# delta_IP3 (uM), the time step and recording interval (ms), the input delay (ms, NEST's default) and the
# input trains are the model zoo's (its NEST comparison is this file's drive case)
from spikemem.models.astrocytes.nest_drive import DELTA_IP3, DT_MS, INPUT_DELAY_MS, RECORD_MS, input_times

#: the case -> (duration in ms, Poisson rate of the astrocyte's input in Hz, seed)
CASES = {"drive-1s": (1000.0, 2.0, 1), "drive-60s": (60000.0, 2.0, 1),
         "astrocyte_single": (60000.0, 1.0, 2), "astrocyte_interaction": (60000.0, None, 3),
         "astrocyte_small_network": (1000.0, None, 4)}
VARIABLES = ("IP3", "Ca_astro", "h_IP3R", "I_SIC")


# ---------------------------------------------------------------- NEST (child process)

def tsodyks_weights(times_ms, U=0.5, tau_psc=3.0, tau_rec=800.0, x=1.0, y=0.0) -> np.ndarray:
    """The weight factors NEST's tsodyks_synapse (tau_fac 0, its defaults)
    sends with a train of spikes (its ``send``: u*x after the propagation
    from the last spike, starting from t = 0)."""
    out, last = [], 0.0
    for t in times_ms:
        h = t - last
        pyy, pzz = np.exp(-h / tau_psc), np.expm1(-h / tau_rec)
        pxy = (pzz * tau_rec - (pyy - 1.0) * tau_psc) / (tau_psc - tau_rec)
        z = 1.0 - x - y
        x, y = x + pxy * y - pzz * z, y * pyy
        step = U * x
        x, y = x - step, y + step
        out.append(step)
        last = t
    return np.asarray(out)


def _by_sender(events: dict, variables, n: int) -> dict:
    """A multimeter's events as (samples, senders) arrays, senders in id order."""
    order = np.lexsort((events["senders"], events["times"]))
    return {v: np.asarray(events[v])[order].reshape(-1, n) for v in variables}


def run_nest(case: str) -> dict:
    """The case in NEST 3.10: recorded traces (ms; uM; pA) as (samples, cells)
    arrays, and what spikemem replays: the input events (emission times and
    the weight each brings to each astrocyte), the SIC weights (astrocytes x
    neurons, pA) and the astrocytes' initial IP3."""
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = DT_MS
    duration, rate, seed = CASES[case]
    nest.rng_seed = seed
    n_astro, n_post, ip3_0 = 1, 1, 0.16
    # the drive cases: a SIC delay of one step (a summed projection's default); the examples: NEST's 1 ms
    sic_delay = DT_MS if case.startswith("drive") else 1.0
    if case == "astrocyte_small_network":       # the example's network, its neurons' drive as written
        n_astro, n_post, ip3_0 = 5, 10, 0.4
        params = {"tau_syn_ex": 2.0, "I_e": 1000.0}
        pre = nest.Create("aeif_cond_alpha_astro", 10, params=params)
        post = nest.Create("aeif_cond_alpha_astro", 10, params=params)
        astro = nest.Create("astrocyte_lr_1994", 5, params={"IP3": ip3_0, "delta_IP3": DELTA_IP3})
        nest.TripartiteConnect(pre, post, astro, conn_spec={"rule": "pairwise_bernoulli", "p": 1.0},
                               third_factor_conn_spec={"rule": "third_factor_bernoulli_with_pool", "p": 1.0,
                                                       "pool_size": 1, "pool_type": "block"},
                               syn_specs={"primary": {"synapse_model": "tsodyks_synapse"},
                                          "third_in": {"synapse_model": "tsodyks_synapse"},
                                          "third_out": {"synapse_model": "sic_connection", "delay": sic_delay}})
    else:
        astro = nest.Create("astrocyte_lr_1994", params={"delta_IP3": DELTA_IP3})
        post = nest.Create("aeif_cond_alpha_astro")
        nest.Connect(astro, post, syn_spec={"synapse_model": "sic_connection", "weight": 1.0, "delay": sic_delay})
        if rate is None:     # the interaction example: a neuron driven by Poisson input feeds the astrocyte
            pre = nest.Create("aeif_cond_alpha_astro", params={"tau_syn_ex": 2.0})
            ps = nest.Create("poisson_generator", params={"rate": 1500.0})
            nest.Connect(ps, pre)
            nest.Connect(pre, astro, syn_spec={"weight": 1.0})
        else:
            pre = nest.Create("spike_generator", params={"spike_times": input_times(duration, rate, seed)})
            nest.Connect(pre, astro, syn_spec={"weight": 1.0})
    spikes = nest.Create("spike_recorder")
    nest.Connect(pre, spikes)
    mm_astro = nest.Create("multimeter", params={"record_from": ["IP3", "Ca_astro", "h_IP3R"], "interval": RECORD_MS})
    mm_post = nest.Create("multimeter", params={"record_from": ["I_SIC"], "interval": RECORD_MS})
    nest.Connect(mm_astro, astro)
    nest.Connect(mm_post, post)
    nest.Simulate(duration)
    out = {**_by_sender(mm_astro.events, VARIABLES[:3], n_astro), **_by_sender(mm_post.events, ["I_SIC"], n_post)}
    out["t"] = np.unique(mm_astro.events["times"])
    # the input events: a spike at t reaches the astrocytes as a spike_generator's at t would
    ev = spikes.events
    order = np.lexsort((ev["senders"], ev["times"]))
    times, senders = np.asarray(ev["times"])[order], np.asarray(ev["senders"])[order]
    pre_ids = np.asarray(pre.tolist())
    into = nest.GetConnections(pre, astro)
    counts = np.zeros((pre_ids.size, n_astro))         # connections from each pre cell to each astrocyte
    np.add.at(counts, (np.searchsorted(pre_ids, into.source), np.searchsorted(astro.tolist(), into.target)),
              np.asarray(into.weight, dtype=float))
    factor = np.ones(times.size)
    if case == "astrocyte_small_network":       # its inputs pass tsodyks_synapse
        for k in pre_ids:
            factor[senders == k] = tsodyks_weights(times[senders == k])
    out["event_times"] = times
    out["event_weights"] = factor[:, None] * counts[np.searchsorted(pre_ids, senders)]
    sic = np.zeros((n_astro, n_post))
    conns = nest.GetConnections(astro, post)
    np.add.at(sic, (np.searchsorted(astro.tolist(), conns.source), np.searchsorted(post.tolist(), conns.target)),
              np.asarray(conns.weight, dtype=float))
    out["sic_weights"], out["ip3_0"], out["sic_delay_ms"] = sic, np.array(ip3_0), np.array(sic_delay)
    return out


def nest_traces(case: str) -> dict:
    """``run_nest`` in a child process (NEST holds its kernel for the whole process)."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "nest.npz")
        p = subprocess.run([sys.executable, __file__, "--nest", case, "--nest-out", path],
                           capture_output=True, text=True, timeout=1200)
        if p.returncode:
            raise RuntimeError(f"NEST failed on {case}: {p.stderr[-3000:]}")
        with np.load(path) as f:
            return dict(f)


# ---------------------------------------------------------------- spikemem

def spikemem_traces(case: str, nest: dict, backend: str = "numba", method: str = "rk4") -> dict:
    """The case in spikemem on ``backend``, replaying NEST's input events
    (one source cell per event, its weights onto the astrocytes), on NEST's
    recording grid; arrays (samples, cells) in ms, uM and pA."""
    import spikemem as sm
    from brian2 import ms, pA, umolar
    from spikemem.glia import LiRinzel, sic_synapse
    duration = CASES[case][0]
    weights, sic = nest["event_weights"], nest["sic_weights"]
    n_astro, n_post = sic.shape
    net = sm.Network(dt=DT_MS * ms, seed=0)
    net.spike_source("inp", len(nest["event_times"]), nest["event_times"] * 1e-3, ids=np.arange(weights.shape[0]))
    net.population("astro", n_astro, LiRinzel(method=method, delta_IP3=DELTA_IP3 * umolar),
                   init={"IP3": float(nest["ip3_0"]) * umolar})
    net.population("post", n_post, sm.AdEx(sic=True))
    net.connect("inp", "astro", sm.FromMatrix(weights), delay=INPUT_DELAY_MS * ms, receptor="ip3")
    net.connect("astro", "post", sm.FromMatrix(sic * float(pA)), receptor="sic", synapse=sic_synapse(),
                delay=float(nest["sic_delay_ms"]) * ms)
    every = int(round(RECORD_MS / DT_MS))
    net.record_state("astro", ["IP3", "Ca_astro", "h_IP3R"], every=every)
    net.record_state("post", ["I_SIC"], every=every)
    result = sm.simulate(net, duration * 1e-3, backend=backend, progress=False)
    out = {v: result.traces[f"astro.{v}"].values / 1e-3 for v in ("IP3", "Ca_astro")}     # mM -> uM
    out["h_IP3R"] = result.traces["astro.h_IP3R"].values
    out["I_SIC"] = result.traces["post.I_SIC"].values / 1e-12
    out["t"] = result.traces["astro.IP3"].times * 1e3
    return out


def differences(nest: dict, ours: dict) -> dict:
    """Max and RMS differences per variable on the samples both have (NEST's
    first sample is at 1 ms, spikemem's at 0). A sample at the time an input
    arrives holds NEST's state after the jump of IP3 and spikemem's before it
    (NEST records a step's state after its deliveries, spikemem before): the
    jump is added to spikemem's IP3 there."""
    t = np.intersect1d(np.round(nest["t"], 6), np.round(ours["t"], 6))
    jumps = np.zeros((t.size, nest["event_weights"].shape[1]))
    at = np.round(nest["event_times"] + INPUT_DELAY_MS, 6)
    hit = np.isin(at, t)
    np.add.at(jumps, np.searchsorted(t, at[hit]), DELTA_IP3 * nest["event_weights"][hit])
    rows = {"samples": int(t.size), "samples_at_an_arrival": int(np.count_nonzero(jumps.any(axis=1)))}
    for v in VARIABLES:
        a = nest[v][np.isin(np.round(nest["t"], 6), t)]
        b = ours[v][np.isin(np.round(ours["t"], 6), t)] + (jumps if v == "IP3" else 0.0)
        d = b - a
        rows[v] = {"max_abs": float(np.max(np.abs(d))), "rms": float(np.sqrt(np.mean(d ** 2))),
                   "range": [float(a.min()), float(a.max())]}
    return rows


def compare(case: str, methods=("rk4",), backend: str = "numba") -> list:
    """One row per integration method: the case's differences to NEST."""
    nest = nest_traces(case)
    rows = []
    for method in methods:
        start = time.perf_counter()
        ours = spikemem_traces(case, nest, backend, method)
        rows.append({"case": case, "duration_s": CASES[case][0] / 1000, "backend": backend, "method": method,
                     "dt_ms": DT_MS, "sic_delay_ms": float(nest["sic_delay_ms"]),
                     "astrocytes": int(nest["sic_weights"].shape[0]),
                     "inputs": int(nest["event_times"].size), "run_s": round(time.perf_counter() - start, 2),
                     "differences": differences(nest, ours)})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="JSON file to write")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--methods", default="rk4", help="state updaters to measure, comma-separated")
    ap.add_argument("--nest", help=argparse.SUPPRESS)
    ap.add_argument("--nest-out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.nest:
        np.savez(args.nest_out, **run_nest(args.nest))
        return
    rows = []
    for case in args.cases.split(","):
        for row in compare(case, args.methods.split(",")):
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        from importlib.metadata import version

        from record import label, write_run_set
        write_run_set(args.out, "astrocytes", rows, label=label(argv, "--out"), nest=version("nest-simulator"),
                      dt_ms=DT_MS, record_ms=RECORD_MS, delta_IP3_uM=DELTA_IP3)

if __name__ == "__main__":
    main()
