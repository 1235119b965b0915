"""The torch backend: same spikes as the numba engine in float64, batches,
training through surrogate spikes, and bad input."""
import math

import numpy as np
import pytest
from brian2 import ms, mV, nA, pA

from spikemem.analysis import mean_rate, spike_set
from spikemem.backends import simulate, simulation
from spikemem.connectors import AllToAll, FixedProbability
from spikemem.distributions import Normal
from spikemem.errors import ModelError
from spikemem.models.ca3_cam.experiments import FUNCTIONAL, run_script
from spikemem.models.cuba.network import cuba
from spikemem.network import Network
from spikemem.neurons import AdEx, IF_curr_exp, Izhikevich
from spikemem.plasticity import oja

from networks import if_curr_exp_network
from test_plasticity import diehl_cook_network, plastic_network, rate_network

# the torch extra: deselect with -m "not torch"; not collected where it is missing
torch = pytest.importorskip("torch")
pytest.importorskip("snntorch")
pytestmark = pytest.mark.torch

F64 = {"dtype": "float64", "device": "cpu"}


def _same_spikes(a, b, pop, dt, at_least=50):
    sa, sb = spike_set(a.spikes[pop], dt), spike_set(b.spikes[pop], dt)
    assert len(sa) > at_least, "the network should be active"
    np.testing.assert_array_equal(sa, sb)


# ---------------------------------------------------------------- agreement in float64
def test_cuba_identical_spikes_to_numba():
    net = cuba(n=1000, seed=5)
    ref = simulate(net, 1.0, backend="numba")
    ours = simulate(net, 1.0, backend="torch", **F64)
    for pop in ("exc", "inh"):
        _same_spikes(ours, ref, pop, net.dt)


@pytest.mark.parametrize("weights", ["auto", "sparse", "synapses"])
def test_if_curr_exp_with_delays_identical_spikes_and_traces(weights):
    net = if_curr_exp_network()
    ref = simulate(net, 1.0, backend="numba")
    ours = simulate(net, 1.0, backend="torch", weights=weights, **F64)
    _same_spikes(ours, ref, "cells", net.dt)
    # Sums over synapses are added in another order (matrix products), so
    # traces agree to rounding, not bit for bit.
    for key in ("cells.v", "cells.isyn_exc"):
        np.testing.assert_allclose(ours.traces[key].values, ref.traces[key].values, rtol=1e-12, atol=1e-20)


@pytest.mark.parametrize("model", ["Izhikevich", "AdEx"])
def test_other_equation_sets_identical_spikes(model):
    """Models snntorch has no neuron for run from the same compiled statements."""
    unit = {"Izhikevich": 20 * mV / ms, "AdEx": 1 * nA}[model]     # drive per synapse
    neuron = {"Izhikevich": Izhikevich(), "AdEx": AdEx(tau_refrac=1 * ms)}[model]
    net = Network(dt=0.1 * ms, seed=4)
    rng = np.random.default_rng(4)
    net.spike_source("inp", 20, [np.sort(rng.uniform(0, 0.3, 12)) for _ in range(20)])
    net.population("cells", 30, neuron)
    net.connect("inp", "cells", FixedProbability(0.5), weight=Normal(0.4 * unit, 0.1 * unit), name="feed")
    net.connect("cells", "cells", FixedProbability(0.2, allow_self=False), weight=-0.2 * unit,
                receptor="inh", delay=1 * ms, name="rec")
    net.step_current("cells", 0.3 * unit, 50 * ms)
    net.record_spikes("cells")
    ref = simulate(net, 0.3, backend="numba")
    ours = simulate(net, 0.3, backend="torch", **F64)
    _same_spikes(ours, ref, "cells", net.dt, at_least=20)


def test_plastic_network_same_spikes_and_weights():
    sims = {b: simulation(plastic_network(), b, **opts) for b, opts in (("numba", {}), ("torch", F64))}
    w0 = sims["numba"].get("plastic", "w")
    for _ in range(4):
        for sim in sims.values():
            sim.run(0.05)
        np.testing.assert_allclose(sims["torch"].get("plastic", "w"), sims["numba"].get("plastic", "w"),
                                   rtol=1e-12)
    a, b = (s.result().spikes["cells"] for s in sims.values())
    assert a.count() > 100
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.times, b.times)
    assert np.count_nonzero(sims["torch"].get("plastic", "w") != w0) > 0.5 * w0.size


def test_diehl_cook_and_rate_rule_agree():
    for make, proj, steps in ((diehl_cook_network, "plastic", 0.2),
                              (lambda: rate_network(oja(eta=5.0, alpha=2.0)), "rate", 0.2)):
        a = simulation(make(), "numba")
        b = simulation(make(), "torch", **F64)
        w0 = a.get(proj, "w")
        a.run(steps)
        b.run(steps)
        assert np.abs(a.get(proj, "w") - w0).max() > 0.01 * np.abs(w0).max(), "the weights learn"
        np.testing.assert_allclose(b.get(proj, "w"), a.get(proj, "w"), rtol=1e-12)


def test_ca3_functional_same_answers_and_raster():
    mem_a, rows_a, _ = run_script(FUNCTIONAL, 5, 10, "numba")
    mem_b, rows_b, _ = run_script(FUNCTIONAL, 5, 10, "torch-float64")
    key = ("answer_cues", "answer_content", "latency_steps")
    assert [[r[k] for k in key] for r in rows_a] == [[r[k] for k in key] for r in rows_b]
    ra, rb = mem_a.sim.result(), mem_b.sim.result()
    for pop in ra.spikes:
        np.testing.assert_array_equal(spike_set(ra.spikes[pop], 1e-3), spike_set(rb.spikes[pop], 1e-3))


def test_float32_cuba_statistics_close_to_float64():
    """float32 rounds differently, so single spikes differ and the chaotic
    network diverges; its activity stays the same."""
    net = cuba(n=1000, seed=5)
    r64 = simulate(net, 0.5, backend="torch", **F64)
    r32 = simulate(net, 0.5, backend="torch", dtype="float32", device="cpu")
    for pop in ("exc", "inh"):
        a, b = mean_rate(r64.spikes[pop], 0.5), mean_rate(r32.spikes[pop], 0.5)
        assert a > 1 and abs(a - b) < 0.1 * a


# ---------------------------------------------------------------- state and batches
def test_ten_chunks_equal_one_run():
    net = if_curr_exp_network(duration=0.1)
    one = simulation(net, "torch", **F64)
    one.run(0.1)
    ten = simulation(net, "torch", **F64)
    for _ in range(10):
        ten.run(0.01)
    np.testing.assert_array_equal(spike_set(one.result().spikes["cells"], net.dt),
                                  spike_set(ten.result().spikes["cells"], net.dt))
    np.testing.assert_array_equal(one.get("cells", "v"), ten.get("cells", "v"))


def _layer(n_in=15, n=6, dt=1 * ms):
    net = Network(dt=dt, seed=2)
    net.spike_source("inp", n_in, [[] for _ in range(n_in)])
    net.population("out", n, IF_curr_exp(tau_refrac=2 * ms, tau_m=10 * ms, tau_syn_E=5 * ms))
    net.connect("inp", "out", AllToAll(), weight=Normal(0.4 * nA, 0.1 * nA), delay=2 * ms, name="feed")
    net.connect("out", "out", AllToAll(allow_self=False), weight=-0.3 * nA, receptor="inh", name="rec")
    net.record_spikes("out")
    return net


def test_batch_trials_equal_separate_runs():
    net = _layer()
    rng = np.random.default_rng(0)
    x = (rng.random((200, 3, 15)) < 0.08).astype(np.float64)
    batched = simulation(net, "torch", batch=3, **F64)
    batched.run(0.2, inputs={"inp": x})
    counts = []
    for trial in range(3):
        single = simulation(net, "torch", **F64)
        single.run(0.2, inputs={"inp": x[:, trial]})
        expected = spike_set(single.result().spikes["out"], net.dt)
        np.testing.assert_array_equal(spike_set(batched.result(trial).spikes["out"], net.dt), expected)
        counts.append(len(expected))
    assert min(counts) > 5 and len(set(counts)) > 1, "trials with different inputs differ"
    assert batched.get("out", "v").shape == (3, 6)


def test_trial_params_equal_runs_with_that_parameter():
    net = _layer()
    rng = np.random.default_rng(1)
    x = (rng.random((150, 15)) < 0.08).astype(np.float64)
    taus = [4e-3, 10e-3, 20e-3]      # (tau_m = tau_syn_E is singular for exact integration)
    batched = simulation(net, "torch", batch=3, trial_params={"out.tau_m": taus}, **F64)
    batched.run(0.15, inputs={"inp": x})
    for trial, tau in enumerate(taus):
        single = simulation(net, "torch", **F64)
        single.set("out", "tau_m", tau)
        single.run(0.15, inputs={"inp": x})
        np.testing.assert_array_equal(spike_set(batched.result(trial).spikes["out"], net.dt),
                                      spike_set(single.result().spikes["out"], net.dt))


def test_poisson_trials_are_independent():
    net = Network(dt=1 * ms, seed=3)
    net.poisson_source("noise", 50, 40.0)
    net.population("out", 10, IF_curr_exp())
    net.connect("noise", "out", FixedProbability(0.3), weight=0.5 * nA, name="feed")
    net.record_spikes("noise")
    sim = simulation(net, "torch", batch=2)
    sim.run(0.5)
    a, b = (spike_set(sim.result(k).spikes["noise"], net.dt) for k in range(2))
    assert abs(len(a) / (50 * 0.5) - 40.0) < 8 and len(a) != len(b) or not np.array_equal(a, b)


def test_set_weights_between_runs():
    net = _layer()
    x = np.zeros((50, 15))
    x[5] = 1
    sim = simulation(net, "torch", **F64)
    sim.set("feed", "w", 0.0)
    sim.run(0.05, inputs={"inp": x})
    assert sim.result().spikes["out"].count() == 0
    sim.set("feed", "w", 2 * nA)
    sim.run(0.05, inputs={"inp": x})
    assert sim.result().spikes["out"].count() > 0
    np.testing.assert_allclose(sim.get("feed", "w"), 2e-9)


def test_use_weights_reads_tensors_owned_elsewhere():
    net = _layer()
    x = torch.zeros(50, 15, dtype=torch.float64)
    x[5] = 1
    module = simulation(net, "torch", surrogate="fast_sigmoid", **F64).module
    feed = torch.full((15 * 6,), 2e-9, dtype=torch.float64, requires_grad=True)
    rec = module.weights["rec"].detach().clone()
    module.use_weights({"feed": feed, "rec": rec})
    assert module.weights["feed"] is feed and not list(module.parameters())
    module(50, inputs={"inp": x})["out"].sum().backward()
    assert feed.grad is not None and bool(feed.grad.abs().sum() > 0)
    with pytest.raises(ModelError, match=r"needs the weights of \['feed', 'rec'\], got \['feed'\]"):
        module.use_weights({"feed": feed})
    with pytest.raises(ModelError, match="'rec' must be a tensor of 30 values"):
        module.use_weights({"feed": feed, "rec": torch.zeros(3)})


# ---------------------------------------------------------------- training
def test_training_reaches_target_spike_counts():
    rng = np.random.default_rng(1)
    net = Network(dt=1 * ms, seed=1)
    net.spike_source("inp", 30, [np.sort(rng.choice(100, 10, replace=False)) * 1e-3 for _ in range(30)])
    net.population("out", 4, IF_curr_exp(tau_refrac=0 * ms, tau_m=10 * ms, tau_syn_E=5 * ms))
    net.connect("inp", "out", AllToAll(), weight=0.3 * nA, name="feed")
    net.record_spikes("out")
    module = simulation(net, "torch").module
    target = torch.tensor([2.0, 5.0, 8.0, 12.0])
    opt = torch.optim.Adam(module.parameters(), lr=20 * float(pA))
    losses = []
    for _ in range(60):
        module.reset_state()
        count = module(100)["out"].sum(0)[0]
        loss = ((count - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[0] > 50
    assert min(losses[-10:]) <= 1.0, losses[-10:]
    assert module.weights["feed"].grad is not None


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("options, message", [
    ({"batch": 0}, "batch"),
    ({"dtype": "float16"}, "dtype"),
    ({"device": "nonsense"}, "device"),
    ({"weights": "diagonal"}, "weights mode"),
    ({"weights": {"nope": "dense"}}, "unknown projection 'nope'"),
    ({"trial_params": {"out.tau_m": [1e-3, 2e-3]}}, "expected 1 values"),
    ({"trial_params": {"out.v": [0.0]}}, "shared parameters"),
    ({"trial_params": {"tau_m": [0.01]}}, "population.variable"),
    ({"surrogate": "nope"}, "unknown surrogate 'nope'.*atan, fast_sigmoid"),
    ({"surrogate": 3}, "surrogate must be a name"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ModelError, match=message):
        simulation(_layer(), "torch", **options)


def test_plastic_projection_refuses_matrix_delivery():
    with pytest.raises(ModelError, match="'plastic'.*per synapse"):
        simulation(plastic_network(), "torch", weights={"plastic": "dense"})


def test_a_population_with_its_own_dt_is_refused_before_lowering(monkeypatch):
    import spikemem.backends.torch.simulation as torch_simulation
    monkeypatch.setattr(torch_simulation, "lower", lambda built: pytest.fail("lowered before the refusal"))
    net = Network(dt=0.1 * ms)
    net.population("slow", 3, IF_curr_exp(tau_refrac=0 * ms), dt=1 * ms)
    with pytest.raises(ModelError, match=r"torch backend: population 'slow' has its own dt 0\.001 s "
                                         r"\(every 10 steps of the network's\)"):
        simulation(net, "torch")


def test_bad_run_arguments_leave_state_alone():
    sim = simulation(_layer(), "torch")
    with pytest.raises(ModelError, match="not a spike source"):
        sim.run(0.01, inputs={"out": np.zeros((10, 6))})
    with pytest.raises(ModelError, match="shape"):
        sim.run(0.01, inputs={"inp": np.zeros((9, 15))})
    with pytest.raises(ModelError, match="trial"):
        sim.result(trial=1)
    with pytest.raises(ModelError, match="unknown output"):
        sim.module(5, outputs=("nope",))
    with pytest.raises(ModelError, match=r"expected shape \(1, 6\)"):
        sim.set_trials("out", "v", np.zeros((2, 6)))
    with pytest.raises(ModelError, match="shared by every trial"):
        sim.set_trials("out", "tau_m", np.zeros((1, 6)))
    with pytest.raises(ModelError, match="shared by every trial"):
        sim.set_trials("feed", "w", np.zeros((1, 90)))
    assert sim.step == 0 and sim.module.step == 0


def test_cli_runs_the_main_job_on_torch(tmp_path):
    import json
    from spikemem.cli import main
    out = tmp_path / "report"
    assert main(["run", "ca3-cam", "--backend", "torch", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["backend"] == "torch"
    assert (out / "raster.png").exists() and (out / "operations.csv").exists()


def test_surrogate_by_name_trains():
    module = simulation(_layer(), "torch", surrogate="fast_sigmoid").module
    x = torch.zeros(50, 1, 15)
    x[::5] = 1
    module(50, inputs={"inp": x})["out"].sum().backward()
    assert module.weights["feed"].grad is not None


def test_nan_inputs_are_refused_by_name():
    sim = simulation(_layer(), "torch")
    x = np.zeros((10, 15))
    x[3, 2] = np.nan
    with pytest.raises(ModelError, match="'inp'.*NaN"):
        sim.run(0.01, inputs={"inp": x})
    with pytest.raises(ModelError, match="'inp'.*NaN"):
        sim.module(10, inputs={"inp": torch.as_tensor(x)})
    assert sim.step == 0 and sim.module.step == 0


# ---------------------------------------------------------------- Dale's law
def dale_network():
    """One cell the loss wants silent (driven through 'exc') and one it wants loud (held down through 'inh')."""
    net = Network(dt=1 * ms, seed=0)
    net.spike_source("inp", 4, [[t * 1e-3 for t in range(2, 40, 3)]] * 4)
    for pop in ("quiet", "loud"):
        net.population(pop, 1, IF_curr_exp(tau_refrac=0 * ms), init={"v": -60 * mV})
        net.record_spikes(pop)
    net.connect("inp", "quiet", AllToAll(), weight=1 * nA, name="exc")
    net.connect("inp", "loud", AllToAll(), weight=1 * nA, name="drive")
    net.connect("inp", "loud", AllToAll(), weight=-1 * nA, receptor="inh", name="inh")
    return net


def _train(dale, steps=40):
    """Adam steps on quiet's spikes minus loud's: the excitatory weights onto quiet are pushed
    below 0 and the inhibitory ones onto loud above it; the extremes seen after any step."""
    sim = simulation(dale_network(), "torch", dale=dale, **F64)
    module = sim.module
    opt = torch.optim.Adam(module.parameters(), lr=0.2e-9)
    seen = {"exc": np.inf, "inh": -np.inf}
    for _ in range(steps):
        module.reset_state()
        out = module(50)
        loss = out["quiet"].sum() - out["loud"].sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if dale:
            module.constrain_()
        seen["exc"] = min(seen["exc"], module.weights["exc"].min().item())
        seen["inh"] = max(seen["inh"], module.weights["inh"].max().item())
    return sim, seen


def test_dale_keeps_each_trained_weight_in_its_projections_sign():
    _, free = _train(False)
    assert free["exc"] < 0 and free["inh"] > 0            # without it, training flips both signs
    sim, kept = _train(True)
    assert kept["exc"] >= 0 and kept["inh"] <= 0
    assert kept["exc"] == 0 and kept["inh"] == 0          # pushed to the bound, not past it
    assert sim.get("exc", "w").min() >= 0 and sim.get("inh", "w").max() <= 0


def test_dale_projects_before_a_run_the_user_forgot_to_constrain():
    sim = simulation(dale_network(), "torch", dale=["exc"], **F64)
    with torch.no_grad():
        sim.module.weights["exc"].fill_(-1e-9)
        sim.module.weights["inh"].fill_(1e-9)       # not named: left alone
    sim.run(0.01, progress=False)
    assert sim.get("exc", "w").max() == 0 and sim.get("inh", "w").min() == 1e-9


def test_dale_refuses_what_it_cannot_keep_by_name():
    with pytest.raises(ModelError, match=r"dale names \['nope'\]"):
        simulation(dale_network(), "torch", dale=["nope"], **F64)
    with pytest.raises(ModelError, match="dale must be True, False or a list"):
        simulation(dale_network(), "torch", dale="exc", **F64)
    net = dale_network()
    net.connect("inp", "quiet", AllToAll(), weight=Normal(0, 1e-9), receptor="v", name="mixed")
    with pytest.raises(ModelError, match="projection 'mixed' onto 'v' starts with weights of both signs"):
        simulation(net, "torch", dale=True, **F64)


def test_dale_signs_follow_pynns_convention():
    from spikemem.backends.torch.dale import dale_signs
    from spikemem.neurons import IF_cond_exp
    net = dale_network()
    net.population("cond", 1, IF_cond_exp())
    net.connect("inp", "cond", AllToAll(), weight=1e-9, receptor="inh", name="g_inh")
    net.connect("inp", "quiet", AllToAll(), weight=-1 * mV, receptor="v", name="kick")
    names = ["exc", "drive", "inh", "g_inh", "kick"]
    assert dale_signs(net.build(), True, names) == {"exc": 1, "drive": 1, "inh": -1, "g_inh": 1, "kick": -1}
    assert dale_signs(net.build(), False, names) == {}


def test_c_library_functions_take_tensors_of_any_rank_and_pass_torchs_gradient():
    from spikemem.backends.torch.codegen import _unary
    exp = _unary("exp")
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)     # 0-d, as a shared value is
    y = exp(x)
    y.backward()
    assert y.item() == math.exp(0.5) and x.grad.item() == pytest.approx(math.exp(0.5))
    assert exp(torch.tensor([[0.1, 2.0]], dtype=torch.float64)).tolist() == [[math.exp(0.1), math.exp(2.0)]]


def test_spikes_of_a_subset_monitor_are_its_neurons_only_as_in_the_result():
    net = Network(dt=0.1 * ms)
    cells = net.population("cells", 20, IF_curr_exp(i_offset=2 * nA))
    net.record_spikes(cells[5:8])
    sim = simulation(net, "torch", batch=2)
    sim.run(20 * ms)
    rows = sim.spikes("cells")
    assert len(rows) and set(rows[:, 2]) == {5, 6, 7} and set(rows[:, 1]) == {0, 1}
    train = sim.result(trial=1).spikes["cells"]
    first = rows[rows[:, 1] == 1]
    assert np.array_equal(first[:, 2], train.ids) and np.allclose(first[:, 0] * 1e-4, train.times)
