"""Command-line interface: ``spikemem run``, ``spikemem bench`` and the hardware commands.

``spikemem run <model|network.json> --out DIR`` builds the network on a backend
(all validation first), simulates it and writes ``result.h5``, plots and
``metrics.json`` into DIR -- atomically: everything goes into a temporary
sibling directory that is renamed onto DIR at the very end, so a failed or
interrupted run leaves DIR as it was.

``spikemem export nir|pynn``, ``spikemem check|quantize|map|emulate --target
spinnaker|loihi``: the hardware commands (``spikemem.cli_hardware``).

``spikemem bench cuba --backend B`` runs Brian2's CUBA benchmark network once
and prints one row of timings (``--json`` for machine-readable output).

Mistakes in the request (unknown model, backend, bad option values, a model
error) end with ``spikemem: error: <message>`` on stderr and exit status 2.
Heavy imports (brian2, numba, matplotlib) happen only inside the commands, so
``--help`` is fast.
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import re
import sys

PROG = "spikemem"
BENCH_MODELS = ("cuba",)
EXPERIMENT_MODELS = ("ca3-cam",)

#: numba engine arrays that hold the static synapse storage of projection k
SYNAPSE_ARRAY = re.compile(r"^p\d+__(w|_post|_delay|_indptr)$")   # engine.py: p<k>___<internal>


class CLIError(Exception):
    """A request the CLI refuses (reported like a ModelError, exit status 2)."""


# ----------------------------------------------------------------- helpers
def _finite(x):
    """JSON has no NaN/inf: report undefined statistics as null."""
    x = float(x)
    return x if math.isfinite(x) else None


def _check_duration(duration: float, dt: float | None = None) -> float:
    if not (math.isfinite(duration) and duration > 0):
        raise CLIError(f"--duration must be a positive number of seconds, got {duration}")
    if dt is not None and round(duration / dt) < 1:
        raise CLIError(f"--duration {duration} s is shorter than one time step (dt = {dt} s)")
    return duration


def _check_backend(backend: str) -> None:
    from .backends import BACKENDS
    if backend not in BACKENDS:
        raise CLIError(f"unknown backend '{backend}'; choose one of {', '.join(sorted(BACKENDS))}")


def _model_network(name: str, n=None, seed=None, **extra):
    """Instantiate model ``name`` from the zoo, passing only the options it takes."""
    from .errors import ModelError
    from .models import MODELS
    factory = MODELS[name]
    params = inspect.signature(factory).parameters
    kwargs = dict(extra)
    for opt, value in (("n", n), ("seed", seed)):
        if value is None:
            continue
        if opt not in params:
            raise CLIError(f"model '{name}' has no option '--{opt}'")
        kwargs[opt] = value
    try:
        return factory(**kwargs)
    except TypeError as e:          # e.g. a wrong keyword for this model
        raise ModelError(f"model '{name}': {e}") from None


def load_target(target: str, n=None, seed=None):
    """A ``Network`` from a model name (see ``spikemem.models.MODELS``) or a network JSON file."""
    from .models import MODELS
    from .network import Network
    if target in MODELS:
        return _model_network(target, n=n, seed=seed)
    if os.path.isfile(target):
        if n is not None:
            raise CLIError(f"--n applies to models only, not to the network file '{target}'")
        net = Network.load(target)
        if seed is not None:
            net.seed = int(seed)
        return net
    if os.path.isdir(target):
        raise CLIError(f"'{target}' is a directory, not a network file")
    looks_like_path = target.endswith(".json") or os.sep in target
    if looks_like_path:
        raise FileNotFoundError(f"network file '{target}' not found")
    raise CLIError(f"unknown model '{target}' (and no such network file); "
                   f"models: {', '.join(sorted(MODELS))}")


def _is_nonempty_dir(path: str) -> bool:
    with os.scandir(path) as it:
        return any(True for _ in it)


def _check_out_dir(out: str, force: bool) -> None:
    if os.path.lexists(out) and not os.path.isdir(out):
        raise CLIError(f"--out '{out}' exists and is not a directory")
    if os.path.isdir(out) and not force and _is_nonempty_dir(out):
        raise CLIError(f"output directory '{out}' exists and is not empty (use --force to replace it)")


def staged_dir(out: str, force: bool):
    """``results.staged_dir`` for an output folder given on the command line."""
    from .results import staged_dir as _staged
    return _staged(out, lambda path: _check_out_dir(path, force))


def population_metrics(result, duration: float) -> dict:
    from . import analysis
    out = {}
    for pop, train in result.spikes.items():
        out[pop] = {"n": train.n, "count": train.count(),
                    "mean_rate_hz": _finite(analysis.mean_rate(train, duration)),
                    "cv_isi": _finite(analysis.cv_isi(train))}
    return out


def _threads(text: str):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'auto', got {text!r}") from None


def synapse_count(sim, network) -> int:
    built = getattr(sim, "built", None) or network.build()
    return int(sum(len(p.i) for p in built.projections))


def numba_bytes_per_synapse(sim, n_synapses: int):
    """Static synapse storage of the numba engine (target, weight, delay, row pointers) per synapse."""
    from .backends.numba.engine import held_bytes
    total = sum(held_bytes(v) for k, v in sim.values.items() if SYNAPSE_ARRAY.match(k))
    return total / n_synapses if n_synapses else None


#: ``lowering.FLOAT_DTYPES``' names, written out so that ``--help`` does not import brian2
DTYPES = ("float64", "float32")


def _dtype_option(backend: str, dtype) -> dict:
    """The simulation option for ``--dtype`` (none: the backend's default)."""
    if dtype is None:
        return {}
    if not (backend == "numba" or backend.startswith(("brian2", "torch"))):
        raise CLIError(f"--dtype is available for the numba, brian2 and torch backends only, not {backend!r}")
    return {"dtype": dtype}


# ----------------------------------------------------------------- commands
def cmd_run(args) -> int:
    from .backends import simulation
    from . import plot

    _check_backend(args.backend)
    if args.target in EXPERIMENT_MODELS:
        return cmd_run_experiment(args)
    if args.experiment is not None:
        raise CLIError(f"--experiment applies to {', '.join(EXPERIMENT_MODELS)} only")
    args.duration = 1.0 if args.duration is None else args.duration
    args.out = args.out or os.path.join("out", os.path.splitext(os.path.basename(args.target))[0])
    _check_duration(args.duration)
    _check_out_dir(args.out, args.force)
    network = load_target(args.target, n=args.n, seed=args.seed)
    _check_duration(args.duration, network.dt)
    sim = simulation(network, args.backend, **_dtype_option(args.backend, args.dtype))   # all validation happens here
    progress = False if args.no_progress else None
    sim.run(args.duration, progress=progress)
    result = sim.result()
    result.meta.setdefault("duration", args.duration)
    duration = float(result.meta["duration"])

    metrics = {
        "target": args.target,
        "backend": args.backend,
        "duration": duration,
        "dt": network.dt,
        "seed": network.seed,
        "network_hash": network.hash(),
        "populations": population_metrics(result, duration),
        "timings": {k: float(v) for k, v in sim.timings.items()},
    }
    with staged_dir(args.out, args.force) as tmp:
        result.save(os.path.join(tmp, "result.h5"))
        plot.save_figure(plot.raster(result).figure, os.path.join(tmp, "raster.png"))
        plot.save_figure(plot.population_rate(result).figure, os.path.join(tmp, "rate.png"))
        if result.traces:
            plot.save_figure(plot.traces(result).figure, os.path.join(tmp, "traces.png"))
        with open(os.path.join(tmp, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=1)
            f.write("\n")

    pops = ", ".join(f"{p} {m['count']} spikes {m['mean_rate_hz'] or 0.0:.2f} Hz"
                     for p, m in metrics["populations"].items())
    t = metrics["timings"]
    print(f"{args.backend}: {duration:g} s simulated in {t.get('run_s', 0.0):.3f} s "
          f"(build {t.get('build_s', 0.0):.3f} s); {pops}; wrote {args.out}")
    return 0


def cmd_run_experiment(args) -> int:
    """A model whose main job is a scripted experiment (the CA3 memory)."""
    from .models import ca3_experiments as ca3
    experiment = args.experiment or "functional"
    if experiment not in ca3.EXPERIMENTS:
        raise CLIError(f"unknown experiment '{experiment}'; choose one of {', '.join(ca3.EXPERIMENTS)}")
    for opt in ("duration", "n", "dtype"):
        if getattr(args, opt) is not None:
            raise CLIError(f"--{opt} does not apply to '{args.target}' (its experiments set their own)")
    out = args.out or os.path.join("out", f"{args.target}-{experiment}")
    _check_out_dir(out, args.force)
    mem, rows, snapshots = ca3.experiment(experiment, backend=args.backend)
    with staged_dir(out, args.force) as tmp:
        data = ca3.write_report(tmp, mem, rows, snapshots, {"experiment": experiment})
    width = max(len(r["input"]) for r in rows)
    for r in rows:
        print(f"{r['op']:3d} {r['kind']:18s} {r['input']:{width}s} -> cues {r['answer_cues']} "
              f"content {r['answer_content']} ({r['latency_steps']} steps)"
              f"{'' if r['correct'] else '   expected cues ' + str(r['expected_cues']) + ' content ' + str(r['expected_content'])}")
    print(f"{args.backend}: {experiment}: {data['correct']}/{data['operations']} operations as the set "
          f"semantics expect; wrote {out}")
    return 0


def bench_row(model: str, backend: str, duration: float, n: int, seed: int = 0,
              memory: bool = False, threads=None, fast_math: bool = False, dtype=None) -> dict:
    """Run ``model`` once on ``backend`` and return one benchmark row."""
    from .backends import simulation

    _check_backend(backend)
    if memory and backend != "numba":
        raise CLIError("--memory is available for the numba backend only")
    if threads is not None and backend != "numba":
        raise CLIError("--threads is available for the numba backend only")
    if fast_math and not (backend == "numba" or backend.startswith("brian2")):
        raise CLIError("--fast-math is available for the numba and brian2 backends only")
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
        "synapses": synapse_count(sim, network),
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
        row["bytes_per_synapse"] = numba_bytes_per_synapse(sim, row["synapses"])
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


# ----------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from .backends import BACKENDS
    backends = ", ".join(BACKENDS)
    parser = argparse.ArgumentParser(
        prog=PROG, description="Spiking networks defined once, simulated by several backends.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser(
        "run", help="simulate a model or network file and write results, plots and metrics",
        description="Simulate a model from the zoo (e.g. 'cuba') or a network JSON file "
                    "(written by Network.save) and write result.h5, raster.png, rate.png, "
                    "traces.png (if any traces) and metrics.json into DIR.")
    run.add_argument("target", metavar="MODEL|NETWORK_FILE",
                     help="model name (e.g. cuba) or path to a network JSON file")
    run.add_argument("--backend", default="numba", metavar="NAME",
                     help=f"simulator: {backends} (default: numba)")
    run.add_argument("--duration", type=float, default=None, metavar="S",
                     help="simulated time in seconds (default: 1.0)")
    run.add_argument("--out", default=None, metavar="DIR",
                     help="output directory (default: out/<model>)")
    run.add_argument("--experiment", default=None, metavar="NAME",
                     help="for ca3-cam: functional (default), stress or map")
    run.add_argument("--seed", type=int, default=None, metavar="N",
                     help="random seed (default: the model's / file's)")
    run.add_argument("--n", type=int, default=None, metavar="N",
                     help="network size, for models that take one")
    run.add_argument("--force", action="store_true",
                     help="replace DIR even if it exists and is not empty")
    run.add_argument("--no-progress", action="store_true",
                     help="never show a progress bar (default: only on a terminal)")
    run.add_argument("--dtype", choices=DTYPES, default=None,
                     help="floating-point type of the state (numba, brian2, torch; default: the backend's)")
    run.set_defaults(func=cmd_run)

    bench = sub.add_parser(
        "bench", help="run a benchmark network once and print timings",
        description="Run a benchmark network once on one backend and print one row: "
                    "simulator, N, synapses, bio_s, build_s (includes code generation, "
                    "compilation or cache load), run_s, spikes, mean_rate_hz.")
    bench.add_argument("model", choices=BENCH_MODELS, help="benchmark network")
    bench.add_argument("--backend", default="numba", metavar="NAME",
                       help=f"simulator: {backends} (default: numba)")
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
    bench.add_argument("--dtype", choices=DTYPES, default=None,
                       help="floating-point type of the state (numba, brian2, torch; default: the backend's)")
    bench.set_defaults(func=cmd_bench)

    from .cli_hardware import add_parsers
    add_parsers(sub)             # check, quantize, map, emulate, export
    return parser


def _error(msg) -> int:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Entry point; returns the exit status (argparse's own errors included)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:             # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    from .errors import ModelError
    try:
        return args.func(args)
    except (ModelError, CLIError, FileNotFoundError) as e:
        return _error(e)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
