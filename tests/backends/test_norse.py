"""The norse backend: NIR-expressible networks run by norse's cells, spike for spike as numba."""
import numpy as np
import pytest

from spikemem.backends import simulate, simulation
from spikemem.connectors import AllToAll, FromMatrix, OneToOne
from spikemem.errors import ModelError
from spikemem.interop.nir.neurons import IF, LI, LIF, CubaLIF
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp
from spikemem.plasticity import stdp

# the torch extra: deselect with -m "not torch"; not collected where it is missing
pytest.importorskip("torch")
pytest.importorskip("norse")
pytest.importorskip("nir")
from spikemem.interop.nir import export_nir, spikes_from_raster  # noqa: E402

pytestmark = pytest.mark.torch

DT, STEPS = 1e-3, 300


def feedforward(seed=0):
    """A spike source into every NIR form: delays, a recurrent CubaLIF, biases, per-neuron init."""
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    net.spike_source("inp", 6, *spikes_from_raster(rng.random((STEPS, 6)) < 0.15, DT))
    net.population("lif", 8, LIF(tau=5e-3, r=1.5, v_leak=0.1, v_threshold=0.5, v_reset=-0.2, bias=0.02),
                   init={"v": rng.uniform(0, 0.4, 8)})
    net.population("cuba", 5, CubaLIF(tau_syn=3e-3, tau_mem=8e-3, r=2.0, v_leak=0.05, w_in=1.5,
                                      v_threshold=0.4, v_reset=0.1))
    net.population("iff", 4, IF(r=200.0, v_threshold=0.6, v_reset=-0.1))
    net.population("li", 3, LI(tau=4e-3, v_threshold=0.2))
    net.population("readout", 2, LI(tau=4e-3))
    net.connect("inp", "lif", FromMatrix(rng.normal(0.3, 0.3, (6, 8))), receptor="input")
    net.connect("lif", "cuba", FromMatrix(rng.normal(0.3, 0.3, (8, 5))), receptor="input", delay=3 * DT)
    net.connect("cuba", "cuba", FromMatrix(rng.normal(-0.1, 0.2, (5, 5))), receptor="input")
    net.connect("lif", "iff", FromMatrix(rng.normal(0.3, 0.3, (8, 4))), receptor="input", delay=2 * DT)
    net.connect("inp", "li", FromMatrix(rng.normal(0.3, 0.3, (6, 3))), receptor="input")
    net.connect("li", "readout", FromMatrix(rng.normal(0.3, 0.3, (3, 2))), receptor="input")
    net.current("cuba", [5 * DT], np.full((1, 5), 0.03), variable="bias")
    for pop in ("inp", "lif", "cuba", "iff", "li"):
        net.record_spikes(pop)
    net.record_state("cuba", ["v", "i_syn"], every=3)
    net.record_state("readout", "v")
    return net


def same_spikes(a, b):
    assert a.spikes.keys() == b.spikes.keys()
    for pop in a.spikes:
        np.testing.assert_array_equal(a.spikes[pop].times, b.spikes[pop].times, err_msg=pop)
        np.testing.assert_array_equal(a.spikes[pop].ids, b.spikes[pop].ids, err_msg=pop)


@pytest.fixture(scope="module")
def reference():
    return simulate(feedforward(), STEPS * DT, "numba")


def test_norse_gives_numbas_spikes_and_traces(reference):
    result = simulate(feedforward(), STEPS * DT, "norse")
    same_spikes(reference, result)
    for pop in ("lif", "cuba", "iff", "li"):
        assert result.spikes[pop].count() > 20, pop
    assert result.traces.keys() == reference.traces.keys()
    for key, trace in reference.traces.items():
        assert result.traces[key].values.shape == trace.values.shape
        np.testing.assert_allclose(result.traces[key].values, trace.values, atol=1e-12, err_msg=key)
        np.testing.assert_array_equal(result.traces[key].times, trace.times)
    assert result.meta["backend"] == "norse" and result.meta["duration"] == pytest.approx(STEPS * DT)
    assert result.meta["network_hash"] == reference.meta["network_hash"]


def test_runs_continue_and_state_can_be_changed(reference):
    sim = simulation(feedforward(), "norse")
    for _ in range(3):
        sim.run(STEPS * DT / 3)
    same_spikes(reference, sim.result())
    # get / set between runs, the same way as on numba
    sims = [simulation(feedforward(), backend) for backend in ("numba", "norse")]
    for s in sims:
        s.run(0.002)
        s.set("cuba", "bias", 0.5)            # until cuba's bias onset (step 5) sets its own value
        s.run(0.048)
        s.set("lif", "v", np.linspace(0, 0.45, 8))
        s.set("cuba", "i_syn", 0.2)
        s.set("lif_to_iff_3", "w", s.get("lif_to_iff_3", "w") * 2)
        s.set("lif", "bias", 0.1)
        s.set_spikes("inp", [0.06, 0.061, 0.07], [0, 1, 2])
        s.run(0.05)
    np.testing.assert_allclose(sims[1].get("cuba", "v"), sims[0].get("cuba", "v"), atol=1e-12)
    changed = sims[1].result()
    same_spikes(sims[0].result(), changed)
    late = lambda r, pop: r.spikes[pop].times[r.spikes[pop].times >= 0.003]     # noqa: E731
    for pop in ("cuba", "lif", "iff"):          # the changes mattered
        assert not np.array_equal(late(changed, pop), late(reference, pop)), pop
    with pytest.raises(ModelError, match="fixed once"):
        sims[1].set("lif", "tau", 0.01)


def test_refuses_what_nir_cannot_carry_listing_all():
    net = Network(dt=DT)
    net.spike_source("s", 2, [[1e-3], []])
    net.poisson_source("noise", 2, 5.0)
    net.population("a", 2, IF_curr_exp())
    net.population("b", 2, LIF())
    net.connect("s", "b", AllToAll(), weight=1.0, receptor="input", synapse=stdp(A_plus=0.1, A_minus=0.1),
                name="learn")
    net.connect("noise", "b", OneToOne(), weight=1.0, receptor="input", name="fine")
    with pytest.raises(ModelError) as norse_error:
        simulation(net, "norse")
    with pytest.raises(ModelError) as export_error:
        export_nir(net)
    assert str(norse_error.value) == str(export_error.value)
    for words in ("'noise': Poisson", "'a': refractory period", "'learn': synapse model"):
        assert words in str(norse_error.value)


def test_refuses_a_population_with_its_own_dt_as_the_export_does():
    net = Network(dt=DT)
    net.spike_source("s", 1, [[1e-3]])
    net.population("slow", 2, LIF(), dt=4 * DT)
    net.connect("s", "slow", AllToAll(), weight=1.0, receptor="input")
    with pytest.raises(ModelError, match=r"population 'slow': its own dt 0\.004 s, every 4 steps"):
        simulation(net, "norse")


def test_refuses_monitors_it_cannot_serve():
    net = feedforward()
    net.record_state("lif", ["v", "x"])
    with pytest.raises(ModelError) as e:
        simulation(net, "norse")
    assert "'lif': ['x']" in str(e.value)


def test_float32_runs():
    sim = simulation(feedforward(), "norse", dtype="float32")
    sim.run(0.05)
    assert sim.result().meta["dtype"] == "torch.float32" and sim.get("lif", "v").dtype == np.float64
    with pytest.raises(ModelError, match="dtype"):
        simulation(feedforward(), "norse", dtype="int8")


def test_norse_runs_if_curr_exp_as_numba_does():
    rng = np.random.default_rng(1)
    net = Network(dt=1e-4, seed=1)
    net.spike_source("inp", 10, *spikes_from_raster(rng.random((2000, 10)) < 0.02, 1e-4))
    net.population("e", 20, IF_curr_exp(tau_refrac=0.0, tau_syn_E=3e-3, tau_syn_I=3e-3))
    net.connect("inp", "e", FromMatrix(rng.uniform(0, 4e-9, (10, 20))), receptor="exc")
    net.connect("e", "e", FromMatrix(-rng.uniform(0, 2e-9, (20, 20))), receptor="inh", delay=2e-4)
    net.record_spikes("e")
    net.record_state("e", "v")
    a, b = simulate(net, 0.2, "numba"), simulate(net, 0.2, "norse")
    assert a.spikes["e"].count() > 100
    same_spikes(a, b)
    np.testing.assert_allclose(b.traces["e.v"].values, a.traces["e.v"].values, rtol=0, atol=1e-12)
    sim = simulation(net, "norse")
    with pytest.raises(ModelError, match="'isyn_exc' of 'e' is not kept"):
        sim.get("e", "isyn_exc")
    assert np.all(sim.get("e", "i_offset") == 0)
