"""The report of a continual-learning experiment: the accuracy matrices as heat
maps (one per method and variant, the mean over seeds), the ACC / BWT table
(``results.csv``) and ``metrics.json``."""
from __future__ import annotations

import csv
import json
import os

import numpy as np

from spikemem.plot import _figure, save_figure


def matrices_figure(summary: dict):
    """One heat map per (variant, method): rows the task just learnt, columns
    the task tested, in percent."""
    variants = list(summary)
    methods = list(next(iter(summary.values())))
    fig = _figure(figsize=(2.6 * len(methods), 2.6 * len(variants) + 0.4))
    axes = fig.subplots(len(variants), len(methods), squeeze=False)
    for r, variant in enumerate(variants):
        for c, method in enumerate(methods):
            ax, s = axes[r][c], summary[variant][method]
            a = 100 * np.asarray(s["matrix"])
            ax.imshow(a, vmin=0, vmax=100, cmap="viridis", interpolation="nearest")
            ax.set_title(f"{variant} {method}\nACC {100 * s['acc']['mean']:.1f}, BWT {100 * s['bwt']['mean']:+.1f}",
                         fontsize=8)
            ax.set_xticks(range(len(a))), ax.set_yticks(range(len(a)))
            ax.tick_params(labelsize=6)
            if r == len(variants) - 1:
                ax.set_xlabel("task tested", fontsize=8)
            if c == 0:
                ax.set_ylabel("after task", fontsize=8)
    return fig


def rows(summary: dict) -> list[dict]:
    """One row per (variant, method): ACC, BWT, forgetting (percent, mean and
    std over seeds) and seconds per sequence."""
    out = []
    for variant, by_method in summary.items():
        for method, s in by_method.items():
            row = {"variant": variant, "method": method, "seeds": len(s["acc"]["values"])}
            for name in ("acc", "bwt", "forgetting", "learning_accuracy"):
                row[name] = 100 * s[name]["mean"]
                row[f"{name}_std"] = 100 * s[name]["std"]
            row["seconds"] = s["seconds"]
            out.append(row)
    return out


def write_report(folder, evaluation: dict) -> dict:
    """``accuracy_matrices.png``, ``results.csv`` and ``metrics.json`` of
    ``experiments.evaluate``; returns the metrics."""
    summary = evaluation["summary"]
    save_figure(matrices_figure(summary), os.path.join(folder, "accuracy_matrices.png"))
    table = rows(summary)
    with open(os.path.join(folder, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in row.items()} for row in table)
    runs = {variant: {method: [{"seed": r["seed"], "matrix": r["matrix"], "seconds": r["seconds"],
                                "history": r["history"]} for r in by_seed]
                      for method, by_seed in by_method.items()}
            for variant, by_method in evaluation["runs"].items()}
    data = {"setting": evaluation["setting"], "tasks": evaluation["tasks"], "summary": summary, "rows": table,
            "runs": runs, "seconds": evaluation["seconds"]}
    with open(os.path.join(folder, "metrics.json"), "w") as f:
        json.dump(data, f, indent=1, default=float)
        f.write("\n")
    return data
