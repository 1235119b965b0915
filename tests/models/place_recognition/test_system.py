"""The modular system: regularisation, global ranking, ensembles, the memory gate."""
import numpy as np
import pytest
from brian2 import ms

from spikemem import sizing
from spikemem.errors import ModelError
from spikemem.models.place_recognition import system as pr_system
from spikemem.models.place_recognition.assignment import Assignment
from spikemem.models.place_recognition.module import TrainedModule
from spikemem.models.place_recognition.system import (
    Ensemble, ModularSystem, check_regions, module_bytes, require_memory, train_ensemble, train_system)


def hand_module(places, neuron_place):
    return TrainedModule(len(neuron_place), 64, 0, 5e-4, {}, Assignment(np.array(places), np.array(neuron_place)))


def hand_system():
    """Module A (places 0, 1) has a hyperactive neuron 2, assigned to place 1, that fires
    for every reference image and wins the queries of module B's places."""
    a = hand_module([0, 1], [0, 1, 1])
    b = hand_module([2, 3], [0, 1, -1])
    system = ModularSystem([a, b], [np.array([0, 1]), np.array([2, 3])])
    system.activity = [np.array([1, 1, 4]), np.array([1, 1, 0])]
    responses = [np.array([[5, 0, 0], [0, 5, 0], [0, 0, 9], [0, 0, 9]], float),
                 np.array([[0, 0, 0], [0, 0, 0], [4, 0, 0], [0, 4, 0]], float)]
    return system, responses


def test_scores_are_concatenated_and_ranked_globally():
    system, responses = hand_system()
    np.testing.assert_array_equal(system.places, [0, 1, 2, 3])
    s = system.scores(responses)
    assert s.shape == (4, 4)
    np.testing.assert_array_equal(s.argmax(1), [0, 1, 1, 1])      # the hyperactive neuron wins 2 and 3


def test_regularisation_silences_the_hyperactive_neuron():
    system, responses = hand_system()
    threshold = system.calibrate(responses, [0, 1, 2, 3])
    assert threshold == 1
    assert system.calibration[np.inf] == 0.5 and system.calibration[0.0] == 0.0
    assert [list(m) for m in system.silenced()] == [[False, False, True], [False, False, False]]
    np.testing.assert_array_equal(system.scores(responses).argmax(1), [0, 1, 2, 3])


def test_calibration_needs_activity():
    system, responses = hand_system()
    system.activity = None
    with pytest.raises(ModelError, match="activity"):
        system.calibrate(responses, [0, 1, 2, 3])


def test_ensemble_sums_scores():
    s1, r1 = hand_system()
    s2, r2 = hand_system()
    s2.threshold = 1
    ensemble = Ensemble([s1, s2])
    np.testing.assert_allclose(ensemble.scores([r1, r2]), s1.scores(r1) + s2.scores(r2))
    other = ModularSystem([hand_module([5, 6], [0, 1])], [np.array([5, 6])])
    with pytest.raises(ModelError, match="other places"):
        Ensemble([s1, other])


def test_regions_are_checked():
    places = np.array([0, 1, 2, 3])
    with pytest.raises(ModelError, match="more than one region"):
        check_regions([[0, 1], [1, 2]], places)
    with pytest.raises(ModelError, match="no reference image"):
        check_regions([[0, 9]], places)
    with pytest.raises(ModelError, match="no places"):
        check_regions([[0], []], places)


def test_plastic_synapses_and_the_memory_gate(monkeypatch):
    cost = module_bytes(400, 784)
    assert cost["stored_per_synapse"] <= 16
    assert cost["stored"] == 400 * 784 * 8 + 400 * 8
    with pytest.raises(sizing.InsufficientMemory, match="trained modules"):
        require_memory(10**9)
    # train_system asks first: a machine with 1 MiB refuses before any module is trained
    monkeypatch.setattr(sizing, "available_memory", lambda: 1 << 20)
    monkeypatch.setattr(pr_system, "train_module", lambda *a, **k: pytest.fail("trained anyway"))
    images = np.zeros((4, 8, 8), np.uint8)
    with pytest.raises(sizing.InsufficientMemory):
        train_system(images, [0, 1, 2, 3], [[0, 1], [2, 3]], n_e=400)
    with pytest.raises(sizing.InsufficientMemory):
        train_ensemble(images, [0, 1, 2, 3], [[0, 1], [2, 3]], seeds=(0, 1), n_e=400)


def test_a_small_system_trains_regularises_and_matches():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, (4, 8, 8))
    noisy = lambda: np.clip(base + rng.integers(-15, 16, base.shape), 0, 255).astype(np.uint8)   # noqa: E731
    reference, places = np.concatenate([base, noisy()]).astype(np.uint8), np.tile(np.arange(4), 2)
    options = dict(n_e=6, epochs=1, n_inputs=64, total=40e-9, present=50 * ms, rest=20 * ms)
    system = train_system(reference, places, [[0, 1], [2, 3]], seed=4, **options)
    assert len(system.modules) == 2 and system.modules[0].seed != system.modules[1].seed
    threshold = system.regularise(reference, noisy(), np.arange(4))
    assert threshold in system.calibration and len(system.activity) == 2
    assert all(a.max() <= len(reference) for a in system.activity)
    s = system.match(noisy())
    assert s.shape == (4, 4) and np.all(np.isfinite(s))
