"""mlp builds the layered networks; layered reads them back and refuses, by
name, what the training engines cannot run."""
import math

import numpy as np
import pytest

from spikemem.connectors import AllToAll, FixedProbability
from spikemem.errors import ModelError
from spikemem.learn.network import layered, mlp
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, Leaky
from spikemem.plasticity import oja


def test_mlp_is_a_chain_of_leaky_layers_with_linear_initial_weights():
    net = mlp([6, 5, 4, 3], beta=0.8, v_th=0.7, seed=2)
    plan = layered(net)
    assert [(la.name, la.pre, la.post) for la in plan.layers] == [
        ("fc1", "input", "hidden1"), ("fc2", "hidden1", "hidden2"), ("fc3", "hidden2", "output")]
    assert plan.output == "output" and plan.projections == ["fc1", "fc2", "fc3"]
    assert np.allclose(plan.beta["hidden1"], 0.8) and np.all(plan.v_th["output"] == 0.7)
    for layer in plan.layers:
        w = plan.weights[layer.name]
        assert w.shape == (layer.n_post, layer.n_pre)
        assert np.abs(w).max() <= 1 / math.sqrt(layer.n_pre)
    assert np.array_equal(layered(mlp([6, 5, 4, 3], seed=2)).weights["fc2"], plan.weights["fc2"])
    assert not np.array_equal(layered(mlp([6, 5, 4, 3], seed=3)).weights["fc2"], plan.weights["fc2"])


def test_recurrent_mlp_adds_one_projection_per_hidden_layer_and_keeps_the_feedforward_weights():
    plain, rec = layered(mlp([6, 5, 4, 3], seed=1)), layered(mlp([6, 5, 4, 3], recurrent=True, seed=1))
    assert rec.projections == ["fc1", "rec1", "fc2", "rec2", "fc3"]
    assert rec.weights["rec2"].shape == (4, 4)
    for name in plain.weights:
        assert np.array_equal(plain.weights[name], rec.weights[name])


def _chain():
    net = Network(dt=1e-3)
    net.spike_source("input", 3, [[], [], []])
    net.population("a", 4, Leaky())
    net.population("b", 2, Leaky())
    return net


@pytest.mark.parametrize("fc2, extra, words", [
    (dict(connector=FixedProbability(0.5)), None, ["'fc2'", "all-to-all"]),
    (dict(delay=2e-3), None, ["'fc2'", "delays"]),
    (dict(synapse=oja(eta=0.01)), None, ["'fc2'", "static"]),
    ({}, lambda n: n.connect("input", "b", AllToAll(), weight=0.1, name="skip"), ["'skip'", "chain"]),
    ({}, lambda n: n.population("c", 2, Leaky()), ["'c'", "not on the chain"]),
])
def test_what_is_not_a_chain_is_refused_by_name(fc2, extra, words):
    net = Network(dt=1e-3)
    net.spike_source("input", 3, [[], [], []])
    net.population("a", 4, Leaky())
    net.population("b", 2, Leaky())
    net.connect("input", "a", AllToAll(), weight=0.1, name="fc1")
    net.connect("a", "b", fc2.pop("connector", AllToAll()), weight=0.1, name="fc2", **fc2)
    if extra is not None:
        extra(net)
    with pytest.raises(ModelError) as e:
        layered(net)
    for w in words:
        assert w in str(e.value)


def test_the_layered_engine_refuses_other_neurons_and_a_membrane_away_from_rest():
    net = Network(dt=1e-3)
    net.spike_source("input", 3, [[], [], []])
    net.population("a", 4, IF_curr_exp())
    net.connect("input", "a", AllToAll(), weight=1e-9, name="fc1")
    with pytest.raises(ModelError, match="'a' is IF_curr_exp, not Leaky"):
        layered(net)
    assert layered(net, leaky=False).layers[0].post == "a"       # the generic engine takes it
    net = Network(dt=1e-3)
    net.spike_source("input", 3, [[], [], []])
    net.population("a", 4, Leaky(), init={"v": 0.5})
    net.connect("input", "a", AllToAll(), weight=0.1, name="fc1")
    with pytest.raises(ModelError, match="'a' starts away from v = 0"):
        layered(net)


def test_the_layered_engine_refuses_a_layer_with_its_own_dt():
    net = Network(dt=1e-3)
    net.spike_source("input", 3, [[], [], []])
    net.population("a", 4, Leaky(), dt=5e-3)
    net.connect("input", "a", AllToAll(), weight=0.1, name="fc1")
    with pytest.raises(ModelError, match=r"population 'a' has its own dt 0\.005 s \(every 5 steps of the "
                                         r"network's\); the layered engine"):
        layered(net)


@pytest.mark.parametrize("kwargs, words", [
    ({"sizes": [3]}, ["sizes", "at least two"]),
    ({"sizes": [3, 0]}, ["sizes[1]", ">= 1"]),
    ({"sizes": [3, 2], "beta": 1.0}, ["beta", "(0, 1)"]),
    ({"sizes": [3, 2], "v_th": 0.0}, ["v_th", "> 0"]),
    ({"sizes": [3, 2], "seed": -1}, ["seed"]),
])
def test_mlp_refuses_bad_arguments(kwargs, words):
    sizes = kwargs.pop("sizes")
    with pytest.raises(ModelError) as e:
        mlp(sizes, **kwargs)
    for w in words:
        assert w in str(e.value)


def test_the_input_and_output_must_exist():
    with pytest.raises(ModelError, match="input 'x'"):
        layered(mlp([3, 2]), input="x")
    with pytest.raises(ModelError, match="output 'nope'"):
        layered(mlp([3, 2]), output="nope")
