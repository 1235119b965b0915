"""``spikemem bench``: one benchmark row (timings, spikes, memory) of a model on a backend."""
from __future__ import annotations

import json

from ..backends import backend as registered_backend
from .common import (CLIError, add_backend_options, catalogue, _check_duration, _dtype_option,
                     _model_network, _threads, require_capability)


def benchmark_models() -> list:
    from ..zoo import MODELS
    return [m.name for m in MODELS.entries() if m.benchmark]


def synapse_count(sim) -> int:
    return int(sum(p.n_synapses for p in sim.built.projections))


def bench_row(model: str, backend: str, duration: float, n: int, seed: int = 0,
              memory: bool = False, threads=None, fast_math: bool = False, dtype=None) -> dict:
    """Run ``model`` once on ``backend`` and return one benchmark row."""
    from ..backends import simulation

    registered_backend(backend)         # a ModelError listing the backends
    if model not in benchmark_models():
        raise CLIError(f"'{model}' is not a benchmark model; choose one of {', '.join(benchmark_models())}")
    if memory:
        require_capability(backend, "synapse_memory", "--memory")
    if threads is not None:
        require_capability(backend, "threads", "--threads")
    if fast_math:
        require_capability(backend, "fast_math", "--fast-math")
    network = _model_network(model, n=n, seed=seed)
    _check_duration(duration, network.dt)
    options = _dtype_option(backend, dtype)
    if threads is not None:
        options["threads"] = threads
    if fast_math:
        options["strict_float"] = False
    sim = simulation(network, backend, **options)
    sim.run(duration, progress=False)        # no bar: it would cost time and chunk the run
    result = sim.result()
    n_neurons = sum(t.n for t in result.spikes.values())
    spikes = sum(t.count() for t in result.spikes.values())
    row = {
        "simulator": backend,
        "N": n_neurons,
        "synapses": synapse_count(sim),
        "bio_s": duration,
        "build_s": float(sim.timings["build_s"]),
        "run_s": float(sim.timings["run_s"]),
        "spikes": spikes,
        "mean_rate_hz": spikes / (n_neurons * duration) if n_neurons else None,
    }
    if hasattr(sim, "threads"):
        row["threads"] = sim.threads
    if hasattr(sim, "strict_float"):
        row["strict_float"] = sim.strict_float
    if "dtype" in result.meta:
        row["dtype"] = result.meta["dtype"]
    if memory:
        row["bytes_per_synapse"] = sim.synapse_bytes()
    return row


def cmd_bench(args) -> int:
    _check_duration(args.duration)
    row = bench_row(args.model, args.backend, args.duration, args.n, args.seed, args.memory, args.threads,
                    args.fast_math, args.dtype)
    if args.json:
        print(json.dumps(row))
    else:
        line = (f"{row['simulator']}: N={row['N']} synapses={row['synapses']} bio={row['bio_s']:g} s "
                f"build={row['build_s']:.3f} s run={row['run_s']:.3f} s "
                f"spikes={row['spikes']} rate={row['mean_rate_hz'] or 0.0:.2f} Hz")
        if "bytes_per_synapse" in row:
            line += f" memory={row['bytes_per_synapse']:.2f} B/synapse"
        print(line)
    return 0


def add_parser(sub) -> None:

    bench = sub.add_parser(
        "bench", help="run a benchmark network once and print timings",
        description="Run a benchmark network once on one backend and print one row: "
                    "simulator, N, synapses, bio_s, build_s (includes code generation, "
                    "compilation or cache load), run_s, spikes, mean_rate_hz.",
        epilog=catalogue())
    bench.add_argument("model", metavar="MODEL",
                       help=f"a benchmark model: {', '.join(benchmark_models())}")
    bench.add_argument("--duration", type=float, default=1.0, metavar="S",
                       help="simulated time in seconds (default: 1.0)")
    bench.add_argument("--n", type=int, default=4000, metavar="N", help="number of neurons (default: 4000)")
    bench.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    bench.add_argument("--json", action="store_true", help="print the row as JSON")
    bench.add_argument("--memory", action="store_true",
                       help="add bytes_per_synapse: static synapse storage of the numba engine")
    bench.add_argument("--threads", type=_threads, default=None, metavar="N|auto",
                       help="numba engine threads (default 1; auto: one per 1024 neurons, at most one per core)")
    bench.add_argument("--fast-math", action="store_true",
                       help="numba and compiled brian2 targets with fast-math floating point, as Brian2's "
                            "default C++ flags (default: IEEE-strict, so that the two agree bit for bit)")
    add_backend_options(bench)
    bench.set_defaults(func=cmd_bench)
