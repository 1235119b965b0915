import warnings

import numpy as np
import pytest
import torch

from spikemem.errors import ModelError
from spikemem.learn.subspace import principal_angles
from spikemem.learn.transforms import HLOP
from trainable_fakes import FakeMLP

pytestmark = pytest.mark.torch


def low_rank(n, width, rank, seed):
    """n inputs in a random rank-dimensional subspace, with a decaying spectrum."""
    g = torch.Generator().manual_seed(seed)
    basis = torch.linalg.qr(torch.randn(width, rank, generator=g, dtype=torch.float64))[0].T
    scales = torch.linspace(2.0, 1.0, rank, dtype=torch.float64)
    return torch.randn(n, rank, generator=g, dtype=torch.float64) * scales @ basis


def train(model, x, y, transforms=(), steps=150, lr=0.1):
    optimiser = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        for t in transforms:
            t.transform(model)
        optimiser.step()


def test_rows_learn_the_principal_subspace_of_each_layer_input():
    model = FakeMLP([12, 8, 3])
    x = low_rank(600, 12, 3, seed=0)
    hlop = HLOP(model, rows_per_task={"fc1": 3, "fc2": 4}, eta=0.05, epochs=20)
    hlop.end_task(model, x)
    assert hlop.subspaces["fc1"].n_rows == 3 and hlop.subspaces["fc1"].n_frozen == 3
    assert principal_angles(hlop.subspaces["fc1"].rows, x).max() < 0.05
    model(x)
    s, vh = np.linalg.svd(model.presynaptic["fc2"].numpy(), full_matrices=False)[1:]   # uncentred: Oja sees E[x x^T]
    assert s[3] > 1.5 * s[4]                                      # a gap after the 4th direction
    assert principal_angles(hlop.subspaces["fc2"].rows, vh[:4]).max() < 0.1


def test_projection_keeps_old_inputs_responses_and_freezes_offsets():
    x_a, x_b = low_rank(300, 12, 3, seed=0), low_rank(300, 12, 3, seed=1)
    y_a = torch.randint(0, 3, (300,), generator=torch.Generator().manual_seed(2))
    y_b = torch.randint(0, 3, (300,), generator=torch.Generator().manual_seed(3))
    changes = {}
    for method in ("finetune", "hlop"):
        model = FakeMLP([12, 8, 3], seed=4)
        train(model, x_a, y_a)
        hlop = HLOP(model, rows_per_task={"fc1": 3, "fc2": 6}, epochs=30)
        hlop.end_task(model, x_a)
        before = {k: v.detach().clone() for k, v in model.pre_activations(x_a).items()}
        train(model, x_b, y_b, transforms=[hlop] if method == "hlop" else [])
        after = model.pre_activations(x_a)
        changes[method] = {k: float((after[k] - before[k]).norm() / before[k].norm()) for k in before}
        if method == "hlop":
            assert not any(p.requires_grad for p in model.frozen_parameters())
            assert all(p.grad is None for p in model.frozen_parameters())
    assert changes["finetune"]["fc1"] > 0.1
    assert changes["hlop"]["fc1"] < 0.05 * changes["finetune"]["fc1"]
    assert changes["hlop"]["fc2"] < 0.3 * changes["finetune"]["fc2"]


def test_transform_projects_the_gradient():
    model = FakeMLP([12, 8, 3])
    x = low_rank(400, 12, 3, seed=0)
    hlop = HLOP(model, rows_per_task=3, epochs=20)
    grad = torch.randn(8, 12, dtype=torch.float64)
    model.weight("fc1").grad = grad.clone()
    hlop.transform(model)                                        # before any task: nothing to project
    assert torch.equal(model.weight("fc1").grad, grad)
    hlop.end_task(model, x)
    hlop.transform(model)
    projected = model.weight("fc1").grad
    assert torch.allclose(projected, hlop.subspaces["fc1"].project(grad))
    assert (projected @ x.T).norm() < 0.05 * (grad @ x.T).norm()


def test_rows_per_task_schedule_and_the_input_width_cap():
    model = FakeMLP([6, 5, 3])
    x = torch.rand(50, 6, dtype=torch.float64)
    hlop = HLOP(model, rows_per_task=[{"fc1": 4, "fc2": 3}, 3], seed=1)
    counts = []
    for _ in range(3):
        hlop.end_task(model, x)
        counts.append((hlop.subspaces["fc1"].n_rows, hlop.subspaces["fc2"].n_rows))
    assert counts == [(4, 3), (6, 5), (6, 5)]
    assert hlop.rows(0) == {"fc1": 4, "fc2": 3} and hlop.rows(7) == {"fc1": 3, "fc2": 3}


def test_same_seed_same_subspace_and_spiking_counts():
    x = torch.rand(80, 6, dtype=torch.float64)
    rows = []
    for _ in range(2):
        model = FakeMLP([6, 5, 3])
        hlop = HLOP(model, rows_per_task=2, spiking=True, spike_steps=40, seed=3)
        hlop.end_task(model, x)
        rows.append(hlop.subspaces["fc1"].rows)
    assert torch.equal(rows[0], rows[1])
    assert hlop.subspaces["fc1"].spikes == 40


def test_spiking_model_takes_spike_trains():
    model = FakeMLP([6, 5, 3], spiking=True)
    hlop = HLOP(model, rows_per_task=2)
    hlop.end_task(model, torch.rand(5, 30, 6, dtype=torch.float64))
    assert hlop.subspaces["fc1"].n_rows == 2


@pytest.mark.parametrize("kwargs, match", [
    ({"rows_per_task": 7}, "7 subspace neurons for layer 'fc1' exceed its 6 input dimensions"),
    ({"rows_per_task": {"fc1": 2}}, r"rows_per_task must name each layer .* missing \['fc2'\]"),
    ({"rows_per_task": []}, "empty"),
    ({"rows_per_task": -1}, "integer >= 0"),
    ({"rows_per_task": 2, "eta": {"fc1": 0.1, "fc9": 0.1}}, r"eta must name each layer .* unknown \['fc9'\]"),
    ({"rows_per_task": 2, "eta": -1.0}, "eta must be a number > 0"),
    ({"rows_per_task": 2, "epochs": 0}, "epochs must be a positive integer"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ModelError, match=match):
        HLOP(FakeMLP([6, 5, 3]), **kwargs)


def test_a_rate_too_large_for_the_activity_warns():
    model = FakeMLP([6, 5, 3])
    x = 3 * torch.rand(64, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with pytest.warns(UserWarning, match="subspace rows of layer 'fc1' are .* from orthonormal .* eta 2.0"):
        HLOP(model, rows_per_task=3, eta=2.0, epochs=5).end_task(model, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HLOP(model, rows_per_task=3, eta=0.01, epochs=20).end_task(model, x)
