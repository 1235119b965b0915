import numpy as np
import pytest
import torch

from spikemem.errors import ModelError
from spikemem.learn.subspace import Subspace, principal_angles

pytestmark = pytest.mark.torch

N = 16
SPECTRUM = np.array([4.0, 3.0, 2.0, 1.5] + [0.3] * (N - 4))     # a clear gap after the 4th direction


def spectrum_data(n=4000, seed=0):
    """Samples x = Q diag(SPECTRUM) z with z standard normal: the principal
    directions are Q's columns, in order."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    x = rng.standard_normal((n, N)) * SPECTRUM @ q.T
    return torch.tensor(x, dtype=torch.float32), q


def learn_all(space, x, epochs=3, batch=64, seed=0):
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=order).split(batch):
            space.learn(x[idx])


def test_converges_to_the_principal_subspace():
    x, q = spectrum_data()
    space = Subspace(N, eta=0.01)
    space.add(4, seed=1)
    start = principal_angles(space.rows, q[:, :4].T).max()
    learn_all(space, x)
    angles = principal_angles(space.rows, q[:, :4].T)
    assert start > 0.5
    assert angles.max() < 0.05
    # Oja's rule drives the rows to an orthonormal set: then H^T H is the projector.
    assert torch.allclose(space.rows @ space.rows.T, torch.eye(4), atol=0.02)


def test_new_rows_learn_what_frozen_rows_leave_and_frozen_rows_stay():
    x, q = spectrum_data()
    space = Subspace(N, eta=0.01)
    space.add(2, seed=1)
    learn_all(space, x)
    assert principal_angles(space.rows, q[:, :2].T).max() < 0.05
    space.merge()
    frozen = space.rows.clone()
    space.add(2, seed=2)
    learn_all(space, x)
    assert torch.equal(space.rows[:2], frozen)
    assert principal_angles(space.rows[2:], q[:, 2:4].T).max() < 0.05
    assert principal_angles(space.rows, q[:, :4].T).max() < 0.05


def test_spiking_responses_are_counts_and_converge():
    x, q = spectrum_data()
    space = Subspace(N, eta=0.01, spikes=40, scale=20.0)
    space.add(4, seed=1)
    y = space.response(x[:100])
    steps = y / (20.0 / 40)
    assert torch.allclose(steps, steps.round(), atol=1e-4) and y.abs().max() <= 20.0
    learn_all(space, x)
    assert principal_angles(space.rows, q[:, :4].T).max() < 0.1


def test_projection_removes_the_subspace():
    x, q = spectrum_data()
    space = Subspace(N, eta=0.01)
    assert torch.equal(space.project(x[:3]), x[:3])
    space.add(4, seed=0)
    learn_all(space, x)
    g = torch.randn(5, N, generator=torch.Generator().manual_seed(3))
    projected = space.project(g)
    assert (projected @ space.basis.T).abs().max() < 0.05 * g.abs().max()
    # the orthogonal complement passes unchanged
    outside = g - (g @ space.basis.T) @ space.basis
    assert torch.allclose(space.project(outside), outside, atol=0.05)


def test_same_seed_same_rows():
    a, b = Subspace(N, eta=0.01), Subspace(N, eta=0.01)
    a.add(3, seed=7)
    b.add(3, seed=torch.Generator().manual_seed(7))
    assert torch.equal(a.rows, b.rows)
    assert torch.allclose(a.rows @ a.rows.T, torch.eye(3), atol=1e-5)


def test_principal_angles_closed_form():
    # span{e0, e1} against span{e0, cos t e1 + sin t e2}: angles 0 and t
    t = 0.3
    a = np.eye(4)[:2]
    b = np.array([[1, 0, 0, 0], [0, np.cos(t), np.sin(t), 0]]) * 2.0
    assert np.allclose(principal_angles(a, b), [0.0, t])
    assert np.allclose(principal_angles(torch.tensor(a), a), [0.0, 0.0])
    # small angles to full precision, and a subspace of another dimension
    tiny = np.array([[1, 0, 0, 0], [0, np.cos(1e-9), np.sin(1e-9), 0]])
    assert np.allclose(principal_angles(a, tiny), [0.0, 1e-9], rtol=1e-6, atol=1e-15)
    assert np.allclose(principal_angles(np.eye(4)[:3], b), [0.0, 0.0])
    assert np.allclose(principal_angles(b, np.eye(4)[3:]), [np.pi / 2])


@pytest.mark.parametrize("call, match", [
    (lambda: Subspace(0, eta=0.01), "n_inputs"),
    (lambda: Subspace(4, eta=0.0), "eta"),
    (lambda: Subspace(4, eta=0.01, momentum=1.0), "momentum"),
    (lambda: Subspace(4, eta=0.01, iterations=0), "iterations"),
    (lambda: Subspace(4, eta=0.01, spikes=0), "spikes"),
    (lambda: Subspace(4, eta=0.01).add(5), "exceed the 4 input dimensions"),
    (lambda: principal_angles(np.ones(3), np.ones((1, 3))), "a must be a 2-D"),
    (lambda: principal_angles(np.ones((1, 3)), np.ones((1, 4))), "as many columns"),
])
def test_bad_input(call, match):
    with pytest.raises(ModelError, match=match):
        call()


def test_bad_batches():
    space = Subspace(4, eta=0.01)
    space.add(2)
    with pytest.raises(ModelError, match="NaN"):
        space.learn(torch.tensor([[0.0, float("nan"), 0.0, 0.0]]))
    with pytest.raises(ModelError, match=r"shape \(B, N\) with N = 4"):
        space.learn(torch.ones(3, 5))
    with pytest.raises(ModelError, match="g must have shape"):
        space.project(torch.ones(3, 5))


def test_new_rows_start_orthogonal_to_the_rows_there_are():
    space = Subspace(6, eta=0.01)
    space.add(4, seed=0)
    space.merge()
    space.add(2, seed=1)
    assert torch.allclose(space.rows @ space.rows.T, torch.eye(6), atol=1e-5)


def test_a_negative_seed_is_refused():
    with pytest.raises(ModelError, match="Subspace.add: seed must be a whole number >= 0, got -1"):
        Subspace(4, eta=0.1).add(2, seed=-1)
