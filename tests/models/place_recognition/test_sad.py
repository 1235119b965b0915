"""The SAD baseline: scores of patch-normalised images, per image and per place."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.place_recognition.data import synthetic_route
from spikemem.models.place_recognition.metrics import recall_at
from spikemem.models.place_recognition.sad import place_scores, prepare, route_scores, sad_scores


def test_an_image_matches_itself_best():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 40, 40), dtype=np.uint8)
    scores = sad_scores(images, images)
    assert scores.shape == (4, 4)
    assert np.all(np.diag(scores) == 0.0)
    assert np.all(scores[~np.eye(4, dtype=bool)] < 0)


def test_prepare_is_the_encoding_of_the_spiking_networks():
    from spikemem.encoding import image_rates
    from brian2 import Hz

    image = np.random.default_rng(1).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    levels = prepare([image])[0]
    np.testing.assert_allclose(levels, image_rates(image, rate_per_level=1 * Hz))


def test_a_brightness_change_does_not_matter():
    image = np.random.default_rng(2).integers(20, 120, (28, 28)).astype(np.uint8)
    brighter = (image * 2).astype(np.uint8)
    assert sad_scores([image], [brighter])[0, 0] == 0.0


def test_place_scores_take_the_best_image_of_each_place():
    scores = np.array([[-3.0, -1.0, -2.0, -5.0],
                       [-4.0, -6.0, -0.5, -7.0]])
    per_place, ids = place_scores(scores, [7, 3, 7, 3])
    assert ids.tolist() == [3, 7]
    np.testing.assert_array_equal(per_place, [[-1.0, -2.0], [-6.0, -0.5]])


def test_sad_recall_falls_with_difficulty():
    recalls = []
    for d in (0.0, 0.5, 1.0):
        scores, ids, truth = route_scores(synthetic_route(40, d, seed=1))
        recalls.append(recall_at(scores, truth, ids, ns=(1,))[1])
    assert recalls[0] == 1.0
    assert recalls[0] > recalls[1] > recalls[2]
    assert recalls[1] < 0.9


def test_route_scores_of_the_calibration_traverse():
    route = synthetic_route(10, 0.0, size=32)
    scores, ids, truth = route_scores(route, "winter")
    assert scores.shape == (10, 10) and ids.tolist() == truth.tolist() == list(range(10))
    with pytest.raises(ModelError, match="no traverse 'autumn'"):
        route_scores(route, "autumn")


def test_bad_inputs_are_named():
    with pytest.raises(ModelError, match="no reference image"):
        sad_scores([], [np.zeros((8, 8), np.uint8)])
    with pytest.raises(ModelError, match="query image 1"):
        sad_scores([np.zeros((8, 8))], [np.zeros((8, 8)), np.zeros((8,))])
    with pytest.raises(ModelError, match="odd whole number"):
        sad_scores([np.zeros((8, 8))], [np.zeros((8, 8))], patch=4)
    with pytest.raises(ModelError, match="4 reference columns"):
        place_scores(np.zeros((2, 4)), [0, 1, 2])
