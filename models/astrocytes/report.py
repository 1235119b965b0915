"""The report of an astrocyte experiment (``experiments.evaluate``), one
figure per part that ran:

- ``nest_traces.png``: IP3, calcium, h_IP3R and the SIC a neuron receives,
  spikemem against NEST (spikemem alone without NEST);
- ``ring_kymograph.png``: the ring's calcium, astrocyte against time;
- ``memory.png`` and ``memory.csv``: recall accuracy against the delay, per model;
- ``metrics.json``: the figures' numbers (the traces and the ring's calcium
  left out; each part's summary, differences and rows).
"""
from __future__ import annotations

import csv
import json
import os

import numpy as np

from spikemem.plot import _figure, save_figure

from .nest_drive import UNITS, VARIABLES

LABELS = {"lif": "LIF-SNN", "amsu": "AM-SU SNN", "lstm": "LSTM", "gru": "GRU"}


def nest_figure(part: dict):
    """One row per variable: spikemem's trace and NEST's over it, and their difference beside."""
    ours, nest = part["ours"], part["nest"]
    fig = _figure(figsize=(9, 7))
    axes = fig.subplots(len(VARIABLES), 2 if nest is not None else 1, squeeze=False, sharex=True)
    if nest is not None:
        from .nest_drive import common_samples
        t, theirs, mine = common_samples(nest, ours)
    for r, v in enumerate(VARIABLES):
        ax = axes[r][0]
        ax.plot(ours["t"] / 1e3, ours[v], lw=1, label=f"spikemem ({part['backend']})")
        if nest is not None:
            ax.plot(nest["t"] / 1e3, nest[v], "--", lw=1, label="NEST")
            axes[r][1].plot(t / 1e3, mine[v] - theirs[v], lw=0.8, color="k")
            axes[r][1].set_ylabel(f"difference ({UNITS[v]})", fontsize=8)
        ax.set_ylabel(f"{v} ({UNITS[v]})", fontsize=8)
    axes[0][0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.suptitle(f"Li-Rinzel astrocyte, {part['inputs']} input spikes: {part['note']}", fontsize=9)
    return fig


def ring_figure(part: dict):
    """The kymograph: calcium (uM) of each astrocyte over time, the stimulated one marked."""
    calcium = np.asarray(part["calcium_uM"])
    fig = _figure(figsize=(9, 3.5))
    ax = fig.subplots()
    image = ax.imshow(calcium.T, aspect="auto", origin="lower", cmap="magma", interpolation="antialiased",
                      extent=(0, calcium.shape[0], -0.5, calcium.shape[1] - 0.5))
    ax.axhline(part["stimulated"], color="c", lw=0.6, ls=":")
    ax.set(xlabel="time (s)", ylabel="astrocyte",
           title=f"calcium wave in a ring of {part['astrocytes']} astrocytes ({part['backend']}); "
                 f"reached {part['reached']}")
    fig.colorbar(image, ax=ax, label="Ca (uM)")
    return fig


def memory_figure(part: dict):
    """Recall accuracy against the delay, one line per model, chance dotted."""
    fig = _figure(figsize=(5, 3.5))
    ax = fig.subplots()
    for kind in dict.fromkeys(r["model"] for r in part["rows"]):
        rows = [r for r in part["rows"] if r["model"] == kind]
        ax.plot([r["delay"] for r in rows], [r["accuracy"] for r in rows], "o-",
                label=f"{LABELS[kind]} ({rows[0]['parameters']} parameters)")
    ax.axhline(part["chance"], color="grey", ls=":", label="chance")
    delays = sorted({r["delay"] for r in part["rows"]})
    ax.set(xlabel="delay D (steps)", ylabel="recall accuracy", ylim=(0, 1.02),
           title=f"delayed recall, {part['iterations']} iterations",
           xscale="log" if delays[0] > 0 else "symlog")       # symlog: a delay of 0 has a place
    ax.set_xticks(delays, [str(d) for d in delays])
    ax.minorticks_off()
    ax.legend(fontsize=7)
    return fig


def metrics(evaluation: dict) -> dict:
    """The JSON-able numbers of ``evaluation``: its traces and calcium left out."""
    out = {k: evaluation[k] for k in ("setting", "backend", "seconds")}
    if "nest" in evaluation:
        out["nest"] = {k: v for k, v in evaluation["nest"].items() if k not in ("ours", "nest")}
        out["nest"]["nest_ran"] = evaluation["nest"]["nest"] is not None
    if "ring" in evaluation:
        out["ring"] = {k: v for k, v in evaluation["ring"].items() if k != "calcium_uM"}
    if "memory" in evaluation:
        out["memory"] = evaluation["memory"]
    return out


def write_report(folder, evaluation: dict) -> dict:
    """The figures of the parts that ran, ``memory.csv`` and ``metrics.json``; returns the metrics."""
    if "nest" in evaluation:
        save_figure(nest_figure(evaluation["nest"]), os.path.join(folder, "nest_traces.png"))
    if "ring" in evaluation:
        save_figure(ring_figure(evaluation["ring"]), os.path.join(folder, "ring_kymograph.png"))
    if "memory" in evaluation:
        part = evaluation["memory"]
        save_figure(memory_figure(part), os.path.join(folder, "memory.png"))
        with open(os.path.join(folder, "memory.csv"), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(part["rows"][0]))
            writer.writeheader()
            writer.writerows({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in row.items()}
                             for row in part["rows"])
    data = metrics(evaluation)
    with open(os.path.join(folder, "metrics.json"), "w") as f:
        json.dump(data, f, indent=1, default=float)
        f.write("\n")
    return data
