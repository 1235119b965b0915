"""The subspace neurons on spikemem: exact steps, convergence to the principal subspace, bad input."""
import numpy as np
import pytest
import torch

from spikemem.backends import simulation
from spikemem.errors import ModelError
from spikemem.learn import Subspace, principal_angles
from spikemem.learn.hebbian import learn_subspace, subspace_network, weights


def gap_data(n=12, m=3, samples=300, seed=1):
    """Rates in [0, 1] whose second moment has m large eigenvalues: the mean and m - 1 factors."""
    rng = np.random.default_rng(seed)
    factors = np.linalg.qr(rng.normal(size=(n, m - 1)))[0].T
    z = rng.normal(size=(samples, m - 1)) * np.linspace(0.3, 0.2, m - 1)
    return np.clip(0.5 + z @ factors + 0.01 * rng.normal(size=(samples, n)), 0, 1)


def top_subspace(a, m):
    """The exact top-m eigenvectors of E[a a^T] (rows)."""
    _, vectors = np.linalg.eigh(a.T @ a / len(a))
    return vectors[:, ::-1][:, :m].T


def degrees(a, b):
    return np.degrees(principal_angles(a, b))


def torch_subspace(a, m, eta=0.3, epochs=30, batch=64):
    """``learn.Subspace`` (the authors' minibatch rule) on the exact rates."""
    sub = Subspace(a.shape[1], eta=eta, dtype=torch.float64)
    sub.add(m, seed=0)
    x = torch.as_tensor(a)
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(len(a), generator=generator)
        for start in range(0, len(a), batch):
            sub.learn(x[order[start:start + batch]])
    return sub.rows.numpy()


def numpy_steps(net, m, n, eta, steps, rate, tau, dt, init):
    """The network's step, written out: reset, delivery, y = H r, xhat = H^T y, decay, rule."""
    built = net.build()
    src = built.populations["input"]
    total = int(built.inputs[0].steps[-1]) + steps
    spikes = np.zeros((total, n))
    spikes[src.spike_steps, src.spike_ids] = 1
    resets = set(built.inputs[0].steps.tolist())
    r, H = np.zeros(n), init.copy()
    for k in range(total):
        if k in resets:
            r[:] = 0
        if k:
            r += spikes[k - 1] / (rate * tau)
        y = H @ r
        xhat = H.T @ y
        r *= np.exp(-dt / tau)
        H += dt * eta / (steps * dt) * np.outer(y, r - xhat)
    return H, total


def test_network_steps_are_the_written_out_rule():
    a = gap_data(n=5, m=2, samples=6)
    init = np.random.default_rng(3).normal(0, 0.3, (2, 5))
    kw = dict(eta=0.5, steps=7, rate=300.0, tau=0.005, dt=1e-3)
    net = subspace_network(a, 2, epochs=2, init=init, seed=4, **kw)
    expected, total = numpy_steps(net, 2, 5, init=init, **kw)
    sim = simulation(net, "numba", progress=False)
    sim.run(total * kw["dt"])
    H = weights(sim, 2, 5)
    assert not np.allclose(H, init, atol=1e-3), "the rule moved the weights"
    np.testing.assert_allclose(H, expected, rtol=1e-10, atol=1e-13)


def test_learns_the_principal_subspace_better_as_samples_last_longer():
    a, m = gap_data(), 3
    H = learn_subspace(a, m, eta=1.0, steps=100, epochs=3, tau=0.03, rate=1000.0, seed=0)
    angles = degrees(H, top_subspace(a, m))
    assert angles.max() < 10, angles
    np.testing.assert_allclose(H @ H.T, np.eye(m), atol=0.02)
    # the torch learner on the exact rates finds the same subspace
    authors = torch_subspace(a, m)
    assert degrees(authors, top_subspace(a, m)).max() < 1
    assert degrees(H, authors).max() < 10
    # fewer spikes per sample, more noise in the traces: further from it
    short = learn_subspace(a, m, eta=1.0, steps=10, epochs=3, tau=0.003, rate=1000.0, seed=0)
    assert degrees(short, top_subspace(a, m)).max() > angles.max() + 3
    # a random subspace is far off: the angles measure something
    random = np.random.default_rng(0).normal(size=(m, a.shape[1]))
    assert degrees(random, top_subspace(a, m)).max() > 45


def test_same_seed_same_rows():
    a = gap_data(n=6, m=2, samples=20)
    first = learn_subspace(a, 2, eta=0.2, steps=10, seed=5)
    np.testing.assert_array_equal(first, learn_subspace(a, 2, eta=0.2, steps=10, seed=5))
    assert not np.array_equal(first, learn_subspace(a, 2, eta=0.2, steps=10, seed=6))


def test_torch_learns_the_rows_numba_learns():
    a = gap_data(n=5, m=2, samples=8)
    np.testing.assert_allclose(learn_subspace(a, 2, eta=0.5, steps=10, seed=2, backend="torch"),
                               learn_subspace(a, 2, eta=0.5, steps=10, seed=2), atol=1e-5)


@pytest.mark.parametrize("bad, match", [
    (dict(activity=np.full((4, 3), 1.5)), "in \\[0, 1\\]"),
    (dict(activity=np.array([[0.1, np.nan, 0.2]])), "in \\[0, 1\\]"),
    (dict(activity=np.zeros(3)), "\\(samples, n\\)"),
    (dict(m=4), "m must be an integer in \\[1, 3\\]"),
    (dict(m=0), "m must be"),
    (dict(steps=0), "steps must be"),
    (dict(eta=-1.0), "eta must be a positive"),
    (dict(rate=2000.0), "rate\\*dt"),
    (dict(init=np.zeros((3, 3))), "init must be a finite \\(2, 3\\)"),
    (dict(backend="brian2-numpy"), "use one of \\['numba', 'torch', 'torch-float64'\\]"),
    (dict(backend="norse"), "backend 'norse' cannot run"),
    (dict(backend="spinnaker"), "backend 'spinnaker' cannot run"),
    (dict(seed=-1), "learn_subspace: seed must be a whole number >= 0"),
    (dict(seed=1.5), "seed must be"),
])
def test_bad_input_is_named(bad, match):
    kw = dict(activity=np.full((4, 3), 0.5), m=2, eta=0.1, steps=5)
    kw.update(bad)
    with pytest.raises(ModelError, match=match):
        learn_subspace(kw.pop("activity"), kw.pop("m"), **kw)
