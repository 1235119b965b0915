"""The report of a place-recognition experiment: sample images per condition,
learned receptive fields, the full system's score matrix, precision-recall
curves, an ablation table and ``metrics.json``."""
from __future__ import annotations

import csv
import json
import os

import numpy as np

from spikemem.plot import _figure, save_figure

SAMPLES = 6          # places shown per condition
FIELDS = 36          # receptive fields shown


def samples_figure(route):
    """A few places (columns) in every traverse (rows)."""
    names = list(route.traverses)
    places = np.unique(route.traverses[names[0]].places)
    shown = places[np.linspace(0, places.size - 1, min(SAMPLES, places.size)).astype(int)]
    fig = _figure(figsize=(1.6 * len(shown), 1.7 * len(names)))
    axes = fig.subplots(len(names), len(shown), squeeze=False)
    for r, name in enumerate(names):
        t = route.traverses[name]
        for c, place in enumerate(shown):
            ax = axes[r][c]
            ax.imshow(t.images[np.flatnonzero(t.places == place)[0]], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(f"place {place}", fontsize=8)
            if c == 0:
                role = "query" if name == route.query else "calibration" if name == route.calibration else "reference"
                ax.set_ylabel(f"{name}\n({role})", fontsize=8)
    return fig


def fields_figure(module):
    """The input weights of the first neurons of ``module``, as images."""
    w = module.weights
    side = int(round(np.sqrt(module.n_inputs)))
    n = min(FIELDS, module.n_e)
    cols = int(np.ceil(np.sqrt(n)))
    fig = _figure(figsize=(1.2 * cols, 1.2 * int(np.ceil(n / cols))))
    axes = fig.subplots(int(np.ceil(n / cols)), cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([]), ax.set_yticks([])
        if k < n:
            ax.imshow(w[:, k].reshape(side, side), cmap="hot", vmin=0)
    fig.suptitle("input weights of module 0's first neurons", fontsize=9)
    return fig


def scores_figure(scores, place_ids, query_places, title):
    order = np.argsort(place_ids, kind="stable")
    fig = _figure(figsize=(6, 5))
    ax = fig.add_subplot()
    image = ax.imshow(scores[np.argsort(query_places, kind="stable")][:, order], aspect="auto", cmap="viridis",
                      interpolation="nearest")
    ax.set_xlabel("reference place"), ax.set_ylabel("query (by true place)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label="score")
    return fig


def pr_figure(methods: dict):
    fig = _figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    for name, m in methods.items():
        ax.plot(m["pr_curve"]["recall"], m["pr_curve"]["precision"], label=f"{name} (AUC {m['auc']:.2f})")
    ax.set_xlabel("recall"), ax.set_ylabel("precision"), ax.set_xlim(0, 1), ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    return fig


def write_report(folder, evaluation: dict) -> dict:
    """Figures, ``ablation.csv`` and ``metrics.json`` of ``experiments.evaluate``; returns the metrics."""
    route = evaluation["route"]
    save_figure(samples_figure(route), os.path.join(folder, "samples.png"))
    save_figure(fields_figure(evaluation["ensemble"].systems[0].modules[0]),
                os.path.join(folder, "receptive_fields.png"))
    save_figure(scores_figure(evaluation["scores"]["ensemble + regularisation"], evaluation["place_ids"],
                              evaluation["query_places"], "full system: query x place scores"),
                os.path.join(folder, "scores.png"))
    save_figure(pr_figure(evaluation["results"]), os.path.join(folder, "pr_curve.png"))
    with open(os.path.join(folder, "ablation.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", *(f"R@{n}" for n in next(iter(evaluation["results"].values()))["recall"]),
                         "AUC", "R@100%P"])
        for name, m in evaluation["results"].items():
            writer.writerow([name, *(f"{v:.4f}" for v in m["recall"].values()), f"{m['auc']:.4f}",
                             f"{m['recall_at_100_precision']:.4f}"])
    data = {"setting": evaluation["setting"], "backend": evaluation["backend"],
            "methods": evaluation["results"],
            "recall_at_1_by_modules": evaluation["recall_at_1_by_modules"],
            "thresholds": [float(t) for t in evaluation["thresholds"]], "timings": evaluation["timings"]}
    _write_json(folder, data)
    return data


def write_hardware_report(folder, run: dict) -> dict:
    save_figure(fields_figure(run["module"]), os.path.join(folder, "receptive_fields.png"))
    data = {"setting": run["setting"], "recall_at_1": run["recall_at_1"], "spikes": run["spikes"],
            "route_places": [int(p) for p in run["route"].places]}
    _write_json(folder, data)
    return data


def _write_json(folder, data) -> None:
    with open(os.path.join(folder, "metrics.json"), "w") as f:
        json.dump(data, f, indent=1, default=float)
        f.write("\n")
