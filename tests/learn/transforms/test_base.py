import pytest
import torch

from spikemem.errors import ModelError
from spikemem.learn.transforms import EWC, GPM, HLOP, GradientTransform
from spikemem.learn.transforms.base import activities, check_trainable
from trainable_fakes import FakeMLP

pytestmark = pytest.mark.torch


def test_activities_are_the_layer_inputs_over_the_data():
    model = FakeMLP([6, 5, 3])
    x = torch.rand(23, 6, dtype=torch.float64)
    acts = activities(model, x, model.layers, batch_size=4, where="test")
    assert torch.equal(acts["fc1"], x)
    assert torch.allclose(acts["fc2"], torch.relu(x @ model.weight("fc1").T + 0.05))


def test_spike_trains_are_batched_on_axis_one():
    model = FakeMLP([6, 5, 3], spiking=True)
    x = torch.rand(7, 10, 6, dtype=torch.float64)
    acts = activities(model, x, model.layers, batch_size=3, where="test")
    assert torch.allclose(acts["fc1"], x.mean(0))
    with pytest.raises(ModelError, match=r"spiking model takes spike trains \(T, n, n_in\)"):
        activities(model, x[0], model.layers, batch_size=3, where="test")


@pytest.mark.parametrize("make", [lambda m: HLOP(m, rows_per_task=2), lambda m: GPM(m), lambda m: EWC(m, lam=1.0)])
def test_every_transform_follows_the_protocol(make):
    assert isinstance(make(FakeMLP([6, 5, 3])), GradientTransform)


def test_a_model_without_the_protocol():
    with pytest.raises(ModelError, match="lacks weight, presynaptic, frozen_parameters of the Trainable protocol"):
        check_trainable(_Layers(), "HLOP")
    for make in (lambda m: HLOP(m, rows_per_task=1), lambda m: GPM(m), lambda m: EWC(m, lam=1.0)):
        with pytest.raises(ModelError, match="Trainable protocol"):
            make(torch.nn.Linear(3, 2))


def test_bad_task_data():
    model = FakeMLP([6, 5, 3])
    hlop = HLOP(model, rows_per_task=2)
    with pytest.raises(ModelError, match="NaN"):
        hlop.end_task(model, torch.full((4, 6), float("nan"), dtype=torch.float64))
    with pytest.raises(ModelError, match="x_task must be a tensor"):
        hlop.end_task(model, torch.ones(6, dtype=torch.float64))
    with pytest.raises(ModelError, match="no samples"):
        hlop.end_task(model, torch.ones(0, 6, dtype=torch.float64))


class _Layers:
    layers = ["fc1"]
