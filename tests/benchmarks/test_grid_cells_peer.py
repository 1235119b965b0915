"""The canns peer's job and hand-over (the peer's environment itself is stood in for by this Python),
and the peer script's own helpers, which need neither canns nor spikemem."""
import json
import sys

import numpy as np
import pytest

import grid_cells_peer
import benchmark_scripts
import peer_env
from grid_cells_peer import canns_job, run_canns
from peer_env import PeerEnvError
from spikemem.errors import ModelError

canns_run = benchmark_scripts.load("peers/canns_run")

# stands in for canns_run.py: echoes the job back as a sheet of activity
ECHO = """
import json, sys
from pathlib import Path
import numpy as np
inputs, params, out = sys.argv[1:4]
v = np.load(inputs)["velocity"]
p = json.loads(Path(params).read_text())
frames = int(round(p["duration"] / p["record_every"]))
np.savez(Path(out) / "results.npz", activity=np.full((frames, p["n"], p["n"]), v.sum(), np.float32))
(Path(out) / "results.json").write_text(json.dumps({"run_seconds": 1.0, "alpha": p["alpha"]}))
"""


def test_the_job_holds_the_velocity_and_the_defaults_overridden():
    velocity = np.random.default_rng(0).normal(size=(50, 2))
    inputs, params = canns_job(velocity, 0.02, n=32, alpha=0.2)
    assert inputs["velocity"].dtype == np.float32 and np.allclose(inputs["velocity"], velocity)
    assert params["n"] == 32 and params["alpha"] == 0.2 and params["sample_dt"] == 0.02
    assert params["lam"] == grid_cells_peer.OPTIONS["lam"] and params["duration"] is None
    assert set(canns_run.DEFAULTS) <= set(params)       # the script reads every option the job writes


@pytest.mark.parametrize("velocity, options, message", [
    (np.zeros((10, 3)), {}, r"K x 2 \(m/s\), got shape \(10, 3\)"),
    (np.full((10, 2), np.nan), {}, "NaN"),
    (np.zeros((10, 2)), {"lambda": 13}, r"unknown options \['lambda'\]"),
    (np.zeros((10, 2)), {"a": 1.2}, "a = 1.2"),
    (np.zeros((10, 2)), {"tau": 0.0}, r"\['tau'\] must be positive"),
    (np.zeros((10, 2)), {"n": 2.5}, "n = 2.5"),
    (np.zeros((10, 2)), {"duration": 1.0}, "outside the velocity's 0.2 s"),
    (np.zeros((1, 2)), {"record_every": 0.05}, "shorter than one record interval"),
])
def test_bad_jobs_are_refused_before_anything_runs(velocity, options, message):
    with pytest.raises(ModelError, match=message):
        canns_job(velocity, 0.02, **options)


def test_a_missing_environment_names_the_command_that_builds_it(tmp_path):
    with pytest.raises(PeerEnvError, match="build it with: python benchmarks/peer_env.py build canns"):
        run_canns(np.zeros((10, 2)), 0.02, path=tmp_path / "none")


def test_the_job_goes_in_and_the_activity_comes_back(tmp_path, monkeypatch):
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (env / "bin" / "python").chmod(0o755)
    (env / peer_env.MARKER).write_text(json.dumps({"requirements": list(peer_env.ENVIRONMENTS["canns"].requirements)}))
    (tmp_path / "echo.py").write_text(ECHO)
    monkeypatch.setattr(grid_cells_peer, "SCRIPT", tmp_path / "echo.py")
    out = run_canns(np.ones((10, 2)), 0.02, n=8, duration=0.2, alpha=0.5, path=env, timeout=60)
    assert out["activity"].shape == (10, 8, 8) and np.all(out["activity"] == 20.0)
    assert out["alpha"] == 0.5 and out["run_seconds"] == 1.0


def test_the_script_holds_each_velocity_sample_for_its_interval():
    velocity = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    held = canns_run.velocity_per_step(velocity, sample_dt=0.02, dt=0.005, steps=12)
    assert held.dtype == np.float32 and held[:, 0].tolist() == [1.0] * 4 + [2.0] * 4 + [3.0] * 4


def test_the_script_maps_the_papers_parameters_onto_cannss():
    p = {**canns_run.DEFAULTS, "lam": 15.0, "l": 1.0, "gamma_over_beta": 1.2}
    args = canns_run.canns_arguments(p)
    assert args["lambda_net"] == 15.0 and args["W_l"] == 1.0 and args["e"] == 1.2 and args["length"] == p["n"]
    with pytest.raises(SystemExit, match="a = 2.0"):
        canns_run.canns_arguments({**p, "a": 2.0})
