"""The rate and stochastic templates (``spikemem.rates``): their equations,
checks, agreement between backends, and the statistics and seeding of
PoissonUnit's spikes."""
import numpy as np
import pytest
from brian2 import Hz, ms

import spikemem as sm
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import template_of
from spikemem.rates import PoissonUnit, ReLURate, is_stochastic

BACKENDS = ("numba", "brian2", "torch-float64")
VELOCITY = """
B = A*(1 + alpha*(ex*v_x + ey*v_y)) : 1
A : 1 (constant)
alpha : 1 (constant)
ex : 1 (constant)
ey : 1 (constant)
"""


def test_exported_from_spikemem():
    assert sm.ReLURate is ReLURate and sm.PoissonUnit is PoissonUnit


def test_templates_are_recognised_with_any_drive():
    assert template_of(ReLURate()) == "ReLURate"
    assert template_of(ReLURate(drive="B", equations=VELOCITY, tau=5 * ms)) == "ReLURate"
    assert template_of(PoissonUnit(drive="B", equations=VELOCITY)) == "PoissonUnit"
    assert is_stochastic(PoissonUnit()) and not is_stochastic(ReLURate())
    loaded = sm.NeuronModel.from_spec(PoissonUnit(drive="B", equations=VELOCITY).spec())      # a saved network's
    assert template_of(loaded) == "PoissonUnit"
    edited = ReLURate()
    edited = sm.NeuronModel(**{**edited.__dict__, "threshold": "s > 1"})
    assert template_of(edited) is None


@pytest.mark.parametrize("model, name", [(ReLURate(tau=0 * ms), "tau"), (PoissonUnit(gain=-1 * Hz), "gain"),
                                         (PoissonUnit(tau=-1 * ms), "tau")])
def test_positive_parameters(model, name):
    net = Network(dt=1 * ms)
    net.population("units", 2, model)
    with pytest.raises(ModelError, match=f"population 'units' parameter '{name}' must be > 0"):
        net.build()


def test_extra_parameters_come_from_the_population():
    net = Network(dt=1 * ms)
    net.signal("v", np.zeros((5, 2)))
    net.population("sheet", 3, ReLURate(drive="B", equations=VELOCITY))
    with pytest.raises(ModelError, match="missing parameter"):
        net.build()


def test_relu_rate_relaxes_to_relu_of_its_input():
    net = Network(dt=0.5 * ms)
    net.population("units", 3, ReLURate(tau=5 * ms), init={"I": [-1.0, 0.5, 2.0]})
    net.record_state("units", "s")
    s = sm.simulate(net, 0.1, progress=False).traces["units.s"].values[-1]
    assert np.allclose(s, [0.0, 0.5, 2.0], rtol=1e-6)


def velocity_sheet(seed=3, n=12):
    """A ReLURate ring whose drive reads a velocity signal, with recurrent rate
    synapses onto ``I`` (the grid-cell network's form, small)."""
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * np.arange(n) / n
    net = Network(dt=0.5 * ms, seed=seed)
    net.signal("v", rng.normal(0, 0.3, size=(40, 2)), dt=2.5 * ms)
    net.population("sheet", n, ReLURate(drive="B", equations=VELOCITY, tau=5 * ms),
                   params={"A": 1.0, "alpha": 0.5, "ex": np.cos(angle), "ey": np.sin(angle)},
                   init={"s": rng.uniform(0, 1, n)})
    rate = sm.SynapseModel("w : 1\nI_post = w*s_pre : 1 (summed)")
    net.connect("sheet", "sheet", sm.AllToAll(), weight=sm.Normal(-0.05, 0.02), receptor="input", synapse=rate)
    net.record_state("sheet", "s")
    return net


def test_relu_rate_driven_by_a_signal_agrees_on_every_backend():
    traces = {b: sm.simulate(velocity_sheet(), 0.1, backend=b, progress=False).traces["sheet.s"].values
              for b in BACKENDS}
    reference = traces["numba"]
    assert reference.std() > 0.01            # the signal and the synapses move it
    for backend in BACKENDS[1:]:
        assert np.allclose(traces[backend], reference, rtol=1e-9, atol=1e-12), backend


def poisson_net(seed, n=100, drive=0.5):
    net = Network(dt=1 * ms, seed=seed)
    net.population("units", n, PoissonUnit(gain=100 * Hz), init={"I": drive})
    net.record_spikes("units")
    net.record_state("units", "s", ids=[0])
    return net


@pytest.mark.parametrize("backend", BACKENDS)
def test_poisson_unit_fires_at_rate_dt_and_repeats_per_seed(backend):
    steps, n, p = 500, 100, 100 * 0.5 * 1e-3          # gain * relu(I) * dt = 0.05
    runs = [sm.simulate(poisson_net(seed), steps * 1e-3, backend=backend, progress=False) for seed in (4, 4, 5)]
    counts = [len(r.spikes["units"].times) for r in runs]
    sd = np.sqrt(steps * n * p * (1 - p))
    assert abs(counts[0] - steps * n * p) < 4 * sd
    assert np.array_equal(runs[0].spikes["units"].times, runs[1].spikes["units"].times)
    assert np.array_equal(runs[0].spikes["units"].ids, runs[1].spikes["units"].ids)
    assert not np.array_equal(runs[0].spikes["units"].times, runs[2].spikes["units"].times)


@pytest.mark.parametrize("backend", BACKENDS)
def test_poisson_unit_s_jumps_by_one_and_decays_with_tau(backend):
    net = Network(dt=1 * ms, seed=1)
    net.population("units", 1, PoissonUnit(tau=10 * ms, gain=1 / (1 * ms)), init={"I": 2.0})     # fires every step
    net.record_state("units", "s")
    s = sm.simulate(net, 0.005, backend=backend, progress=False).traces["units.s"].values[:, 0]
    decay = np.exp(-0.1)
    assert np.allclose(s[1:], [sum(decay ** k for k in range(m)) for m in range(1, 5)])


def test_rate_unit_stays_as_it_was():
    net = Network(dt=1 * ms)
    net.population("r", 1, sm.RateUnit(gain=10 * Hz), init={"I": 1.0})
    net.record_state("r", "r")
    assert sm.simulate(net, 0.2, progress=False).traces["r.r"].values[-1, 0] == pytest.approx(10.0, rel=1e-3)
