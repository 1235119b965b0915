"""The report of a grid-cell experiment: the sheet's pattern, the decoded
against the true path, the error over time, rate maps with grid scores, and
``metrics.json``."""
from __future__ import annotations

import json
import os

import numpy as np

from spikemem.plot import _figure, save_figure

MAPS = 16            # rate maps shown
GRID = 0.3           # a unit with a grid score above this counts as grid-like


def patterns_figure(snapshots: dict):
    """The sheet's activity at each snapshot, N up and E right."""
    fig = _figure(figsize=(3.2 * len(snapshots), 3.2))
    for ax, (label, sheet) in zip(fig.subplots(1, len(snapshots), squeeze=False)[0], snapshots.items()):
        ax.imshow(sheet, origin="lower", cmap="viridis")
        ax.set_title(label, fontsize=9), ax.set_xticks([]), ax.set_yticks([])
    return fig


def path_figure(run, box):
    fig = _figure(figsize=(4.5, 4.5))
    ax = fig.add_subplot()
    ax.plot(*run.true_xy.T, lw=0.6, color="0.4", label="true")
    ax.plot(*run.position.T, lw=0.6, color="C3", label="decoded")
    ax.set_xlim(0, box[0]), ax.set_ylim(0, box[1]), ax.set_aspect("equal")
    ax.set_xlabel("x (m)"), ax.set_ylabel("y (m)"), ax.legend(fontsize=8, loc="upper right")
    return fig


def error_figure(t, error, fit_seconds):
    fig = _figure(figsize=(7, 3))
    ax = fig.add_subplot()
    ax.plot(t, error * 100, lw=0.8)
    ax.axvspan(0, fit_seconds, color="0.9", label="gain fitted")
    ax.set_xlabel("time (s)"), ax.set_ylabel("error (cm)"), ax.legend(fontsize=8)
    return fig


def maps_figure(maps, scores):
    shown = min(MAPS, len(maps))
    cols = int(np.ceil(np.sqrt(shown)))
    rows = int(np.ceil(shown / cols))
    fig = _figure(figsize=(1.6 * cols, 1.7 * rows))
    for k, ax in enumerate(fig.subplots(rows, cols, squeeze=False).flat):
        ax.set_xticks([]), ax.set_yticks([])
        if k < shown:
            ax.imshow(maps[k], origin="lower", cmap="jet")
            ax.set_title(f"{scores[k]:.2f}", fontsize=8)
    return fig


def write_report(folder, evaluation: dict) -> dict:
    """Figures and ``metrics.json`` of ``experiments.integrate``; returns the metrics."""
    run, setting = evaluation["run"], evaluation["setting"]
    save_figure(patterns_figure(run.snapshots), os.path.join(folder, "patterns.png"))
    save_figure(path_figure(run, evaluation["box"]), os.path.join(folder, "path.png"))
    save_figure(error_figure(run.t, run.error, setting["fit_seconds"]), os.path.join(folder, "error.png"))
    scores = evaluation["grid_scores"]
    save_figure(maps_figure(evaluation["rate_maps"], scores), os.path.join(folder, "rate_maps.png"))
    at = [s for s in (10, 30, 60, 120, 300, 600) if s <= run.t[-1] + 1e-9]
    data = {"setting": setting, "backend": evaluation["backend"],
            "error_m": {f"{s}s": run.error_at(s) for s in at}, "error_end_m": float(run.error[-1]),
            "mean_error_m": float(run.error.mean()),
            "gain_m_per_neuron": run.fit.gain, "rotation_rad": run.fit.rotation, "mirrored": run.fit.mirrored,
            "s_per_simulated_s": run.timings["s_per_simulated_s"], "timings": run.timings,
            "grid_scores": [float(s) for s in scores], "grid_score_median": float(np.nanmedian(scores)),
            "hardware_check": evaluation["hardware"]}
    _write_json(folder, data)
    return data


def write_rnn_report(folder, trained: dict) -> dict:
    """The error along the path and the grid scores of ``experiments.train_rnn``."""
    error, dt, scores = trained["error"], trained["dt"], trained["grid_scores"]
    t = (np.arange(len(error)) + 1) * dt
    save_figure(error_figure(t, error, 0), os.path.join(folder, "error.png"))
    model = trained["model"]
    data = {"settings": trained["settings"], "losses": [float(v) for v in model.losses],
            "error_m": {f"{s}s": float(error[np.argmin(np.abs(t - s))]) for s in (1, 5, 10, 60)},
            "mean_error_m": float(error.mean()), "grid_scores": [float(s) for s in scores],
            "grid_fraction": float(np.mean(np.nan_to_num(scores, nan=-np.inf) > GRID))}
    _write_json(folder, data)
    return data


def _write_json(folder, data) -> None:
    with open(os.path.join(folder, "metrics.json"), "w") as f:
        json.dump(data, f, indent=1, default=float)
