"""The peers' environment helper: its hand-over (arrays and parameters in, results out)
and its errors, on a stand-in environment whose Python is this one."""
import json
import sys

import numpy as np
import pytest

import peer_env
from peer_env import PeerEnvError, run_in_peer_env

ECHO = """
import json, sys
from pathlib import Path
import numpy as np
inputs, params, out = sys.argv[1:4]
x = np.load(inputs)["x"]
p = json.loads(Path(params).read_text())
if p.get("fail"):
    raise SystemExit("asked to fail")
np.savez(Path(out) / "results.npz", doubled=2 * x)
(Path(out) / "results.json").write_text(json.dumps({"total": float(x.sum()), "scale": p["scale"]}))
"""


@pytest.fixture
def stand_in(tmp_path):
    """A folder that passes for a finished build: a bin/python and the marker."""
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    python = env / "bin" / "python"          # a script, not a link: a link would lose this venv
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    (env / peer_env.MARKER).write_text(json.dumps({"requirements": list(peer_env.REQUIREMENTS)}))
    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    return env, script


def test_arrays_and_parameters_go_in_and_results_come_back(stand_in):
    env, script = stand_in
    out = run_in_peer_env(script, {"x": np.arange(4.0)}, params={"scale": 3}, path=env, timeout=60)
    assert out["total"] == 6.0 and out["scale"] == 3
    assert np.array_equal(out["doubled"], [0.0, 2.0, 4.0, 6.0])


def test_a_failing_script_reports_its_output(stand_in):
    env, script = stand_in
    with pytest.raises(PeerEnvError, match="asked to fail"):
        run_in_peer_env(script, {"x": np.zeros(1)}, params={"fail": True}, path=env, timeout=60)


def test_a_missing_or_outdated_environment_is_named(tmp_path, stand_in):
    env, script = stand_in
    with pytest.raises(PeerEnvError, match="no peer environment at"):
        run_in_peer_env(script, {"x": np.zeros(1)}, path=tmp_path / "none", build_if_missing=False)
    (env / peer_env.MARKER).write_text(json.dumps({"requirements": ["torch==2.0"]}))
    assert not peer_env.is_built(env)


def test_bad_hand_over_is_refused_before_running(tmp_path, stand_in):
    env, script = stand_in
    with pytest.raises(PeerEnvError, match="does not exist"):
        run_in_peer_env(tmp_path / "nope.py", {"x": np.zeros(1)}, path=env)
    with pytest.raises(PeerEnvError, match=r"inputs \['x'\] are not numpy arrays"):
        run_in_peer_env(script, {"x": [1, 2]}, path=env)


def test_a_folder_that_is_no_environment_is_not_overwritten(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(PeerEnvError, match="is not a virtual environment"):
        peer_env.build(tmp_path)


def test_the_folder_follows_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("SPIKEMEM_PEER_ENV", str(tmp_path / "peers"))
    assert peer_env.peer_env_path() == tmp_path / "peers"
    monkeypatch.delenv("SPIKEMEM_PEER_ENV")
    assert peer_env.peer_env_path() == peer_env.DEFAULT_PATH


def test_each_environment_has_its_own_folder_requirements_and_build_command(monkeypatch, tmp_path):
    monkeypatch.delenv("SPIKEMEM_CANNS_ENV", raising=False)
    assert peer_env.peer_env_path("canns") == peer_env.ENVIRONMENTS["canns"].default_path != peer_env.DEFAULT_PATH
    monkeypatch.setenv("SPIKEMEM_CANNS_ENV", str(tmp_path / "canns"))
    assert peer_env.peer_env_path("canns") == tmp_path / "canns"
    assert peer_env.build_command("canns") == "python benchmarks/peer_env.py build canns"
    assert peer_env.build_command() == "python benchmarks/peer_env.py build"
    monkeypatch.setenv("SPIKEMEM_HLOP_ENV", str(tmp_path / "hlop"))
    assert peer_env.peer_env_path("hlop") == tmp_path / "hlop"
    assert len({p.default_path for p in peer_env.ENVIRONMENTS.values()}) == len(peer_env.ENVIRONMENTS)
    assert "torch==2.14.1" in peer_env.ENVIRONMENTS["hlop"].requirements
    with pytest.raises(PeerEnvError, match="no peer environment named 'brian'"):
        peer_env.peer_env_path("brian")


def test_a_torch_build_is_no_canns_build(stand_in):
    env, script = stand_in
    assert peer_env.is_built(env) and not peer_env.is_built(env, "canns")
    with pytest.raises(PeerEnvError, match="build it with: python benchmarks/peer_env.py build canns"):
        run_in_peer_env(script, {"x": np.zeros(1)}, path=env, build_if_missing=False, env="canns")
