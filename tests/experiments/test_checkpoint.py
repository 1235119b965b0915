import numpy as np
import pytest

from spikemem.backends import simulation
from spikemem.errors import ModelError
from spikemem.experiments import Cache, Outcome, checkpoint
from spikemem.models.cuba.network import cuba


@pytest.mark.parametrize("backend", ["numba", "brian2"])
def test_a_checkpoint_moves_state_between_backends(backend):
    net = cuba(n=100, seed=2)
    first = simulation(net, "numba", progress=False)
    first.run(0.05)
    state = checkpoint.capture(first, {"exc_exc": ["w"], "exc": ["v"]})
    assert set(state) == {"network_hash", "exc_exc.w", "exc.v"}
    second = simulation(net, backend, progress=False)
    checkpoint.restore(second, state)
    assert np.array_equal(second.get("exc", "v"), state["exc.v"])
    assert np.array_equal(second.get("exc_exc", "w"), state["exc_exc.w"])


def test_a_checkpoint_of_another_network_is_refused():
    sim = simulation(cuba(n=100, seed=2), "numba", progress=False)
    state = checkpoint.capture(sim, {"exc": "v"})
    other = simulation(cuba(n=100, seed=3), "numba", progress=False)
    before = other.get("exc", "v")
    with pytest.raises(ModelError, match="taken from network"):
        checkpoint.restore(other, state)
    with pytest.raises(ModelError, match="names no network"):
        checkpoint.restore(other, {"exc.v": before})
    with pytest.raises(ModelError, match="no variable 'theta'"):
        checkpoint.restore(sim, {**state, "exc.theta": before})
    assert np.array_equal(other.get("exc", "v"), before)


def test_a_checkpoint_goes_through_the_cache(tmp_path):
    net = cuba(n=100, seed=2)
    sim = simulation(net, "numba", progress=False)
    sim.run(0.02)
    cache = Cache(tmp_path)
    cache.store("train", "k1", Outcome(state=checkpoint.capture(sim, {"exc_inh": "w"})))
    back = simulation(net, "numba", progress=False)
    checkpoint.restore(back, cache.load("train", "k1").state)
    assert np.array_equal(back.get("exc_inh", "w"), sim.get("exc_inh", "w"))
