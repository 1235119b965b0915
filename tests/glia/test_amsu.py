"""The AM-SU template: alike on numba, brian2 and torch; Leaky without its
astrocytic gains; its refusals."""
import numpy as np
import pytest
from brian2 import ms

import spikemem as sm
from spikemem.glia import AMSU, AMSUShared, shared_astrocytes
from spikemem.errors import ModelError
from spikemem.neurons import Leaky


def _network(model):
    from spikemem.connectors import AllToAll
    from spikemem.network import Network
    rng = np.random.default_rng(0)
    net = Network(dt=1e-3, seed=1)
    net.spike_source("input", 6, [list(np.flatnonzero(rng.random(80) < 0.3) * 1e-3) for _ in range(6)])
    net.population("h", 5, model)
    net.connect("input", "h", AllToAll(), weight=rng.uniform(-0.6, 1.2, 30), name="fc1")
    net.connect("h", "h", AllToAll(), weight=rng.uniform(-0.4, 0.4, 25), name="rec1")
    net.record_spikes("h")
    return net


def _spikes(result, dt):
    return sorted(zip(np.rint(result.spikes["h"].times / dt).astype(int).tolist(), result.spikes["h"].ids.tolist()))


def test_the_amsu_runs_alike_on_numba_brian2_and_torch():
    from spikemem.backends import simulate
    pytest.importorskip("torch")
    net = _network(AMSU(tau=8 * ms, tau_a=60 * ms, k=np.linspace(-0.8, 1.5, 5), b=np.linspace(0.6, -0.6, 5),
                        alpha=0.4))
    net.record_state("h", ["a", "m"])
    results = {b: simulate(net, 80e-3, backend=b, progress=False) for b in ("numba", "brian2-numpy", "torch-float64")}
    reference = _spikes(results["numba"], net.dt)
    assert len(reference) > 40
    for name, r in results.items():
        assert _spikes(r, net.dt) == reference, name
    traces = {n.split(".")[1]: t.values for n, t in results["numba"].traces.items()}
    assert 0 < traces["a"].max() <= 1                                   # saturating, in [0, 1]
    assert np.allclose(traces["m"], 1 + np.linspace(-0.8, 1.5, 5) * traces["a"])


def test_without_its_gains_the_amsu_is_leaky():
    from spikemem.backends import simulate
    amsu = simulate(_network(AMSU(tau=8 * ms, tau_a=60 * ms)), 80e-3, backend="numba", progress=False)
    leaky = simulate(_network(Leaky(tau=8 * ms)), 80e-3, backend="numba", progress=False)
    assert _spikes(amsu, 1e-3) == _spikes(leaky, 1e-3) and len(_spikes(leaky, 1e-3)) > 20


def test_the_amsu_is_exported_and_refuses_bad_parameters():
    assert sm.AMSU is AMSU
    assert AMSU().weight_scale == {"v": "m"}
    for bad in (dict(tau=0 * ms), dict(tau_a=-5 * ms), dict(v_th=0.0), dict(alpha=1.2), dict(k=np.nan)):
        with pytest.raises(ModelError, match=next(iter(bad))):
            AMSU(**bad)


def test_shared_astrocytes_run_alike_on_numba_and_brian2():
    from spikemem.backends import simulate
    net = _network(AMSUShared(tau=8 * ms, k=np.linspace(-0.8, 1.5, 5), b=np.linspace(0.6, -0.6, 5)))
    astro = shared_astrocytes(net, "h", 2, tau_a=np.array([60.0, 30.0, 90.0]) * ms, alpha=0.4)
    assert astro.size == 3
    net.record_state("h", ["a", "m"])
    net.record_state("astrocytes", ["c"])
    results = {b: simulate(net, 80e-3, backend=b, progress=False) for b in ("numba", "brian2-numpy")}
    reference = _spikes(results["numba"], net.dt)
    assert len(reference) > 40 and _spikes(results["brian2-numpy"], net.dt) == reference
    traces = {n: t.values for n, t in results["numba"].traces.items()}
    a, c = traces["h.a"], traces["astrocytes.c"]
    assert 0.3 < a.max() <= 1
    assert np.array_equal(a[:, 0], a[:, 1]) and not np.array_equal(a[:, 1], a[:, 2])     # one state per pair
    # recorded at a step's start: a is the astrocyte's c read in the step before, which then decayed
    gamma = np.exp(-1 / np.array([60.0, 30.0, 90.0]))
    assert np.allclose(c, (a * gamma[[0, 0, 1, 1, 2]])[:, [0, 2, 4]], atol=1e-15)
    assert np.allclose(traces["h.m"], 1 + np.linspace(-0.8, 1.5, 5) * a)
    for name, trace in results["brian2-numpy"].traces.items():
        assert np.allclose(trace.values, traces[name], atol=1e-12), name


def test_shared_astrocytes_refuse_bad_settings_by_name():
    from spikemem.network import Network
    net = Network(dt=1e-3)
    net.population("h", 4, AMSUShared())
    net.population("plain", 4, AMSU())
    for kwargs, match in ((dict(neurons="nope", group=2), "nope"), (dict(neurons="plain", group=2), "AMSUShared"),
                          (dict(neurons="h", group=0), "group"), (dict(neurons="h", group=2, alpha=1.5), "alpha"),
                          (dict(neurons="h", group=2, alpha=[0.1, 0.2]), "alpha")):
        with pytest.raises(ModelError, match=match):
            shared_astrocytes(net, **kwargs)
    with pytest.raises(ModelError, match="k"):
        AMSUShared(k=np.inf)


@pytest.mark.parametrize("k", [0.0, 0.7])
def test_shared_astrocytes_with_one_k_for_all_run_alike_on_numba_brian2_and_torch(k):
    from spikemem.backends import simulate
    pytest.importorskip("torch")
    model = AMSUShared(tau=8 * ms) if k == 0.0 else AMSUShared(tau=8 * ms, k=k, b=0.3)
    net = _network(model)
    shared_astrocytes(net, "h", 1, tau_a=40 * ms, alpha=0.4)     # one neuron per astrocyte: torch adds alike
    net.record_state("h", ["a", "m"])
    results = {b: simulate(net, 80e-3, backend=b, progress=False) for b in ("numba", "brian2-numpy", "torch-float64")}
    reference = _spikes(results["numba"], net.dt)
    assert len(reference) > 20
    a, m = results["numba"].traces["h.a"].values, results["numba"].traces["h.m"].values
    assert a.max() > 0.3 and np.allclose(m, 1 + k * a)
    for name, r in results.items():
        assert _spikes(r, net.dt) == reference, name
        assert np.allclose(r.traces["h.m"].values, m, atol=1e-12), name
