"""ann_mlp: the ReLU counterpart of mlp, with the same names and initial weights."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from spikemem.errors import ModelError  # noqa: E402
from spikemem.learn import Trainable, ann_mlp, mlp  # noqa: E402
from spikemem.learn.network import layered  # noqa: E402


def test_the_ann_starts_from_the_spiking_networks_weights():
    ann, plan = ann_mlp([6, 5, 3], seed=4), layered(mlp([6, 5, 3], seed=4))
    assert isinstance(ann, Trainable) and not ann.spiking
    assert ann.layers == ["fc1", "fc2"]
    for name in ann.layers:
        assert np.allclose(ann.weight(name).detach().numpy(), plan.weights[name])
    assert ann.frozen_parameters() == []


def test_forward_is_relu_layers_and_records_each_layers_input():
    ann = ann_mlp([4, 3, 2], seed=0, bias=True)
    x = torch.rand(5, 4)
    hidden = torch.relu(x @ ann.weight("fc1").t() + ann.fc["fc1"].bias)
    assert torch.allclose(ann(x), hidden @ ann.weight("fc2").t() + ann.fc["fc2"].bias)
    assert torch.equal(ann.presynaptic["fc1"], x) and torch.allclose(ann.presynaptic["fc2"], hidden)
    assert len(ann.frozen_parameters()) == 2


def test_bad_sizes_input_and_names_are_refused():
    with pytest.raises(ModelError, match="sizes"):
        ann_mlp([4])
    ann = ann_mlp([4, 2])
    with pytest.raises(ModelError, match=r"\(batch, 4\)"):
        ann(torch.rand(3, 5))
    with pytest.raises(ModelError, match="no layer 'fc2'"):
        ann.weight("fc2")


def test_the_input_moves_to_the_weights_device():
    model = ann_mlp([3, 2]).to("meta")          # a device without memory: no data is moved in the test
    assert model(torch.rand(2, 3)).device.type == "meta"
