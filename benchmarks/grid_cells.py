"""The grid-cell continuous attractor network (models/grid_cells) as a path integrator.

    python benchmarks/grid_cells.py integration --out benchmarks/results/grid_cells/01-integration.json
    python benchmarks/grid_cells.py tanni --n 64 --out ...     # 2 hours of the Tanni trajectory
    python benchmarks/grid_cells.py memory --out ...           # build time, peak RSS (fresh processes)
    python benchmarks/grid_cells.py speed --out ...            # ours against the canns peer
    python benchmarks/grid_cells.py gridscores --units FILE.npz --out ...

integration: the decoding error on the Sargolini trajectory (600 s, resampled at
20 ms, which bridges its gaps with straight lines) at 60, 300 and 600 s, for the
periodic rate network (n = 128, the headline), the aperiodic one, the spiking
one and smaller sheets. The aperiodic sheet is read twice: its whole sheet and
its central half (away from the fading envelope). ``--save-units`` keeps the
headline run's unit activities for ``gridscores``.
tanni: the error over the 2-hour Tanni trajectory (drift), at 60 s, 10 min,
30 min, 1 h and 2 h.
memory: build time and peak resident memory of the n = 128 network, rate and
spiking, built for 60 s, 600 s (Sargolini) and 2 h (Tanni) trajectories and
run for a second, each in a fresh process.
speed: ours (numba, one thread) at n = 128, then ours and canns on the same
60 s of Sargolini velocity at n = 40 and 64 (gamma = 1.1 beta for both, the
ratio at which canns forms a pattern), both decoded by the same readout (the
pattern's phase, a general 2x2 map fitted on the first 30 s).
gridscores: rate maps and grid scores of the headline run's units.
Times in seconds, distances in metres.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from record import label, write_run_set

from spikemem.models.grid_cells import readout
from spikemem.models.grid_cells.gridscore import grid_scores, rate_map
from spikemem.models.grid_cells.integrator import PathIntegrator
from spikemem.models.grid_cells.network import Parameters, can_network
from spikemem.models.grid_cells.trajectory import sargolini, tanni

EVERY = 0.02
#: a mark counts as reached this close after the trajectory's end, s (the Sargolini recording lasts 599.64 s)
REACH = 1.0
#: the grid score above which a unit counts as a grid cell
GRID_THRESHOLD = 0.3
#: integration's variants: (name, n, boundary, spiking)
VARIANTS = {"periodic-rate": (128, "periodic", False), "aperiodic-rate": (128, "aperiodic", False),
            "periodic-spiking": (128, "periodic", True), "periodic-rate-64": (64, "periodic", False),
            "periodic-rate-96": (96, "periodic", False)}


def _emit(row: dict) -> dict:
    print(json.dumps(row), flush=True)
    return row


def _errors(result, at) -> dict:
    """error_<label> (m) at each time of ``at`` (label -> seconds) that the run reached (the
    frame nearest it)."""
    return {f"error_{name}_m": result.error_at(s) for name, s in at.items() if s <= result.t[-1] + REACH}


def _path(trajectory, seconds):
    path = trajectory.resample(EVERY)
    return path if seconds is None else path.slice(path.t[0], path.t[0] + seconds + EVERY / 2).from_zero()


def _fit_seconds(path, wanted: float) -> float:
    return min(wanted, path.duration / 2)


def _row(name, result, at) -> dict:
    p = result.parameters
    return {"variant": name, "n": p.n, "boundary": p.boundary, "spiking": p.spiking,
            **_errors(result, at), "mean_error_m": float(result.error.mean()),
            "gain_m_per_neuron": result.fit.gain, "duration_s": float(result.t[-1]),
            "build_s": result.timings["build_s"], "s_per_simulated_s": result.timings["s_per_simulated_s"]}


def integration(args) -> list:
    path = _path(sargolini(), args.seconds)
    fit = _fit_seconds(path, 60.0)
    at = {"60s": 60, "300s": 300, "600s": 600}
    rows = []
    for name in args.variants.split(","):
        n, boundary, spiking = VARIANTS[name]
        p = Parameters(n=args.n or n, boundary=boundary, spiking=spiking)
        if boundary == "aperiodic":
            rows.append(_emit(aperiodic(p, path, fit, at)))
            continue
        result = PathIntegrator(p, "numba").run(path, every=EVERY, fit_seconds=fit)
        rows.append(_emit(_row(name, result, at)))
        if name == "periodic-rate" and args.save_units:
            np.savez(args.save_units, units=result.units, true_xy=result.true_xy, t=result.t,
                     box=np.asarray(path.box, dtype=float), n=p.n, unit_ids=result.unit_ids)
    return rows


def _crop(sheet, n):
    """The central half of an (n, n) sheet."""
    return sheet[n // 4: n - n // 4, n // 4: n - n // 4]


def aperiodic(p: Parameters, path, fit_seconds, at) -> dict:
    """The aperiodic sheet read from its whole sheet and from its central half;
    also how much the pattern's wave vectors and amplitude change over the run."""
    from spikemem.backends import simulation

    n, steps = p.n, int(round(EVERY / p.dt))
    t0 = time.perf_counter()
    sim = simulation(can_network(path.resample(p.dt).velocity(), p), "numba", progress=False)
    sim.run(p.settle, progress=False)
    sheet = sim.get("sheet", "s").reshape(n, n)
    views = {"whole": lambda s: s, "centre": lambda s: _crop(s, n)}
    waves = {k: readout.find_wave_vectors(v(sheet), periodic=False) for k, v in views.items()}
    frames = len(path)
    phases = {k: np.empty((frames, 3)) for k in views}
    amplitude = np.empty(frames)
    for k in range(frames):
        if k:
            sim.run(steps * p.dt, progress=False)
            sheet = sim.get("sheet", "s").reshape(n, n)
        for name, view in views.items():
            phases[name][k] = readout.pattern_phase(view(sheet), waves[name])
        amplitude[k] = _crop(sheet, n).std()
    ran = time.perf_counter() - t0
    end_waves = readout.find_wave_vectors(_crop(sheet, n), periodic=False)
    row = {"variant": "aperiodic-rate", "n": n, "boundary": p.boundary, "spiking": p.spiking}
    for name in views:
        moved = readout.displacement(phases[name], waves[name])
        fit = readout.fit_gain(moved, path.xy, path.t, fit_seconds)
        error = readout.position_error(fit.position(moved), path.xy)
        prefix = "" if name == "whole" else "centre_"
        row.update({f"{prefix}error_{k}_m": float(error[np.argmin(np.abs(path.t - s))])
                    for k, s in at.items() if s <= path.t[-1] + REACH})
        row.update({f"{prefix}mean_error_m": float(error.mean()), f"{prefix}gain_m_per_neuron": fit.gain})
    period = 2 * np.pi / np.linalg.norm(waves["centre"], axis=1)
    end_period = 2 * np.pi / np.linalg.norm(end_waves, axis=1)
    row.update({"period_start_neurons": period.round(2).tolist(), "period_end_neurons": end_period.round(2).tolist(),
                "centre_std_start": float(amplitude[0]), "centre_std_end": float(amplitude[-1]),
                "duration_s": float(path.t[-1]), "s_per_simulated_s": sim.timings["run_s"] / (path.t[-1] + p.settle),
                "wall_s": ran, "peak_rss_mib": _peak_mib()})
    return row


def drift(args) -> list:
    path = _path(tanni(), args.seconds)
    at = {"60s": 60, "10min": 600, "30min": 1800, "1h": 3600, "2h": 7200}
    p = Parameters(n=args.n or 64)
    result = PathIntegrator(p, "numba").run(path, every=EVERY, fit_seconds=_fit_seconds(path, 60.0))
    rows = [_emit({"n": p.n, "time": name, "t_s": float(result.t[np.argmin(np.abs(result.t - s))]),
                   "error_m": result.error_at(s),
                   "mean_error_so_far_m": float(result.error[result.t <= s].mean())})
            for name, s in at.items() if s <= result.t[-1] + REACH]
    return rows + [_emit({"n": p.n, "time": "summary", "duration_s": float(result.t[-1]),
                          "mean_error_m": float(result.error.mean()), "max_error_m": float(result.error.max()),
                          "gain_m_per_neuron": result.fit.gain,
                          "s_per_simulated_s": result.timings["s_per_simulated_s"], "peak_rss_mib": _peak_mib()})]


def _peak_mib() -> float:
    """This process's peak resident memory so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def probe(args) -> int:
    """(In a fresh process.) Build the network for ``--seconds`` of Sargolini and
    run it for one second; print build time and memory as one JSON line."""
    before = _rss_mib()
    path = _path(tanni() if args.seconds > 600 else sargolini(), args.seconds)
    p = Parameters(n=args.n or 128, spiking=args.spiking)
    from spikemem.backends import simulation

    t0 = time.perf_counter()
    velocity = path.velocity()          # one sample per frame, as the integrator holds it
    sim = simulation(can_network(velocity, p, velocity_dt=EVERY), "numba", progress=False)
    built = time.perf_counter() - t0
    after_build = _rss_mib()
    sim.run(1.0, progress=False)
    print(json.dumps({"n": p.n, "spiking": p.spiking, "trajectory_s": float(path.t[-1]), "build_s": built,
                      "signal_mib": velocity.nbytes / 2 ** 20, "rss_start_mib": before,
                      "rss_built_mib": after_build, "rss_end_mib": _rss_mib(),
                      "peak_rss_mib": _peak_mib()}))
    return 0


def memory(args) -> list:
    rows = []
    for spiking in (False, True):
        for seconds in (60, 600, 7200):
            command = [sys.executable, os.path.abspath(__file__), "probe", "--seconds", str(seconds),
                       "--n", str(args.n or 128)] + (["--spiking"] if spiking else [])
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            rows.append(_emit(json.loads(out.stdout.strip().splitlines()[-1])))
    return rows


def _decode(frames, true_xy, t, fit_seconds):
    """Our readout on frames (T, n, n): the error (T,) and the map, a general 2x2 fit."""
    waves = readout.find_wave_vectors(frames[0], periodic=True)
    moved = readout.displacement(readout.pattern_phase(frames, waves), waves)
    fit = readout.fit_gain(moved, true_xy, t, fit_seconds, linear=True)
    return readout.position_error(fit.position(moved), true_xy), fit


def _map(fit) -> dict:
    singular = np.linalg.svd(fit.matrix, compute_uv=False)
    return {"gain_m_per_neuron": fit.gain, "gain_anisotropy": float(singular[0] / singular[1]),
            "mirrored": fit.mirrored}


def speed(args) -> list:
    from grid_cells_peer import run_canns

    path = _path(sargolini(), args.seconds)
    fit = min(30.0, path.duration / 2)
    rows = []
    p = Parameters(n=128)
    result = PathIntegrator(p, "numba").run(path, every=EVERY, fit_seconds=fit)
    rows.append(_emit({"simulator": "spikemem-numba", "n": p.n, "gamma_ratio": p.gamma_ratio,
                       "s_per_simulated_s": result.timings["s_per_simulated_s"],
                       "error_end_m": float(result.error[-1]), "mean_error_m": float(result.error.mean())}))
    for n in [int(v) for v in args.sizes.split(",")]:
        p = Parameters(n=n, gamma_ratio=args.gamma_ratio)
        ours = PathIntegrator(p, "numba").run(path, every=EVERY, fit_seconds=fit)
        error, ours_fit = _decode_ours(ours, fit)
        row = {"simulator": "spikemem-numba", "n": n, "gamma_ratio": p.gamma_ratio,
               "s_per_simulated_s": ours.timings["s_per_simulated_s"],
               "error_end_m": float(error[-1]), "mean_error_m": float(error.mean()), **_map(ours_fit)}
        rows.append(_emit(row))
        try:
            peer = run_canns(path.velocity(), EVERY, n=n, gamma_over_beta=args.gamma_ratio,
                             duration=float(path.t[-1]), timeout=args.timeout)
        except Exception as error:          # noqa: BLE001 (the peer's failure is a result)
            rows.append(_emit({"simulator": "canns", "n": n, "error": f"{type(error).__name__}: {error}"}))
            continue
        frames = np.concatenate([peer["settled"][None], peer["activity"]]).astype(float)
        count = min(len(frames), len(path))
        error, peer_fit = _decode(frames[:count], path.xy[:count], path.t[:count], fit)
        rows.append(_emit({"simulator": "canns", "n": n, "gamma_ratio": args.gamma_ratio,
                           "s_per_simulated_s": peer["seconds_per_simulated_second"],
                           "error_end_m": float(error[-1]), "mean_error_m": float(error.mean()), **_map(peer_fit),
                           "canns_over_ours": peer["seconds_per_simulated_second"]
                           / ours.timings["s_per_simulated_s"]}))
    return rows


def _decode_ours(result, fit_seconds):
    fit = readout.fit_gain(result.displacement, result.true_xy, result.t, fit_seconds, linear=True)
    return readout.position_error(fit.position(result.displacement), result.true_xy), fit


def gridscores(args) -> list:
    if args.units:
        saved = np.load(args.units)
        units, true_xy, box, n = saved["units"], saved["true_xy"], tuple(saved["box"]), int(saved["n"])
        duration = float(saved["t"][-1])
    else:
        path = _path(sargolini(), args.seconds)
        p = Parameters(n=args.n or 128)
        result = PathIntegrator(p, "numba").run(path, every=EVERY, fit_seconds=_fit_seconds(path, 60.0))
        units, true_xy, box, n, duration = result.units, result.true_xy, path.box, p.n, float(result.t[-1])
    maps = rate_map(true_xy, units, box, bins=args.bins)
    scores = grid_scores(maps)
    return [_emit({"n": n, "units": int(units.shape[1]), "duration_s": duration, "bins": args.bins,
                   "median_grid_score": float(np.nanmedian(scores)), "mean_grid_score": float(np.nanmean(scores)),
                   "threshold": GRID_THRESHOLD, "fraction_above": float(np.mean(scores > GRID_THRESHOLD)),
                   "min_grid_score": float(np.nanmin(scores)), "max_grid_score": float(np.nanmax(scores))})]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["integration", "tanni", "memory", "speed", "gridscores", "probe"])
    ap.add_argument("--n", type=int, default=None, help="sheet side (each subcommand has its own default)")
    ap.add_argument("--seconds", type=float, default=None, help="the trajectory's first seconds (default: all; "
                    "speed: 60)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"integration: some of {list(VARIANTS)}")
    ap.add_argument("--save-units", default=None, help="integration: .npz for the headline run's units")
    ap.add_argument("--units", default=None, help="gridscores: units saved by integration --save-units")
    ap.add_argument("--bins", type=int, default=20)
    ap.add_argument("--sizes", default="40,64", help="speed: sheet sides run on both simulators")
    ap.add_argument("--gamma-ratio", type=float, default=1.1, help="speed: gamma / beta for both simulators")
    ap.add_argument("--timeout", type=float, default=3600, help="speed: seconds the canns peer may run")
    ap.add_argument("--spiking", action="store_true", help="probe: the spiking network")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        ap.error(f"--variants: unknown {sorted(unknown)}; known: {list(VARIANTS)}")
    if args.what == "speed" and args.seconds is None:
        args.seconds = 60.0
    if args.what == "probe":
        return probe(args)
    rows = {"tanni": drift}.get(args.what, globals()[args.what])(args)
    if args.out:
        write_run_set(args.out, f"grid_cells_{args.what}", rows, label=label(argv, "--out"),
                      parameters=dataclasses.asdict(Parameters()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
