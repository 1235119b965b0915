"""One module: training, frozen responses, assignments and scores, checkpoints, bad input."""
import numpy as np
import pytest
from brian2 import ms

from spikemem.backends import simulation
from spikemem.errors import ModelError
from spikemem.models.place_recognition import network as pr
from spikemem.models.place_recognition.module import (
    STATE, Presenter, TrainedModule, assign, check_images, rates_of, scores, train_module)

N_INPUTS = 64                       # 8 x 8 images
TOTAL = 40e-9                       # a stronger total than 78 nS * 64/784, so that 64 inputs drive the layer
FAST = dict(n_e=8, n_inputs=N_INPUTS, present=60 * ms, rest=20 * ms, total=TOTAL)


def images(n_places=4, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n_places, 8, 8))
    noisy = np.clip(base + rng.integers(-20, 21, base.shape), 0, 255)
    return np.concatenate([base, noisy]).astype(np.uint8), np.tile(np.arange(n_places) + 10, 2)


@pytest.fixture(scope="module")
def trained():
    imgs, places = images()
    return train_module(imgs, places, epochs=2, seed=1, **FAST), imgs, places


def test_training_changes_weights_and_normalises_columns(trained):
    module, _, _ = trained
    w = module.weights
    start = pr.module_network(8, N_INPUTS, seed=1).build().projections[0].w
    assert not np.allclose(np.sort(w.ravel()), np.sort(start / 1e-9))
    # normalised before the last image, then changed by that image only a little
    np.testing.assert_allclose(w.sum(0), TOTAL / 1e-9, rtol=0.05)
    assert np.all(module.theta >= 20e-3 - 1e-12)        # the thresholds rose from 20 mV


def test_one_image_normalised_sums_exactly():
    sim = simulation(pr.module_network(4, N_INPUTS), "numba", progress=False)
    from spikemem.plasticity import normalize_weights
    normalize_weights(sim, "input_to_exc", TOTAL)
    j = sim.built_projection("input_to_exc").j
    np.testing.assert_allclose(np.bincount(j, weights=sim.get("input_to_exc", "w")), TOTAL, rtol=1e-12)


def test_responses_keep_weights_and_theta_frozen(trained):
    module, imgs, _ = trained
    sim = simulation(module.network(), "numba", progress=False)
    module.restore(sim)
    sim.freeze("input_to_exc")
    sim.freeze("exc")
    before = {k: sim.get(*k.split(".")) for k in ("input_to_exc.w", "exc.vt")}
    show = Presenter(sim, module.n_e, module.present, module.rest)
    rates = rates_of(check_images(imgs, N_INPUTS), N_INPUTS)
    spikes = sum(show(r).sum() for r in rates)
    assert spikes > 0
    for key, value in before.items():
        np.testing.assert_array_equal(sim.get(*key.split(".")), value)


def test_responses_are_counts_per_image(trained):
    module, imgs, places = trained
    r = module.responses(imgs)
    assert r.shape == (len(imgs), 8) and r.sum() > 0 and np.all(r == np.rint(r))
    assert module.scores(r).shape == (len(imgs), 4)
    np.testing.assert_array_equal(module.assignment.places, np.unique(places))


def test_standard_assignment_closed_form():
    r = np.array([[5, 0, 1, 0], [3, 0, 1, 0], [0, 2, 4, 0], [0, 4, 0, 0]], float)
    a = assign(r, [7, 7, 9, 9])
    np.testing.assert_array_equal(a.places, [7, 9])
    # neuron 0: mean 4 for place 7; neuron 1: 3 for 9; neuron 2: 2 for 9 > 1; neuron 3 never fires
    np.testing.assert_array_equal(a.neuron_place, [0, 1, 1, -1])
    s = scores(np.array([[2, 6, 3, 9]], float), a)
    np.testing.assert_allclose(s, [[2.0, (6 + 3) / 2]])


def test_weighted_assignment_closed_form():
    r = np.array([[4, 1, 0], [0, 3, 2]], float)
    a = assign(r, [0, 1], weighted=True)
    np.testing.assert_array_equal(a.counts, [[4, 0], [1, 3], [0, 2]])
    q = np.array([[2.0, 1.0, 0.0]])
    # involvement: neuron 1 fires for 2 places (>= 2 % of 2) so its score is halved; neuron 0, 2 for 1
    # place 0: neurons 0 (share 1) and 1 (share 1/4): 2*1 + 1*(1/4)/2; norm: (4 + 1)/(4 + 1)
    # place 1: neurons 1 (share 3/4) and 2 (share 1): 1*(3/4)/2 + 0; norm: 3/(3 + 2)
    np.testing.assert_allclose(scores(q, a), [[2 + 0.125, 0.375 * 3 / 5]])


def test_checkpoint_save_load_and_refusal(trained, tmp_path):
    module, _, _ = trained
    path = tmp_path / "module.npz"
    module.save(path)
    back = TrainedModule.load(path)
    np.testing.assert_array_equal(back.weights, module.weights)
    np.testing.assert_array_equal(back.assignment.neuron_place, module.assignment.neuron_place)
    other = simulation(pr.module_network(8, N_INPUTS, seed=2), "numba", progress=False)
    with pytest.raises(ModelError, match="checkpoint"):
        back.restore(other)
    assert set(STATE) == {"input_to_exc", "exc"}


def test_nan_images_and_bad_arguments_are_refused():
    imgs, places = images()
    bad = imgs.astype(float)
    bad[3, 2, 2] = np.nan
    with pytest.raises(ModelError, match="image 3"):
        train_module(bad, places, **FAST)
    with pytest.raises(ModelError, match="places"):
        train_module(imgs, places[:-1], **FAST)
    with pytest.raises(ModelError, match="epochs"):
        train_module(imgs, places, epochs=0, **FAST)
    with pytest.raises(ModelError, match="shape"):
        check_images(np.zeros((3, 4)))
    with pytest.raises(ModelError, match="square"):
        check_images(imgs, 60)
    with pytest.raises(ModelError, match="response rows"):
        assign(np.zeros((3, 2)), [1, 2])
    with pytest.raises(ModelError, match="assignment"):
        scores(np.zeros((1, 3)), assign(np.zeros((2, 2)), [0, 1]))


def test_retry_shows_a_silent_image_again():
    imgs, places = images(2)
    # a threshold no module reaches: every image is retried up to MAX_RETRIES times, then given up
    module = train_module(imgs[:1], places[:1], epochs=1, retry_below=10**6, n_e=4, n_inputs=N_INPUTS,
                          present=5 * ms, rest=5 * ms)
    assert module.assignment is not None


def test_network_variants_travel_with_the_checkpoint(tmp_path):
    from spikemem.experiments import checkpoint
    sim = simulation(pr.module_network(4, N_INPUTS, timer=True), "numba", progress=False)
    module = TrainedModule(4, N_INPUTS, 0, 5e-4, checkpoint.capture(sim, STATE), options={"timer": True})
    module.save(tmp_path / "m.npz")
    back = TrainedModule.load(tmp_path / "m.npz")
    assert back.options == {"timer": True}
    back.restore(simulation(back.network(), "numba", progress=False))
    with pytest.raises(ModelError, match="checkpoint"):
        back.restore(simulation(pr.module_network(4, N_INPUTS), "numba", progress=False))
