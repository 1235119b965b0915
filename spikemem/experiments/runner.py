"""Running experiments: one run, or a sweep over parameters, seeds and backends on Dask.

Every computed outcome gets its provenance and goes into the cache; what the
cache holds is not computed again, so a rerun or an interrupted sweep does
only what is missing. Tasks run on Dask: an embedded ``LocalCluster`` (one
single-threaded worker process per core) unless a scheduler address is given
(``scheduler=`` or ``SPIKEMEM_SCHEDULER``); ``scheduler="in-process"`` runs
them one after another here. A worker that dies has its tasks run elsewhere
(Dask reschedules them); outcomes are written by this process only, as they
arrive, each once.
"""
from __future__ import annotations

import itertools
import os
import sys
import time
import traceback
from dataclasses import dataclass, field

from ..errors import ModelError
from .cache import Cache, CorruptEntry, entry_key
from .experiment import Chain, Experiment, Outcome
from .provenance import record

#: the address of a running Dask scheduler to send sweeps to
SCHEDULER_ENV = "SPIKEMEM_SCHEDULER"
IN_PROCESS = "in-process"


class SweepFailed(ModelError):
    """Some points of a sweep raised; the others are in the cache."""


@dataclass(frozen=True)
class Point:
    """One run of a sweep: parameter values (checked, in SI), seed, backend, dtype."""

    params: tuple          # ((name, SI value), ...) in the experiment's order
    seed: int
    backend: str
    dtype: str | None

    def label(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"{shown + ', ' if shown else ''}seed={self.seed}, backend={self.backend}"


@dataclass
class Sweep:
    """The outcome of every point of a sweep, and what the runner did to get them."""

    experiment: Experiment | Chain
    grid: dict                      # swept parameter -> values, in the order given
    seeds: list
    backends: list
    points: list
    outcomes: dict                  # Point -> Outcome
    computed: int = 0               # stage runs computed now
    cached: int = 0                 # stage runs read from the cache
    corrupt: list = field(default_factory=list)     # cache entries found damaged (and computed again)
    wall_s: float = 0.0

    def dataset(self):
        """The metrics as an xarray Dataset: one dimension per swept parameter, then seed (and backend)."""
        from .dataset import to_dataset
        return to_dataset(self)

    def __repr__(self):
        return (f"<Sweep of '{self.experiment.name}': {len(self.points)} points, {self.computed} computed, "
                f"{self.cached} from the cache>")


def plan(experiment, grid: dict, seeds, backends, dtype) -> tuple[dict, list[Point]]:
    """The grid with its values checked, and every combination of them, seeds and backends."""
    if not isinstance(experiment, (Experiment, Chain)):
        raise ModelError(f"expected an experiment (made with @experiment or chain()), got {type(experiment).__name__}")
    seeds, backends = list(seeds), list(backends)
    if not seeds:
        raise ModelError("no seeds given")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ModelError(f"seed {s!r} is not a whole number >= 0")
    if not backends:
        raise ModelError("no backends given")
    from ..backends import backend as registered_backend
    for b in backends:
        offered = registered_backend(b).capabilities.dtypes       # a ModelError listing the backends
        if dtype is not None and dtype not in offered:
            raise ModelError(f"dtype '{dtype}' is not available for the backend '{b}' (it offers {', '.join(offered)})")
    checked = {}
    for name, values in grid.items():
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if not values:
            raise ModelError(f"parameter '{name}' of '{experiment.name}' is given no values")
        checked[name] = [experiment.resolve({name: v})[name] for v in values]
    out = []
    for combo in itertools.product(*checked.values()):
        params = _plain(experiment, experiment.resolve(dict(zip(checked, combo))))
        for backend, seed in itertools.product(backends, seeds):
            out.append(Point(tuple(params.items()), seed, backend, dtype))
    return checked, list(dict.fromkeys(out))


def _plain(experiment, params: dict) -> dict:
    return {name: experiment.params[name].si(v) for name, v in params.items()}


def stage_keys(experiment, point: Point) -> list[str]:
    """The cache key of each stage of ``point``: a stage's key holds the one before it."""
    keys, upstream = [], None
    for stage in experiment.stages:
        own = {k: v for k, v in point.params if k in stage.params}
        upstream = entry_key(stage.name, stage.code, own, point.seed, point.backend, point.dtype, upstream)
        keys.append(upstream)
    return keys


def compute(stage, chained: bool, point: Point, key: str, upstream: Outcome | None) -> Outcome:
    """Run one stage of one point (on a worker); the outcome with its provenance."""
    plain = dict(point.params)
    own = {k: stage.params[k].from_si(plain[k]) for k in stage.params}
    started, t0 = time.time(), time.perf_counter()
    outcome = stage.call(upstream, own, point.seed, point.backend, point.dtype)
    outcome.provenance = record(stage.name, stage.code, stage.name if chained else None, key,
                                {k: plain[k] for k in stage.params}, point.seed, point.backend, point.dtype,
                                started, time.perf_counter() - t0, outcome)
    return outcome


def combined(stages, outcomes: list[Outcome]) -> Outcome:
    """A point's outcome: the last stage's, with every stage's metrics (prefixed by stage for a chain)."""
    last = outcomes[-1]
    if len(stages) == 1:
        return last
    metrics = {f"{s.name}.{k}": v for s, o in zip(stages, outcomes) for k, v in o.metrics.items()}
    provenance = {"stages": [o.provenance for o in outcomes]}
    return Outcome(metrics, last.result, last.state, provenance)


def run(experiment, *upstream, seed: int = 0, backend: str = "numba", dtype: str | None = None,
        cache=None, **params) -> Outcome:
    """One run of ``experiment`` in this process, from the cache when it is there."""
    if upstream:
        raise ModelError("run() starts from the first stage; give a chain() of the stages instead")
    sweep_ = sweep(experiment, {k: [v] for k, v in params.items()}, seeds=[seed], backends=[backend], dtype=dtype,
                   scheduler=IN_PROCESS, cache=cache, progress=False)
    return sweep_.outcomes[sweep_.points[0]]


def sweep(experiment, grid: dict | None = None, seeds=(0,), backends=("numba",), dtype: str | None = None,
          scheduler: str | None = None, workers: int | None = None, cache=None, refresh: bool = False,
          progress: bool | None = None, report=None) -> Sweep:
    """Run ``experiment`` at every combination of ``grid`` (parameter -> values), ``seeds`` and ``backends``.

    ``scheduler``: None (or ``SPIKEMEM_SCHEDULER`` unset) starts a local Dask
    cluster of ``workers`` processes (default: one per core); an address
    (``tcp://host:8786``) uses a running cluster; ``"in-process"`` runs here.
    ``cache``: a ``Cache`` or its folder (default ``~/.cache/spikemem/experiments``
    or ``SPIKEMEM_EXPERIMENT_CACHE``), or False to keep nothing; ``refresh``:
    compute every point anew. ``report``: called with lines worth showing
    (the dashboard's address, damaged cache entries; default: printed to
    stderr). Raises ``SweepFailed``
    after the other points are done when some raised.
    """
    started = time.perf_counter()
    grid, todo = plan(experiment, dict(grid or {}), seeds, backends, dtype)
    store = None if cache is False else cache if isinstance(cache, Cache) else Cache(cache)
    scheduler = scheduler if scheduler is not None else os.environ.get(SCHEDULER_ENV) or None
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ModelError(f"workers must be a whole number >= 1, got {workers!r}")
    if scheduler not in (None, IN_PROCESS):
        _check_address(scheduler)
    say = report or (lambda line: print(line, file=sys.stderr))
    stages = experiment.stages
    result = Sweep(experiment, grid, list(seeds), list(backends), todo, {})

    # every stage run once per key: what the cache holds is read, the rest is
    # computed in order (a stage after the one it starts from), shared by the
    # points that share it (one training, several tests)
    keys = {point: stage_keys(experiment, point) for point in todo}
    outcomes: dict = {}             # key -> Outcome
    tasks: dict = {}                # key -> (stage index, point, upstream key)
    for point in todo:
        for index, key in enumerate(keys[point]):
            if key in outcomes or key in tasks:
                continue
            stage = stages[index]
            loaded = None
            if store is not None and not refresh:
                try:
                    loaded = store.load(stage.name, key)
                except CorruptEntry as e:
                    result.corrupt.append(store.path(stage.name, key))
                    say(f"cache entry {store.path(stage.name, key)} is damaged ({e}); computing it again")
                    store.discard(stage.name, key)
            if loaded is not None:
                outcomes[key] = loaded
                result.cached += 1
            else:
                tasks[key] = (index, point, keys[point][index - 1] if index else None)

    failed: dict = {}               # key -> (exception, traceback)

    def finished(key: str, outcome: Outcome) -> None:
        index, point, _ = tasks[key]
        if store is not None:
            store.store(stages[index].name, key, outcome)
        outcomes[key] = outcome
        result.computed += 1

    from ..progress import progress as bar
    with bar(len(tasks), experiment.name, enabled=progress if tasks else False, unit="run") as shown:
        if tasks and scheduler == IN_PROCESS:
            for key, (index, point, up) in tasks.items():
                try:
                    if up in failed:
                        raise failed[up][0]
                    finished(key, compute(stages[index], len(stages) > 1, point, key, outcomes.get(up)))
                except Exception as e:
                    failed[key] = (e, traceback.format_exc())
                shown.update(1)
        elif tasks:
            _on_dask(stages, tasks, outcomes, scheduler, workers, finished, failed, shown.update, say)

    broken = [p for p in todo if any(k in failed for k in keys[p])]
    for point in todo:
        if point not in broken:
            result.outcomes[point] = combined(stages, [outcomes[k] for k in keys[point]])
    result.wall_s = time.perf_counter() - started
    if broken:
        point = broken[0]
        error, trace = failed[next(k for k in keys[point] if k in failed)]
        raise SweepFailed(f"{len(broken)} of {len(todo)} point(s) of '{experiment.name}' failed; the others are "
                          f"cached. The first, {point.label()}: {type(error).__name__}: {error}\n{trace}")
    return result


def _check_address(address: str) -> None:
    if "://" not in address or not address.split("://", 1)[1]:
        raise ModelError(f"scheduler address '{address}' is not an address like tcp://host:8786")


def _on_dask(stages, tasks, outcomes, scheduler, workers, finished, failed, update, say) -> None:
    """Submit every stage run, each after the one it starts from; store each as it arrives."""
    from distributed import as_completed

    from .cluster import client_for, close, has_bokeh
    client = client_for(scheduler, workers)
    futures = {}
    try:
        if client.dashboard_link and (scheduler is not None or has_bokeh()):
            say(f"Dask dashboard: {client.dashboard_link}")
        submitted = {}
        for key, (index, point, up) in tasks.items():
            upstream = submitted[up] if up in submitted else outcomes.get(up)
            submitted[key] = client.submit(compute, stages[index], len(stages) > 1, point, key, upstream,
                                           key=f"{stages[index].name}-{key}", pure=False)
            futures[submitted[key]] = key
        for future in as_completed(list(futures), loop=client.loop):
            key = futures.pop(future)
            try:
                finished(key, future.result())
            except Exception as e:
                failed[key] = (e, "".join(traceback.format_exception(e)))
            update(1)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        close(client)
