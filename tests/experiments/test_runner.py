import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from brian2 import mV, ms

from spikemem.errors import ModelError
from spikemem.experiments import IN_PROCESS, Cache, SweepFailed, chain, run, sweep
from spikemem.experiments.runner import stage_keys

import experiment_toys
from experiment_toys import fails_for_seed_one, noisy, slow, test, tiny_network, train

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def metrics(s):
    return {p: o.metrics for p, o in s.outcomes.items()}


def entries(folder):
    return sorted(f for _, _, files in os.walk(folder) for f in files)


def test_a_rerun_computes_only_what_changed(tmp_path):
    first = sweep(noisy, {"w": [1 * mV, 2 * mV]}, seeds=[0, 1], scheduler=IN_PROCESS, cache=tmp_path)
    assert (first.computed, first.cached, len(first.points)) == (4, 0, 4)
    again = sweep(noisy, {"w": [1 * mV, 2 * mV, 3 * mV]}, seeds=[0, 1], scheduler=IN_PROCESS, cache=tmp_path)
    assert (again.computed, again.cached) == (2, 4)
    assert all(again.outcomes[p].metrics == m for p, m in metrics(first).items())
    assert len(entries(tmp_path)) == 6
    fresh = sweep(noisy, {"w": [1 * mV]}, seeds=[0], scheduler=IN_PROCESS, cache=tmp_path, refresh=True)
    assert fresh.computed == 1


def test_provenance_names_what_produced_a_result(tmp_path):
    outcome = run(tiny_network, seed=3, cache=tmp_path)
    p = outcome.provenance
    assert p["experiment"] == "tiny-network" and p["seed"] == 3 and p["backend"] == "numba"
    assert p["params"] == {"duration": pytest.approx(0.02)}
    assert len(p["network_hash"]) == 16 and p["simulation"]["backend"] == "numba"
    assert p["versions"]["spikemem"] and p["versions"]["numpy"] and p["host"] and p["wall_s"] > 0
    assert p["key"] == stage_keys(tiny_network, next(iter(sweep(tiny_network, seeds=[3], scheduler=IN_PROCESS,
                                                                 cache=tmp_path).outcomes)))[0]
    assert run(tiny_network, seed=3, cache=tmp_path).provenance == p       # read back from the cache


def test_stages_are_cached_each_with_its_own_parameters(tmp_path):
    calls = str(tmp_path / "calls.txt")
    both = chain(train, test)
    first = sweep(both, {"threshold": [1.0, 5.0], "calls": [calls]}, seeds=[0], scheduler=IN_PROCESS,
                  cache=tmp_path / "c")
    assert open(calls).read().split("\n").count("train 0 0.5") == 1       # trained once for both thresholds
    assert sorted(o.metrics["test.passed"] for o in first.outcomes.values()) == [0.0, 1.0]
    assert all(set(o.metrics) == {"train.loss", "test.passed"} for o in first.outcomes.values())
    os.remove(calls)
    sweep(both, {"threshold": [2.0], "calls": [calls]}, seeds=[0], scheduler=IN_PROCESS, cache=tmp_path / "c")
    assert open(calls).read() == "test 0 2.0\n"                           # the trained stage came from the cache


def test_a_damaged_entry_is_reported_and_computed_again(tmp_path):
    first = sweep(noisy, seeds=[0, 1], scheduler=IN_PROCESS, cache=tmp_path)
    point = first.points[1]
    path = Cache(tmp_path).path("noisy", stage_keys(noisy, point)[0])
    open(path, "wb").write(b"damaged")
    lines = []
    again = sweep(noisy, seeds=[0, 1], scheduler=IN_PROCESS, cache=tmp_path, report=lines.append)
    assert again.corrupt == [path] and again.computed == 1 and "damaged" in lines[0]
    assert metrics(again) == metrics(first)


def test_failures_are_named_after_the_other_points_are_done(tmp_path):
    with pytest.raises(SweepFailed, match=r"1 of 3 point\(s\).*seed=1.*seed one is broken"):
        sweep(fails_for_seed_one, seeds=[0, 1, 2], scheduler=IN_PROCESS, cache=tmp_path)
    assert len(entries(tmp_path)) == 2


@pytest.mark.parametrize("call, words", [
    (lambda c: sweep(noisy, {"w": []}, scheduler=IN_PROCESS, cache=c), "'w' of 'noisy' is given no values"),
    (lambda c: sweep(noisy, {"x": [1]}, scheduler=IN_PROCESS, cache=c), "no parameter 'x'"),
    (lambda c: sweep(noisy, {"w": [1 * mV, 2 * ms]}, scheduler=IN_PROCESS, cache=c), "parameter 'w'"),
    (lambda c: sweep(noisy, seeds=[], scheduler=IN_PROCESS, cache=c), "no seeds"),
    (lambda c: sweep(noisy, seeds=[-1], scheduler=IN_PROCESS, cache=c), "seed -1"),
    (lambda c: sweep(noisy, backends=["nope"], scheduler=IN_PROCESS, cache=c), "unknown backend 'nope'"),
    (lambda c: sweep(noisy, dtype="float16", scheduler=IN_PROCESS, cache=c), "dtype 'float16'"),
    (lambda c: sweep(noisy, workers=0, cache=c), "workers"),
    (lambda c: sweep(noisy, scheduler="localhost", cache=c), "not an address"),
    (lambda c: sweep(lambda seed: {}, cache=c), "expected an experiment"),
])
def test_bad_requests_are_refused_before_any_work(tmp_path, call, words):
    with pytest.raises(ModelError) as e:
        call(tmp_path)
    assert words in str(e.value)
    assert entries(tmp_path) == []


def test_an_unreachable_scheduler_fails_within_seconds(tmp_path):
    start = time.perf_counter()
    with pytest.raises(ModelError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        sweep(noisy, scheduler="tcp://127.0.0.1:9", cache=tmp_path)
    assert time.perf_counter() - start < 15
    assert entries(tmp_path) == []


def test_a_local_cluster_gives_the_sequential_results_and_keeps_kernels(tmp_path):
    grid = {"w": [1 * mV, 2 * mV]}
    local = sweep(noisy, grid, seeds=[0, 1, 2], workers=2, cache=tmp_path / "a", progress=False)
    alone = sweep(noisy, grid, seeds=[0, 1, 2], scheduler=IN_PROCESS, cache=tmp_path / "b")
    assert metrics(local) == metrics(alone) and local.computed == 6
    assert {o.provenance["pid"] for o in local.outcomes.values()} - {os.getpid()}
    # one worker, several networks of one shape: the kernel is compiled once in that worker
    nets = sweep(tiny_network, seeds=[0, 1, 2, 3], workers=1, cache=tmp_path / "c", progress=False)
    by_start = sorted(nets.outcomes.values(), key=lambda o: o.provenance["started"])
    assert {o.metrics["kernels"] for o in by_start} == {1}
    assert {o.metrics["signatures"] for o in by_start} == {1}


def test_a_killed_worker_loses_nothing(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    killed = []

    def kill_the_first_worker():
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            started = os.listdir(pids)
            if started:
                pid = int(started[0].split("-")[0])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_first_worker)
    killer.start()
    grid = {"pid_dir": [str(pids)]}
    done = sweep(slow, grid, seeds=list(range(6)), workers=2, cache=tmp_path / "c", progress=False)
    killer.join()
    assert killed, "no worker was killed"
    assert {p.seed: o.metrics["square"] for p, o in done.outcomes.items()} == {s: s * s for s in range(6)}
    assert killed[0] not in {o.provenance["pid"] for o in done.outcomes.values()}
    assert done.computed == 6 and len(entries(tmp_path / "c")) == 6


SWEEP_SCRIPT = """
import sys
from experiment_toys import slow
from spikemem.experiments import sweep
sweep(slow, {{"pause": [0.2]}}, seeds=list(range(8)), scheduler="in-process", cache=sys.argv[1])
"""


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_sweep_resumes_from_the_cache(tmp_path, how):
    cache = tmp_path / "c"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", SWEEP_SCRIPT.format(), str(cache)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len([f for f in entries(cache) if f.endswith(".h5")]) < 3:
        time.sleep(0.05)
    proc.send_signal(how)
    proc.wait(timeout=30)
    before = [f for f in entries(cache) if f.endswith(".h5")]
    assert 3 <= len(before) < 8
    resumed = sweep(slow, {"pause": [0.2]}, seeds=list(range(8)), scheduler=IN_PROCESS, cache=cache)
    assert resumed.cached == len(before) and resumed.computed == 8 - len(before)
    assert entries(cache) == sorted(f for f in entries(cache) if f.endswith(".h5")) and len(entries(cache)) == 8
    assert {p.seed: o.metrics["square"] for p, o in resumed.outcomes.items()} == {s: s * s for s in range(8)}


@pytest.fixture
def dask_cluster(tmp_path):
    """A separately started `dask scheduler` and one `dask worker`, as a user would start them."""
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS, os.environ.get("PYTHONPATH", "")])}
    scheduler = subprocess.Popen([dask, "scheduler", "--scheduler-file", str(info), "--port", "0",
                                  "--no-dashboard", "--host", "127.0.0.1"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [scheduler]
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (info.exists() and info.stat().st_size):
            time.sleep(0.1)
        worker = subprocess.Popen([dask, "worker", "--scheduler-file", str(info), "--nthreads", "1",
                                   "--no-dashboard", "--host", "127.0.0.1"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(worker)
        yield json.loads(info.read_text())["address"]
    finally:
        for p in procs[::-1]:
            p.terminate()
            p.wait(timeout=30)


def test_a_running_cluster_takes_the_same_sweep(tmp_path, dask_cluster):
    grid = {"w": [1 * mV, 3 * mV]}
    remote = sweep(noisy, grid, seeds=[0, 1], scheduler=dask_cluster, cache=tmp_path / "a", progress=False)
    alone = sweep(noisy, grid, seeds=[0, 1], scheduler=IN_PROCESS, cache=tmp_path / "b")
    assert metrics(remote) == metrics(alone)
    assert {o.provenance["pid"] for o in remote.outcomes.values()} - {os.getpid()}


def test_the_scheduler_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKEMEM_SCHEDULER", "tcp://127.0.0.1:9")
    monkeypatch.setattr("spikemem.experiments.cluster.CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ModelError, match="tcp://127.0.0.1:9"):
        sweep(noisy, cache=tmp_path)
    assert np.isfinite(sweep(noisy, scheduler=IN_PROCESS, cache=tmp_path).outcomes.popitem()[1].metrics["value"])


def test_toys_are_importable_by_workers():
    assert experiment_toys.__file__.startswith(TESTS)

