"""The RNN path integrator at its default (scaled) size: training, decoding error and grid scores.

    nice python benchmarks/grid_rnn.py                       # 512 units, 1500 steps, one CPU thread (~11 min)
    nice python benchmarks/grid_rnn.py --surround none --out benchmarks/results/grid_cells/rnn-gaussian.json
    python benchmarks/grid_rnn.py --units 4096 --steps 100000 --lr 1e-4 --device cuda    # Sorscher's

Trains ``spikemem.models.grid_cells.rnn`` on fresh random walks, then reports

- the decoding error (m) on held-out random walks of the training length (20 steps,
  0.4 s) and on longer ones (10 s), the network run once over each, against time;
- the decoding error along the first 60 s of the Sargolini et al. (2006) recording
  (1 m box, centred in the 2.2 m training box), against time;
- the grid scores of the units' rate maps (20 x 20 bins) over many short walks
  covering the box (Sorscher's way), over one 10-minute walk, and over the whole
  Sargolini recording (its own 1 m box): the fraction of units scoring > 0.3 and
  the quantiles, for the trained and the untrained network (the latter says what
  scores a network with no spatial code gets from the same paths). A silent
  unit has no score (NaN), counted apart.

An untrained network of the same size and seed gives the reference errors.
Output: JSON (``--out``, default benchmarks/results/grid_cells/rnn.json).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np
import torch
from record import write_run_set

from spikemem.models.grid_cells import rnn
from spikemem.models.grid_cells.gridscore import grid_scores, rate_map
from spikemem.models.grid_cells.trajectory import sargolini

OUT = os.path.join(os.path.dirname(__file__), "results", "grid_cells", "rnn.json")


def walk_errors(model, n, steps, seed):
    """Decoding error (n, steps) along ``n`` held-out walks of ``steps`` steps."""
    paths = rnn.random_walk(n, steps, model.settings.box, np.random.default_rng(seed), model.settings.dt)
    return np.linalg.norm(model.run(paths)[1] - paths[:, 1:], axis=-1)


def at_times(error, dt, times):
    """The error (mean over paths) at each of ``times`` (s), and its mean over the whole run."""
    curve = error.reshape(-1, error.shape[-1]).mean(0)
    return {"mean_m": float(curve.mean()),
            "at_s": {f"{t:g}": float(curve[min(int(round(t / dt)) - 1, len(curve) - 1)]) for t in times}}


def score_summary(scores):
    active = scores[np.isfinite(scores)]
    return {"units": int(scores.size), "silent": int(scores.size - active.size),
            "fraction_above_0.3": float((active > 0.3).sum() / scores.size),
            "fraction_of_active_above_0.3": float((active > 0.3).mean()) if active.size else None,
            "quantiles": {f"{q:g}": float(np.quantile(active, q)) for q in (0.1, 0.5, 0.9, 0.99)} if active.size
            else None, "max": float(active.max()) if active.size else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=rnn.Settings.n_units)
    ap.add_argument("--steps", type=int, default=rnn.Settings.steps)
    ap.add_argument("--lr", type=float, default=rnn.Settings.learning_rate)
    ap.add_argument("--surround", default=str(rnn.Settings.surround_scale),
                    help="the place cells' surround_scale, or 'none' for Gaussian place cells")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None, help="default: a GPU when there is one")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--checkpoint", help="also save the trained network here (npz)")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    surround = None if args.surround.lower() == "none" else float(args.surround)
    settings = rnn.Settings(n_units=args.units, steps=args.steps, learning_rate=args.lr, surround_scale=surround)
    start = time.perf_counter()
    model = rnn.train_path_integrator(settings, seed=args.seed, progress=True, device=args.device)
    train_s = time.perf_counter() - start
    if args.checkpoint:
        model.save(args.checkpoint)
    untrained = rnn.PathIntegrator(settings, seed=args.seed, device=args.device)
    dt = settings.dt
    every = max(1, settings.steps // 20)
    training = {"seconds": round(train_s, 1), "seconds_per_step": round(train_s / settings.steps, 4),
                "device": str(model.device),
                "loss_every": every, "loss": [round(float(v), 4) for v in model.losses[::every]],
                "training_error_m": [round(float(v), 4) for v in model.errors[::every]],
                "final_loss": float(model.losses[-100:].mean()), "final_training_error_m":
                float(model.errors[-100:].mean())}
    print(f"trained {settings.steps} steps in {train_s:.0f} s; loss {training['final_loss']:.3f}, "
          f"error {training['final_training_error_m']:.3f} m")

    rows = []
    for name, net in (("trained", model), ("untrained", untrained)):
        short = walk_errors(net, 500, settings.sequence_length, seed=10_000)
        long = walk_errors(net, 50, 500, seed=10_001)
        rec = sargolini().slice(0, 60)
        sarg = rnn.decoding_error(net, rec)
        rows += [{"network": name, "paths": "500 held-out walks, 20 steps (0.4 s)",
                  **at_times(short, dt, (0.02, 0.2, 0.4))},
                 {"network": name, "paths": "50 held-out walks, 500 steps (10 s)",
                  **at_times(long, dt, (0.4, 1, 2, 5, 10))},
                 {"network": name, "paths": "Sargolini et al. 2006, first 60 s (1 m box, centred)",
                  **at_times(sarg, dt, (0.4, 1, 5, 10, 30, 60))}]
        print(rows[-3:])

    box = settings.box
    short_paths = rnn.random_walk(2500, settings.sequence_length, box, np.random.default_rng(20_000), dt)
    long_path = rnn.random_walk(1, 30_000, box, np.random.default_rng(20_001), dt)[0]
    grid = {}
    for name, net in (("trained", model), ("untrained", untrained)):
        positions, activity = rnn.unit_activity(net, sargolini())
        sarg_scores = grid_scores(rate_map(positions + 0.5, activity, (1.0, 1.0), 20))
        short_scores = rnn.unit_grid_scores(net, short_paths)
        grid[name] = {"2500 walks of 20 steps over the 2.2 m box": score_summary(short_scores),
                      "one 600 s walk over the 2.2 m box": score_summary(rnn.unit_grid_scores(net, long_path)),
                      "Sargolini et al. 2006, 600 s, its 1 m box": score_summary(sarg_scores)}
    print(grid)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    write_run_set(args.out, "grid_rnn", rows, settings=dataclasses.asdict(settings), seed=args.seed,
                  threads=args.threads, training=training, grid_scores=grid,
                  notes="decoding error: the distance between the mean centre of the 3 most active predicted "
                        "place cells and the true position; the network runs once over each whole path")


if __name__ == "__main__":
    main()
