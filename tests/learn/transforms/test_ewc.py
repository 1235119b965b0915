import pytest
import torch

from spikemem.errors import ModelError
from spikemem.learn.transforms import EWC
from trainable_fakes import FakeMLP

pytestmark = pytest.mark.torch


def softmax_regression(seed=0):
    """One layer: logits = W x + 0.05, so d log p_c / dW_ij = (delta_ci - p_i) x_j."""
    model = FakeMLP([5, 3], seed=seed)
    x = torch.rand(60, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        p = torch.softmax(model(x), dim=1)
    return model, x, p


def test_fisher_with_labels_matches_the_closed_form():
    model, x, p = softmax_regression()
    y = torch.randint(0, 3, (60,), generator=torch.Generator().manual_seed(1))
    ewc = EWC(model, lam=1.0, samples=None)
    ewc.end_task(model, x, y)
    error = p - torch.nn.functional.one_hot(y, 3)
    expected = (error[:, :, None] ** 2 * x[:, None, :] ** 2).mean(0)
    assert torch.allclose(ewc.fishers[0]["fc1"], expected, rtol=1e-10)
    assert torch.equal(ewc.anchors[0]["fc1"], model.weight("fc1").detach())


def test_fisher_from_the_models_own_labels_matches_its_expectation():
    model, x, p = softmax_regression()
    x = x.repeat(40, 1)                                        # each input 40 times: the draws average out
    p = p.repeat(40, 1)
    ewc = EWC(model, lam=1.0, samples=None, seed=3)
    ewc.end_task(model, x)
    expected = ((p * (1 - p))[:, :, None] * x[:, None, :] ** 2).mean(0)   # E_y (delta_yi - p_i)^2 = p_i (1 - p_i)
    assert torch.allclose(ewc.fishers[0]["fc1"], expected, rtol=0.15)


def test_penalty_is_the_weighted_squared_distance_over_tasks():
    model, x, _ = softmax_regression()
    ewc = EWC(model, lam=2.5, samples=None)
    assert ewc.penalty(model) == 0.0
    ewc.end_task(model, x, torch.zeros(60, dtype=torch.long))
    assert float(ewc.penalty(model).detach()) == 0.0
    with torch.no_grad():
        model.weight("fc1").add_(0.3)
    ewc.end_task(model, x, torch.ones(60, dtype=torch.long))
    delta = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        model.weight("fc1").add_(delta)
    f0, f1 = ewc.fishers[0]["fc1"], ewc.fishers[1]["fc1"]
    expected = 0.5 * 2.5 * ((f0 * (delta + 0.3) ** 2).sum() + (f1 * delta ** 2).sum())
    penalty = ewc.penalty(model)
    assert torch.allclose(penalty, expected)
    penalty.backward()
    assert torch.allclose(model.weight("fc1").grad, 2.5 * (f0 * (delta + 0.3) + f1 * delta))


def test_samples_bound_the_fisher_and_spike_trains_work():
    model = FakeMLP([5, 4, 3], spiking=True)
    x = torch.rand(6, 30, 5, dtype=torch.float64)
    ewc = EWC(model, lam=1.0, samples=7)
    ewc.end_task(model, x)
    assert set(ewc.fishers[0]) == {"fc1", "fc2"}
    assert all((f >= 0).all() and f.sum() > 0 for f in ewc.fishers[0].values())


@pytest.mark.parametrize("call, match", [
    (lambda m, x: EWC(m, lam=-1.0), "lam must be a number >= 0"),
    (lambda m, x: EWC(m, lam=1.0, samples=0), "samples must be None or a whole number >= 1"),
    (lambda m, x: EWC(m, lam=1.0).end_task(m, x, torch.zeros(3, dtype=torch.long)), "60 labels"),
    (lambda m, x: EWC(m, lam=1.0).end_task(m, x, torch.full((60,), 7)), "label 7 of sample 0 is outside the 3 classes"),
    (lambda m, x: EWC(m, lam=1.0).end_task(m, x, torch.full((60,), 1.5)), "whole-number labels"),
])
def test_bad_input(call, match):
    model, x, _ = softmax_regression()
    with pytest.raises(ModelError, match=match):
        call(model, x)


def test_labels_are_checked_before_any_pass():
    model, x, _ = softmax_regression()
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    y = torch.zeros(60, dtype=torch.long)
    y[-1] = 3
    with pytest.raises(ModelError, match="label 3 of sample 59"):
        EWC(model, lam=1.0).end_task(model, x, y)
    assert calls == []
