"""The memory estimate (spikemem.sizing) and the refusals it drives, before any work."""
import os
import time

import pytest

from spikemem import sizing
from spikemem.backends import require_memory, simulate, simulation
from spikemem.cli import main
from spikemem.connectors import AllToAll, FixedNumberPre, FixedProbability, FromList, OneToOne
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp

GiB = 1 << 30


@pytest.fixture
def machine_of(monkeypatch):
    """Pretend this machine has ``n`` bytes available."""
    def set_available(n):
        monkeypatch.setattr(sizing, "available_memory", lambda: n)
    return set_available


def small_network(n=10):
    net = Network()
    net.population("a", n, IF_curr_exp())
    net.connect("a", "a", FixedProbability(0.5), weight=0.1e-9)
    return net


def test_expected_synapses_per_connector():
    assert sizing.expected_synapses(FixedProbability(0.1), 100, 200) == 2000
    assert sizing.expected_synapses(AllToAll(), 30, 40) == 1200
    assert sizing.expected_synapses(OneToOne(), 50, 50) == 50
    assert sizing.expected_synapses(FixedNumberPre(5), 100, 40) == 200
    assert sizing.expected_synapses(FromList([(0, 1), (1, 2), (2, 0)]), 3, 3) == 3


def test_estimate_matches_the_built_network_and_reads_well():
    net = small_network(200)
    est = sizing.estimate(net)
    built = len(net.build().projections[0].i)
    assert abs(est.synapses - built) < 0.05 * built          # p * n^2 = 20,000
    assert est.neurons == 200 and est.total == sum(p.bytes for p in est.parts)
    text = repr(est)
    assert text.startswith("Estimate: 200 neurons, 20,000 synapses") and "projection 'a_to_a_0'" in text


def test_estimate_prices_monitors_by_duration():
    net = small_network(100)
    net.record_state("a", ("v", "isyn_exc"), every=2)
    part = next(p for p in sizing.estimate(net, 1.0).parts if p.what.startswith("state monitor"))
    # 10,000 steps of 0.1 ms, every 2nd recorded: 5,000 records x 100 neurons x 2 variables x 8 bytes
    assert part.bytes == 5000 * 100 * 2 * 8
    assert "v, isyn_exc, every 2 steps, 100 neurons x 5,000 records" in part.what
    assert not any(p.what.startswith("state monitor") for p in sizing.estimate(net).parts)


def test_network_that_cannot_fit_is_refused_by_name_in_well_under_a_second(machine_of, monkeypatch):
    machine_of(16 * GiB)
    net = Network()
    net.population("big", 2_000_000, IF_curr_exp())
    net.connect("big", "big", AllToAll(), weight=0.1e-9, name="dense")
    monkeypatch.setattr(Network, "build", lambda self: pytest.fail("built before the memory check"))
    t0 = time.perf_counter()
    with pytest.raises(sizing.InsufficientMemory) as e:
        simulation(net, "numba")
    assert time.perf_counter() - t0 < 1.0
    assert isinstance(e.value, ModelError)
    msg = str(e.value)
    assert "projection 'dense' (4,000,000,000,000 synapses" in msg and "16.0 GiB" in msg
    assert "check_memory=False" in msg


def test_monitor_that_cannot_fit_is_refused_before_allocation(machine_of):
    net = small_network(1000)
    net.record_state("a", "v")
    sim = simulation(net, "numba")
    machine_of(1 * GiB)
    t0 = time.perf_counter()
    with pytest.raises(sizing.InsufficientMemory) as e:
        sim.run(1000.0)         # 10,000,000 steps x 1,000 neurons x 8 bytes = 80 GB
    assert time.perf_counter() - t0 < 1.0
    assert "state monitor on 'a' (v, every step, 1,000 neurons x 10,000,000 records) needs 74.5 GiB" in str(e.value)
    assert sim.step == 0 and sim.values["st0__buf"].nbytes < 1e6     # nothing allocated, nothing run
    sim.run(1e-3)               # a run that fits still runs
    assert sim.step == 10


def test_simulate_refuses_the_recording_before_building(machine_of, monkeypatch):
    machine_of(1 * GiB)
    net = small_network(1000)
    net.record_state("a", "v")
    monkeypatch.setattr(Network, "build", lambda self: pytest.fail("built before the memory check"))
    with pytest.raises(ModelError, match="state monitor on 'a'"):
        simulate(net, 1000.0)


def test_check_memory_false_and_the_environment_variable_override(machine_of, monkeypatch):
    machine_of(1)
    with pytest.raises(sizing.InsufficientMemory):
        simulation(small_network(), "numba")
    sim = simulation(small_network(), "numba", check_memory=False)
    sim.run(1e-3)
    monkeypatch.setenv(sizing.ENV, "0")
    simulate(small_network(), 1e-3)


def test_available_memory_is_known_on_this_machine():
    available = sizing.available_memory()
    assert available is None or (isinstance(available, int) and available > 0)


def test_cli_refuses_cuba_of_two_million_neurons_quickly(capsys, machine_of, tmp_path):
    machine_of(64 * GiB)
    t0 = time.perf_counter()
    assert main(["run", "cuba", "--n", "2000000", "--out", str(tmp_path / "out")]) == 2
    assert time.perf_counter() - t0 < 20.0       # (imports included, on a loaded machine)
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error: 'cuba' for 1 s on 'numba' needs about")
    assert "projection 'exc_exc' (51,200,000,000 synapses, 1,600,000 x 1,600,000)" in err
    assert not (tmp_path / "out").exists()


def test_a_malformed_connector_is_left_for_build_to_name():
    for connector in (FixedProbability("half"), FixedNumberPre(-3)):
        net = Network()
        net.population("a", 10, IF_curr_exp())
        net.connect("a", "a", connector, weight=0.1e-9, name="odd")
        assert sizing.estimate(net).synapses == 0        # no error of the estimate's own


def test_cli_run_that_fits_shows_its_size_where_progress_is_shown(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SPIKEMEM_PROGRESS", "1")
    assert main(["run", "cuba", "--n", "100", "--duration", "0.01", "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "cuba: 100 neurons, 200 synapses, about " in err and "100/100" in err     # size, then the steps
    assert main(["run", "cuba", "--n", "100", "--duration", "0.01", "--out", str(tmp_path / "b"),
                 "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_cli_run_honours_the_environment_variable_and_no_memory_check(machine_of, monkeypatch, tmp_path):
    machine_of(1)
    args = ["run", "cuba", "--n", "100", "--duration", "0.01", "--out"]
    assert main([*args, str(tmp_path / "a")]) == 2                       # refused
    assert main([*args, str(tmp_path / "b"), "--no-memory-check"]) == 0
    monkeypatch.setenv(sizing.ENV, "0")
    assert main([*args, str(tmp_path / "c")]) == 0


def test_cli_run_estimates_once(monkeypatch, tmp_path):
    calls = []
    real = sizing.estimate
    monkeypatch.setattr(sizing, "estimate", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert main(["run", "cuba", "--n", "100", "--duration", "0.01", "--out", str(tmp_path / "a")]) == 0
    assert len(calls) == 1 and calls[0][1] == 0.01     # with the run's duration: the recordings too


def test_simulate_estimates_once_with_the_duration(monkeypatch):
    calls = []
    real = sizing.estimate
    monkeypatch.setattr(sizing, "estimate", lambda *a, **k: calls.append(a) or real(*a, **k))
    simulate(small_network(), 1e-3)
    assert len(calls) == 1 and calls[0][1] == 1e-3


def _spike_part(parts):
    return next(p for p in parts if p.what.startswith("spike monitor"))


def test_a_subset_spike_monitor_is_priced_at_its_population_in_estimate_and_run(machine_of, monkeypatch):
    net = small_network(1000)
    net.record_spikes("a", ids=[1, 2, 3])
    est = _spike_part(sizing.estimate(net, 1.0).parts)
    assert "1,000 neurons" in est.what       # every backend records the population; result() cuts it down
    seen = []
    monkeypatch.setattr(sizing, "check", lambda e, what="": seen.append(e))
    sizing.check_run(net.build(), 10_000)
    assert _spike_part(seen[0].parts) == est


def test_torch_batch_multiplies_state_and_recordings():
    net = small_network(100)
    net.record_state("a", "v")
    net.record_spikes("a")
    one = {p.what.split(" (")[0]: p.bytes for p in sizing.estimate(net, 0.1, "torch").parts}
    four = require_memory(net, 0.1, "torch", {"batch": 4})
    parts = {p.what.split(" (")[0]: p for p in four.parts}
    for what in ("population 'a'", "state monitor on 'a'", "spike monitor on 'a'", "delay buffer of 'a_to_a_0'"):
        assert parts[what].bytes == 4 * one[what] and "4 trials" in parts[what].what
    assert parts["projection 'a_to_a_0'"].bytes == one["projection 'a_to_a_0'"]     # weights shared


def test_the_delay_buffer_of_a_projection_from_a_view_is_the_whole_target_population():
    net = Network()
    a = net.population("a", 1000, IF_curr_exp())
    net.connect(a[:10], a[:20], AllToAll(), weight=0.1e-9, name="v")
    part = next(p for p in sizing.estimate(net).parts if p.what.startswith("delay buffer"))
    assert part.what == "delay buffer of 'v' (1 step x 1,000 neurons)" and part.bytes == 2 * 1000 * 8


def test_a_misspelled_option_is_named_before_the_memory_is_priced(machine_of, monkeypatch):
    machine_of(1)
    monkeypatch.setattr(Network, "build", lambda self: pytest.fail("built"))
    for call in (lambda: simulation(small_network(), "numba", threds=2),
                 lambda: simulate(small_network(), 1e-3, "numba", threds=2)):
        with pytest.raises(ModelError, match=r"unknown option\(s\) \['threds'\]") as e:
            call()
        assert not isinstance(e.value, sizing.InsufficientMemory)


def test_check_memory_is_a_named_parameter_of_simulation_and_simulate():
    import inspect
    for f in (simulation, simulate):
        p = inspect.signature(f).parameters["check_memory"]
        assert p.kind is p.POSITIONAL_OR_KEYWORD and p.default is None


def test_the_hardware_targets_take_check_memory(machine_of, monkeypatch):
    from spikemem.hardware.common import built_network
    machine_of(1)
    with pytest.raises(sizing.InsufficientMemory):
        built_network(small_network())
    assert built_network(small_network(), check_memory=False).populations["a"].size == 10
    monkeypatch.setenv(sizing.ENV, "0")
    assert built_network(small_network()).populations["a"].size == 10


def test_an_emulation_takes_check_memory_for_both_of_its_runs(machine_of):
    from spikemem.hardware.common import emulate_with
    machine_of(1)
    with pytest.raises(sizing.InsufficientMemory):
        emulate_with("spinnaker", "spinnaker", small_network(), 1e-3)
    em = emulate_with("spinnaker", "spinnaker", small_network(), 1e-3, check_memory=False)
    assert em.reference.meta["duration"] == pytest.approx(1e-3)


def test_no_memory_check_reaches_an_experiments_own_simulations(monkeypatch, tmp_path):
    import spikemem.registry
    seen = []

    def experiment(name, backend, out):
        seen.append(sizing.checking(None))
        return ["done"]
    monkeypatch.setattr(spikemem.registry, "load_object", lambda path: experiment)
    monkeypatch.delenv(sizing.ENV, raising=False)
    assert main(["run", "ca3-cam", "--out", str(tmp_path / "a"), "--no-memory-check"]) == 0
    assert main(["run", "ca3-cam", "--out", str(tmp_path / "b")]) == 0
    assert seen == [False, True] and sizing.ENV not in os.environ      # restored


def test_a_torch_run_prices_the_recordings_of_every_trial(monkeypatch):
    pytest.importorskip("torch")
    net = small_network(100)
    net.record_spikes("a")
    sim = simulation(net, "torch", batch=4)
    seen = []
    monkeypatch.setattr(sizing, "check", lambda e, what="": seen.append(e))
    sim.run(1e-3)
    one = _spike_part(sizing.estimate(net, 1e-3, "torch").parts)
    assert _spike_part(seen[0].parts).bytes == 4 * one.bytes
