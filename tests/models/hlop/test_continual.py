"""The continual loop on a few small permuted-digit tasks: the accuracy matrix,
its determinism, what each method changes, and bad input refused before work."""
import dataclasses

import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.learn import datasets, tasks
from spikemem.models.hlop.continual import METHODS, Settings, run_sequence

FAST = Settings(hidden=(64,), epochs=6, steps=8, lr=0.1, lr_snn=0.02, rows_first_task=(10, 20), rows_per_task=(6, 10))


def small(sequence, n_train=400, n_test=200):
    return [dataclasses.replace(t, x_train=t.x_train[:n_train], y_train=t.y_train[:n_train],
                                x_test=t.x_test[:n_test], y_test=t.y_test[:n_test]) for t in sequence]


@pytest.fixture(scope="module")
def permuted():
    return small(tasks.permuted(datasets.digits(seed=0), 3, seed=0))


@pytest.fixture(scope="module")
def ann_runs(permuted):
    return {method: run_sequence(permuted, method=method, variant="ann", settings=FAST, seed=0)
            for method in METHODS}


def test_the_matrix_has_a_row_per_task_and_a_column_per_test_set(ann_runs, permuted):
    for method, run in ann_runs.items():
        a = np.asarray(run["matrix"])
        assert a.shape == (3, 3) and ((a >= 0) & (a <= 1)).all(), method
        assert len(run["history"]) == 3 and len(run["history"][0]) == FAST.epochs
        assert run["tasks"] == [t.name for t in permuted]
        assert run["summary"]["acc"] == pytest.approx(a[-1].mean())
    # every task is learnt well above chance (10 %) just after its training
    assert np.diag(ann_runs["finetune"]["matrix"]).min() > 0.6


def test_projection_methods_forget_less_than_finetuning(ann_runs):
    finetune = ann_runs["finetune"]["summary"]["bwt"]
    assert finetune < -0.1
    for method in ("ewc", "gpm", "hlop", "multitask"):
        assert ann_runs[method]["summary"]["bwt"] > finetune + 0.1, method


def test_the_same_seed_gives_the_same_matrix(permuted, ann_runs):
    again = run_sequence(permuted, method="hlop", variant="ann", settings=FAST, seed=0)
    assert again["matrix"] == ann_runs["hlop"]["matrix"]
    other = run_sequence(permuted, method="hlop", variant="ann", settings=FAST, seed=1)
    assert other["matrix"] != ann_runs["hlop"]["matrix"]


@pytest.mark.parametrize("method", ["finetune", "hlop"])
def test_the_spiking_variant_learns_the_sequence(permuted, method):
    run = run_sequence(permuted[:2], method=method, variant="snn", settings=FAST, seed=0)
    a = np.asarray(run["matrix"])
    assert a.shape == (2, 2) and a[0, 0] > 0.5 and a[1, 1] > 0.5
    if method == "hlop":                # thresholds frozen after the first task, the subspace grown twice
        assert all(not p.requires_grad for p in run["model"].frozen_parameters())
        assert run["transform"].subspaces["fc1"].n_rows == 16


def test_split_tasks_share_one_head_of_all_classes():
    split = small(tasks.split(datasets.digits(seed=0), 5))
    run = run_sequence(split[:2], method="finetune", variant="ann", settings=FAST, seed=0)
    assert run["model"].weight(run["model"].layers[-1]).shape[0] == 4      # classes 0..3 seen in two tasks
    a = np.asarray(run["matrix"])
    assert a[0, 0] > 0.8 and a[0, 1] == 0.0       # before task 1, its classes are never predicted


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="replay"), "unknown method 'replay'"),
    (dict(method="hlop", variant="cnn"), "unknown variant 'cnn'"),
    (dict(method="hlop", settings={"epochs": 1}), "continual.Settings"),
])
def test_bad_requests_are_refused(permuted, kwargs, match):
    with pytest.raises(ModelError, match=match):
        run_sequence(permuted, **kwargs)


def test_tasks_of_different_input_sizes_are_refused(permuted):
    other = small(tasks.permuted(datasets.mnist1d(seed=0, n=400), 1, seed=0))
    with pytest.raises(ModelError, match="inputs"):
        run_sequence([permuted[0], *other], method="finetune")


@pytest.mark.parametrize("bad, match", [
    (dict(hidden=()), "hidden must be one or more"),
    (dict(hidden=(0,)), "hidden must be one or more"),
    (dict(epochs=0), "epochs must be a whole number"),
    (dict(lr=-1.0), "lr must be a positive"),
    (dict(gpm_threshold=1.5), "gpm_threshold must lie in"),
    (dict(rows_per_task=(4, 8, 8)), "gives 3 layers, the network has 2"),
    (dict(beta=1.5), "beta must lie in"),
])
def test_bad_settings_are_refused(bad, match):
    with pytest.raises(ModelError, match=match):
        Settings(**bad)
