"""Stimberg et al.'s recurrent neuron-glia network (their figure 6) in spikemem and in Brian2's C++ standalone mode.

    python benchmarks/astro_coba.py --examples BRIAN2/examples/frompapers/Stimberg_et_al_2018 \
        --duration 4 --out benchmarks/results/astrocytes/04-coba.json

Stimberg, Goodman, Brette and De Pitta (2019), example 6: a COBA network of
3200 excitatory and 800 inhibitory conductance-based LIF neurons (dt 0.1 ms,
Euler) whose 1.28 M synapses release glutamate (``Y_S``) with short-term
depression and facilitation, and whose excitatory synapses are modulated by
the gliotransmitter ``G_A`` of 3200 G-ChI astrocytes (rk4): each excitatory
synapse sends its ``Y_S`` to the astrocyte that covers its postsynaptic
neuron's position and reads that astrocyte's ``G_A`` (two summed
projections over 640 k synapses), an astrocyte releases gliotransmitter when
its calcium first crosses ``C_Theta`` (``threshold='C>C_Theta'``,
``refractory='C>C_Theta'``) and exchanges IP3 with the astrocytes within
75 um (gap junctions). The external current steps 1.0, 1.2, 1.0, 1.0 every
2 s (a signal, spikemem's TimedArray).

Brian2 runs the authors' script itself (model and run part, plotting
stripped, the device's build directory in a temporary folder, the sizes and
duration substituted); spikemem runs the same model built from its own
pieces. The connectivity is random in both, drawn by each; the astrocyte
that covers a synapse and the gap junctions follow from the positions, as
the script computes them. Compared: mean rates of the excitatory and
inhibitory neurons per stimulus phase, the CV of their interspike intervals,
the astrocytes' release events (count, rate per phase) and a summary of the
population rate in 1 ms bins. Timed: Brian2's run phase as its C++ code
measures it (``device._last_run_time``), its code generation and compilation
apart; spikemem's run after a first short run that compiles the kernel.

The astrocytes take 10 ms steps in both, as in the script (spikemem:
``population(dt=...)``); the synapses' clock-driven glutamate and receptor
occupancy follow the neurons' 0.1 ms (spikemem's numba kernel integrates them
exactly when they are read, see the performance page).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import tempfile
import time

import numpy as np

#: the script's sizes; ``--scale`` multiplies them
N_E, N_I, N_A = 3200, 800, 3200
STIMULUS = (1.0, 1.2, 1.0, 1.0)
PHASE_S = 2.0
SIZE_M = 3.75e-3
GAP_M = 75e-6
#: the script's astrocytes' time step (s); their sums and gliotransmitter follow it
ASTROCYTE_DT = 10e-3
#: the script's seed (its Brian2 random numbers); spikemem's network draws with its own
SEED = 28371
SCRIPT = "example_6_COBA_with_astro.py"

NEURON_EQUATIONS = """
dv/dt = (g_l*(E_l - v) + g_e*(E_e - v) + g_i*(E_i - v) + I_ex*stimulus)/C_m : volt (unless refractory)
dg_e/dt = -g_e/tau_e : siemens
dg_i/dt = -g_i/tau_i : siemens
E_l : volt (constant)
g_l : siemens (constant)
E_e : volt (constant)
E_i : volt (constant)
C_m : farad (constant)
tau_e : second (constant)
tau_i : second (constant)
I_ex : amp (constant)
V_th : volt (constant)
"""

#: the script's astrocyte: the G-ChI model (spikemem.glia's GChI) with gap-junction
#: coupling, gliotransmitter resources x_A and extracellular gliotransmitter G_A
ASTROCYTE_EQUATIONS = """
dGamma_A/dt = O_N*Y_S*(1 - clip(Gamma_A, 0, 1)) - Omega_N*(1 + zeta*C/(C + K_KC))*clip(Gamma_A, 0, 1) : 1
dI/dt = J_beta + J_delta - J_3K - J_5P + J_coupling : mmolar
J_beta = O_beta*Gamma_A : mmolar/second
J_delta = O_delta/(1 + I/kappa_delta)*C**2/(C**2 + K_delta**2) : mmolar/second
J_3K = O_3K*C**4/(C**4 + K_D**4)*I/(I + K_3K) : mmolar/second
J_5P = Omega_5P*I : mmolar/second
J_coupling : mmolar/second
dC/dt = J_r + J_l - J_p : mmolar
dh/dt = (h_inf - h)/tau_h : 1
J_r = Omega_C*m_inf**3*h**3*(C_T - (1 + rho_A)*C) : mmolar/second
J_l = Omega_L*(C_T - (1 + rho_A)*C) : mmolar/second
J_p = O_P*C**2/(C**2 + K_P**2) : mmolar/second
m_inf = I/(I + d_1)*C/(C + d_5) : 1
h_inf = Q_2/(Q_2 + C) : 1
tau_h = 1/(O_2*(Q_2 + C)) : second
Q_2 = d_2*(I + d_1)/(I + d_3) : mmolar
dx_A/dt = Omega_A*(1 - x_A) : 1
dG_A/dt = -Omega_e*G_A : mmolar
Y_S : mmolar
"""

GLIO_RELEASE = "G_A += rho_e*G_T*U_A*x_A\nx_A -= U_A*x_A"

GAP_JUNCTION = """w : 1
delta_I = I_post - I_pre : mmolar
J_coupling_post = -(1 + tanh((abs(delta_I) - I_Theta)/omega_I))*sign(delta_I)*F/2 : mmolar/second (summed)
F : mmolar/second (constant)
I_Theta : mmolar (constant)
omega_I : mmolar (constant)
"""


def parameters():
    """The script's parameters (Brian2 quantities), by its names."""
    from brian2 import mV, mmolar, ms, nS, pA, pF, second, umolar
    return dict(
        neuron=dict(E_l=-60 * mV, g_l=9.99 * nS, E_e=0 * mV, E_i=-80 * mV, C_m=198 * pF, tau_e=5 * ms,
                    tau_i=10 * ms, I_ex=100 * pA, V_th=-50 * mV),
        tau_r=5 * ms,
        synapse=dict(rho_c=0.005, Y_T=500. * mmolar, Omega_c=40 / second, U_0__star=0.6, Omega_f=3.33 / second,
                     Omega_d=2.0 / second, O_G=1.5 / umolar / second, Omega_G=0.5 / (60 * second), alpha=0.0),
        w_e=0.05 * nS, w_i=1.0 * nS,
        astrocyte=dict(O_P=0.9 * umolar / second, K_P=0.05 * umolar, C_T=2 * umolar, rho_A=0.18,
                       Omega_C=6 / second, Omega_L=0.1 / second, d_1=0.13 * umolar, d_2=1.05 * umolar,
                       O_2=0.2 / umolar / second, d_3=0.9434 * umolar, d_5=0.08 * umolar,
                       O_beta=0.5 * umolar / second, O_N=0.3 / umolar / second, Omega_N=0.5 / second,
                       K_KC=0.5 * umolar, zeta=10, O_delta=1.2 * umolar / second, kappa_delta=1.5 * umolar,
                       K_delta=0.1 * umolar, Omega_5P=0.05 / second, K_D=0.7 * umolar, K_3K=1.0 * umolar,
                       O_3K=4.5 * umolar / second, C_Theta=0.5 * umolar, Omega_A=0.6 / second, U_A=0.6,
                       G_T=200 * mmolar, rho_e=6.5e-4, Omega_e=60 / second),
        gap=dict(F=0.09 * umolar / second, I_Theta=0.3 * umolar, omega_I=0.05 * umolar))


def sizes(scale: float = 1.0) -> tuple:
    """(N_e, N_i, N_a) at ``scale`` of the script's."""
    return tuple(max(1, int(round(n * scale))) for n in (N_E, N_I, N_A))


def positions(n_e: int, n_a: int) -> tuple:
    """The script's positions (m): excitatory neurons' (x, y) on their grid (the
    inhibitory neurons' are 0) and the astrocytes' on theirs, with its arithmetic."""
    n_rows = int(np.sqrt(n_e))
    n_cols = n_e // n_rows
    grid = SIZE_M / n_cols
    i = np.arange(n_e)
    x_e = (i // n_rows) * grid - n_rows / 2.0 * grid
    y_e = (i % n_rows) * grid - n_cols / 2.0 * grid
    n_rows_a = int(np.sqrt(n_a))
    n_cols_a = n_a / n_rows_a
    grid_a = SIZE_M / n_rows_a
    k = np.arange(n_a)
    x_a = (k // n_rows_a) * grid_a - n_rows_a / 2.0 * grid_a
    y_a = (k % n_rows_a) * grid_a - n_cols_a / 2.0 * grid_a
    return x_e, y_e, x_a, y_a


def covering_astrocyte(x, y, n_a: int) -> np.ndarray:
    """The script's ``astrocyte_index`` of a synapse onto a neuron at (x, y):
    ``int(x/grid_dist) + N_cols_a*int(y/grid_dist)``, truncated to an integer
    (it can fall outside the astrocytes: such a synapse has none)."""
    n_rows_a = int(np.sqrt(n_a))
    n_cols_a = n_a / n_rows_a
    grid_a = SIZE_M / n_rows_a
    return np.trunc(np.trunc(x / grid_a) + n_cols_a * np.trunc(y / grid_a)).astype(np.int64)


def random_pairs(n_pre: int, n_post: int, p: float, rng) -> np.ndarray:
    """(n, 2) pairs (i, j), each present with probability ``p``, in (i, j) order."""
    mask = rng.random((n_pre, n_post)) < p
    return np.argwhere(mask)


def network(scale: float = 1.0, seed: int = 0, dt=None, record_astrocytes=True, astrocyte_dt=ASTROCYTE_DT):
    """Example 6 as a spikemem ``Network`` (see the module text): (net, exc projection)."""
    import spikemem as sm
    from brian2 import ms, second

    p = parameters()
    n_e, n_i, n_a = sizes(scale)
    n = n_e + n_i
    rng = np.random.default_rng(seed)
    net = sm.Network(dt=0.1 * ms if dt is None else dt, seed=seed)
    net.signal("stimulus", list(STIMULUS), dt=PHASE_S * second)
    neuron = sm.NeuronModel(NEURON_EQUATIONS, threshold="v > V_th", reset="v = E_l", refractory=p["tau_r"],
                            method="euler", params=p["neuron"], receptors={"exc": "g_e", "inh": "g_i"},
                            name="coba")
    E_l, V_th = float(p["neuron"]["E_l"]), float(p["neuron"]["V_th"])
    neurons = net.population("neurons", n, neuron, init=dict(
        v=E_l + rng.random(n) * (V_th - E_l), g_e=rng.random(n) * float(p["w_e"]),
        g_i=rng.random(n) * float(p["w_i"])))
    exc, inh = neurons[:n_e], neurons[n_e:]

    # the script's synapse is spikemem's gliotransmitter synapse (u_S, x_S event-driven),
    # x_S starting at 1, delivering its released resources r_S onto the conductance
    glio = sm.gliotransmitter_synapse(event_driven=True, **p["synapse"])

    def synapse(target):
        return dataclasses.replace(glio, on_pre=f"{glio.on_pre}\n{target}_post += w*r_S", init={"x_S": 1.0})

    exc_pairs = random_pairs(n_e, n, 0.05, rng)
    exc_syn = net.connect(exc, neurons, sm.FromList(exc_pairs), weight=p["w_e"], synapse=synapse("g_e"),
                          receptor="exc", name="exc_syn")
    net.connect(inh, neurons, sm.FromList(random_pairs(n_i, n, 0.2, rng)), weight=p["w_i"],
                synapse=synapse("g_i"), receptor="inh", name="inh_syn")

    astro = sm.NeuronModel(ASTROCYTE_EQUATIONS + _constants(p["astrocyte"]), threshold="C > C_Theta",
                           refractory="C > C_Theta", reset=GLIO_RELEASE, method="rk4", params=p["astrocyte"],
                           name="gchi_release")
    net.population("astrocytes", n_a, astro, init=dict(C=1e-5, h=0.9, I=1e-5, x_A=1.0),
                   dt=None if astrocyte_dt is None else astrocyte_dt * second)

    # each excitatory synapse <-> the astrocyte covering its postsynaptic neuron
    x_e, y_e, x_a, y_a = positions(n_e, n_a)
    x = np.concatenate([x_e, np.zeros(n_i)])
    y = np.concatenate([y_e, np.zeros(n_i)])
    covering = covering_astrocyte(x[exc_pairs[:, 1]], y[exc_pairs[:, 1]], n_a)
    covered = np.flatnonzero((covering >= 0) & (covering < n_a))
    a = covering[covered]
    net.connect("astrocytes", exc_syn, sm.FromList(np.column_stack([a, covered])),
                synapse=sm.astrocyte_to_synapses(),
                name="ecs_astro_to_syn")
    # Y_S_pre/N_incoming: each synapse's share 1/N of its astrocyte's N synapses
    n_incoming = np.bincount(a, minlength=n_a)
    net.connect(exc_syn, "astrocytes", sm.FromList(np.column_stack([covered, a])),
                synapse=sm.SynapseModel("Y_S_post = share*Y_S_pre : mmolar (summed)\nshare : 1 (constant)",
                                        name="synapses_to_astrocyte_mean"),
                params={"share": 1.0 / n_incoming[a]}, name="ecs_syn_to_astro")
    # IP3 gap junctions between astrocytes less than 75 um apart
    d = np.hypot(x_a[:, None] - x_a[None, :], y_a[:, None] - y_a[None, :])
    gap_pairs = np.argwhere((d < GAP_M) & ~np.eye(n_a, dtype=bool))
    net.connect("astrocytes", "astrocytes", sm.FromList(gap_pairs), weight=1.0, receptor="J_coupling",
                synapse=sm.SynapseModel(GAP_JUNCTION, params=p["gap"], name="gap_junction"),
                name="astro_to_astro")
    net.record_spikes("neurons")
    if record_astrocytes:
        net.record_spikes("astrocytes")
    return net, exc_syn


def _constants(params: dict) -> str:
    from brian2.units.fundamentalunits import get_dimensions
    lines = []
    for k, v in params.items():
        dim = get_dimensions(v)
        unit = "1" if dim.is_dimensionless else dim._str_representation(python_code=True)
        lines.append(f"{k} : {unit} (constant)")
    return "\n".join(lines) + "\n"


def run_spikemem(duration: float, scale: float = 1.0, backend: str = "numba", seed: int = 0, warmup_s=0.001,
                 **options) -> dict:
    """Example 6 on spikemem's ``backend``: spikes, build and run times.
    ``compile_s``: building the network and the kernel, and a first run of
    ``warmup_s``; ``run_s`` times the rest (``duration - warmup_s``), scaled to
    ``duration``."""
    import spikemem as sm

    t0 = time.perf_counter()
    net, _ = network(scale, seed)
    sim = sm.simulation(net, backend, progress=False, **options)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run(warmup_s)
    compile_s = build_s + time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run(duration - warmup_s)
    run_s = (time.perf_counter() - t0) * duration / (duration - warmup_s)
    result = sim.result()
    n_e = sizes(scale)[0]
    neurons = result.spikes["neurons"]
    astro = result.spikes["astrocytes"]
    exc = neurons.ids < n_e
    return {"exc": (neurons.times[exc], neurons.ids[exc]), "inh": (neurons.times[~exc], neurons.ids[~exc] - n_e),
            "astro": (astro.times, astro.ids), "build_s": build_s, "compile_s": compile_s, "run_s": run_s,
            "synapses": int(sum(p.n_synapses for p in sim.built.projections if p.name in ("exc_syn", "inh_syn")))}


def authors_script(examples: str, duration: float, scale: float = 1.0, device: str = "cpp_standalone") -> dict:
    """The authors' example 6, model and run part, on Brian2's ``device``
    ("cpp_standalone", its build directory in a temporary folder, or "runtime",
    numpy): spikes and times (``run_s`` the C++ run phase as Brian2 measures it)."""
    import brian2

    with open(os.path.join(examples, SCRIPT)) as f:
        source = f.read()
    model = source.split("# Plot of Spiking activity")[0].rsplit("####", 1)[0]
    model = model.replace("import plot_utils as pu", "")
    model = model.replace("run(duration, report='text')", "run(duration)")
    n_e, n_i, n_a = sizes(scale)
    for old, new in (("N_e = 3200", f"N_e = {n_e}"), ("N_i = 800", f"N_i = {n_i}"), ("N_a = 3200", f"N_a = {n_a}"),
                     ("duration = 8*second", f"duration = {duration!r}*second")):
        if old not in model:
            raise RuntimeError(f"{SCRIPT}: expected {old!r}")
        model = model.replace(old, new)
    build_dir = tempfile.mkdtemp(prefix="astro_coba_")
    try:
        if device == "cpp_standalone":
            model = model.replace("set_device('cpp_standalone', directory=None)",
                                  f"set_device('cpp_standalone', directory={build_dir!r})")
        else:
            model = model.replace("set_device('cpp_standalone', directory=None)", "")
            brian2.prefs.codegen.target = "numpy"
        brian2.start_scope()
        scope = {}
        t0 = time.perf_counter()
        exec(compile(model, SCRIPT, "exec"), scope)
        total_s = time.perf_counter() - t0
        if device == "cpp_standalone":
            run_s = float(brian2.get_device()._last_run_time)
        else:
            run_s = total_s
        out = {name: (np.asarray(scope[mon].t / brian2.second, float), np.asarray(scope[mon].i, np.int64))
               for name, mon in (("exc", "exc_mon"), ("inh", "inh_mon"), ("astro", "ast_mon"))}
        out.update(run_s=run_s, total_s=total_s, compile_s=total_s - run_s,
                   synapses=int(len(scope["exc_syn"]) + len(scope["inh_syn"])))
    finally:
        if device == "cpp_standalone":
            brian2.device.reinit()
            brian2.device.activate()
            brian2.set_device("runtime")
        shutil.rmtree(build_dir, ignore_errors=True)
    return out


def phases(duration: float) -> list:
    """The stimulus phases within ``duration``: [(start, stop, stimulus)]."""
    out = []
    for k, s in enumerate(STIMULUS):
        start, stop = k * PHASE_S, min((k + 1) * PHASE_S, duration)
        if start < duration:
            out.append((start, stop, s))
    return out


def cv_isi(times: np.ndarray, ids: np.ndarray) -> float:
    """Mean over neurons with >= 3 spikes of their interspike intervals' CV (NaN if none)."""
    order = np.lexsort((times, ids))
    t, i = times[order], ids[order]
    cvs = []
    for n in np.unique(i):
        isi = np.diff(t[i == n])
        if isi.size >= 2 and isi.mean() > 0:
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


def statistics(spikes: dict, duration: float, scale: float = 1.0) -> dict:
    """The compared statistics of one run's ``spikes`` ({"exc", "inh", "astro": (times, ids)})."""
    n_e, n_i, n_a = sizes(scale)
    out = {}
    for name, n in (("exc", n_e), ("inh", n_i)):
        t, i = spikes[name]
        out[name] = {"rate_hz": [float(np.sum((t >= a) & (t < b)) / n / (b - a)) for a, b, _ in phases(duration)],
                     "cv_isi": cv_isi(t, i), "spikes": int(t.size)}
    t, i = spikes["astro"]
    out["astro"] = {"releases": int(t.size), "releasing": int(np.unique(i).size),
                    "rate_hz": [float(np.sum((t >= a) & (t < b)) / n_a / (b - a)) for a, b, _ in phases(duration)]}
    t = np.concatenate([spikes["exc"][0], spikes["inh"][0]])
    counts, _ = np.histogram(t, bins=int(round(duration / 1e-3)), range=(0, duration))
    rate = counts / (n_e + n_i) / 1e-3
    out["population_rate"] = {"mean_hz": float(rate.mean()), "std_hz": float(rate.std()),
                              "p50_hz": float(np.percentile(rate, 50)), "p95_hz": float(np.percentile(rate, 95)),
                              "max_hz": float(rate.max())}
    return out


#: how far spikemem's statistics may lie from the authors' (different random networks):
#: relative and absolute, both allowed
TOLERANCES = {"rate_hz": (0.2, 0.5), "cv_isi": (0.0, 0.15), "astro_rate_hz": (0.5, 0.05),
              "population_rate": (0.25, 0.5)}


def row(simulator: str, run: dict, duration: float, scale: float, **fields) -> dict:
    """One row of the JSON: a simulator's run, its times and its statistics."""
    return {"case": "example_6", "simulator": simulator, "duration_s": duration, "scale": scale,
            "synapses": run["synapses"], **fields, "run_s": round(run["run_s"], 2),
            "compile_s": round(run["compile_s"], 2), "statistics": statistics(run, duration, scale)}


def within(value: float, reference: float, tolerance: tuple) -> bool:
    """Whether ``value`` is within ``tolerance`` (relative, absolute) of ``reference``
    (NaN only of NaN)."""
    rel, abs_ = tolerance
    if np.isnan(value) or np.isnan(reference):     # a CV of no neuron with three spikes
        return bool(np.isnan(value) and np.isnan(reference))
    return bool(abs(value - reference) <= max(rel * abs(reference), abs_))


def agreement(ours: dict, ref: dict) -> dict:
    """{statistic: whether ours is within TOLERANCES of the reference's} of two rows' statistics."""
    out = {}
    for pop in ("exc", "inh"):
        out[f"{pop}.rate_hz"] = all(within(a, b, TOLERANCES["rate_hz"])
                                    for a, b in zip(ours[pop]["rate_hz"], ref[pop]["rate_hz"]))
        out[f"{pop}.cv_isi"] = within(ours[pop]["cv_isi"], ref[pop]["cv_isi"], TOLERANCES["cv_isi"])
    out["astro.rate_hz"] = all(within(a, b, TOLERANCES["astro_rate_hz"])
                               for a, b in zip(ours["astro"]["rate_hz"], ref["astro"]["rate_hz"]))
    out["population_rate.mean_hz"] = within(ours["population_rate"]["mean_hz"], ref["population_rate"]["mean_hz"],
                                            TOLERANCES["population_rate"])
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", required=True, help="brian2's examples/frompapers/Stimberg_et_al_2018")
    parser.add_argument("--out", default="benchmarks/results/astrocytes/04-coba.json")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds (the script's is 8)")
    parser.add_argument("--scale", type=float, default=1.0, help="of the script's 3200/800/3200 cells")
    parser.add_argument("--threads", default="1", help="numba threads (a number or 'auto')")
    parser.add_argument("--strict-float", choices=("yes", "no"), default="no",
                        help="numba's strict IEEE rounding (no: fast-math flags, as Brian2's C++ defaults)")
    parser.add_argument("--reference", default="cpp_standalone", choices=("cpp_standalone", "runtime"))
    args = parser.parse_args(argv)
    threads = args.threads if args.threads == "auto" else int(args.threads)
    strict = args.strict_float == "yes"
    ref = authors_script(args.examples, args.duration, args.scale, args.reference)
    ours = run_spikemem(args.duration, args.scale, threads=threads, strict_float=strict)
    rows = [row(f"brian2-{args.reference}", ref, args.duration, args.scale, astrocyte_dt_ms=10.0),
            row("spikemem-numba", ours, args.duration, args.scale, astrocyte_dt_ms=ASTROCYTE_DT * 1e3,
                threads=threads, strict_float=strict, build_s=round(ours["build_s"], 2))]
    from record import label, write_run_set
    write_run_set(args.out, "astrocytes", rows, label=label(argv, "--out"),
                  speedup=round(ref["run_s"] / ours["run_s"], 2), phases=phases(args.duration),
                  tolerances=TOLERANCES, agreement=agreement(rows[1]["statistics"], rows[0]["statistics"]))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
