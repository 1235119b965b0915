"""The HLOP peer's settings, task file and hand-over (the peer's environment is stood in for by this
Python, the authors' code by a small module), and the peer script's helpers, which need no spikemem."""
import json
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import hlop_peer
import benchmark_scripts
import peer_env
from hlop_peer import acc, bwt, checkout, permuted_digits, run_hlop, scaled_settings, task_file
from peer_env import PeerEnvError
from spikemem.errors import ModelError

hlop_run = benchmark_scripts.load("peers/hlop_run")

# stands in for hlop_run.py: a matrix whose entries are the task file's and settings' figures
ECHO = """
import json, sys
from pathlib import Path
import numpy as np
inputs, params, out = sys.argv[1:4]
f = np.load(inputs)
p = json.loads(Path(params).read_text())
n = int(f["n_tasks"])
m = np.full((n, n), float(f["y_train_0"].max()) / 10)
(Path(out) / "results.json").write_text(json.dumps({"methods": {"hlop": {"matrix": m.tolist()}},
                                                   "settings": {**p, "n": n}}))
"""


def test_the_settings_are_the_authors_with_the_sizes_scaled():
    p = scaled_settings(64, 1347, hidden=100)
    theirs = hlop_run.DEFAULTS
    assert p["lr"] == theirs["lr"] == 0.1 and p["timesteps"] == 20 and p["hlop_lr"] == [0.001, 0.01, 0.01]
    assert p["hidden"] == 100 and p["epochs"] == round(938 / math.ceil(1347 / 64)) == 43
    assert p["rows"][0][0] == 7 and p["rows"][1][0] == 25 and p["rows"][2][0] == 13     # 6.53, 25, 12.5 rounded up
    for rows, theirs_rows, width in zip(p["rows"], theirs["rows"], (64, 100, 100)):
        assert sum(rows) <= width and all(r >= 1 for r in rows)
        assert np.all(np.diff(rows[1:]) <= 0) and len(rows) == len(theirs_rows)  # their schedule: fewer later
    assert scaled_settings(64, 1347, epochs=3)["epochs"] == 3
    assert set(theirs) <= set(p)                    # the script reads every setting the job writes


@pytest.mark.parametrize("args, message", [
    ((0, 100), r"n_in \(0\)"), ((64, 100, 0), r"hidden \(0\)"), ((64, 100, 100, 0), "epochs = 0"),
    ((8, 100, 100), "do not fit layers of"),
])
def test_bad_settings_are_refused(args, message):
    n_in, n_train, *rest = args
    with pytest.raises(ModelError, match=message):
        scaled_settings(n_in, n_train, *rest)


def test_the_task_file_is_what_the_script_reads():
    tasks = permuted_digits(3, seed=0)
    assert tasks[0].x_train.shape[1] == 64 and not np.array_equal(tasks[0].x_train, tasks[1].x_train)
    assert not np.array_equal(permuted_digits(3, seed=1)[1].x_test, tasks[1].x_test)


def test_the_task_file_goes_in_and_the_matrix_comes_back(tmp_path, monkeypatch):
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (env / "bin" / "python").chmod(0o755)
    (env / peer_env.MARKER).write_text(json.dumps({"requirements": list(peer_env.ENVIRONMENTS["hlop"].requirements)}))
    (tmp_path / "echo.py").write_text(ECHO)
    arrays = task_file(permuted_digits(4, seed=0), tmp_path / "tasks.npz")
    loaded = hlop_run.load_tasks(tmp_path / "tasks.npz")
    assert len(loaded) == 4 and loaded[3]["x_test"].dtype == np.float32 and loaded[3]["y_test"].dtype == np.int64
    monkeypatch.setattr(hlop_peer, "SCRIPT", tmp_path / "echo.py")
    out = run_hlop(arrays, {"epochs": 2}, "/the/source", path=env, timeout=60)
    assert np.allclose(out["methods"]["hlop"]["matrix"], 0.9) and out["settings"]["n"] == 4
    assert out["settings"]["source"] == "/the/source" and out["settings"]["epochs"] == 2


def test_a_missing_environment_names_the_command_that_builds_it(tmp_path):
    with pytest.raises(PeerEnvError, match="build it with: python benchmarks/peer_env.py build hlop"):
        run_hlop({"x": np.zeros(1)}, {}, "/the/source", path=tmp_path / "none")


def test_acc_and_bwt_follow_their_definitions():
    a = np.array([[0.9, 0.1, 0.1], [0.7, 0.8, 0.1], [0.5, 0.6, 0.95]])
    assert acc(a) == pytest.approx((0.5 + 0.6 + 0.95) / 3)
    assert bwt(a) == pytest.approx(((0.5 - 0.9) + (0.6 - 0.8)) / 2)


def _fake_source(folder, widths=6):
    (folder / "models").mkdir(parents=True)
    lines = ["class spiking_MLP:", f"    widths = [{', '.join(['784'] * widths)}]"]
    (folder / "models" / "spiking_mlp_hlop.py").write_text("\n".join(lines) + "\n")
    return folder


def test_the_authors_model_gets_the_tasks_input_width(tmp_path):
    spiking_mlp = hlop_run.import_authors_mlp(_fake_source(tmp_path / "src"), 64)
    assert spiking_mlp.widths == [64] * 6
    with pytest.raises(SystemExit, match="784 six times, found 5"):
        hlop_run.import_authors_mlp(_fake_source(tmp_path / "other", widths=5), 64)
    with pytest.raises(SystemExit, match="give a checkout"):
        hlop_run.import_authors_mlp(tmp_path / "nothing", 64)


def test_the_torch_patches_give_one_device_and_saved_variables():
    class Ctx:
        saved_tensors = ("a", "b")
    fake = SimpleNamespace(cuda=SimpleNamespace(device_count=lambda: 0),
                           autograd=SimpleNamespace(function=SimpleNamespace(FunctionCtx=Ctx)))
    hlop_run.patch_torch(fake)
    assert fake.cuda.device_count() == 1 and Ctx().saved_variables == ("a", "b")


def test_the_source_is_a_checkout_or_a_git_directory(tmp_path):
    folder, _ = checkout(_fake_source(tmp_path / "plain"))
    assert folder == tmp_path / "plain"
    repo = _fake_source(tmp_path / "repo")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "m"], check=True)
    head = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    exported, commit = checkout(repo / ".git")
    assert commit == head and (exported / "models" / "spiking_mlp_hlop.py").read_text().count("784") == 6
    with pytest.raises(PeerEnvError, match="neither a checkout"):
        checkout(tmp_path / "empty")
