"""Loihi's fixed-point formats: decays, threshold, bias, weight mantissas, learning constants, and every error."""
import numpy as np
from brian2 import ms

from spikemem.models.cuba.network import cuba_curr_exp
from spikemem.targets import TARGETS

loihi = TARGETS.get("loihi")


def test_quantize_uses_loihi_formats_and_reports_every_error():
    from spikemem.models.ca3_cam.network import ca3_network
    lnet = loihi.quantize(ca3_network())
    neurons = [p for p in lnet.populations.values() if p.kind == "neuron"]
    for pop in neurons:
        assert np.all((1 <= pop.decay_u) & (pop.decay_u <= 4096)) and np.all(pop.decay_v <= 4095)
        assert np.all((1 <= pop.vth_mant) & (pop.vth_mant < 2 ** 17))
        assert np.all(pop.refractory == 2)        # tau_refrac 1 ms at dt = 1 ms: one held step
    # the threshold distance takes 2**20 units unless the inputs need the room
    assert lnet.populations["CueCue"].vth_mant[0] == 2 ** 14
    assert lnet.populations["CueCont"].vth_mant[0] < 2 ** 10          # 8 inhibitory inputs of 60 nA
    for proj in lnet.projections:
        lo, hi = (0, 255) if proj.sign == "exc" else (-256, 0)
        assert proj.w_mant.min() >= lo and proj.w_mant.max() <= hi and 0 <= proj.w_exp <= 7
    rows = {(e.where, e.parameter): e for e in lnet.errors}
    for pop in neurons:
        for param in ("tau_m", "tau_syn", "v_thresh"):
            assert rows[(f"population '{pop.name}'", param)].rel_error < 1e-3
    for proj in lnet.projections:
        assert rows[(f"projection '{proj.name}'", "w")].rel_error < 4e-3
    assert rows[("projection 'cue_to_content'", "w_max")].rel_error < 1e-12     # the clip is exact
    assert lnet.projections[-3].learning.rule == "spinnaker_stdp"
    assert rows[("projection 'cue_to_content'", "tau_plus")].rel_error > 0.1    # 1 - 1/4 per step for 3 ms
    # CUBA at dt = 0.1 ms: the 12-bit membrane decay is 20/4096 for 20.43 ms; the rest 11 mV above
    # the reset is a bias of 20/4096 x 11 mV per step, exactly 2816 x 2**1 units at 2**20 units per 10 mV
    lnet = loihi.quantize(cuba_curr_exp(n=400, tau_syn_I=5 * ms))
    rows = {(e.where, e.parameter): e for e in lnet.errors}
    assert 0.015 < rows[("population 'exc'", "tau_m")].rel_error < 0.03
    assert rows[("projection 'exc_exc'", "w")].rel_error < 0.02
    assert rows[("population 'exc'", "bias")].rel_error < 1e-12
    assert rows[("population 'exc'", "v_rest (bias)")].rel_error < 1e-12
    exc = lnet.populations["exc"]
    assert (exc.bias_mant[0], exc.bias_exp[0], exc.vth_mant[0]) == (2816, 1, 2 ** 14)
