"""The grid-cell benchmark's published peer: canns's Burak-Fiete network, run in its own environment.

canns 1.5.0 (on BrainPy and JAX) cannot share the project's environment, so it runs
in the ``canns`` peer environment (``python benchmarks/peer_env.py build canns``) on
``benchmarks/peers/canns_run.py``, which documents how its parameters map onto the
paper's and where it differs. This module writes the job, runs it and reads back the
population activity and the timings:

    from grid_cells_peer import run_canns
    out = run_canns(velocity, sample_dt=0.02, n=40, duration=60.0, timeout=3600)
    out["activity"]                      # T_saved x n x n float32, every 20 ms
    out["seconds_per_simulated_second"]  # the velocity-driven phase only

Velocities are in m/s, times in seconds; the paper's parameters go by the names
``lam``, ``l``, ``a``, ``gamma_over_beta``, ``tau``, ``alpha``, ``A`` (defaults: the
paper's periodic network, except gamma = 1.1 beta: with the paper's 1.05 canns's
uniform state is stable and no pattern forms), plus canns's overall weight scale ``W_a``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from peer_env import PeerEnvError, build_command, is_built, peer_env_path, run_in_peer_env

SCRIPT = Path(__file__).resolve().parent / "peers" / "canns_run.py"
#: the job's options beyond the velocity, and their defaults (the paper's periodic network, dt 0.5 ms)
OPTIONS = dict(n=40, dt=5e-4, duration=None, seed=0, settle=1.0, record_every=0.02, chunk=10.0,
               lam=13.0, l=2.0, a=1.0, gamma_over_beta=1.1, tau=0.01, alpha=0.10315, A=1.0, W_a=1.0)


def canns_job(velocity, sample_dt: float, **options) -> tuple[dict, dict]:
    """The job for ``canns_run.py``: its inputs (the velocity, K x 2 in m/s, sample k
    holding for [k, k+1) * ``sample_dt`` seconds) and its parameters (``OPTIONS``
    overridden by ``options``). Raises ``ModelError`` naming what is wrong."""
    from spikemem.errors import ModelError

    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ModelError(f"canns job: unknown options {unknown}; known: {sorted(OPTIONS)}")
    velocity = np.asarray(velocity, dtype=float)
    if velocity.ndim != 2 or velocity.shape[1] != 2 or len(velocity) == 0:
        raise ModelError(f"canns job: velocity must be K x 2 (m/s), got shape {velocity.shape}")
    if not np.isfinite(velocity).all():
        raise ModelError("canns job: velocity has NaN or infinite values")
    params = {**OPTIONS, **options, "sample_dt": float(sample_dt)}
    positive = ["sample_dt", "dt", "settle", "record_every", "chunk", "lam", "l", "tau", "gamma_over_beta"]
    bad = [k for k in positive if not (np.isfinite(params[k]) and params[k] > 0)]
    if bad:
        raise ModelError(f"canns job: {bad} must be positive numbers")
    if params["n"] != int(params["n"]) or params["n"] < 4:
        raise ModelError(f"canns job: n = {params['n']} must be a whole number of at least 4")
    if params["a"] != 1.0:
        raise ModelError(f"canns job: a = {params['a']}: canns scales both terms of W0 together, so only the "
                         f"paper's a = 1 maps onto it (W_a scales the whole kernel)")
    available = len(velocity) * params["sample_dt"]
    if params["duration"] is not None and not 0 < params["duration"] <= available + 1e-9:
        raise ModelError(f"canns job: duration {params['duration']} s is outside the velocity's "
                         f"{available:g} s")
    if (params["duration"] or available) < params["record_every"]:
        raise ModelError(f"canns job: {params['duration'] or available:g} s is shorter than one record "
                         f"interval ({params['record_every']} s)")
    params["n"] = int(params["n"])
    return {"velocity": velocity.astype(np.float32)}, params


def run_canns(velocity, sample_dt: float, timeout: float | None = None, path: Path | None = None,
              **options) -> dict:
    """Run canns's grid-cell network on ``velocity`` (see ``canns_job``) in the canns peer
    environment; a dict with ``activity`` (T_saved x n x n float32), ``times`` (s), ``settled``
    (n x n), and the script's timings (``build_seconds``, ``settle_seconds``, ``run_seconds``,
    ``seconds_per_simulated_second``), ``parameters`` and ``version``. Raises ``PeerEnvError``
    when the environment is missing (naming the command that builds it), the script fails
    or it runs past ``timeout`` seconds."""
    inputs, params = canns_job(velocity, sample_dt, **options)
    path = Path(path) if path is not None else peer_env_path("canns")
    if not is_built(path, "canns"):
        raise PeerEnvError(f"no canns peer environment at {path}: build it with: {build_command('canns')}")
    return run_in_peer_env(SCRIPT, inputs, params, timeout=timeout, path=path, build_if_missing=False, env="canns")
