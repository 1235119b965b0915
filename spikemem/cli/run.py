"""``spikemem run``: simulate a model or network file and write results, plots and metrics."""
from __future__ import annotations

import contextlib
import json
import os
import sys

from ..backends import backend as registered_backend
from .common import (CLIError, _check_duration, _dtype_option, _finite, add_backend_options, catalogue,
                     check_out_dir, experiment_model, experiment_models, load_target, staged_dir)


def population_metrics(result, duration: float) -> dict:
    from .. import analysis
    out = {}
    for pop, train in result.spikes.items():
        out[pop] = {"n": train.n, "count": train.count(),
                    "mean_rate_hz": _finite(analysis.mean_rate(train, duration)),
                    "cv_isi": _finite(analysis.cv_isi(train))}
    return out


# ----------------------------------------------------------------- commands
def cmd_run(args) -> int:
    from ..backends import require_memory, simulation
    from .. import plot, progress, sizing

    registered_backend(args.backend)    # a ModelError listing the backends
    model = experiment_model(args.target)
    if model is not None:
        return cmd_run_experiment(args, model)
    if args.experiment is not None:
        raise CLIError(f"--experiment applies to {', '.join(experiment_models())} only")
    args.duration = 1.0 if args.duration is None else args.duration
    args.out = args.out or os.path.join("out", os.path.splitext(os.path.basename(args.target))[0])
    _check_duration(args.duration)
    check_out_dir(args.out, args.force)
    network = load_target(args.target, n=args.n, seed=args.seed)
    _check_duration(args.duration, network.dt)
    dtype = _dtype_option(args.backend, args.dtype)
    check_memory = False if args.no_memory_check else None     # None: the environment decides
    estimate = require_memory(network, args.duration, args.backend, dtype, check_memory,
                              f"'{args.target}' for {args.duration:g} s on '{args.backend}'")
    if estimate is not None and progress.shown():
        print(f"{args.target}: {estimate.neurons:,} neurons, {estimate.synapses:,} synapses, about "
              f"{sizing.format_bytes(estimate.total)} of memory", file=sys.stderr)
    # all other validation happens here; the memory, recordings included, was checked above
    sim = simulation(network, args.backend, check_memory=False, **dtype)
    sim.run(args.duration)
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
        plot.save_figures(result, tmp)
        with open(os.path.join(tmp, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=1)
            f.write("\n")

    pops = ", ".join(f"{p} {m['count']} spikes {m['mean_rate_hz'] or 0.0:.2f} Hz"
                     for p, m in metrics["populations"].items())
    t = metrics["timings"]
    print(f"{args.backend}: {duration:g} s simulated in {t.get('run_s', 0.0):.3f} s "
          f"(build {t.get('build_s', 0.0):.3f} s); {pops}; wrote {args.out}")
    return 0


@contextlib.contextmanager
def _memory_check(on: bool):
    """--no-memory-check for an experiment, whose scripts build their own
    simulations: the environment variable every memory gate reads, while it runs."""
    from ..sizing import ENV
    if on:
        yield
        return
    before = os.environ.get(ENV)
    os.environ[ENV] = "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ[ENV]
        else:
            os.environ[ENV] = before


def cmd_run_experiment(args, model) -> int:
    """A model whose main job is a scripted experiment (the CA3 memory)."""
    from ..registry import load_object
    experiment = args.experiment or model.experiments[0]
    if experiment not in model.experiments:
        raise CLIError(f"unknown experiment '{experiment}'; choose one of {', '.join(model.experiments)}")
    for opt in ("duration", "n", "dtype"):
        if getattr(args, opt) is not None:
            raise CLIError(f"--{opt} does not apply to '{args.target}' (its experiments set their own)")
    out = args.out or os.path.join("out", f"{args.target}-{experiment}")
    check_out_dir(out, args.force)
    with staged_dir(out, args.force) as tmp, _memory_check(not args.no_memory_check):
        lines = load_object(model.run_experiment)(experiment, args.backend, tmp)
    print("\n".join(lines) + f"; wrote {out}")
    return 0


def add_parser(sub) -> None:
    run = sub.add_parser(
        "run", help="simulate a model or network file and write results, plots and metrics",
        description="Simulate a model from the zoo or a network JSON file (written by Network.save) "
                    "and write result.h5, raster.png, rate.png, traces.png (if any traces) and "
                    "metrics.json into DIR; a model whose main job is an experiment writes its report.",
        epilog=catalogue())
    run.add_argument("target", metavar="MODEL|NETWORK_FILE",
                     help="a model (listed below) or a network JSON file")
    run.add_argument("--duration", type=float, default=None, metavar="S",
                     help="simulated time in seconds (default: 1.0)")
    run.add_argument("--out", default=None, metavar="DIR",
                     help="output directory (default: out/<model>)")
    run.add_argument("--experiment", default=None, metavar="NAME",
                     help="for a model whose main job is a scripted experiment: which one "
                          "(listed below; default: its first)")
    run.add_argument("--seed", type=int, default=None, metavar="N",
                     help="random seed (default: the model's / file's)")
    run.add_argument("--n", type=int, default=None, metavar="N",
                     help="network size, for models that take one")
    run.add_argument("--force", action="store_true",
                     help="replace DIR even if it exists and is not empty")
    run.add_argument("--no-progress", action="store_true",
                     help="never show progress (default: on a terminal or in a notebook)")
    run.add_argument("--no-memory-check", action="store_true",
                     help="run even what the memory estimate says cannot fit "
                          "(as SPIKEMEM_CHECK_MEMORY=0 does)")
    add_backend_options(run)
    run.set_defaults(func=cmd_run)
