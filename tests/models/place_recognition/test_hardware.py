"""A trained module as a static network: it passes both targets' checks, maps,
exports, and its emulators fire as its float network does."""
import numpy as np
import pytest

from spikemem import registry
from spikemem.errors import ModelError
from spikemem.models.place_recognition.experiments import Setting, hardware, reference_set, route_of
from spikemem.models.place_recognition.hardware import hardware_network
from spikemem.models.place_recognition.module import train_module
from spikemem.targets import TARGETS

SMALL = Setting(n_places=5, region=5, n_e=8, epochs=1, seeds=(0,), present=0.1, rest=0.05, image_size=32)


@pytest.fixture(scope="module")
def module():
    route = route_of(SMALL)
    images, places = reference_set(route)
    return train_module(images, places, n_e=8, epochs=1, present=0.1, rest=0.05)


@pytest.mark.parametrize("target", ["spinnaker", "loihi"])
def test_a_trained_module_passes_check_maps_and_exports(module, target, tmp_path):
    registry.load_plugins()
    net = hardware_network(module, target)
    built = net.build()
    assert all(p.switch is None for p in built.projections), "static synapses only"
    np.testing.assert_array_equal(built.populations["exc"].params["v_thresh"], module.state["exc.vt"])
    trained = {p.name: p for p in module.network().build().projections}["input_to_exc"]
    inputs = {p.name: p for p in built.projections}["input_to_exc"]
    np.testing.assert_array_equal(inputs.i, trained.i)
    if target == "spinnaker":
        np.testing.assert_array_equal(inputs.w, module.state["input_to_exc.w"])
    else:       # currents; one synaptic time constant; inhibition negative
        assert np.all(inputs.w > 0)
        assert np.all({p.name: p for p in built.projections}["inh_to_exc"].w < 0)
    t = TARGETS.get(target)
    assert t.check(net) == []
    assert t.map(net).totals["cores"] >= 2
    out = tmp_path / ("spinnaker" if target == "spinnaker" else "module.nir")
    t.export(net, str(out), duration=0.5) if target == "spinnaker" else t.export(net, str(out))
    assert out.exists()


def test_an_unknown_target_is_refused(module):
    with pytest.raises(ModelError, match=r"target must be one of \('spinnaker', 'loihi'\), got 'truenorth'"):
        hardware_network(module, "truenorth")


def test_both_emulators_run_the_queries():
    run = hardware(SMALL)
    assert set(run["recall_at_1"]) == {"trained (numba)", "spinnaker network (numba)", "spinnaker emulator",
                                       "loihi network (numba)", "loihi emulator"}
    spikes = run["spikes"]
    assert spikes["trained (numba)"] > 0
    for target in ("spinnaker", "loihi"):      # each emulator fires about as its float network does
        assert abs(spikes[f"{target} emulator"] - spikes[f"{target} network (numba)"]) \
            <= 0.25 * spikes[f"{target} network (numba)"], target
