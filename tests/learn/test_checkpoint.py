"""Checkpoints: back into a model or a Network, refused where the layers do not fit."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from spikemem.errors import ModelError  # noqa: E402
from spikemem.learn import ann_mlp, compile, encode, load_checkpoint, mlp, save_checkpoint  # noqa: E402
from spikemem.learn.network import layered  # noqa: E402


def _trained(sizes=(6, 5, 3)):
    model = compile(mlp(list(sizes), seed=0), dtype=torch.float64, device="cpu")
    with torch.no_grad():
        for w in model.weights.values():
            w.add_(torch.randn(w.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
        model.thresholds["hidden1"].fill_(0.9)
    return model


def test_a_checkpoint_loads_into_a_model_and_into_a_network(tmp_path):
    model = _trained()
    path = tmp_path / "model.pt"
    save_checkpoint(model, path)
    other = compile(mlp([6, 5, 3], seed=7), dtype=torch.float64, device="cpu")
    assert load_checkpoint(path, other) is other
    x = encode(torch.rand(4, 6, dtype=torch.float64), 10, "poisson", seed=0)
    assert torch.equal(other(x), model(x))
    assert torch.equal(other.thresholds["hidden1"], model.thresholds["hidden1"])
    net = load_checkpoint(path, mlp([6, 5, 3], seed=7))
    plan = layered(net)
    assert np.allclose(plan.weights["fc2"], model.weight("fc2").detach().numpy())
    assert np.all(plan.v_th["hidden1"] == 0.9)


def test_an_ann_checkpoint_round_trips(tmp_path):
    ann = ann_mlp([4, 3, 2], seed=1, bias=True)
    save_checkpoint(ann, tmp_path / "ann.pt")
    other = load_checkpoint(tmp_path / "ann.pt", ann_mlp([4, 3, 2], seed=2, bias=True))
    x = torch.rand(3, 4)
    assert torch.allclose(other(x), ann(x))


def test_another_architecture_is_refused_by_name(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(_trained(), path)
    with pytest.raises(ModelError, match="layer 'fc1' is 5 x 6 in the checkpoint, 4 x 6 in the model"):
        load_checkpoint(path, compile(mlp([6, 4, 3]), device="cpu"))
    with pytest.raises(ModelError, match=r"layers \['fc1', 'fc2'\] are not those of the network \['fc1'\]"):
        load_checkpoint(path, mlp([6, 3]))
    with pytest.raises(ModelError, match="spiking model, not a ann one|holds a spiking model"):
        load_checkpoint(path, ann_mlp([6, 5, 3]))
    save_checkpoint(ann_mlp([6, 5, 3]), tmp_path / "ann.pt")
    with pytest.raises(ModelError, match="ANN checkpoint does not load into a Network"):
        load_checkpoint(tmp_path / "ann.pt", mlp([6, 5, 3]))
    (tmp_path / "junk.pt").write_text("no")
    with pytest.raises(ModelError, match="cannot read"):
        load_checkpoint(tmp_path / "junk.pt", mlp([6, 5, 3]))


def test_thresholds_go_only_where_v_th_is_a_parameter(tmp_path):
    from spikemem.network import Network
    from spikemem.neurons import Izhikevich, Leaky
    from spikemem.connectors import AllToAll
    path = tmp_path / "model.pt"
    save_checkpoint(_trained(), path)
    net = Network(dt=1e-3)
    net.spike_source("input", 6, [[] for _ in range(6)])
    net.population("hidden1", 5, Leaky(tau=0.01, v_th=1.0))
    net.population("output", 3, Izhikevich())
    net.connect("input", "hidden1", AllToAll(), weight=0.1, name="fc1")
    net.connect("hidden1", "output", AllToAll(), weight=0.1, name="fc2")
    before = layered(net, leaky=False).weights["fc1"].copy()
    with pytest.raises(ModelError, match="population 'output' is .*no parameter v_th"):
        load_checkpoint(path, net)
    assert "v_th" not in net.populations["hidden1"].params                     # nothing written
    assert np.array_equal(layered(net, leaky=False).weights["fc1"], before)


def test_a_recurrent_projection_elsewhere_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    model = compile(mlp([6, 5, 3], recurrent=True, seed=0), device="cpu")
    save_checkpoint(model, path)
    data = torch.load(path, weights_only=True)
    data["chain"]["rec1"] = ["output", "output"]
    torch.save(data, path)
    with pytest.raises(ModelError, match="projection 'rec1' runs hidden1 -> hidden1 in the network, "
                                         "output -> output in the checkpoint"):
        load_checkpoint(path, mlp([6, 5, 3], recurrent=True))
