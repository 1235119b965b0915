"""The published canns (1.5.0) grid-cell network driven by a given velocity trajectory.

Runs inside the canns peer environment (``benchmarks/peer_env.py build canns``), never
the project's:

    python canns_run.py INPUTS.npz PARAMS.json OUT_DIR

INPUTS.npz: ``velocity`` (K x 2, m/s), sample k holding for t in [k, k+1) * ``sample_dt``
(piecewise constant).
PARAMS.json: ``n`` (sheet side, 40), ``dt`` (model step, 5e-4 s), ``sample_dt`` (the
velocity's sample interval, s; required), ``duration`` (s of trajectory to run; default
all of it), ``seed`` (0), ``settle`` (s at zero velocity before the run, 1.0),
``record_every`` (s between saved frames, 0.02), ``chunk`` (s simulated per compiled
call, 10), and the paper's parameters below (defaults: the paper's periodic network).
OUT_DIR/results.npz: ``activity`` (T_saved x n x n float32, the rates r at the end of
each recorded interval, sheet index [y, x] = neuron y*n + x), ``times`` (T_saved, s from
the start of the run phase); ``settled`` (n x n, the pattern after settling).
OUT_DIR/results.json: ``build_seconds`` (model construction, dense weights included),
``settle_seconds`` (settling at zero velocity for ``settled_seconds``, and compiling the
run phase on a copy of the state), ``run_seconds``
(the velocity-driven phase only, compiled), ``simulated_seconds``,
``seconds_per_simulated_second``, ``parameters`` (the canns arguments used), ``version``.

The network is canns's ``canns.models.basic.GridCell2DVelocity`` (its "Burak & Fiete
2009" model), used as it is: its constructor, its weights and its ``update`` step. Its
own position decoders (``decode_position_*``, ``track_blob_centers``) are not used: the
benchmark reads the pattern's phase from the saved activity with the project's readout.
Its ``heal_network`` (a scripted sequence of velocities) is not used either: the pattern
forms from canns's random initial state at zero velocity, as in the paper.

Parameters, paper (Burak & Fiete 2009) -> canns:
- lambda (13, grid period in neurons) -> ``lambda_net``; beta = 3/lambda^2 -> ``W_beta``
  (canns derives it the same way).
- gamma = 1.05 beta -> ``W_gamma = e * W_beta``: the paper's ``gamma_over_beta`` -> ``e``.
  Default here 1.1, not the paper's 1.05: with 1.05 (and l = 2, a = 1) the largest
  eigenvalue of canns's weight matrix is below 1 (0.95 at n = 40, 0.98 at n = 48 and 52),
  so its uniform state is stable and no pattern forms; with 1.1 it is 1.78 at n = 40
  (canns's own default is e = 1.15 with W_a = 1.5, lambda_net = 15).
- l (2, the weights' shift in neurons) -> ``W_l``.
- a (1): the paper's W0 = a exp(-gamma x^2) - exp(-beta x^2) scales only the first term;
  canns's W0 = W_a (exp(-gamma x^2) - exp(-beta x^2)) scales both. They agree for a = 1,
  W_a = 1 only, so other values of ``a`` are refused; ``W_a`` (canns's overall scale,
  default here 1) may be given on its own.
- tau (10 ms) -> ``tau`` (seconds); dt (0.5 ms) -> ``brainpy.math.set_dt`` (seconds).
- alpha (0.10315 s/m) -> ``alpha``; velocity enters as B = A (1 + alpha e . v), v in m/s.
- A (1, periodic) -> ``A`` (a constant: canns has no envelope).

Where canns differs from the paper (each kept, since the point is to run canns as published):
- Dense weights: an n^2 x n^2 float32 matrix, and its construction holds a
  n^2 x n^2 x 2 difference array (n = 128: about 1 GB of weights, several GB to build).
- Boundaries: periodic only (no aperiodic sheet, no envelope A(x)).
- Preferred directions: six, 60 degrees apart (0, 180, 60, 240, 120, 300 degrees),
  assigned by neuron index modulo 6, not the paper's four (N, S, E, W) in 2 x 2 blocks.
- Which neuron's direction shifts a weight: canns's W[i, j] = W0(x_j - x_i - l e_i) for
  the input of neuron i from neuron j, i.e. the receiving neuron's direction; the paper's
  W_ij = W0(x_i - x_j - l e_j) uses the sending neuron's.
- Dynamics in the input variable: tau ds/dt = -s + W r + B, r = relu(s) (Euler), where
  the paper writes the rates: tau ds/dt = -s + relu(W s + B). Same fixed points,
  different transients.
- Everything in float32 (BrainPy's default), on JAX's CPU backend.

What it does with the defaults (2-core machine, JAX CPU): the pattern forms from noise
in the 1 s at zero velocity (about 35 % of the sheet active; period 16-20 neurons, since
a 40-neuron sheet holds two periods and a 64-neuron one four) and moves against the
velocity, in proportion to it: about -34 neurons per metre along x and -40 along y at
n = 40 (-32 at 0.1 m/s, -36 at 0.6 m/s). The dense product costs about 0.3-1.7 s per
simulated second at n = 40, 10 at n = 64, 100 at n = 96 and 340 at n = 128 (7.5 GB peak,
one minute to build the weights).
"""
from __future__ import annotations

import json
import math
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

DEFAULTS = dict(n=40, dt=5e-4, seed=0, settle=1.0, record_every=0.02, chunk=10.0,
                lam=13.0, l=2.0, a=1.0, gamma_over_beta=1.1, tau=0.01, alpha=0.10315, A=1.0, W_a=1.0)


def canns_arguments(p):
    """The ``GridCell2DVelocity`` arguments for the paper's parameters ``p``."""
    if p["a"] != 1.0:
        raise SystemExit(f"a = {p['a']}: canns scales both terms of W0 by W_a, so only the paper's a = 1 maps "
                         f"onto it (give W_a for an overall scale)")
    return dict(length=int(p["n"]), tau=float(p["tau"]), alpha=float(p["alpha"]), A=float(p["A"]),
                W_a=float(p["W_a"]), W_l=float(p["l"]), lambda_net=float(p["lam"]), e=float(p["gamma_over_beta"]))


def velocity_per_step(velocity, sample_dt, dt, steps):
    """The velocity at each model step k (t = k dt), held from its sample (piecewise constant)."""
    index = np.floor(np.arange(steps) * dt / sample_dt + 1e-9).astype(int)
    return velocity[np.minimum(index, len(velocity) - 1)].astype(np.float32)


def main(inputs_path, params_path, out_dir):
    p = {**DEFAULTS, **json.loads(Path(params_path).read_text())}
    velocity = np.load(inputs_path)["velocity"]
    if velocity.ndim != 2 or velocity.shape[1] != 2 or not np.isfinite(velocity).all():
        raise SystemExit(f"velocity must be a finite K x 2 array, got shape {velocity.shape}")
    duration = min(float(p.get("duration") or math.inf), len(velocity) * p["sample_dt"])
    dt, n = float(p["dt"]), int(p["n"])
    per_record = max(1, round(p["record_every"] / dt))
    per_chunk = max(1, min(round(p["chunk"] / (per_record * dt)), int(duration / (per_record * dt))))
    records = int(round(duration / dt)) // per_record
    chunks, rest = divmod(records, per_chunk)
    if records == 0:
        raise SystemExit(f"duration {duration} s is shorter than one record interval ({per_record * dt} s)")

    import brainpy.math as bm
    from canns.models.basic import GridCell2DVelocity

    bm.set_dt(dt)
    bm.random.seed(int(p["seed"]))
    arguments = canns_arguments(p)
    started = time.perf_counter()
    model = GridCell2DVelocity(**arguments)
    model.r.value.block_until_ready()
    build_seconds = time.perf_counter() - started

    def step(v):
        model.update(v)

    def record(vs):         # per_record steps, then the rates
        bm.for_loop(step, vs, progress_bar=False)
        return model.r.value

    @bm.jit
    def run(vs):            # records x per_record x 2 -> records x n^2
        return bm.for_loop(record, vs, progress_bar=False)

    # settle at zero velocity, then compile the run phase's shapes on a copy of the state
    started = time.perf_counter()
    settle_records = max(1, round(p["settle"] / (per_record * dt)))
    run(np.zeros((settle_records, per_record, 2), np.float32)).block_until_ready()
    settled = np.asarray(model.r.value).reshape(n, n)
    state = model.s.value, model.r.value
    for k in {per_chunk, rest} - {0, settle_records}:
        run(np.zeros((k, per_record, 2), np.float32)).block_until_ready()
    model.s.value, model.r.value = state
    settle_seconds = time.perf_counter() - started

    drive = velocity_per_step(velocity, float(p["sample_dt"]), dt, records * per_record)
    drive = drive.reshape(records, per_record, 2)
    frames = []
    started = time.perf_counter()
    for c in range(chunks + (1 if rest else 0)):
        part = drive[c * per_chunk:(c + 1) * per_chunk]
        frames.append(np.asarray(run(part)))
    run_seconds = time.perf_counter() - started

    activity = np.concatenate(frames).reshape(records, n, n).astype(np.float32)
    times = (np.arange(1, records + 1) * per_record * dt).astype(np.float64)
    simulated = records * per_record * dt
    out = Path(out_dir)
    np.savez(out / "results.npz", activity=activity, times=times, settled=settled.astype(np.float32))
    (out / "results.json").write_text(json.dumps({
        "build_seconds": build_seconds, "settle_seconds": settle_seconds,
        "settled_seconds": settle_records * per_record * dt, "run_seconds": run_seconds,
        "simulated_seconds": simulated, "seconds_per_simulated_second": run_seconds / simulated,
        "steps": records * per_record, "record_every": per_record * dt, "parameters": arguments, "dt": dt,
        "version": {k: version(k) for k in ("canns", "brainpy", "jax")}}, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:4])
