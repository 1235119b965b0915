"""``spikemem sweep``: run a model's experiment over parameter values, seeds and backends.

Every value is checked before any work; the points run on Dask (a local
cluster, a running one given by ``--scheduler``, or ``in-process``), each
cached, and DIR receives -- atomically -- the metrics as a dataset
(``metrics.nc`` or ``metrics.zarr``), ``provenance.json`` and one figure per
metric and swept parameter (``spikemem.plot.sweep_figures``).
"""
from __future__ import annotations

import json
import os
import sys

from .common import CLIError, catalogue, check_out_dir, dtype_choices, staged_dir

FORMATS = ("nc", "zarr")


def load_experiment(name: str):
    """The experiment ``spikemem sweep`` runs for the model ``name`` (``Model.experiment``)."""
    from ..zoo import MODELS
    if name not in MODELS:
        raise CLIError(f"unknown model '{name}'; models: {', '.join(MODELS.names())}")
    return MODELS.get(name).experiment()


def describe_params(experiment) -> str:
    """The experiment's parameters as ``--list`` shows them: name, default, SI unit, allowed values, meaning."""
    rows = [(name, _shown(p.default), p.unit or "-", p.doc + (f" (one of {', '.join(map(str, p.choices))})"
                                                              if p.choices is not None else ""))
            for name, p in experiment.params.items()]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(("name", "default", "unit"))]
    lines = [f"{experiment.name}: {experiment.doc}", "",
             f"  {'name':{widths[0]}}  {'default':{widths[1]}}  {'unit':{widths[2]}}  meaning"]
    lines += [f"  {n:{widths[0]}}  {d:{widths[1]}}  {u:{widths[2]}}  {doc}" for n, d, u, doc in rows]
    return "\n".join(lines)


def _shown(value) -> str:
    """A default as --set takes it (``20 ms``)."""
    from brian2.units.fundamentalunits import Quantity
    if isinstance(value, Quantity):
        unit = value.get_best_unit()
        return f"{float(value / unit):g} {unit}"
    return str(value)


def parse_grid(assignments: list, experiment) -> dict:
    """``--set NAME=V1,V2`` options -> {name: [values]}, each value checked."""
    from ..experiments.params import parse_assignment
    grid = {}
    for text in assignments:
        name, values = parse_assignment(text, experiment.params, experiment.name)
        if name in grid:
            raise CLIError(f"--set '{text}': parameter '{name}' is set twice; give all its values in one --set")
        grid[name] = values
    return grid


def parse_backends(text: str) -> list:
    names = [b.strip() for b in text.split(",")]
    if any(not b for b in names):
        raise CLIError(f"--backend '{text}': an empty backend name")
    return list(dict.fromkeys(names))


def provenance(args, sweep, grid: dict, cache_root) -> dict:
    """What the sweep was asked, what it did, and every point's provenance record."""
    experiment = sweep.experiment
    return {
        "request": {"model": args.model, "experiment": experiment.name,
                    "grid": {name: [experiment.params[name].si(v) for v in values] for name, values in grid.items()},
                    "units": {name: experiment.params[name].unit for name in grid},
                    "seeds": sweep.seeds, "backends": sweep.backends, "dtype": args.dtype,
                    "scheduler": args.scheduler, "workers": args.workers, "cache": cache_root,
                    "refresh": args.refresh, "format": args.format},
        "counts": {"points": len(sweep.points), "computed": sweep.computed, "cached": sweep.cached,
                   "damaged": len(sweep.corrupt)},
        "damaged": list(sweep.corrupt),
        "wall_s": sweep.wall_s,
        "points": [{"params": dict(p.params), "seed": p.seed, "backend": p.backend, "dtype": p.dtype,
                    "provenance": sweep.outcomes[p].provenance} for p in sweep.points],
    }


def cmd_sweep(args) -> int:
    from ..experiments import Cache, parse_seeds
    from ..experiments import sweep as run_sweep

    experiment = load_experiment(args.model)
    if args.list:
        print(describe_params(experiment))
        return 0
    # every check before any work (sweep() checks backends, dtype, workers and the scheduler's address first too)
    grid = parse_grid(args.set, experiment)
    seeds = parse_seeds(args.seeds)
    backends = parse_backends(args.backend)
    if args.no_cache and args.cache is not None:
        raise CLIError("--cache and --no-cache contradict each other; give one")
    cache = Cache(args.cache) if not args.no_cache else None      # refuses an unwritable folder
    out = args.out or os.path.join("out", f"{args.model}-sweep")
    check_out_dir(out, args.force)

    say = lambda line: print(line, file=sys.stderr)     # noqa: E731 - the dashboard's link, damaged entries
    sweep = run_sweep(experiment, grid, seeds=seeds, backends=backends, dtype=args.dtype, scheduler=args.scheduler,
                      workers=args.workers, cache=cache if cache is not None else False,
                      refresh=args.refresh, progress=None, report=say)
    dataset = sweep.dataset()
    from .. import plot
    from ..experiments import save_dataset
    from ..results import _json_default
    with staged_dir(out, args.force) as tmp:
        save_dataset(dataset, os.path.join(tmp, f"metrics.{args.format}"))
        with open(os.path.join(tmp, "provenance.json"), "w") as f:
            json.dump(provenance(args, sweep, grid, cache and cache.root), f, indent=1, default=_json_default)
            f.write("\n")
        for name, fig in plot.sweep_figures(dataset).items():
            plot.save_figure(fig, os.path.join(tmp, f"{name}.png"))
    print(f"{experiment.name}: {len(sweep.points)} points, {sweep.computed} computed, {sweep.cached} from the "
          f"cache, in {sweep.wall_s:.1f} s; wrote {out}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run a model's experiment over parameter values, seeds and backends",
        description="Run a model's experiment at every combination of the --set values, seeds and backends "
                    "(on a local Dask cluster, or a running one with --scheduler), each point cached, and "
                    "write metrics.nc (or metrics.zarr), provenance.json and one figure per metric and "
                    "swept parameter into DIR.",
        epilog=catalogue() + "\n\n'spikemem sweep MODEL --list' shows a model's parameters (defaults, units, "
                             "meaning).",
)
    p.add_argument("model", metavar="MODEL", help="a model (listed below)")
    p.add_argument("--list", action="store_true", help="show the model's parameters and exit")
    p.add_argument("--set", action="append", default=[], metavar="NAME=V1,V2",
                   help="values of a parameter, with its unit where it has one (tau_m=10ms,20ms); repeatable")
    p.add_argument("--seeds", default="0", metavar="SEEDS", help="seeds: 0-9, 3 or 0,4,7 (default: 0)")
    p.add_argument("--backend", default="numba", metavar="NAME[,NAME]",
                   help="the backends that simulate (default: numba)")
    p.add_argument("--dtype", choices=dtype_choices(), default=None,
                   help="type of the state, where every backend offers it (default: the backend's)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes of the local cluster (default: one per core)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler (tcp://host:8786), or 'in-process' to run here one "
                        "after another (default: $SPIKEMEM_SCHEDULER, else a local cluster)")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="the outcome cache (default: $SPIKEMEM_EXPERIMENT_CACHE, else ~/.cache/spikemem/experiments)")
    p.add_argument("--no-cache", action="store_true", help="keep nothing: compute every point, cache none")
    p.add_argument("--refresh", action="store_true", help="compute every point anew (and cache it)")
    p.add_argument("--out", default=None, metavar="DIR", help="output directory (default: out/<model>-sweep)")
    p.add_argument("--format", choices=FORMATS, default="nc", help="the dataset's file: netCDF or zarr (default: nc)")
    p.add_argument("--force", action="store_true", help="replace DIR even if it exists and is not empty")
    p.add_argument("--no-progress", action="store_true",
                   help="never show progress (default: on a terminal or in a notebook)")
    p.set_defaults(func=cmd_sweep)
