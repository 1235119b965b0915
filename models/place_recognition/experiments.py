"""The place-recognition experiments: the full system and its ablations against
SAD and the VPRTempo-style network on a synthetic route, and a trained module on
the hardware targets' emulators.

``evaluate(setting)``: a synthetic route (``data.synthetic_route``), an ensemble of
modular systems (one per seed, one module per region) trained on the reference
traverses, each regularised with the calibration traverse, and the query
traverse scored by

- one modular system, without and with regularisation;
- the ensemble, without and with regularisation (the full system);
- the full system restricted to its first k modules (k = 1 .. all: the queries
  and places of those regions only);
- SAD on patch-normalised images and the VPRTempo-style network (``tempo``).

``hardware(setting)``: one module trained on the route's first region, its
query responses on numba (as trained), its static network on numba and on
each target's emulator (``hardware.py``), and Recall@1 of each.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
from brian2 import ms

from spikemem.errors import ModelError
from spikemem.experiments import Param, experiment
from spikemem.experiments.runner import IN_PROCESS

from . import metrics
from .data import Route, synthetic_route
from .hardware import TARGETS, emulate
from .module import train_module
from .sad import route_scores
from .system import train_ensemble
from .tempo import train_tempo

EXPERIMENTS = ("route", "hardware")


@dataclass(frozen=True)
class Setting:
    """What an experiment runs: the route, the modules, the ensemble."""
    n_places: int = 50
    difficulty: float = 0.5
    image_size: int = 64          # pixels of the route's images (the modules see them at 28 x 28)
    route_seed: int = 0
    region: int = 25              # places per module
    n_e: int = 400                # excitatory neurons per module
    epochs: int = 10
    seeds: tuple = (0, 1, 2)      # one modular system per seed
    weighted: bool = False        # weighted neuron-to-place assignment (RA-L 2022)
    present: float = float(350 * ms)
    rest: float = float(150 * ms)
    tempo_epochs: int = 4
    shared_traces: bool = True    # numba: train with one trace per neuron (engine option)


#: the settings of ``spikemem run place-recognition`` (a few minutes on 2 cores)
SETTINGS = {"route": Setting(), "hardware": Setting(n_places=25, seeds=(0,))}


def route_of(setting: Setting) -> Route:
    return synthetic_route(setting.n_places, setting.difficulty, setting.image_size, setting.route_seed)


def reference_set(route: Route) -> tuple[np.ndarray, np.ndarray]:
    """The images and place ids of all reference traverses, one after the other."""
    images = np.concatenate([route.traverses[t].images for t in route.reference])
    places = np.concatenate([route.traverses[t].places for t in route.reference])
    return images, places


def measures(scores, query_places, place_ids) -> dict:
    """Recall@N, the precision-recall curve, its AUC and R@100%P of one score matrix."""
    precision, recall, _ = metrics.precision_recall(scores, query_places, place_ids)
    return {"recall": metrics.recall_at(scores, query_places, place_ids),
            "auc": metrics.auc(precision, recall),
            "recall_at_100_precision": metrics.recall_at_100_precision(scores, query_places, place_ids),
            "pr_curve": {"precision": precision.tolist(), "recall": recall.tolist()}}


def _training(setting: Setting, backend: str) -> dict:
    """The options of ``train_module`` that a setting fixes."""
    options = dict(n_e=setting.n_e, epochs=setting.epochs, backend=backend, present=setting.present,
                   rest=setting.rest, weighted=setting.weighted)
    if setting.shared_traces and backend == "numba":
        options["backend_options"] = {"shared_traces": True}
    return options


def _check(setting: Setting) -> None:
    if setting.region > setting.n_places:
        raise ModelError(f"setting: a region of {setting.region} places is larger than the route "
                         f"({setting.n_places} places)")
    if not setting.seeds:
        raise ModelError("setting: give at least one seed")


def evaluate(setting: Setting = Setting(), backend: str = "numba", scheduler=IN_PROCESS, workers=None,
             progress=None) -> dict:
    """Train, regularise and score everything on one synthetic route (see the module text)."""
    _check(setting)
    timings = {}
    start = time.perf_counter()
    route = route_of(setting)
    images, places = reference_set(route)
    query, calibration = route.traverses[route.query], route.traverses[route.calibration]
    regions = route.regions(setting.region)
    ensemble = train_ensemble(images, places, regions, seeds=setting.seeds, scheduler=scheduler, workers=workers,
                              **_training(setting, backend))
    timings["train_s"] = time.perf_counter() - start

    start = time.perf_counter()
    for system in ensemble.systems:
        system.regularise(images, calibration.images, calibration.places, backend, progress)
    responses = [system.respond(query.images, backend, progress) for system in ensemble.systems]
    timings["test_s"] = time.perf_counter() - start
    place_ids = ensemble.places
    first = ensemble.systems[0]
    scores = {
        "modular system": first.scores(responses[0], np.inf),
        "modular system + regularisation": first.scores(responses[0]),
        "ensemble": sum(s.scores(r, np.inf) for s, r in zip(ensemble.systems, responses)),
        "ensemble + regularisation": ensemble.scores(responses),
    }
    start = time.perf_counter()
    scores["SAD"], sad_ids, _ = route_scores(route)
    tempo = train_tempo(images, places, epochs=setting.tempo_epochs, seed=setting.seeds[0])
    scores["VPRTempo-style"], tempo_ids = tempo.scores(query.images)
    timings["baselines_s"] = time.perf_counter() - start
    ids = {"SAD": sad_ids, "VPRTempo-style": tempo_ids}
    results = {name: measures(s, query.places, ids.get(name, place_ids)) for name, s in scores.items()}

    full = scores["ensemble + regularisation"]
    by_modules = {}
    for k in range(1, len(regions) + 1):
        covered = np.concatenate(regions[:k])
        rows, columns = np.isin(query.places, covered), np.isin(place_ids, covered)
        by_modules[k] = metrics.recall_at(full[np.ix_(rows, columns)], query.places[rows], place_ids[columns],
                                          ns=(1,))[1]
    return {"setting": asdict(setting), "backend": backend, "route": route, "ensemble": ensemble,
            "scores": scores, "place_ids": place_ids, "query_places": query.places, "results": results,
            "recall_at_1_by_modules": by_modules, "thresholds": [s.threshold for s in ensemble.systems],
            "timings": timings}


def hardware(setting: Setting = SETTINGS["hardware"], backend: str = "numba", progress=None) -> dict:
    """One module trained on the first region, then Recall@1 of its query
    responses as trained, as a static network on numba, and on each emulator."""
    _check(setting)
    route = route_of(setting)
    region = route.regions(setting.region)[0]
    route = route.subset(region)
    images, places = reference_set(route)
    query = route.traverses[route.query]
    module = train_module(images, places, seed=setting.seeds[0], **_training(setting, backend))
    runs = {f"trained ({backend})": module.responses(query.images, backend, progress)}
    for target in TARGETS:
        runs[f"{target} network (numba)"] = emulate(module, query.images, target, "numba", progress)
        runs[f"{target} emulator"] = emulate(module, query.images, target, None, progress)
    places_of = module.assignment.places
    recall = {name: metrics.recall_at(module.scores(r), query.places, places_of, ns=(1,))[1]
              for name, r in runs.items()}
    spikes = {name: int(r.sum()) for name, r in runs.items()}
    return {"setting": asdict(setting), "recall_at_1": recall, "spikes": spikes, "module": module,
            "route": route}


def main_job(name: str, backend: str, folder: str) -> list:
    """``spikemem run place-recognition --experiment route|hardware``: run it, write its report."""
    from spikemem.progress import shown
    from .report import write_hardware_report, write_report
    if name == "route":
        evaluation = evaluate(SETTINGS["route"], backend, progress=shown())
        data = write_report(folder, evaluation)
        lines = [f"{method}: R@1 {m['recall'][1]:.2f}, AUC {m['auc']:.2f}" for method, m in data["methods"].items()]
        return [f"place recognition on a synthetic route of {evaluation['setting']['n_places']} places "
                f"({backend})", *lines]
    if name == "hardware":
        data = write_hardware_report(folder, hardware(SETTINGS["hardware"], backend, progress=shown()))
        return [f"one module, {len(data['route_places'])} places: "
                + ", ".join(f"{k} R@1 {v:.2f}" for k, v in data["recall_at_1"].items())]
    raise ModelError(f"unknown experiment '{name}'; choose one of {', '.join(EXPERIMENTS)}")


@experiment(name="place-recognition")
def recognition(seed, backend, n_places=Param(50, "places on the synthetic route"),
                difficulty=Param(0.5, "appearance change between traverses, 0 to 1"),
                n_e=Param(400, "excitatory neurons per module"), epochs=Param(10, "training epochs"),
                region=Param(25, "places per module"), systems=Param(3, "modular systems in the ensemble")):
    """Recall@1 and AUC of every method of ``evaluate`` (``spikemem sweep place-recognition``):
    the ensemble's systems take seeds ``seed``, ``seed + 1``, ... and the route ``seed``."""
    setting = Setting(n_places=n_places, difficulty=difficulty, n_e=n_e, epochs=epochs, region=region,
                      seeds=tuple(range(seed, seed + systems)), route_seed=seed)
    results = evaluate(setting, backend)["results"]
    out = {}
    for method, m in results.items():
        key = method.replace(" + ", "_").replace(" ", "_").replace("-", "_").lower()
        out[f"r1_{key}"], out[f"auc_{key}"] = m["recall"][1], m["auc"]
    return out
