"""The emulator bit for bit against brian2-loihi (the hardware extra)."""
import numpy as np
import pytest
from brian2 import ms

from spikemem.hardware.loihi.brian2_loihi import run_brian2_loihi, run_emulator
from spikemem.models.cuba.network import cuba_curr_exp
from spikemem.targets import TARGETS

from hardware_networks import STEPS, pairs, random_network

pytestmark = pytest.mark.hardware
pytest.importorskip("brian2_loihi")
loihi = TARGETS.get("loihi")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_emulator_equals_brian2_loihi_bit_for_bit(seed):
    """Spikes, v and u of every neuron in every step, and the learned weights."""
    for plastic in (False, True):
        lnet = loihi.quantize(random_network(seed, plastic))
        a = run_emulator(lnet, STEPS)
        b = run_brian2_loihi(lnet, STEPS)
        n_spikes = sum(len(a["spikes"][p][0]) for p in ("exc", "inh"))
        assert n_spikes > 200, n_spikes
        assert np.min([v.min() for v in a["v"].values()]) > -(2 ** 23 - 1)      # no saturation
        for pop in ("exc", "inh"):
            assert pairs(a["spikes"][pop]) == pairs(b["spikes"][pop])
            assert np.array_equal(a["v"][pop], b["v"][pop]) and a["v"][pop].shape == (STEPS, lnet.populations[pop].size)
            assert np.array_equal(a["u"][pop], b["u"][pop])
        for proj in lnet.projections:
            assert np.array_equal(a["w"][proj.name], b["w"][proj.name])
        if plastic:
            w0 = next(p for p in lnet.projections if p.name == "plastic").w_mant
            assert np.mean(a["w"]["plastic"] != w0) > 0.5        # learning moved most weights


@pytest.mark.parametrize("dt, steps", [(1 * ms, STEPS), (0.1 * ms, 1500)])
def test_cuba_reset_below_rest_equals_brian2_loihi_with_the_bias(dt, steps):
    """The unmodified CUBA (rest -49 mV, reset -60 mV, threshold -50 mV) quantises without a
    violation; the emulator and brian2-loihi (its bias added as v += bias while not refractory)
    agree on every spike, v and u."""
    net = cuba_curr_exp(n=400, tau_syn_I=5 * ms, dt=dt)
    assert loihi.check(net) == []
    lnet = loihi.quantize(net)
    a = run_emulator(lnet, steps)
    b = run_brian2_loihi(lnet, steps)
    for pop in ("exc", "inh"):
        assert lnet.populations[pop].bias_mant[0] > 0
        assert len(a["spikes"][pop][0]) > 100
        assert pairs(a["spikes"][pop]) == pairs(b["spikes"][pop])
        assert np.array_equal(a["v"][pop], b["v"][pop]) and np.array_equal(a["u"][pop], b["u"][pop])
        assert np.min(a["v"][pop]) < 0 and np.max(a["v"][pop]) <= lnet.populations[pop].vth_mant[0] << 6
