"""The modular system (Hussaini, Milford and Fischer, ICRA 2023) and ensembles of them.

Each module learns one region (a list of place ids, 25 places in the paper)
from that region's reference images only; modules are independent tasks, run
one after another here (``scheduler="in-process"``) or on Dask (a local
cluster, or a scheduler's address; ``spikemem.experiments.cluster``). At
deployment every module sees every query and the scores of all modules,
concatenated over their places, are ranked globally.

Regularisation: a module's neuron that fires for many reference images of
other regions ("hyperactive") wins queries it should not. Every reference
image is shown to every module; a neuron's *activity* is the number of
reference images that make it fire; neurons whose activity exceeds a
threshold are silenced (their counts read as 0). The threshold is the one,
among the activities seen, that gives the best recall@1 on held-out
calibration queries (ties: the larger threshold, silencing fewer neurons).

An ``Ensemble`` sums the score matrices of modular systems trained with
different seeds.

Memory: a trained module keeps its input weights (8 bytes per synapse) and
thresholds; training holds one simulation per worker besides. A system whose
modules cannot fit in the memory this machine has is refused before any
training (``require_memory``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from spikemem import sizing
from spikemem.errors import ModelError
from spikemem.experiments.runner import IN_PROCESS

from .assignment import scores as module_scores
from .module import PRESENT, REST, TrainedModule, check_images, train_module
from .network import N_INPUTS, module_network

#: bytes a trained module keeps per plastic synapse: its float64 weight
STORED_SYNAPSE_BYTES = 8


def module_seed(seed: int, index: int) -> int:
    """The seed of module ``index`` of a system of ``seed``: independent streams."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def check_regions(regions, places) -> list[np.ndarray]:
    """Regions as arrays of place ids: non-empty, disjoint, each place with images."""
    if isinstance(regions, np.ndarray) and regions.ndim == 1:
        raise ModelError("regions: give a list of regions, each a list of place ids")
    out = [np.asarray(r).ravel() for r in regions]
    if not out:
        raise ModelError("regions: no regions given")
    seen = set()
    have = set(np.asarray(places).tolist())
    for k, r in enumerate(out):
        if r.size == 0:
            raise ModelError(f"region {k} has no places")
        twice = seen & set(r.tolist())
        if twice or len(set(r.tolist())) != r.size:
            raise ModelError(f"region {k}: place {sorted(twice)[0] if twice else r[0]} is in more than one region "
                             f"(or twice in this one)")
        seen |= set(r.tolist())
        missing = set(r.tolist()) - have
        if missing:
            raise ModelError(f"region {k}: place {sorted(missing)[0]} has no reference image")
    return out


def module_bytes(n_e: int = 400, n_inputs: int = N_INPUTS, backend: str = "numba") -> dict:
    """What one module costs: ``stored`` (a trained module), ``simulated`` (the
    estimate of its simulation on ``backend``), and ``per_synapse`` of each for
    the plastic projection."""
    net = module_network(n_e, n_inputs)
    est = sizing.estimate(net, backend=backend)
    feed = next(p for p in est.parts if p.what.startswith("projection 'input_to_exc'"))
    synapses = n_e * n_inputs
    stored = synapses * STORED_SYNAPSE_BYTES + n_e * 8
    return {"stored": stored, "simulated": est.total, "stored_per_synapse": STORED_SYNAPSE_BYTES,
            "simulated_per_synapse": feed.bytes / synapses}


def require_memory(n_modules: int, n_e: int = 400, n_inputs: int = N_INPUTS, backend: str = "numba",
                   workers: int = 1) -> sizing.Estimate:
    """Refuse (``sizing.InsufficientMemory``, before anything is built) a system
    of ``n_modules`` trained modules, with ``workers`` simulations at a time,
    that cannot fit in the memory available; the estimate otherwise."""
    if isinstance(n_modules, bool) or not isinstance(n_modules, (int, np.integer)) or n_modules < 1:
        raise ModelError(f"n_modules must be an integer >= 1, got {n_modules!r}")
    cost = module_bytes(n_e, n_inputs, backend)
    running = min(int(workers), int(n_modules))
    parts = (sizing.Part(f"{n_modules:,} trained modules ({n_e:,} x {n_inputs:,} synapses, "
                         f"{STORED_SYNAPSE_BYTES} bytes each)", int(n_modules) * cost["stored"]),
             sizing.Part(f"{running} module simulation(s) on '{backend}'", running * cost["simulated"]))
    est = sizing.Estimate(int(n_modules) * 2 * n_e, int(n_modules) * n_e * n_inputs, parts)
    sizing.check(est, f"a modular system of {n_modules:,} modules")
    return est


def _train_region(images, places, region, index, seed, options) -> TrainedModule:
    """One module's task (top level, so that Dask can send it to a worker)."""
    mine = np.isin(places, region)
    return train_module(images[mine], places[mine], seed=module_seed(seed, index), **options)


def _tasks(fn, args, scheduler, workers):
    """``fn(*a)`` for each ``a`` in ``args``, in order: here, or on Dask."""
    if scheduler == IN_PROCESS:
        return [fn(*a) for a in args]
    from spikemem.experiments.cluster import client_for, close
    client = client_for(scheduler, workers)
    try:
        return client.gather([client.submit(fn, *a, pure=False) for a in args])
    finally:
        close(client)


def _recall_at_1(scores: np.ndarray, true_columns: np.ndarray) -> float:
    """Share of queries whose true place scores strictly above every other place."""
    rows = np.arange(scores.shape[0])
    true = scores[rows, true_columns]
    others = scores.copy()
    others[rows, true_columns] = -np.inf
    return float(np.mean(true > others.max(1)))


@dataclass
class ModularSystem:
    """Modules, each with its region (place ids), the neurons' activity on the
    reference images and the hyperactivity threshold (inf: nothing silenced)."""
    modules: list
    regions: list
    activity: list | None = None
    threshold: float = np.inf
    calibration: dict = field(default_factory=dict)     # threshold -> recall@1 on the calibration queries

    @property
    def places(self) -> np.ndarray:
        """The place ids of the score columns: the modules' places, in region order."""
        return np.concatenate([m.assignment.places for m in self.modules])

    def respond(self, images, backend: str = "numba", progress=None) -> list:
        """Every module's spike counts (images x n_e) for ``images``."""
        images = check_images(images, self.modules[0].n_inputs)
        return [m.responses(images, backend, progress) for m in self.modules]

    def silenced(self, threshold=None) -> list:
        """Per module, the neurons silenced at ``threshold`` (default: the system's)."""
        threshold = self.threshold if threshold is None else threshold
        if self.activity is None or not np.isfinite(threshold):
            return [np.zeros(m.assignment.neuron_place.size, bool) for m in self.modules]
        return [a > threshold for a in self.activity]

    def scores(self, responses: list, threshold=None) -> np.ndarray:
        """Images x places (``places``): every module's scores side by side, the
        silenced neurons' counts read as 0."""
        if len(responses) != len(self.modules):
            raise ModelError(f"scores: responses of {len(responses)} modules for a system of {len(self.modules)}")
        out = []
        for module, r, off in zip(self.modules, responses, self.silenced(threshold)):
            r = np.array(r, dtype=np.float64)
            r[:, off] = 0
            out.append(module_scores(r, module.assignment))
        return np.concatenate(out, axis=1)

    def match(self, images, backend: str = "numba", progress=None) -> np.ndarray:
        return self.scores(self.respond(images, backend, progress))

    def regularise(self, reference_images, calibration_images, calibration_places, backend: str = "numba",
                   progress=None) -> float:
        """Count each neuron's reference images, then calibrate the threshold on the
        calibration queries; returns it (also kept in ``threshold``)."""
        self.activity = [(r > 0).sum(0) for r in self.respond(reference_images, backend, progress)]
        return self.calibrate(self.respond(calibration_images, backend, progress), calibration_places)

    def calibrate(self, responses: list, places) -> float:
        """The threshold with the best recall@1 on ``responses`` (per module) of
        queries of ``places``; needs ``activity``."""
        if self.activity is None:
            raise ModelError("calibrate: no activity yet; show the reference images first (regularise)")
        columns = _columns(self.places, places)
        candidates = np.unique(np.concatenate(self.activity))[::-1]
        self.calibration = {np.inf: _recall_at_1(self.scores(responses, np.inf), columns)}
        for t in candidates:
            self.calibration[float(t)] = _recall_at_1(self.scores(responses, t), columns)
        # the best recall; among equals the first seen, the largest threshold
        self.threshold = max(self.calibration, key=lambda t: (self.calibration[t], t))
        return self.threshold


def _columns(place_ids: np.ndarray, places) -> np.ndarray:
    places = np.asarray(places)
    where = {p: k for k, p in enumerate(place_ids.tolist())}
    missing = [p for p in places.tolist() if p not in where]
    if missing:
        raise ModelError(f"place {missing[0]} is in no module's region")
    return np.array([where[p] for p in places.tolist()], np.int64)


def train_system(images, places, regions, n_e: int = 400, epochs: int = 20, seed: int = 0,
                 backend: str = "numba", scheduler: str | None = IN_PROCESS, workers: int | None = None,
                 present=PRESENT, rest=REST, weighted: bool = False, **options) -> ModularSystem:
    """One module per region, each trained on its region's reference images.
    ``scheduler``: "in-process" (one after another), None (a local Dask cluster)
    or a scheduler's address. ``options`` go to ``train_module``."""
    images = check_images(images, options.get("n_inputs", N_INPUTS))
    places = np.asarray(places)
    if places.shape != (len(images),):
        raise ModelError(f"train_system: {len(images)} images but places of shape {places.shape}")
    regions = check_regions(regions, places)
    running = 1 if scheduler == IN_PROCESS else (workers or _cores())
    require_memory(len(regions), n_e, options.get("n_inputs", N_INPUTS), backend, running)
    options = dict(options, n_e=n_e, epochs=epochs, backend=backend, present=present, rest=rest, weighted=weighted)
    args = [(images, places, region, k, seed, options) for k, region in enumerate(regions)]
    return ModularSystem(_tasks(_train_region, args, scheduler, workers), regions)


def _cores() -> int:
    from spikemem.backends.numba.engine import available_cores
    return available_cores()


@dataclass
class Ensemble:
    """Modular systems trained with different seeds; their score matrices are summed."""
    systems: list

    def __post_init__(self):
        if not self.systems:
            raise ModelError("an ensemble needs at least one system")
        first = self.systems[0].places
        for k, s in enumerate(self.systems[1:], 1):
            if not np.array_equal(s.places, first):
                raise ModelError(f"ensemble: system {k} scores other places than system 0")

    @property
    def places(self) -> np.ndarray:
        return self.systems[0].places

    def scores(self, responses: list) -> np.ndarray:
        """The sum of the systems' scores; ``responses[k]`` are system k's (per module)."""
        if len(responses) != len(self.systems):
            raise ModelError(f"ensemble: responses of {len(responses)} systems for {len(self.systems)}")
        return sum(s.scores(r) for s, r in zip(self.systems, responses))

    def match(self, images, backend: str = "numba", progress=None) -> np.ndarray:
        return self.scores([s.respond(images, backend, progress) for s in self.systems])


def train_ensemble(images, places, regions, seeds=(0, 1, 2), **options) -> Ensemble:
    """One modular system per seed (``train_system``'s options)."""
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ModelError(f"train_ensemble: give distinct seeds, got {seeds!r}")
    # every system's modules are kept: refuse the whole ensemble before the first is trained
    scheduler = options.get("scheduler", IN_PROCESS)
    running = 1 if scheduler == IN_PROCESS else (options.get("workers") or _cores())
    require_memory(len(seeds) * len(list(regions)), options.get("n_e", 400), options.get("n_inputs", N_INPUTS),
                   options.get("backend", "numba"), running)
    return Ensemble([train_system(images, places, regions, seed=s, **options) for s in seeds])


__all__ = ["Ensemble", "ModularSystem", "STORED_SYNAPSE_BYTES", "check_regions", "module_bytes", "module_seed",
           "require_memory", "train_ensemble", "train_system"]
