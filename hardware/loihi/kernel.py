"""Loihi 1's compartments, synapses and learning traces in integers: the
``Emulator`` holds a quantised network's state and one numba kernel
(``cache=True``) advances it step by step in brian2-loihi's schedule (the step
order, rounding and random numbers: docs/targets/loihi.md, "The emulator").
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .formats import STATE_MAX, TRACE_MAX, W_ACT_LIMIT, w_act_array

U_MAX = STATE_MAX                # 24-bit signed u (wraps around)
V_LIMIT = STATE_MAX              # v saturates at +-(2**23 - 1) (Lava's bit-accurate LIF)
NEVER = -(1 << 40)               # "last spike" of a neuron that never fired


@njit(cache=True, inline="always")
def _decay(x, d):
    """``x - sign(x) ceil(|x| d / 4096)``: ``x (4096 - d) / 4096`` truncated towards zero, as in
    brian2-loihi and in Lava's bit-accurate LIF (whose ``du`` is this ``decay_u - 1``)."""
    if x >= 0:
        return x - ((x * d + 4095) >> 12)
    return x + ((-x * d + 4095) >> 12)


@njit(cache=True, inline="always")
def _w_act(mant, exp):
    """brian2-loihi's actual weight: floor(mant * 2**(6 + exp) / 2**6) * 2**6, clipped to 21 bits."""
    w = (mant << exp) if exp >= 0 else (mant >> (-exp))
    w = w << 6
    if w > W_ACT_LIMIT:
        return W_ACT_LIMIT
    if w < -W_ACT_LIMIT:
        return -W_ACT_LIMIT
    return w


@njit(cache=True, inline="always")
def _uniform(state):
    """splitmix64: a uniform double in [0, 1) from ``state[0]``."""
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _round_up(x, factor, state, fixed_r):
    """1 if the decayed trace ``x * factor`` rounds up (probability: its fraction)."""
    xn = x * factor
    frac = xn - np.int64(xn)
    if frac == 0.0:
        return 0
    r = fixed_r if fixed_r >= 0.0 else _uniform(state)
    return 1 if frac > r else 0


@njit(cache=True, nogil=True)
def run_steps(s0, s1,
              u, v, decay_u, decay_v, vth, bias, refr, last, comp_gid, comp_of_gid,
              src_step, src_gid, src_ptr, hist, hcount, inp,
              indptr, syn_post, syn_delay, syn_wact, syn_pl, g_dmin, g_dmax, dmax,
              pl_syn, pl_proj, w_mant, x0, y0, x1, y1, x_up, y_up,
              l_wexp, l_lo, l_hi, l_ap, l_am, l_ximp, l_yimp, l_xfac, l_yfac, l_on,
              post_ptr, post_pl, rng, fixed_r,
              rec_gid, sp_step, sp_gid, sp_n,
              probe_comp, probe_v, probe_u, probe_n, overflow):
    """Advance steps [s0, s1). Returns the step reached: less than s1 when the
    spike buffer is full (the caller empties it and calls again). ``l_on``: 0 for a
    frozen rule (its traces run on, its weights stay)."""
    n_comp = u.shape[0]
    ring = hist.shape[0]
    n_pl = pl_syn.shape[0]
    for t in range(s0, s1):
        if sp_n[0] + hist.shape[1] > sp_step.shape[0]:
            return t
        # 0. the traces' rounding, decided from their values at the start of the step
        for p in range(n_pl):
            x_up[p] = _round_up(x1[p], l_xfac[pl_proj[p]], rng, fixed_r)
            y_up[p] = _round_up(y1[p], l_yfac[pl_proj[p]], rng, fixed_r)
        # 1. arrivals
        for c in range(n_comp):
            inp[c] = 0
        for lag in range(1, dmax + 1):
            if t - lag < 0:
                break
            slot = (t - lag) % ring
            for q in range(hcount[slot]):
                g = hist[slot, q]
                if lag < g_dmin[g] or lag > g_dmax[g]:
                    continue
                for s in range(indptr[g], indptr[g + 1]):
                    if syn_delay[s] != lag:
                        continue
                    inp[syn_post[s]] += syn_wact[s]
                    p = syn_pl[s]
                    if p >= 0:
                        x0[p] = 1
                        x1[p] = min(x1[p] + l_ximp[pl_proj[p]], TRACE_MAX)
        # 2. post events of the previous step's spikes
        if n_pl > 0 and t >= 1:
            slot = (t - 1) % ring
            for q in range(hcount[slot]):
                c = comp_of_gid[hist[slot, q]]
                if c < 0:
                    continue
                for k in range(post_ptr[c], post_ptr[c + 1]):
                    p = post_pl[k]
                    y0[p] = 1
                    y1[p] = min(y1[p] + l_yimp[pl_proj[p]], TRACE_MAX)
        # 3. compartments
        slot = t % ring
        hcount[slot] = 0
        for c in range(n_comp):
            uu = _decay(u[c], decay_u[c]) + inp[c]
            if uu > U_MAX or uu < -U_MAX - 1:
                uu = ((uu + U_MAX + 1) & ((1 << 24) - 1)) - U_MAX - 1
                overflow[0] += 1
            u[c] = uu
            if t - last[c] >= refr[c]:
                vv = _decay(v[c], decay_v[c]) + uu + bias[c]
                if vv > V_LIMIT:
                    vv = V_LIMIT
                    overflow[1] += 1
                elif vv < -V_LIMIT:
                    vv = -V_LIMIT
                    overflow[1] += 1
                if vv > vth[c]:
                    vv = 0
                    last[c] = t
                    hist[slot, hcount[slot]] = comp_gid[c]
                    hcount[slot] += 1
                v[c] = vv
        # 4. spike sources
        while src_ptr[0] < src_step.shape[0] and src_step[src_ptr[0]] <= t:
            if src_step[src_ptr[0]] == t:
                hist[slot, hcount[slot]] = src_gid[src_ptr[0]]
                hcount[slot] += 1
            src_ptr[0] += 1
        # 5. learning, then trace decay
        for p in range(n_pl):
            lp = pl_proj[p]
            if l_on[lp] and (x0[p] != 0 or y0[p] != 0):
                dw = (l_ap[lp] * x1[p] * y0[p] - l_am[lp] * y1[p] * x0[p]
                      + l_am[lp] * l_yimp[lp] * x0[p] * y0[p])
                if dw != 0.0:
                    step = np.int64(np.ceil(abs(dw)))
                    w = w_mant[p] + (step if dw > 0 else -step)
                    w = min(max(w, l_lo[lp]), l_hi[lp])
                    w_mant[p] = w
                    syn_wact[pl_syn[p]] = _w_act(w, l_wexp[lp])
            x1[p] = np.int64(x1[p] * l_xfac[lp]) + x_up[p]
            y1[p] = np.int64(y1[p] * l_yfac[lp]) + y_up[p]
            x0[p] = 0
            y0[p] = 0
        # 6. recording
        for q in range(hcount[slot]):
            g = hist[slot, q]
            if rec_gid[g]:
                sp_step[sp_n[0]] = t
                sp_gid[sp_n[0]] = g
                sp_n[0] += 1
        if probe_v.shape[0] > 0:
            k = probe_n[0]
            for m in range(probe_comp.shape[0]):
                probe_v[k, m] = v[probe_comp[m]]
                probe_u[k, m] = u[probe_comp[m]]
            probe_n[0] += 1
    return s1


@njit(cache=True)
def _splitmix_seed(seed):
    state = np.zeros(1, np.uint64)
    state[0] = np.uint64(seed)
    _uniform(state)
    return state


SPIKE_BUFFER = 1 << 16


class Emulator:
    """The integer state of a ``LoihiNetwork`` and the kernel that advances it.

    ``rounding``: "stochastic" (Loihi; seeded) or "fixed" (compare fractions
    with 0.5; brian2-loihi with ``rand()`` pinned to 0.5). ``probe``: the
    compartments whose integer v and u are kept every step (indices into the
    flat compartment array; "all" for every one). ``record``: the spikes of
    "monitors" (the network's spike monitors) or of "all" populations.
    """

    def __init__(self, lnet, rounding="stochastic", probe=None, record="monitors"):
        if rounding not in ("stochastic", "fixed"):
            raise ValueError(f"rounding must be 'stochastic' or 'fixed', got {rounding!r}")
        self.lnet = lnet
        self.fixed_r = -1.0 if rounding == "stochastic" else 0.5
        self.step = 0
        pops = list(lnet.populations.values())
        self.gid0, g = {}, 0                  # population -> first global id
        for p in pops:
            self.gid0[p.name] = g
            g += p.size
        self.n_gid = g
        neurons = [p for p in pops if p.kind == "neuron"]
        self.comp0, c = {}, 0                 # neuron population -> first compartment
        for p in neurons:
            self.comp0[p.name] = c
            c += p.size
        n_comp = c
        cat = (lambda attr, dtype: np.concatenate([np.asarray(getattr(p, attr), dtype) for p in neurons])
               if neurons else np.zeros(0, dtype))
        self.u = cat("init_u", np.int64).copy()
        self.v = cat("init_v", np.int64).copy()
        self.decay_u = cat("decay_u", np.int64)
        self.decay_v = cat("decay_v", np.int64)
        self.vth = cat("vth_mant", np.int64) << 6
        self.bias = cat("bias_mant", np.int64) << cat("bias_exp", np.int64)
        self.refr = cat("refractory", np.int64)
        self.last = np.full(n_comp, NEVER, np.int64)
        self.comp_gid = np.concatenate([self.gid0[p.name] + np.arange(p.size) for p in neurons]
                                       ).astype(np.int64) if neurons else np.zeros(0, np.int64)
        self.comp_of_gid = np.full(self.n_gid, -1, np.int64)
        self.comp_of_gid[self.comp_gid] = np.arange(n_comp)
        self.inp = np.zeros(n_comp, np.int64)
        self._synapses(lnet)
        self.ring = self.dmax + 1
        self.hist = np.zeros((self.ring, max(self.n_gid, 1)), np.int32)
        self.hcount = np.zeros(self.ring, np.int64)
        self.rng = _splitmix_seed(np.uint64(lnet.seed & 0xFFFFFFFFFFFFFFFF))
        self.overflow = np.zeros(2, np.int64)     # u wrap-arounds, v saturations
        # spike sources: future spikes per population; Poisson draws like the numba backend
        self.schedule = {p.name: (np.asarray(p.spike_steps, np.int64), np.asarray(p.spike_ids, np.int64))
                         for p in pops if p.kind == "spikes"}
        self.poisson = [p for p in pops if p.kind == "poisson"]
        self.rates = {p.name: np.broadcast_to(p.rate, (p.size,)) for p in self.poisson}    # Hz, set_rates'
        self.poisson_rng = np.random.RandomState(lnet.seed)
        self.rec_gid = np.zeros(max(self.n_gid, 1), np.bool_)
        self.recorded = list(lnet.populations) if record == "all" else list(lnet.spike_monitors)
        for name in self.recorded:
            p = lnet.populations[name]
            self.rec_gid[self.gid0[name]:self.gid0[name] + p.size] = True
        self.probe_comp = (np.arange(n_comp) if probe == "all" else
                           np.asarray(probe if probe is not None else [], np.int64)).astype(np.int64)
        self.spikes = ([], [])                     # (steps, gids) chunks
        self.probes = ([], [])                     # (v, u) chunks, (steps, probed)

    def _synapses(self, lnet):
        """All synapses in one CSR by presynaptic global id; plastic ones numbered 0..P-1."""
        pre, post, delay, wact, pl = [], [], [], [], []
        pl_proj, w_mant, pl_post = [], [], []
        rules = []
        n_pl = 0
        for proj in lnet.projections:
            n = proj.i.size
            pre.append(self.gid0[proj.pre] + proj.i)
            post.append(self.comp0[proj.post] + proj.j)
            delay.append(proj.delay + 1)                 # Loihi delay d acts d + 1 steps after the spike
            wact.append(w_act_array(proj.w_mant, int(proj.w_exp)))
            if proj.learning is not None:
                pl.append(n_pl + np.arange(n))
                pl_proj.append(np.full(n, len(rules)))
                w_mant.append(proj.w_mant)
                pl_post.append(self.comp0[proj.post] + proj.j)
                rules.append((proj.w_exp, proj.learning))
                n_pl += n
            else:
                pl.append(np.full(n, -1))
        cat = lambda parts: np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        pre, post, delay, wact, pl = map(cat, (pre, post, delay, wact, pl))
        order = np.argsort(pre, kind="stable")          # CSR position k holds synapse order[k]
        self.syn_post, self.syn_delay, self.syn_wact, self.syn_pl = post[order], delay[order], wact[order], pl[order]
        self.indptr = np.zeros(self.n_gid + 1, np.int64)
        np.cumsum(np.bincount(pre, minlength=self.n_gid), out=self.indptr[1:])
        self.g_dmin = np.full(max(self.n_gid, 1), 1 << 30, np.int64)
        self.g_dmax = np.zeros(max(self.n_gid, 1), np.int64)
        if pre.size:
            np.minimum.at(self.g_dmin, pre, delay)
            np.maximum.at(self.g_dmax, pre, delay)
        self.dmax = int(delay.max()) if delay.size else 1
        # plastic synapses: where each sits in the CSR, its rule, its post compartment
        self.pl_syn = np.zeros(n_pl, np.int64)
        where = np.flatnonzero(self.syn_pl >= 0)
        self.pl_syn[self.syn_pl[where]] = where
        self.pl_proj = cat(pl_proj)
        self.w_mant = cat(w_mant).copy()
        self.x0, self.y0, self.x1, self.y1, self.x_up, self.y_up = (np.zeros(n_pl, np.int64) for _ in range(6))
        posts = cat(pl_post)
        by_post = np.argsort(posts, kind="stable")
        self.post_pl = by_post.astype(np.int64)
        self.post_ptr = np.zeros(self.u.size + 1, np.int64)
        np.cumsum(np.bincount(posts, minlength=self.u.size), out=self.post_ptr[1:])
        f = lambda get, dtype: np.array([get(e, r) for e, r in rules], dtype) if rules else np.zeros(0, dtype)
        self.l_wexp = f(lambda e, r: e, np.int64)
        self.l_lo = f(lambda e, r: r.w_lo, np.int64)
        self.l_hi = f(lambda e, r: r.w_hi, np.int64)
        self.l_ap = f(lambda e, r: r.a_plus_mant * 2.0 ** r.a_plus_exp, np.float64)
        self.l_am = f(lambda e, r: r.a_minus_mant * 2.0 ** r.a_minus_exp, np.float64)
        self.l_ximp = f(lambda e, r: r.x_impulse, np.int64)
        self.l_yimp = f(lambda e, r: r.y_impulse, np.int64)
        self.l_xfac = f(lambda e, r: 1.0 - 1.0 / r.x_tau, np.float64)
        self.l_yfac = f(lambda e, r: 1.0 - 1.0 / r.y_tau, np.float64)
        self.l_on = f(lambda e, r: r.learns, np.int64)
        # projection -> (offset of its synapses in the plastic numbering) for reading weights
        self.static_mant = {p.name: np.asarray(p.w_mant, np.int64).copy() for p in lnet.projections
                            if p.learning is None}
        self.projection = {p.name: p for p in lnet.projections}
        self.pl_offset, self.rule_index, k = {}, {}, 0
        for proj in lnet.projections:
            if proj.learning is not None:
                self.rule_index[proj.name] = len(self.pl_offset)
                self.pl_offset[proj.name] = k
                k += proj.i.size
        # projection -> its synapses' positions in the CSR (for reading / writing w_act)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        self.syn_pos, k = {}, 0
        for proj in lnet.projections:
            self.syn_pos[proj.name] = inverse[k:k + proj.i.size]
            k += proj.i.size

    # --- sources
    def set_spikes(self, name, steps, ids):
        self.schedule[name] = (np.asarray(steps, np.int64), np.asarray(ids, np.int64))

    def set_rates(self, name, rates):
        """Poisson source ``name`` fires at ``rates`` (Hz per neuron) from the next run on."""
        self.rates[name] = np.asarray(rates, np.float64)

    def source_spikes(self, s0, s1):
        """Every source spike in steps [s0, s1), sorted by step (and global id).
        Poisson draws advance the host's random stream: call once per step range."""
        steps, gids = [], []
        for name, (st, ids) in self.schedule.items():
            sel = (st >= s0) & (st < s1)
            steps.append(st[sel])
            gids.append(self.gid0[name] + ids[sel])
        if self.poisson:
            rates = np.concatenate([self.rates[p.name] for p in self.poisson])
            gid = np.concatenate([self.gid0[p.name] + np.arange(p.size) for p in self.poisson])
            draws = self.poisson_rng.random_sample((s1 - s0, rates.size)) < rates * self.lnet.dt
            k, m = np.nonzero(draws)
            steps.append(s0 + k)
            gids.append(gid[m])
        steps = np.concatenate(steps).astype(np.int64) if steps else np.zeros(0, np.int64)
        gids = np.concatenate(gids).astype(np.int64) if gids else np.zeros(0, np.int64)
        order = np.lexsort((gids, steps))
        return steps[order], gids[order]

    # --- running
    def run(self, n_steps):
        s0, s1 = self.step, self.step + int(n_steps)
        src_step, src_gid = self.source_spikes(s0, s1)
        src_ptr = np.zeros(1, np.int64)
        cap = max(SPIKE_BUFFER, 2 * self.hist.shape[1])
        sp_step, sp_gid, sp_n = np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(1, np.int64)
        n_probe = (s1 - s0) if self.probe_comp.size else 0
        probe_v = np.zeros((n_probe, self.probe_comp.size), np.int64)
        probe_u = np.zeros_like(probe_v)
        probe_n = np.zeros(1, np.int64)
        t = s0
        while t < s1:
            t = run_steps(t, s1, self.u, self.v, self.decay_u, self.decay_v, self.vth, self.bias,
                          self.refr, self.last, self.comp_gid, self.comp_of_gid,
                          src_step, src_gid, src_ptr, self.hist, self.hcount, self.inp,
                          self.indptr, self.syn_post, self.syn_delay, self.syn_wact, self.syn_pl,
                          self.g_dmin, self.g_dmax, self.dmax,
                          self.pl_syn, self.pl_proj, self.w_mant, self.x0, self.y0, self.x1, self.y1,
                          self.x_up, self.y_up,
                          self.l_wexp, self.l_lo, self.l_hi, self.l_ap, self.l_am, self.l_ximp, self.l_yimp,
                          self.l_xfac, self.l_yfac, self.l_on, self.post_ptr, self.post_pl, self.rng, self.fixed_r,
                          self.rec_gid, sp_step, sp_gid, sp_n,
                          self.probe_comp, probe_v, probe_u, probe_n, self.overflow)
            n = int(sp_n[0])
            self.spikes[0].append(sp_step[:n].copy())
            self.spikes[1].append(sp_gid[:n].copy())
            sp_n[0] = 0
        if n_probe:
            self.probes[0].append(probe_v)
            self.probes[1].append(probe_u)
        self.step = s1

    # --- reading
    def spike_table(self) -> dict:
        """{population: (steps, ids)} of every monitored population so far."""
        steps = np.concatenate(self.spikes[0]) if self.spikes[0] else np.zeros(0, np.int64)
        gids = np.concatenate(self.spikes[1]) if self.spikes[1] else np.zeros(0, np.int64)
        out = {}
        for name in self.recorded:
            g0, size = self.gid0[name], self.lnet.populations[name].size
            sel = (gids >= g0) & (gids < g0 + size)
            out[name] = (steps[sel], gids[sel] - g0)
        return out

    def probe_table(self):
        """(v, u): integer arrays (steps, probed compartments) since the start."""
        if not self.probes[0]:
            empty = np.zeros((0, self.probe_comp.size), np.int64)
            return empty, empty
        return np.concatenate(self.probes[0]), np.concatenate(self.probes[1])

    def weights(self, name):
        """(mantissas, actual weights) of projection ``name`` in its synapse order."""
        pos = self.syn_pos[name]
        if name in self.pl_offset:
            k = self.pl_offset[name]
            mant = self.w_mant[k:k + pos.size].copy()
        else:
            mant = self.static_mant[name].copy()
        return mant, self.syn_wact[pos].copy()

    def set_weights(self, name, mant):
        mant = np.asarray(mant, np.int64)
        self.syn_wact[self.syn_pos[name]] = w_act_array(mant, int(self.projection[name].w_exp))
        if name in self.pl_offset:
            k = self.pl_offset[name]
            self.w_mant[k:k + mant.size] = mant
        else:
            self.static_mant[name] = mant.copy()
