"""The ring of astrocytes (Stimberg et al.'s figure 5) at small size, its wave
and its bad input; the full ring against the authors' script is in
tests/glia/test_astrocytes.py."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.astrocytes import ring


@pytest.fixture(scope="module")
def calcium():
    return ring.ring_calcium(600.0, "numba", every=20, n=12)


def test_the_wave_starts_at_the_stimulated_astrocyte_and_spreads_both_ways(calcium):
    assert calcium.shape == (600, 12)                   # one sample a second from t = 0
    wave = ring.wave(calcium)
    arrival = np.asarray(wave["arrival_s"])
    assert wave["reached"] == 12 and arrival.argmin() == 6
    assert arrival[5] == arrival[7] and arrival[0] > arrival[3] > arrival[6]    # symmetric about 6
    assert ring.wave_speed(arrival, 6) > 0


def test_the_network_is_the_figures():
    net = ring.ring_network(n=8, every=5)
    built = net.build()
    assert net.dt == pytest.approx(ring.DT_S)
    gap = next(p for p in built.projections if p.name == "astro_to_astro")
    assert sorted(zip(gap.i.tolist(), gap.j.tolist())) == sorted((i, j) for i in range(8)
                                                                 for j in ((i + 1) % 8, (i - 1) % 8))
    assert np.flatnonzero(built.populations["astrocytes"].params["I_bias"]).tolist() == [4]


def test_wave_and_speed_on_a_made_up_ring():
    calcium = np.zeros((10, 5))
    for i, t in enumerate((4, 2, 0, 2, 4)):
        calcium[t, i] = 0.6
    calcium[:, 0] = 0.1                                   # never reached
    wave = ring.wave(calcium, record_s=0.5)
    assert wave["arrival_s"] == [-1.0, 1.0, 0.0, 1.0, 2.0] and wave["reached"] == 4
    assert ring.wave_speed(wave["arrival_s"], 2) == pytest.approx(1.0)
    assert ring.wave_speed([-1.0, 3.0, -1.0], 1) is None


@pytest.mark.parametrize("bad, match", [(dict(n=2), "n must be"), (dict(n=5.0), "n must be"),
                                        (dict(every=0), "every must be")])
def test_bad_rings_are_refused(bad, match):
    with pytest.raises(ModelError, match=match):
        ring.ring_network(**bad)


def test_a_duration_that_is_not_positive_is_refused():
    with pytest.raises(ModelError, match="duration must be > 0"):
        ring.ring_calcium(0.0)
