"""compile: the layered engine against the torch backend's TorchNetwork (same
outputs and gradients in float64), OTTT against BPTT where they must agree,
and the model's Trainable interface."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("snntorch")
pytestmark = pytest.mark.torch

from spikemem.errors import ModelError  # noqa: E402
from spikemem.learn import Trainable, compile, encode, mlp  # noqa: E402
from spikemem.learn.network import layered  # noqa: E402

F64 = dict(dtype=torch.float64, device="cpu")


def _input(n_in, steps=14, batch=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return encode(torch.rand(batch, n_in, generator=g, dtype=torch.float64), steps, "poisson", seed=seed + 1)


def _outputs_and_gradients(net, engine, readout, x, gain=4.0):
    model = compile(net, engine=engine, readout=readout, **F64)
    with torch.no_grad():
        for w in model.weights.values():
            w.mul_(gain)                 # enough drive that every layer fires
    logits = model(x)
    (logits * torch.linspace(-1, 1, logits.shape[1], dtype=torch.float64)).pow(2).sum().backward()
    return logits.detach(), {n: w.grad for n, w in model.weights.items()}, model.presynaptic


@pytest.mark.parametrize("readout", ["counts", "membrane"])
@pytest.mark.parametrize("recurrent", [False, True])
def test_layered_and_generic_engines_give_the_same_outputs_and_gradients(readout, recurrent):
    net = mlp([7, 6, 4], recurrent=recurrent, seed=1)
    x = _input(7)
    fast, slow = (_outputs_and_gradients(net, engine, readout, x) for engine in ("layered", "generic"))
    if readout == "counts":
        assert torch.equal(fast[0], slow[0]) and fast[0].sum() > 10
    else:     # sums of the same terms; the BLAS behind the layered engine's products orders them by CPU
        assert torch.allclose(fast[0], slow[0], rtol=1e-13, atol=1e-13 * fast[0].abs().max())
    for name in fast[1]:
        assert fast[1][name].abs().max() > 0
        # snntorch's surrogate (the generic engine's) rounds its derivative in float32
        assert torch.allclose(fast[1][name], slow[1][name], rtol=1e-5, atol=1e-7 * fast[1][name].abs().max())
    assert fast[2].keys() == slow[2].keys() == set(layered(net).projections)
    for name in fast[2]:
        assert torch.equal(fast[2][name], slow[2][name])


def test_presynaptic_activity_is_the_rate_of_the_spikes_that_reach_each_layer():
    model = compile(mlp([5, 4, 3], seed=0), **F64)
    x = torch.rand(3, 5, dtype=torch.float64)
    model(encode(x, 10, "repeat"))
    assert torch.allclose(model.presynaptic["fc1"], x)        # analog input: the values themselves
    assert model.presynaptic["fc2"].shape == (3, 4)
    assert not model.presynaptic["fc2"].requires_grad


def test_ottt_is_exact_where_no_neuron_fires_and_the_loss_is_linear():
    """Without spikes the membrane is linear in the weights, and a loss linear in
    the mean membrane is the mean of the per-step losses: OTTT's trace gradient
    is then BPTT's."""
    net = mlp([6, 3], v_th=1e6, seed=2)
    x = _input(6, steps=12)
    c = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    loss = lambda logits, y: (logits * c).sum()
    grads, outs = [], []
    for method in ("bptt", "ottt"):
        model = compile(net, method=method, readout="membrane", **F64)
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        value, logits = model.train_step(x, torch.zeros(5, dtype=torch.long), loss, opt)
        grads.append(model.weight("fc1").grad.clone())
        outs.append((value, logits))
    assert grads[0].abs().max() > 0
    assert torch.allclose(grads[0], grads[1], rtol=1e-10)
    assert outs[0][0] == pytest.approx(outs[1][0], rel=1e-10)
    assert torch.allclose(outs[0][1], outs[1][1])


def test_ottt_steps_give_the_bptt_logits_and_learn():
    net = mlp([8, 10, 2], seed=0)
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (32,), generator=g)
    x = encode(torch.where(y[:, None].bool(), 0.9, 0.1).expand(32, 8) * torch.tensor([1.0, 0.0]).repeat(4),
               16, "poisson", seed=1).double()
    model = compile(net, method="ottt", **F64)
    with torch.no_grad():
        for w in model.weights.values():
            w.mul_(3)
    expected = model(x)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    first, logits = model.train_step(x, y, torch.nn.functional.cross_entropy, opt)
    assert torch.allclose(logits, expected)          # the counts, step by step
    for _ in range(30):
        last, _ = model.train_step(x, y, torch.nn.functional.cross_entropy, opt)
    assert last < 0.8 * first


def test_the_model_is_trainable_and_goes_back_to_a_network():
    net = mlp([5, 4, 3], seed=0)
    model = compile(net, **F64)
    assert isinstance(model, Trainable) and model.spiking
    assert model.layers == ["fc1", "fc2"] and model.weight("fc2").shape == (3, 4)
    assert [tuple(p.shape) for p in model.frozen_parameters()] == [(4,), (3,)]
    assert not any(p.requires_grad for p in model.frozen_parameters())
    with torch.no_grad():
        model.weight("fc1").add_(0.5)
        model.thresholds["output"].fill_(0.8)
    back = layered(model.to_network())
    assert np.allclose(back.weights["fc1"], model.weight("fc1").detach().numpy())
    assert np.all(back.v_th["output"] == 0.8)
    assert np.array_equal(layered(net).weights["fc2"], back.weights["fc2"])    # the compiled network is kept
    with pytest.raises(ModelError, match="no projection 'fc9'"):
        model.weight("fc9")


@pytest.mark.parametrize("kwargs, words", [
    ({"engine": "fast"}, ["engine", "layered"]),
    ({"method": "eprop"}, ["method", "ottt"]),
    ({"readout": "max"}, ["readout", "membrane"]),
    ({"surrogate": "boxcar"}, ["surrogate", "atan"]),
    ({"surrogate": "triangular"}, ["surrogate", "'layered'", "fast_sigmoid"]),    # the backend's, not fused
    ({"dtype": torch.int32}, ["dtype"]),
    ({"device": "nowhere"}, ["device", "nowhere"]),
    ({"method": "ottt", "engine": "generic"}, ["ottt", "layered"]),
])
def test_bad_compile_arguments_are_refused(kwargs, words):
    with pytest.raises(ModelError) as e:
        compile(mlp([3, 2]), **kwargs)
    for w in words:
        assert w in str(e.value)


def test_ottt_refuses_recurrent_layers():
    with pytest.raises(ModelError, match=r"recurrent projection\(s\) \['rec1'\]"):
        compile(mlp([3, 4, 2], recurrent=True), method="ottt")


@pytest.mark.parametrize("x, words", [
    (torch.zeros(10, 2, 4), ["(steps, batch, 3)"]),
    (torch.zeros(2, 2, 3), ["2 steps", "2 layers"]),
    (torch.full((10, 2, 3), float("nan")), ["NaN"]),
])
def test_bad_input_is_refused(x, words):
    model = compile(mlp([3, 4, 2]), device="cpu")
    with pytest.raises(ModelError) as e:
        model(x)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("engine", ["layered", "generic"])
def test_the_model_follows_a_change_of_dtype(engine):
    model = compile(mlp([3, 4, 2], seed=0), engine=engine, dtype=torch.float32, device="cpu")
    x = _input(3)
    model(x)                              # the generic engine builds its float32 simulation here
    model.double()
    assert model.dtype == torch.float64 and model.device == torch.device("cpu")
    assert model(x).dtype == torch.float64


def test_the_generic_engine_takes_any_of_the_torch_backends_surrogates():
    from spikemem.backends.torch import SURROGATES
    model = compile(mlp([3, 4, 2], seed=0), engine="generic", surrogate="triangular", **F64)
    assert "triangular" in SURROGATES
    model(_input(3)).sum().backward()
    assert model.weight("fc1").grad is not None


def test_an_ottt_step_reads_each_layers_scale_once(monkeypatch):
    model = compile(mlp([3, 4, 2], seed=0), method="ottt", **F64)
    reads = []
    scale = type(model)._scale
    monkeypatch.setattr(type(model), "_scale", lambda self, pop: reads.append(pop) or scale(self, pop))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    value, _ = model.train_step(_input(3, steps=12), torch.tensor([0, 1, 0, 1, 1]),
                                torch.nn.functional.cross_entropy, opt)
    assert sorted(reads) == ["hidden1", "output"] and isinstance(value, float)
