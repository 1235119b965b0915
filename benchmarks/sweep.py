"""A sweep of CUBA runs: called directly, through the runner in this process, and on a local Dask cluster.

    python benchmarks/sweep.py                   # 64 runs, N = 1000, 1 s, 2 workers
    python benchmarks/sweep.py --runs 8 --n 200 --duration 0.1

The runs are ``spikemem.models.cuba.experiments:activity`` at seeds 0 .. runs-1
(the seed draws the connectivity). In one invocation:

* sequential: the runs called directly (``activity(seed=...)``: no cache, no
  provenance) one after another, after one warm-up run, so that compiling is
  not counted;
* in-process: ``sweep(..., scheduler="in-process")`` with a fresh cache folder;
  the runner's overhead per task is (in-process - sequential) / runs (hashing,
  provenance, cache writes), and also, less noisy, the sweep's wall time minus
  the time spent in the experiment (its provenance ``wall_s``), per task;
* Dask, fresh workers: a ``LocalCluster`` of ``--workers`` single-threaded
  worker processes (started and timed apart, not counted), then the sweep on
  it with a fresh cache: speed-up = sequential / sweep. Each worker's first
  task pays what a new process pays once (Brian2's derivation of the exact
  integration, loading the kernel);
* Dask, warm workers: the same sweep again on the same workers (refresh, fresh
  cache), the steady state of a long sweep, then once more without a cache
  (what writing the outcomes costs);
* Dask's own cost per task: as many tasks of an experiment that returns a
  constant, through the runner on the cluster (no cache), wall / runs;
* recompilation: from the fresh sweep's provenance, per worker (host, pid) the
  first task's ``build_s`` and the largest of its later tasks'; after both
  sweeps each worker reports its kernel modules (``spikemem_kernel_*``, one per
  kernel source) and how often numba compiled each. No recompilation: no
  worker holds more kernels than the sequential runs needed, and each kernel
  was compiled (or loaded from numba's cache) once.

Output: one JSON row per measurement, then a summary row with the goals
(speed-up >= 1.8 on 2 workers, runner overhead < 20 ms per task, no
recompilation). ``--json`` writes them as the documentation's performance page
reads them (``benchmarks/record.py``). Exit status 0 whatever the goals say.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time

from brian2 import second
from record import label, write_run_set

from spikemem.experiments import experiment, sweep
from spikemem.experiments.cluster import client_for, close
from spikemem.experiments.runner import IN_PROCESS
from spikemem.models.cuba.experiments import activity

DEFAULT_JSON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "sweep", "01-cuba.json")
KERNEL_PREFIX = "spikemem_kernel_"

GOAL_SPEEDUP = 1.8          # on 2 workers
GOAL_OVERHEAD_MS = 20.0     # the runner's own time per task


@experiment(name="constant")
def constant():
    """Returns a constant: what a task costs besides its work."""
    return {"value": 1.0}


def kernels() -> dict:
    """This process's kernel modules: per module, numba's compilations and cache loads of its ``run``."""
    out = {}
    for name, module in list(sys.modules.items()):
        run = getattr(module, "run", None) if name.startswith(KERNEL_PREFIX) else None
        stats = getattr(run, "stats", None)
        if stats is not None:
            out[name] = {"signatures": len(run.signatures), "compiled": sum(stats.cache_misses.values()),
                         "loaded": sum(stats.cache_hits.values())}
    return {"host": socket.gethostname(), "pid": os.getpid(), "kernels": out}


def sequential(runs: int, params: dict) -> float:
    """Seconds for ``runs`` direct calls of the experiment, after one warm-up call."""
    activity(seed=0, **params)
    t0 = time.perf_counter()
    for seed in range(runs):
        activity(seed=seed, **params)
    return time.perf_counter() - t0


def in_task(result) -> float:
    """Seconds spent inside the experiment over a sweep's outcomes (their provenance)."""
    return sum(o.provenance["wall_s"] for o in result.outcomes.values())


def per_worker(result, probes: list[dict], shapes: int) -> list[dict]:
    """Per worker of a Dask sweep: its tasks, the first one's build_s, the largest later build_s, its kernels.

    ``result.outcomes`` holds the outcomes in the order they arrived, which for
    one single-threaded worker is the order it ran them."""
    builds: dict = {}
    for outcome in result.outcomes.values():
        p = outcome.provenance
        builds.setdefault((p["host"], p["pid"]), []).append(p["simulation"]["timings"]["build_s"])
    probed = {(p["host"], p["pid"]): p["kernels"] for p in probes}
    rows = []
    for (host, pid), times in builds.items():
        kernel = probed.get((host, pid), {})
        rows.append({"worker": f"{host}:{pid}", "tasks": len(times), "first_build_s": times[0],
                     "later_build_max_s": max(times[1:], default=None), "kernels": len(kernel),
                     "compiled": sum(k["compiled"] for k in kernel.values()),
                     "loaded": sum(k["loaded"] for k in kernel.values()),
                     "recompiled": len(kernel) > shapes or any(k["signatures"] > 1 for k in kernel.values())})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=64, help="runs (seeds 0 .. runs-1; default 64)")
    p.add_argument("--n", type=int, default=1000, help="neurons (default 1000)")
    p.add_argument("--duration", type=float, default=1.0, help="simulated seconds per run (default 1)")
    p.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    p.add_argument("--json", metavar="PATH", default=DEFAULT_JSON,
                   help="where to write the run set for the docs (default benchmarks/results/sweep/01-cuba.json)")
    args = p.parse_args(argv)
    for name in ("runs", "workers"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    runs = args.runs
    params = {"n": args.n, "duration": args.duration * second}
    grid = {k: [v] for k, v in params.items()}
    rows = []

    def row(measure, wall_s, per_task=True, **fields):
        rows.append({"measure": measure, "wall_s": wall_s, "per_task_ms": 1e3 * wall_s / runs if per_task else None,
                     **fields})
        print(json.dumps(rows[-1]), flush=True)

    # (a) direct calls; the kernels they loaded are every kernel source the runs need
    seq = sequential(runs, params)
    shapes = len(kernels()["kernels"])
    row("sequential, direct calls", seq)

    # (b) the runner in this process
    with tempfile.TemporaryDirectory() as cache:
        b = sweep(activity, grid, seeds=range(runs), scheduler=IN_PROCESS, cache=cache, progress=False)
    overhead_ms, outside_ms = 1e3 * (b.wall_s - seq) / runs, 1e3 * (b.wall_s - in_task(b)) / runs
    row("runner, in-process", b.wall_s, overhead_ms=overhead_ms, outside_task_ms=outside_ms)

    # (c) the runner on a local cluster: started apart, then a sweep on fresh workers and one on warm workers
    t0 = time.perf_counter()
    client = client_for(None, args.workers)
    client.wait_for_workers(args.workers)
    startup_s = time.perf_counter() - t0
    address = client.scheduler.address
    try:
        with tempfile.TemporaryDirectory() as cache:
            fresh = sweep(activity, grid, seeds=range(runs), scheduler=address, cache=cache, progress=False)
        with tempfile.TemporaryDirectory() as cache:
            warm = sweep(activity, grid, seeds=range(runs), scheduler=address, cache=cache, refresh=True,
                         progress=False)
        # the same without writing the cache: what the cache's writes cost this process's share of the cores
        uncached = sweep(activity, grid, seeds=range(runs), scheduler=address, cache=False, progress=False)
        # (d) tasks that do nothing: Dask's and the runner's own cost
        trivial = sweep(constant, {}, seeds=range(runs), scheduler=address, cache=False, progress=False)
        probes = list(client.run(kernels).values())
    finally:
        close(client)
    # a task Dask still held from the first sweep would come back unchanged instead of being run again
    rerun = all(warm.outcomes[pt].provenance["wall_s"] != fresh.outcomes[pt].provenance["wall_s"]
                for pt in fresh.points)

    workers = per_worker(fresh, probes, shapes)
    row(f"Dask cluster start, {args.workers} workers (not counted)", startup_s, per_task=False)
    speedup_fresh, speedup_warm = seq / fresh.wall_s, seq / warm.wall_s
    row(f"runner, Dask, {args.workers} fresh workers", fresh.wall_s, speedup=speedup_fresh,
        first_build_s={w["worker"]: w["first_build_s"] for w in workers},
        later_build_max_s={w["worker"]: w["later_build_max_s"] for w in workers},
        kernels={w["worker"]: w["kernels"] for w in workers})
    row(f"runner, Dask, {args.workers} warm workers", warm.wall_s, speedup=speedup_warm, ran_again=rerun)
    row(f"runner, Dask, {args.workers} warm workers, no cache", uncached.wall_s, speedup=seq / uncached.wall_s)
    row("runner, Dask, constant tasks (no cache)", trivial.wall_s)

    recompiled = any(w["recompiled"] for w in workers)
    goals = {"speedup": f">= {GOAL_SPEEDUP} on 2 workers", "overhead_ms": f"< {GOAL_OVERHEAD_MS:g} ms per task",
             "recompilation": "none after a worker's first task"}
    met = {"speedup_fresh": speedup_fresh >= GOAL_SPEEDUP, "speedup_warm": speedup_warm >= GOAL_SPEEDUP,
           "overhead_ms": overhead_ms < GOAL_OVERHEAD_MS, "outside_task_ms": outside_ms < GOAL_OVERHEAD_MS,
           "no_recompilation": not recompiled}
    sizes = {"runs": runs, "n": args.n, "duration_s": args.duration, "workers": args.workers}
    summary = {"cluster_start_s": startup_s, "kernel_sources": shapes, "speedup_fresh": speedup_fresh,
               "speedup_warm": speedup_warm, "overhead_ms": overhead_ms, "outside_task_ms": outside_ms,
               "dask_task_ms": 1e3 * trivial.wall_s / runs,
               "recompiled": recompiled, "goals": goals, "met": met, "per_worker": workers}
    print(json.dumps({"summary": True, **sizes, **summary}), flush=True)
    print(f"speed-up {speedup_fresh:.2f}x fresh, {speedup_warm:.2f}x warm (goal >= {GOAL_SPEEDUP} on 2 workers); "
          f"runner overhead {overhead_ms:.1f} ms per task, {outside_ms:.1f} ms outside the experiment "
          f"(goal < {GOAL_OVERHEAD_MS:g}); "
          f"recompilation: {'yes' if recompiled else 'none'} (goal: none); cluster start {startup_s:.1f} s",
          file=sys.stderr)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        # the summary apart from the rows: the docs' table looks a column up in the file's top level too
        write_run_set(args.json, "sweep", rows, label=label(argv, "--json"), **sizes, summary=summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
