"""Traverses, routes and the synthetic route."""

import numpy as np
import pytest
from PIL import Image

from spikemem.errors import ModelError
from spikemem.models.place_recognition.data import Route, Traverse, synthetic_route, traverse


def _t(name, places, size=8, value=0):
    return Traverse(name, name, np.full((len(places), size, size), value, np.uint8), np.asarray(places))


def _route(**kw):
    traverses = {"a": _t("a", [0, 1, 2, 3, 4]), "b": _t("b", [0, 1, 2, 3, 4]), "q": _t("q", [4, 2, 0]),
                 "c": _t("c", [1, 3])}
    return Route(traverses, **{"reference": ("a", "b"), "query": "q", "calibration": "c", **kw})


def test_a_traverse_is_a_frozen_copy():
    images = np.zeros((2, 4, 5), np.uint8)
    t = Traverse("s", "spring", images, [3, 4])
    images[0, 0, 0] = 9
    assert t.images[0, 0, 0] == 0 and len(t) == 2 and not t.colour
    assert t.places.dtype == np.int64
    with pytest.raises(ValueError):
        t.images[0, 0, 0] = 1


@pytest.mark.parametrize("images, places, match", [
    (np.zeros((0, 4, 4), np.uint8), [], "traverse 's' is empty"),
    (np.zeros((2, 4, 4), np.uint8), [0], "2 images but places of shape"),
    (np.zeros((2, 4, 4)), [0, 1], "must be uint8"),
    (np.zeros((2, 4, 4, 4), np.uint8), [0, 1], "n x H x W x 3"),
    (np.zeros((2, 4, 4), np.uint8), [0.0, 1.5], "place of image 1 is not a whole number"),
    (np.zeros((2, 4, 4), np.uint8), ["a", "b"], "places must be whole numbers"),
])
def test_bad_traverses_are_named(images, places, match):
    with pytest.raises(ModelError, match=match):
        Traverse("s", "spring", images, places)


def test_a_traverse_from_a_list_of_images():
    t = traverse("s", "spring", [Image.new("L", (6, 4)), np.ones((4, 6), np.uint8)], [0, 1])
    assert t.images.shape == (2, 4, 6)
    rgb = traverse("s", "spring", [Image.new("RGB", (6, 4))] * 3, [0, 1, 2])
    assert rgb.colour and rgb.images.shape == (3, 4, 6, 3)


def test_a_list_of_mixed_images_names_the_image():
    with pytest.raises(ModelError, match=r"image 2 \(c.png\) is 5 x 6, image 0 \(a.png\) is 4 x 6"):
        traverse("s", "spring", [np.zeros((4, 6), np.uint8)] * 2 + [np.zeros((5, 6), np.uint8)], [0, 1, 2],
                 labels=["a.png", "b.png", "c.png"])
    with pytest.raises(ModelError, match="image 1 is RGB, image 0 is grayscale"):
        traverse("s", "spring", [Image.new("L", (6, 4)), Image.new("RGB", (6, 4))], [0, 1])
    with pytest.raises(ModelError, match="traverse 's' is empty"):
        traverse("s", "spring", [], [])
    with pytest.raises(ModelError, match="image 0 is float64"):
        traverse("s", "spring", [np.zeros((4, 6))], [0])


def test_route_places_regions_and_subsets():
    route = _route()
    assert route.places.tolist() == [0, 1, 2, 3, 4]
    assert [r.tolist() for r in route.regions(2)] == [[0, 1], [2, 3], [4]]
    small = route.subset([1, 2])
    assert small.traverses["a"].places.tolist() == [1, 2]
    assert small.traverses["q"].places.tolist() == [2]
    assert small.traverses["c"].places.tolist() == [1]


def test_route_mistakes_are_named():
    with pytest.raises(ModelError, match="region of 6 places is larger than the route \\(5 places\\)"):
        _route().regions(6)
    with pytest.raises(ModelError, match="subset: place 9 is not on the route"):
        _route().subset([1, 9])
    with pytest.raises(ModelError, match="traverse 'c' shows none"):
        _route().subset([0])
    with pytest.raises(ModelError, match="no traverse 'x'"):
        _route(query="x")
    with pytest.raises(ModelError, match="must be different traverses"):
        _route(query="a")
    traverses = {"a": _t("a", [0, 1]), "q": _t("q", [1, 7])}
    with pytest.raises(ModelError, match="traverse 'q': image 1 shows place 7"):
        Route(traverses, ("a",), "q")


def test_the_synthetic_route_has_the_structure_of_nordland():
    route = synthetic_route(30, 0.5, size=32, seed=4)
    assert route.reference == ("spring", "fall") and route.query == "summer" and route.calibration == "winter"
    for name, t in route.traverses.items():
        assert t.condition == name and t.images.shape == (30, 32, 32) and t.images.dtype == np.uint8
        assert t.places.tolist() == list(range(30))
    again = synthetic_route(30, 0.5, size=32, seed=4)
    assert all(np.array_equal(again.traverses[k].images, route.traverses[k].images) for k in route.traverses)
    other = synthetic_route(30, 0.5, size=32, seed=5)
    assert not np.array_equal(other.traverses["summer"].images, route.traverses["summer"].images)


def test_difficulty_zero_gives_identical_traverses():
    route = synthetic_route(20, 0.0, size=32)
    first = route.traverses["spring"].images
    assert all(np.array_equal(t.images, first) for t in route.traverses.values())


def test_the_next_place_continues_the_view_as_the_next_frame_would():
    images = synthetic_route(30, 0.0, size=32).traverses["spring"].images
    step = 32 // 4
    np.testing.assert_array_equal(images[1:, :, :-step], images[:-1, :, step:])
    assert not np.array_equal(images[1:], images[:-1])


def test_two_passes_of_one_season():
    route = synthetic_route(10, 0.5, size=32, traverses={"spring": "spring", "fall": "fall",
                                                          "summer": "summer", "summer2": "summer"},
                            calibration="summer2")
    assert route.traverses["summer2"].condition == "summer"
    assert not np.array_equal(route.traverses["summer2"].images, route.traverses["summer"].images)


def test_a_long_route():
    route = synthetic_route(1000, 0.5, size=32)
    assert len(route.traverses) == 4 and len(route.places) == 1000
    assert all(t.images.shape == (1000, 32, 32) for t in route.traverses.values())


@pytest.mark.parametrize("kw, match", [
    ({"difficulty": 1.5}, "difficulty must be in"),
    ({"n_places": 0}, "n_places must be"),
    ({"size": 8}, "size must be"),
    ({"traverses": {"x": "monsoon"}}, "traverse 'x' has season 'monsoon'"),
])
def test_bad_synthetic_options(kw, match):
    with pytest.raises(ModelError, match=match):
        synthetic_route(**{"n_places": 5, **kw})
