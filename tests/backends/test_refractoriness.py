"""Refractoriness as each model counts it, the same on every engine.

IF_curr_exp and IF_cond_exp hold a neuron for ceil(tau_refrac/dt) steps after
its spike step, as PyNN, NEST and sPyNNaker do (the SpiNNaker recordings:
tau_refrac = 1 ms at dt = 1 ms, inputs at 0, 1, 2 ms fire the neuron at 1 and
3 ms); other models keep Brian2's reading, floor(refractory/dt) - 1 steps.
"""
import dataclasses
import json
import pathlib

import numpy as np
import pytest
from brian2 import ms, nA, uS

from spikemem.backends import simulation
from spikemem.connectors import OneToOne
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import AdEx, IF_cond_exp, IF_curr_exp

STEPS = 20
TORCH = {"dtype": "float64", "device": "cpu"}
ENGINES = [("numba", {}), ("brian2", {"target": "numpy"}), ("torch", TORCH), ("spinnaker", {})]


def driven(model, dt=1 * ms, weight=50 * nA, receptor="exc") -> Network:
    """One neuron, a spike source at every step, each spike (delay one step)
    enough to fire it in the next step unless it is held."""
    net = Network(dt=dt)
    net.spike_source("src", 1, [np.arange(STEPS) * float(dt)])
    net.population("cell", 1, model)
    net.connect("src", "cell", OneToOne(), weight=weight, delay=dt, receptor=receptor)
    net.record_spikes("cell")
    return net


def spike_steps(net, backend, options) -> list:
    if backend == "torch":
        pytest.importorskip("torch")
    sim = simulation(net, backend, **options)
    sim.run(STEPS * net.dt)
    return np.rint(sim.result().spikes["cell"].times / net.dt).astype(int).tolist()


@pytest.mark.parametrize("backend,options", ENGINES, ids=[b for b, _ in ENGINES])
@pytest.mark.parametrize("model,every", [
    (IF_curr_exp(tau_refrac=1 * ms), 2),                                  # held 1 step
    (IF_curr_exp(tau_refrac=2 * ms), 3),                                  # held 2 steps
    (IF_curr_exp(tau_refrac=1.5 * ms), 3),                                # ceil(1.5) = 2 steps
    (IF_curr_exp(tau_refrac=1 * ms, refractory_counting="brian2"), 1),    # Brian2's: none
    (IF_curr_exp(tau_refrac=3 * ms, refractory_counting="brian2"), 3),    # Brian2's: 3 - 1
    (IF_curr_exp(tau_refrac=1 * ms, integration="spinnaker"), 2),         # exponential Euler, held
], ids=["pynn-1ms", "pynn-2ms", "pynn-1.5ms", "brian2-1ms", "brian2-3ms", "spinnaker-1ms"])
def test_if_curr_exp_fires_once_per_held_steps_plus_one(backend, options, model, every):
    assert spike_steps(driven(model), backend, options) == list(range(1, STEPS, every))


@pytest.mark.parametrize("backend,options", ENGINES, ids=[b for b, _ in ENGINES])
def test_if_cond_exp_counts_as_pynn(backend, options):
    net = driven(IF_cond_exp(tau_refrac=1 * ms), weight=1 * uS)
    assert spike_steps(net, backend, options) == list(range(1, STEPS, 2))


@pytest.mark.parametrize("backend,options", ENGINES[:3], ids=[b for b, _ in ENGINES[:3]])
def test_a_custom_model_keeps_brian2s_meaning(backend, options):
    """The same equations as a custom model (counting "brian2"): 1 ms holds no
    step at dt = 1 ms, 2 ms holds one."""
    custom = dataclasses.replace(IF_curr_exp(tau_refrac=1 * ms), name="custom", refractory_counting="brian2")
    assert spike_steps(driven(custom), backend, options) == list(range(1, STEPS))
    custom = dataclasses.replace(custom, refractory=2 * ms)
    assert spike_steps(driven(custom), backend, options) == list(range(1, STEPS, 2))


def test_held_steps_are_built_once_for_every_engine():
    built = driven(IF_curr_exp(tau_refrac=1.5 * ms)).build()
    assert built.populations["cell"].refractory_steps == 2
    assert driven(IF_curr_exp(tau_refrac=2 * ms), dt=0.1 * ms).build().populations["cell"].refractory_steps == 20
    assert driven(AdEx(tau_refrac=2 * ms), dt=0.1 * ms).build().populations["cell"].refractory_steps == 19
    assert driven(IF_curr_exp(tau_refrac=0 * ms)).build().populations["cell"].refractory_steps == 0


def test_norse_refuses_a_neuron_that_is_held():
    """norse runs NIR's neuron forms, which have no refractoriness: a period
    that holds a step is refused by name, one that holds none is no period."""
    pytest.importorskip("norse")
    from spikemem.interop.nir import LIF
    held = driven(dataclasses.replace(LIF(), refractory=1e-3, refractory_counting="pynn"), weight=1.0,
                  receptor="input")
    with pytest.raises(ModelError, match="refractory period"):
        simulation(held, "norse")
    free = driven(dataclasses.replace(LIF(), refractory=1e-3), weight=1.0, receptor="input")  # Brian2's: none
    simulation(free, "norse").run(0.005)


def test_the_pynn_export_writes_tau_refrac_as_held_steps(tmp_path):
    """NEST and sPyNNaker hold ceil(tau_refrac/dt) steps: an IF_curr_exp's
    tau_refrac goes out unchanged (no compensation in run.py); a Brian2-counted
    one or one between steps goes out as its held steps."""
    from spikemem.interop.pynn import export_pynn, translate

    def tau_refrac(model, dt=1 * ms):
        weight = 1 * uS if model.name == "IF_cond_exp" else 50 * nA
        return translate(driven(model, dt, weight)).spec["populations"][1]["params"]["tau_refrac"]

    assert tau_refrac(IF_curr_exp(tau_refrac=2 * ms)) == 2.0
    assert tau_refrac(IF_curr_exp(tau_refrac=2 * ms), 0.1 * ms) == 2.0
    assert tau_refrac(IF_cond_exp(tau_refrac=0.3 * ms), 0.1 * ms) == 0.3
    assert tau_refrac(IF_curr_exp(tau_refrac=1.5 * ms)) == 2.0
    assert tau_refrac(IF_curr_exp(tau_refrac=3 * ms, refractory_counting="brian2")) == 2.0
    folder = pathlib.Path(export_pynn(driven(IF_curr_exp(tau_refrac=2 * ms)), tmp_path / "out", 0.02))
    assert json.loads((folder / "model.json").read_text())["populations"][1]["params"]["tau_refrac"] == 2.0
    assert "tau_refrac" not in (folder / "run.py").read_text()


@pytest.mark.parametrize("dt", [1 * ms, 0.1 * ms])
def test_spinnaker_holds_the_held_steps_in_its_integers(dt):
    """sPyNNaker's T_refract = ceil(tau_refrac / ts) of the S1615 numbers the
    host writes equals the held steps at both time steps SpiNNaker accepts."""
    from spikemem.hardware.spinnaker.quantize import neuron_constants
    for steps in range(0, 64):
        pop = driven(IF_curr_exp(tau_refrac=steps * dt), dt).build().populations["cell"]
        assert pop.refractory_steps == steps
        assert neuron_constants(pop, float(dt))["T_refract"].tolist() == [steps]
        assert neuron_constants(pop, float(dt), fixed=False)["T_refract"].tolist() == [steps]

