"""Input checks and the answer type shared by every associative memory."""
import dataclasses

import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.ca3_cam.recall import Recall, check_content, check_cue, check_size


def test_recall_is_frozen_and_compares_by_value():
    r = Recall(cues=frozenset({1}), content=frozenset({2, 3}), latency=6)
    assert r == Recall(frozenset({1}), frozenset({3, 2}), 6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.latency = 7


@pytest.mark.parametrize("value", [1, 5, np.int64(7)])
def test_check_size_accepts_positive_integers(value):
    out = check_size("n_cues", value)
    assert out == value and type(out) is int


@pytest.mark.parametrize("value", [0, -3, 5.0, "5", True, None])
def test_check_size_rejects_and_names_the_value(value):
    with pytest.raises(ModelError) as err:
        check_size("n_cues", value)
    assert "n_cues" in str(err.value) and repr(value) in str(err.value)


def test_check_cue_accepts_range():
    assert check_cue(0, 5) == 0 and check_cue(np.int32(4), 5) == 4


@pytest.mark.parametrize("cue", [5, -1, 1.0, "1", True])
def test_check_cue_rejects_and_names_the_value(cue):
    with pytest.raises(ModelError) as err:
        check_cue(cue, 5)
    assert repr(cue) in str(err.value)


def test_check_content_returns_frozenset_of_indices():
    assert check_content([3, 0, 3], 10) == frozenset({0, 3})
    assert check_content(np.array([9, 1]), 10) == frozenset({1, 9})
    assert check_content((x for x in (2, 4)), 10) == frozenset({2, 4})
    assert all(type(b) is int for b in check_content(np.array([1, 2]), 10))


def test_check_content_empty_only_when_allowed():
    with pytest.raises(ModelError, match="at least one bit"):
        check_content([], 10)
    assert check_content([], 10, allow_empty=True) == frozenset()


@pytest.mark.parametrize("bits, named", [
    ([1, 10], "10"), ([-1], "-1"), ([1.5], "1.5"), ([True, False], "True"),
    (np.array([True, False]), "True"), (3, "3"), ("12", "'12'"),
])
def test_check_content_rejects_and_names_the_value(bits, named):
    with pytest.raises(ModelError) as err:
        check_content(bits, 10)
    assert named in str(err.value)
