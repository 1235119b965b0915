"""Cross-validation: the same quantised integers on brian2-loihi (Michaelis et al.
2020), against which the emulator is checked bit for bit (the hardware extra)."""
from __future__ import annotations

import numpy as np

from spikemem.errors import ModelError

from ..common import require
from .kernel import Emulator
from .network import LoihiNetwork


def run_emulator(lnet: LoihiNetwork, steps: int, rounding: str = "fixed") -> dict:
    """The emulator's spikes and integer traces of every population, in the form
    ``run_brian2_loihi`` returns them."""
    em = Emulator(lnet, rounding=rounding, probe="all", record="all")
    em.run(steps)
    v, u = em.probe_table()
    out = {"spikes": em.spike_table(), "v": {}, "u": {}, "w": {}}
    for name, c0 in em.comp0.items():
        n = lnet.populations[name].size
        out["v"][name], out["u"][name] = v[:, c0:c0 + n], u[:, c0:c0 + n]
    for proj in lnet.projections:
        out["w"][proj.name] = em.weights(proj.name)[0]
    return out


def run_brian2_loihi(lnet: LoihiNetwork, steps: int, rounding: str = "fixed") -> dict:
    """The same integers on brian2-loihi 0.5 (LoihiNetwork, LoihiNeuronGroup,
    LoihiSynapses, LoihiSpikeGeneratorGroup, monitors).

    Returns {"spikes": {pop: (steps, ids)}, "v": {pop: (steps, n)}, "u": {pop:
    (steps, n)}, "w": {proj: mantissas}}. Mapping: spikemem step s is
    brian2-loihi's step s (a spike source's spike at s is a generator spike at
    s + 1, because brian2-loihi's generators fire in the 'start' slot and reach
    the synapses in the same step, a neuron's spike one step later); u is read
    in the 'synapses' slot after the arrivals, which is Loihi's u. brian2-loihi
    takes one value of each parameter per group (refused here otherwise) and
    has no bias: a group's bias (one value) is added here by a
    ``run_regularly`` operation ``v = v + bias * int(not_refractory)`` in the
    'groups' slot right after brian2-loihi's own update (order + 1), which is
    Loihi's ``v = decay(v) + u + bias`` while v is not held (Lava's refractory
    LIF adds the bias to non-refractory compartments only; Brian2 also makes
    every write to an ``unless refractory`` variable conditional on
    ``not_refractory``); a network without bias runs on brian2-loihi
    untouched. ``rounding="fixed"`` pins brian2's ``rand()`` to 0.5 for the
    run so that stochastic rounding is reproducible; "stochastic" leaves it
    (learning then agrees only statistically).
    """
    b2l = require("brian2_loihi")
    from unittest import mock

    import brian2
    for pop in lnet.populations.values():
        if pop.kind != "neuron":
            continue
        for attr in ("decay_u", "decay_v", "vth_mant", "refractory"):
            if np.ptp(getattr(pop, attr)):
                raise ModelError(f"population '{pop.name}': brian2-loihi takes one {attr} per group")
        if np.ptp(pop.bias_mant << pop.bias_exp):
            raise ModelError(f"population '{pop.name}': the bias added to brian2-loihi is one value per group")
    sources = Emulator(lnet).source_spikes(0, steps)
    old_target, old_dt = brian2.prefs.codegen.target, brian2.defaultclock.dt
    brian2.prefs.codegen.target = "numpy"
    try:
        objs, groups, mons, syns = [], {}, {}, {}
        g0 = 0
        for pop in lnet.populations.values():
            if pop.kind == "neuron":
                g = b2l.LoihiNeuronGroup(pop.size, refractory=int(pop.refractory[0]),
                                         threshold_v_mant=int(pop.vth_mant[0]), decay_v=int(pop.decay_v[0]),
                                         decay_I=int(pop.decay_u[0]))
                g.v = pop.init_v.astype(float)
                bias = int(pop.bias_mant[0] << pop.bias_exp[0]) if pop.size else 0
                if bias:
                    g.run_regularly(f"v = v + {bias} * int(not_refractory)", when="groups", order=g.order + 1)
                mons[pop.name] = (b2l.LoihiStateMonitor(g, "v"), b2l.LoihiStateMonitor(g, "I"),
                                  b2l.LoihiSpikeMonitor(g))
                objs += [g, *mons[pop.name]]
            else:
                steps_, gids = sources
                sel = (gids >= g0) & (gids < g0 + pop.size)
                g = b2l.LoihiSpikeGeneratorGroup(pop.size, (gids[sel] - g0).astype(int),
                                                 (steps_[sel] + 1).astype(int))
                objs.append(g)
            groups[pop.name] = g
            g0 += pop.size
        for proj in lnet.projections:
            mode = b2l.synapse_sign_mode.EXCITATORY if proj.sign == "exc" else b2l.synapse_sign_mode.INHIBITORY
            rule = proj.learning
            kw = {} if rule is None or not rule.learns else dict(dw=rule.dw, imp_x1=rule.x_impulse, tau_x1=rule.x_tau,
                                              imp_y1=rule.y_impulse, tau_y1=rule.y_tau)
            parts = []
            for d in np.unique(proj.delay):
                sel = np.flatnonzero(proj.delay == d)
                s = b2l.LoihiSynapses(groups[proj.pre], groups[proj.post], delay=int(d), w_exp=int(proj.w_exp),
                                      sign_mode=mode, **kw)
                s.connect(i=proj.i[sel].astype(int), j=proj.j[sel].astype(int))
                s.w = proj.w_mant[sel].astype(np.int64)
                parts.append((sel, s))
                objs.append(s)
            syns[proj.name] = parts
        net = b2l.LoihiNetwork(*objs)
        if rounding == "fixed":
            half = lambda n=None: 0.5 if n is None else np.full(int(n), 0.5)
            with mock.patch("numpy.random.rand", half):
                net.run(int(steps))
        else:
            net.run(int(steps))
        out = {"spikes": {}, "v": {}, "u": {}, "w": {}}
        for name, (mv, mu, ms) in mons.items():
            out["v"][name] = np.rint(mv.v.T).astype(np.int64)
            out["u"][name] = np.rint(mu.I.T).astype(np.int64)
            out["spikes"][name] = (np.asarray(ms.t, np.int64), np.asarray(ms.i, np.int64))
        for proj in lnet.projections:
            w = np.zeros(proj.i.size, np.int64)
            for sel, s in syns[proj.name]:
                w[sel] = np.rint(s.get_states(["w"])["w"]).astype(np.int64)   # s.w is the initial value
            out["w"][proj.name] = w
        return out
    finally:
        brian2.prefs.codegen.target = old_target
        brian2.defaultclock.dt = old_dt
