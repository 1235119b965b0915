"""checks: one wording of whole numbers, numbers and seeds for the learning layer."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.learn import checks


def test_whole_numbers_include_numpy_integers_but_not_bools_or_floats():
    assert checks.is_whole(3) and checks.is_whole(np.int64(3)) and checks.is_whole(np.uint8(0))
    assert not any(checks.is_whole(x) for x in (True, 3.0, np.float64(3), "3", None))
    assert checks.whole(np.int32(4), "f: n") == 4 and type(checks.whole(np.int32(4), "f: n")) is int
    assert checks.whole(None, "f: n", none=True) is None


def test_numbers_are_finite_reals():
    assert checks.is_number(0.5) and checks.is_number(np.float32(2)) and checks.is_number(np.int64(1))
    assert not any(checks.is_number(x) for x in (False, float("nan"), np.inf, "1", None, 1j))


@pytest.mark.parametrize("value", [-1, 1.5, True, "0", None])
def test_bad_seeds_are_refused_by_name(value):
    with pytest.raises(ModelError, match=r"Trainer: seed must be a whole number >= 0"):
        checks.seed(value, "Trainer")


def test_whole_names_its_bounds():
    with pytest.raises(ModelError, match=r"EWC: samples must be None or a whole number >= 1, got 0"):
        checks.whole(0, "EWC: samples", none=True)
    assert checks.seed(np.int64(7), "mlp") == 7
