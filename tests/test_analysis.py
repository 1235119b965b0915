import math

import numpy as np
import pytest

from spikemem.analysis import compare_spikes, cv_isi, mean_rate, population_rate, spike_set
from spikemem.results import Result, SpikeTrain


def regular_train(n=10, rate=20.0, duration=2.0):
    # Every neuron fires every 1/rate seconds, starting at a neuron-specific phase.
    t = np.arange(int(rate * duration)) / rate
    times = np.concatenate([t + 0.001 * i for i in range(n)])
    ids = np.repeat(np.arange(n), t.size)
    return SpikeTrain(times=times, ids=ids, n=n)


def test_mean_rate_known_train():
    st = regular_train(n=10, rate=20.0, duration=2.0)
    assert st.count() == 400
    assert mean_rate(st, 2.0) == pytest.approx(20.0)
    # 3 spikes from a population of 4 over 0.5 s -> 1.5 Hz per neuron.
    assert mean_rate(SpikeTrain([0.1, 0.2, 0.3], [0, 1, 1], 4), 0.5) == pytest.approx(1.5)


def test_cv_regular_is_zero():
    assert cv_isi(regular_train()) == pytest.approx(0.0, abs=1e-9)


def test_cv_poisson_is_near_one():
    rng = np.random.default_rng(42)
    times, ids = [], []
    for i in range(50):
        t = np.cumsum(rng.exponential(1 / 20.0, size=400))
        times.append(t)
        ids.append(np.full(t.size, i))
    # Shuffle so the function cannot rely on input order.
    perm = rng.permutation(sum(t.size for t in times))
    st = SpikeTrain(np.concatenate(times)[perm], np.concatenate(ids)[perm], 50)
    assert cv_isi(st) == pytest.approx(1.0, abs=0.05)


def test_cv_hand_computed_and_threshold():
    # Neuron 0: ISIs 0.1 and 0.3 -> mean 0.2, std 0.1 -> CV 0.5.
    # Neuron 1 has only 2 spikes (one ISI) and must be ignored.
    st = SpikeTrain([0.0, 0.1, 0.4, 0.0, 0.7], [0, 0, 0, 1, 1], 3)
    assert cv_isi(st) == pytest.approx(0.5)


def test_cv_nan_when_no_neuron_qualifies():
    assert math.isnan(cv_isi(SpikeTrain([0.1, 0.2], [0, 0], 1)))
    assert math.isnan(cv_isi(SpikeTrain([], [], 3)))


def test_population_rate():
    # 2 neurons; spikes at 0.005 (x2) and 0.015 (x1) with 10 ms bins over 30 ms.
    st = SpikeTrain([0.005, 0.006, 0.015], [0, 1, 0], 2)
    centres, rate = population_rate(st, 0.03, 0.01)
    np.testing.assert_allclose(centres, [0.005, 0.015, 0.025])
    np.testing.assert_allclose(rate, [2 / (2 * 0.01), 1 / (2 * 0.01), 0.0])


def test_population_rate_matches_mean_rate():
    st = regular_train(n=10, rate=20.0, duration=2.0)
    centres, rate = population_rate(st, 2.0, 5e-3)
    assert centres.size == 400  # no spurious sliver bin from 2.0 / 0.005 rounding
    assert rate.mean() == pytest.approx(mean_rate(st, 2.0))


def test_population_rate_partial_last_bin():
    st = SpikeTrain([0.024], [0], 1)
    centres, rate = population_rate(st, 0.025, 0.01)
    np.testing.assert_allclose(centres, [0.005, 0.015, 0.0225])
    np.testing.assert_allclose(rate, [0.0, 0.0, 1 / 0.005])


def test_spike_set_sorted_and_rounded():
    dt = 1e-4
    st = SpikeTrain([0.00030000001, 0.0001, 0.0003, 0.00009999], [2, 1, 0, 0], 3)
    expected = np.array([[1, 0], [1, 1], [3, 0], [3, 2]])
    np.testing.assert_array_equal(spike_set(st, dt), expected)
    assert spike_set(st, dt).dtype == np.int64


def test_spike_set_compares_backends():
    a = SpikeTrain([0.0012, 0.0005, 0.0012], [3, 1, 0], 4)
    # Same spikes, different order and float noise from another backend.
    b = SpikeTrain([0.0005 + 1e-12, 0.0012, 0.0012 - 1e-12], [1, 0, 3], 4)
    c = SpikeTrain([0.0005, 0.0013, 0.0012], [1, 0, 3], 4)
    assert np.array_equal(spike_set(a, 1e-4), spike_set(b, 1e-4))
    assert not np.array_equal(spike_set(a, 1e-4), spike_set(c, 1e-4))
    assert spike_set(SpikeTrain([], [], 1), 1e-4).shape == (0, 2)


def test_compare_spikes_counts_shared_missing_and_extra():
    dt = 1e-3
    reference = Result({"a": SpikeTrain([0.001, 0.002, 0.005], [0, 1, 0], 2), "b": SpikeTrain([], [], 1),
                        "only_reference": SpikeTrain([0.001], [0], 1)})
    other = Result({"a": SpikeTrain([0.0021, 0.001, 0.006, 0.007], [1, 0, 0, 1], 2), "b": SpikeTrain([], [], 1)})
    d = compare_spikes(reference, other, dt)
    assert set(d) == {"a", "b"}                       # a population only the reference has is left out
    assert d["a"] == {"reference": 3, "emulated": 4, "same": 2, "missing": 1, "extra": 2,
                      "first_difference_step": 5, "rate_ratio": 4 / 3}
    assert d["b"] == {"reference": 0, "emulated": 0, "same": 0, "missing": 0, "extra": 0,
                      "first_difference_step": None, "rate_ratio": 1.0}
    assert compare_spikes(other, reference, dt)["a"]["missing"] == 2
