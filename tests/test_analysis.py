import math

import neo
import numpy as np
import pytest
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.spike_train_correlation import correlation_coefficient
from elephant.statistics import cv, fanofactor, isi, mean_firing_rate, time_histogram

from spikemem.analysis import (compare_spikes, correlation, cv_isi, fano_factor, mean_rate, neo_trains,
                               population_rate, spike_set)
from spikemem.errors import ModelError
from spikemem.results import Result, SpikeTrain


def regular_train(n=10, rate=20.0, duration=2.0):
    # Every neuron fires every 1/rate seconds, starting at a neuron-specific phase.
    t = np.arange(int(rate * duration)) / rate
    times = np.concatenate([t + 0.001 * i for i in range(n)])
    ids = np.repeat(np.arange(n), t.size)
    return SpikeTrain(times=times, ids=ids, n=n)


def random_train(n=300, duration=1.0, seed=7):
    """Poisson neurons of assorted rates, some silent and some with 1 or 2 spikes, in shuffled order."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.uniform(0.0, 40.0, n) * duration)
    counts[:20] = 0
    counts[20:40] = rng.integers(1, 3, 20)
    ids = np.repeat(np.arange(n), counts)
    times = rng.uniform(0.0, duration, ids.size)
    perm = rng.permutation(ids.size)
    return SpikeTrain(times[perm], ids[perm], n)


def slow_trains(train, t_stop):
    """The obvious conversion, one neuron at a time, to check spikemem's against."""
    neurons = range(train.n) if train.recorded is None else sorted(train.recorded.tolist())
    return [neo.SpikeTrain(np.sort(train.times[train.ids == i]), t_stop=t_stop, units="s") for i in neurons]


@pytest.fixture(params=[None, "subset"])
def train(request):
    st = random_train()
    # A recorded subset that includes silent and sparse neurons.
    return st if request.param is None else st.subset(np.arange(5, st.n, 3))


def test_neo_trains_match_per_neuron_conversion(train):
    got, expected = neo_trains(train, 1.0), slow_trains(train, 1.0)
    assert len(got) == len(expected) == train.n_recorded
    for a, b in zip(got, expected):
        assert a.units == pq.s and a.t_start == 0 * pq.s and a.t_stop == 1.0 * pq.s
        np.testing.assert_array_equal(a.magnitude, b.magnitude)


def test_neo_trains_leave_out_spikes_after_t_stop():
    st = SpikeTrain([0.1, 0.5, 0.9, 0.3], [0, 0, 0, 1], 2)
    a, b = neo_trains(st, 0.5)
    assert a.magnitude.tolist() == [0.1, 0.5] and b.magnitude.tolist() == [0.3]


def test_mean_rate_matches_elephant(train):
    expected = np.mean([mean_firing_rate(st).rescale(pq.Hz).magnitude for st in slow_trains(train, 1.0)])
    assert mean_rate(train, 1.0) == pytest.approx(expected, rel=1e-12)


def test_cv_isi_matches_elephant(train):
    expected = np.mean([cv(isi(st)) for st in slow_trains(train, 1.0) if len(st) >= 3])
    assert cv_isi(train) == pytest.approx(expected, rel=1e-12)


def test_population_rate_matches_elephant(train):
    hist = time_histogram(slow_trains(train, 1.0), 0.01 * pq.s, output="rate")
    centres, rate = population_rate(train, 1.0, 0.01)
    np.testing.assert_allclose(centres, hist.times.magnitude + 0.005)
    np.testing.assert_allclose(rate, hist.rescale(pq.Hz).magnitude[:, 0], rtol=1e-12)


def test_correlation_matches_elephant(train):
    spiking = [st for st in slow_trains(train, 1.0) if len(st)]
    matrix = correlation_coefficient(BinnedSpikeTrain(spiking, bin_size=0.02 * pq.s))
    expected = matrix[~np.eye(len(spiking), dtype=bool)].mean()
    assert correlation(train, 1.0, 0.02) == pytest.approx(expected, rel=1e-9)


def test_fano_factor_matches_elephant(train):
    assert fano_factor(train, 1.0) == pytest.approx(fanofactor(slow_trains(train, 1.0)), rel=1e-12)


def test_mean_rate_known_train():
    st = regular_train(n=10, rate=20.0, duration=2.0)
    assert st.count() == 400
    assert mean_rate(st, 2.0) == pytest.approx(20.0)
    # 3 spikes from a population of 4 over 0.5 s -> 1.5 Hz per neuron.
    assert mean_rate(SpikeTrain([0.1, 0.2, 0.3], [0, 1, 1], 4), 0.5) == pytest.approx(1.5)
    # Averaged over the recorded neurons only: 3 spikes of 2 recorded neurons over 0.5 s.
    assert mean_rate(SpikeTrain([0.1, 0.2, 0.3], [0, 1, 1], 4, recorded=[0, 1]), 0.5) == pytest.approx(3.0)
    # Only spikes in [0, duration] count, as in Elephant.
    assert mean_rate(SpikeTrain([0.1, 0.2, 0.7], [0, 1, 1], 4), 0.5) == pytest.approx(1.0)
    assert mean_rate(SpikeTrain([], [], 3), 0.5) == 0.0
    assert math.isnan(mean_rate(SpikeTrain([], [], 0), 0.5))


def test_measures_refuse_bad_windows():
    st = regular_train()
    with pytest.raises(ModelError, match="duration must be positive"):
        mean_rate(st, 0.0)
    with pytest.raises(ModelError, match="bin_size must be positive"):
        population_rate(st, 1.0, -0.01)
    with pytest.raises(ModelError, match="bin_size .* longer than duration"):
        correlation(st, 1.0, 2.0)
    with pytest.raises(ModelError, match="t_stop must be positive"):
        neo_trains(st, 0.0)


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
    # A neuron whose spikes share one time stamp has no CV and is ignored too.
    st = SpikeTrain([0.0, 0.1, 0.4, 0.2, 0.2, 0.2], [0, 0, 0, 2, 2, 2], 3)
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


def test_population_rate_on_the_time_grid():
    # Spikes on the 0.1 ms grid sit on bin edges up to a rounding error; each belongs to the bin it starts.
    dt, bin_size = 1e-4, 5e-3
    times = np.arange(1, 10) * 50 * dt
    centres, rate = population_rate(SpikeTrain(times, np.zeros(times.size, int), 1), 0.05, bin_size)
    np.testing.assert_allclose(rate, [0.0] + [1 / bin_size] * 9)


def test_population_rate_matches_mean_rate():
    st = regular_train(n=10, rate=20.0, duration=2.0)
    centres, rate = population_rate(st, 2.0, 5e-3)
    assert centres.size == 400  # no spurious sliver bin from 2.0 / 0.005 rounding
    assert rate.mean() == pytest.approx(mean_rate(st, 2.0))


def test_population_rate_leaves_out_partial_last_bin():
    # As Elephant bins: whole bins only, so no bin is normalised by a narrower width.
    st = SpikeTrain([0.004, 0.024], [0, 0], 2)
    with pytest.warns(UserWarning, match="discarded 1 last spike"):
        centres, rate = population_rate(st, 0.025, 0.01)
    np.testing.assert_allclose(centres, [0.005, 0.015])
    np.testing.assert_allclose(rate, [1 / (2 * 0.01), 0.0])


def test_population_rate_nan_without_recorded_neurons():
    centres, rate = population_rate(SpikeTrain([], [], 4, recorded=[]), 0.03, 0.01)
    assert centres.size == 3 and np.isnan(rate).all()


def phase_train(phases, period=0.02, duration=2.0):
    """Neuron i fires once per ``period`` at offset ``phases[i]``."""
    t = np.arange(0.0, duration, period)
    times = np.concatenate([t + p for p in phases])
    return SpikeTrain(times, np.repeat(np.arange(len(phases)), t.size), len(phases))


def test_correlation_identical_trains_is_one():
    assert correlation(phase_train([0.003, 0.003]), 2.0, 0.01) == pytest.approx(1.0)


def test_correlation_anti_phase_is_negative():
    # Bins of 10 ms: one neuron fires in the even bins, the other in the odd ones.
    assert correlation(phase_train([0.003, 0.013]), 2.0, 0.01) == pytest.approx(-1.0)


def test_correlation_independent_poisson_near_zero():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 40, 40 * 20 * 10)
    st = SpikeTrain(rng.uniform(0.0, 10.0, ids.size), ids, 40)
    assert abs(correlation(st, 10.0, 0.01)) < 0.01


def test_correlation_over_chosen_ids():
    # Neurons 0 and 1 fire together, 2 in anti-phase; 3 is silent and so left out.
    st = phase_train([0.003, 0.003, 0.013])
    st = SpikeTrain(st.times, st.ids, 4)
    assert correlation(st, 2.0, 0.01, ids=[0, 1, 3]) == pytest.approx(1.0)
    assert correlation(st, 2.0, 0.01, ids=[1, 2]) == pytest.approx(-1.0)
    assert correlation(st, 2.0, 0.01) == pytest.approx((1 - 1 - 1) / 3)
    assert math.isnan(correlation(st, 2.0, 0.01, ids=[0, 3]))        # fewer than 2 neurons spike
    with pytest.raises(ModelError, match=r"neurons \[7\] were not recorded"):
        correlation(st, 2.0, 0.01, ids=[0, 7])
    with pytest.raises(ModelError, match=r"neurons \[2\] were not recorded"):
        correlation(st.subset([0, 1]), 2.0, 0.01, ids=[1, 2])


def test_fano_factor_closed_form():
    # Counts 2, 4, 0 per neuron: mean 2, variance 8/3.
    st = SpikeTrain([0.1, 0.2, 0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1, 1, 1], 3)
    assert fano_factor(st, 1.0) == pytest.approx((8 / 3) / 2)
    assert fano_factor(regular_train(), 2.0) == 0.0           # every neuron fires equally often
    assert math.isnan(fano_factor(SpikeTrain([], [], 3), 1.0))


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
