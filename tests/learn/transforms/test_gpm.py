import numpy as np
import pytest
import torch

from spikemem.errors import ModelError
from spikemem.learn.subspace import principal_angles
from spikemem.learn.transforms import GPM
from trainable_fakes import FakeMLP

pytestmark = pytest.mark.torch


def with_spectrum(singular_values, n, width, seed):
    """n samples (n, width) whose matrix has exactly these singular values."""
    g = torch.Generator().manual_seed(seed)
    k = len(singular_values)
    u = torch.linalg.qr(torch.randn(n, k, generator=g, dtype=torch.float64))[0]
    v = torch.linalg.qr(torch.randn(width, k, generator=g, dtype=torch.float64))[0]
    return u * torch.tensor(singular_values, dtype=torch.float64) @ v.T, v.T


def train(model, x, y, transforms=(), steps=100, lr=0.1):
    optimiser = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        for t in transforms:
            t.transform(model)
        optimiser.step()


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.95, 0.99])
def test_the_energy_threshold_picks_the_leading_directions(threshold):
    values = [5.0, 3.0, 2.0, 1.0, 0.5]
    x, v = with_spectrum(values, 40, 10, seed=0)
    model = FakeMLP([10, 6, 3])
    gpm = GPM(model, threshold=threshold)
    gpm.end_task(model, x)
    energy = np.cumsum(np.square(values)) / np.sum(np.square(values))
    k = int(np.argmax(energy >= threshold)) + 1
    basis = gpm.bases["fc1"]
    assert basis.shape == (k, 10)
    assert torch.allclose(basis @ basis.T, torch.eye(k, dtype=basis.dtype), atol=1e-10)
    assert principal_angles(basis, v[:k]).max() < 1e-10


def test_a_later_task_adds_only_what_the_basis_misses():
    x, v = with_spectrum([5.0, 3.0, 2.0, 1.0], 40, 10, seed=0)
    model = FakeMLP([10, 6, 3])
    gpm = GPM(model, threshold=0.99)
    gpm.end_task(model, x[:, :])
    first = gpm.bases["fc1"].clone()
    gpm.end_task(model, x)                      # the same inputs: the basis holds them already
    assert torch.equal(gpm.bases["fc1"], first)
    y, w = with_spectrum([4.0, 1.0], 40, 10, seed=5)
    gpm.end_task(model, y)
    grown = gpm.bases["fc1"]
    assert len(grown) > len(first)
    assert principal_angles(grown[:len(first)], first).max() < 1e-10
    assert torch.allclose(grown @ grown.T, torch.eye(len(grown), dtype=grown.dtype), atol=1e-10)
    inside = (y @ grown.T @ grown).norm() ** 2 / y.norm() ** 2
    assert inside >= 0.99 - 1e-9


def test_projected_gradient_is_orthogonal_and_old_outputs_stay():
    g = torch.Generator().manual_seed(1)
    x_a, _ = with_spectrum([4.0, 3.0, 2.0], 200, 12, seed=0)
    x_b, _ = with_spectrum([4.0, 3.0, 2.0], 200, 12, seed=1)
    y_a, y_b = torch.randint(0, 3, (200,), generator=g), torch.randint(0, 3, (200,), generator=g)
    model = FakeMLP([12, 8, 3], seed=2)
    train(model, x_a, y_a)
    gpm = GPM(model, threshold=1.0, samples=200)
    gpm.end_task(model, x_a)
    before = model.pre_activations(x_a)
    weights = {name: model.weight(name).detach().clone() for name in model.layers}
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x_b), y_b).backward()
    gpm.transform(model)
    for name in model.layers:
        assert (model.weight(name).grad @ gpm.bases[name].T).abs().max() < 1e-12
    train(model, x_b, y_b, transforms=[gpm])
    after = model.pre_activations(x_a)
    assert (model.weight("fc1") - weights["fc1"]).norm() > 0.05 * weights["fc1"].norm()     # it did learn
    for name in model.layers:
        assert torch.allclose(after[name], before[name], atol=1e-10)
    assert not any(p.requires_grad for p in model.frozen_parameters())


def test_samples_are_a_seeded_subset():
    x = torch.rand(100, 6, dtype=torch.float64)
    bases = []
    for seed in (0, 0, 1):
        model = FakeMLP([6, 5, 3])
        gpm = GPM(model, threshold=0.9, samples=5, seed=seed)
        gpm.end_task(model, x)
        bases.append(gpm.bases["fc1"])
    assert torch.equal(bases[0], bases[1]) and not torch.equal(bases[0], bases[2])
    assert len(bases[0]) <= 5


@pytest.mark.parametrize("kwargs, match", [
    ({"threshold": 0.0}, "threshold for layer 'fc1' must be in \\(0, 1\\]"),
    ({"threshold": {"fc1": 0.9}}, r"missing \['fc2'\]"),
    ({"samples": 0}, "samples must be a whole number >= 1"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ModelError, match=match):
        GPM(FakeMLP([6, 5, 3]), **kwargs)
