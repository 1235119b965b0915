"""Brian2's CUBA benchmark on spikemem's numba engine and on Brian2 itself.

    python benchmarks/cuba.py --duration 5 [--n 4000] [--simulators numba,numba-threads,brian2-cython,brian2-cpp]
    python benchmarks/cuba.py --quick          # n=1000, 0.5 s: a smoke test
    python benchmarks/cuba.py --duration 5 --fast-math
    python benchmarks/cuba.py --duration 5 --repeat 3   # three interleaved rounds
    python benchmarks/cuba.py --duration 5 --fast-math --dtype float32

The network is ``spikemem.models.cuba`` (4000 LIF neurons, p = 0.02, dt = 0.1 ms,
exact integration, refractory 5 ms). Every simulator runs in a fresh subprocess
(``python -m spikemem.cli bench cuba --json``), which keeps Brian2's process-wide
state (device, preferences, caches) of one simulator away from the next.

``numba`` runs the engine on one thread (its default), as Brian2's targets run
by default; ``numba-threads`` is the same engine with ``--threads auto`` (one
thread per 1024 neurons, at most one per core: 2 threads for N = 4000 on 2 cores).

Floating point is IEEE-strict everywhere by default (spikemem's setting, under
which numba and Brian2 agree bit for bit). ``--fast-math`` compiles numba and
Brian2's C++ (cython, cpp_standalone) with fast-math flags instead, as
Brian2 does by default.

``--dtype float32`` runs every simulator in single precision (numba's dtype,
Brian2's ``core.default_float_dtype``); time stays float64 in both.

``--repeat N`` runs the simulators N times in turn (round 1: each once, then
round 2, ...), so that a slow spell of a shared machine falls on every
simulator alike; the ratios use each simulator's fastest run.

Output: one JSON row per simulator and round (as printed by ``spikemem bench``;
a failed simulator gives a row with "error"), then one row of ratios:

* ``run_speedup``: for each other simulator, its run_s / numba's run_s
  (> 1: numba's simulation loop is faster), from each one's fastest run;
* ``run_speedup_by_round``: the same within each round (with ``--repeat``);
* ``run_speedup_median``: the median of the rounds' ratios (with ``--repeat``):
  a run-to-run spread that differs between simulators (here cpp_standalone's
  run_s spanned 0.29-0.54 s, numba's 0.061-0.074 s) moves the ratio of
  fastest runs with one lucky run, the median only with most of them;
* ``rate_ratio``: numba's mean rate / the simulator's mean rate (1: same activity);
* ``numba_bytes_per_synapse``: numba engine static synapse storage per synapse.

``--out FILE`` also writes the run set as the documentation's performance page
reads it (``benchmarks/record.py``): one row per round with each simulator's
run_s and its ratio to numba's.

Exit status: 0 if every simulator ran, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from record import label, write_run_set

from spikemem.lowering import FLOAT_DTYPES

DEFAULT_SIMULATORS = "numba,numba-threads,brian2-cython,brian2-cpp"
BASELINE = "numba"
THREADED = "numba-threads"


def bench(simulator: str, duration: float, n: int, seed: int, timeout: float, fast_math: bool = False,
          dtype: str | None = None) -> dict:
    backend = BASELINE if simulator == THREADED else simulator
    cmd = [sys.executable, "-m", "spikemem.cli", "bench", "cuba", "--json",
           "--backend", backend, "--duration", repr(duration), "--n", str(n), "--seed", str(seed)]
    if simulator == BASELINE:
        cmd.append("--memory")
    if simulator == THREADED:
        cmd += ["--threads", "auto"]
    if fast_math:
        cmd.append("--fast-math")
    if dtype is not None:
        cmd += ["--dtype", dtype]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"simulator": simulator, "error": f"timed out after {timeout:g} s"}
    if proc.returncode == 0:
        for line in reversed(proc.stdout.strip().splitlines()):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "run_s" in row:
                return {**row, "simulator": simulator}
    err = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
    return {"simulator": simulator, "error": f"exit status {proc.returncode}: {err}"}


def ratios(rows: list[dict]) -> dict:
    ok = {r["simulator"]: r for r in rows if "error" not in r}
    out = {"ratios": True, "baseline": BASELINE, "run_speedup": {}, "rate_ratio": {},
           "numba_bytes_per_synapse": None}
    base = ok.get(BASELINE)
    if base is None:
        return out
    out["numba_bytes_per_synapse"] = base.get("bytes_per_synapse")
    for name, r in ok.items():
        if name == BASELINE:
            continue
        out["run_speedup"][name] = r["run_s"] / base["run_s"] if base["run_s"] > 0 else None
        rate = r.get("mean_rate_hz")
        out["rate_ratio"][name] = base["mean_rate_hz"] / rate if rate else None
    return out


def fastest(rows: list[dict]) -> list[dict]:
    """Per simulator (first-seen order), its row with the smallest run_s; a
    simulator that failed in any round gives its error row."""
    best: dict = {}
    for r in rows:
        old = best.get(r["simulator"])
        if old is not None and ("error" in old or ("error" not in r and old["run_s"] <= r["run_s"])):
            continue
        best[r["simulator"]] = r
    return list(best.values())


def median_by_round(by_round: list[dict]) -> dict:
    """Per simulator, the median of its ratios over the rounds it ran in."""
    names = {name for r in by_round for name in r}
    return {name: statistics.median(r[name] for r in by_round if r.get(name) is not None)
            for name in sorted(names) if any(r.get(name) is not None for r in by_round)}


def run_set_rows(rows: list[dict], by_round: list[dict], repeat: int) -> list[dict]:
    """One row per round: each simulator's run_s and its run_speedup over numba."""
    out = []
    for k, speedup in enumerate(by_round):
        this_round = [r for r in rows if r.get("round", 1) == k + 1 and "error" not in r]
        out.append({"round": k + 1, "run_s": {r["simulator"]: r["run_s"] for r in this_round},
                    "run_speedup": speedup})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=5.0, help="simulated seconds (default 5)")
    p.add_argument("--n", type=int, default=4000, help="neurons (default 4000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--simulators", default=DEFAULT_SIMULATORS,
                   help=f"comma-separated backend names (default {DEFAULT_SIMULATORS})")
    p.add_argument("--quick", action="store_true", help="n=1000, duration 0.5 s (smoke test)")
    p.add_argument("--fast-math", action="store_true",
                   help="fast-math floating point in numba and Brian2's C++ (default: IEEE-strict)")
    p.add_argument("--dtype", choices=list(FLOAT_DTYPES), default=None,
                   help="floating-point type of every simulator's state (default: float64)")
    p.add_argument("--repeat", type=int, default=1, help="rounds over the simulators (default 1)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per simulator (default 3600)")
    p.add_argument("--out", metavar="FILE", help="also write the run set as JSON for the docs")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.quick:
        args.n, args.duration = 1000, 0.5
    simulators = [s.strip() for s in args.simulators.split(",") if s.strip()]
    if not simulators:
        p.error("--simulators is empty")

    rows, by_round = [], []
    for k in range(args.repeat):
        this_round = []
        for sim in simulators:
            row = bench(sim, args.duration, args.n, args.seed, args.timeout, args.fast_math, args.dtype)
            if args.repeat > 1:
                row["round"] = k + 1
            this_round.append(row)
            print(json.dumps(row), flush=True)
        rows += this_round
        by_round.append(ratios(this_round)["run_speedup"])
    summary = ratios(fastest(rows))
    if args.repeat > 1:
        summary["run_speedup_by_round"] = by_round
        summary["run_speedup_median"] = median_by_round(by_round)
    print(json.dumps(summary), flush=True)
    if args.out:
        write_run_set(args.out, "cuba", run_set_rows(rows, by_round, args.repeat), label=label(argv, "--out"),
                      n=args.n, duration_s=args.duration,
                      spikes={r["simulator"]: r.get("spikes") for r in fastest(rows)},
                      run_speedup_median=summary.get("run_speedup_median"),
                      numba_bytes_per_synapse=summary.get("numba_bytes_per_synapse"))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
