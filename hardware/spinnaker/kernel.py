"""sPyNNaker's neuron core as numba kernels: one tick of every neuron, spike
source and synapse (the step order: docs/targets/spinnaker.md, "Step order").

Each operation has two implementations chosen by the argument types: the
core's integers for int64 arguments, and the same step unrounded in float64
(``arithmetic="float64"``), so one kernel serves both.
"""
from __future__ import annotations

from numba import njit, types
from numba.extending import overload

from .formats import COND_SCALE, COND_SHIFT

MAX_POST_EVENTS = 16            # post_events.h


def _core_op(fixed, floating):
    """One operation of the core for the numba kernels: ``fixed`` (the core's
    integers) for int64 arguments, ``floating`` (the same step unrounded, for
    ``arithmetic="float64"``) where an argument is a float."""
    def is_float(*args):
        return any(isinstance(a, types.Float) for a in args)

    if fixed.__code__.co_argcount == 1:
        def op(x):
            raise NotImplementedError("numba only")

        @overload(op, inline="always")
        def _impl(x):
            return floating if is_float(x) else fixed
    else:
        def op(x, y):
            raise NotImplementedError("numba only")

        @overload(op, inline="always")
        def _impl(x, y):
            return floating if is_float(x, y) else fixed
    return op


@njit(inline="always", cache=True)
def _wrap32(x):
    return ((x + 2147483648) & 0xFFFFFFFF) - 2147483648


_i32 = _core_op(lambda x: _wrap32(x), lambda x: x)                       # int_k_t addition wraps
_mul_k = _core_op(lambda x, y: _wrap32((x * y) >> 15), lambda x, y: x * y)  # accum * accum (GCC: floor)
_decay = _core_op(lambda x, y: (x * y) >> 32, lambda x, y: x * y)      # decay_s1615(s1615, u0.32)
_shl = _core_op(lambda x, y: _wrap32(x << y), lambda x, y: x)          # 16-bit weight << shift as s16.15
_w_out = _core_op(lambda x, y: (x >> y) & 0xFFFF, lambda x, y: x)      # weight_get_final: uint16
_sat16 = _core_op(lambda x: min(x, 0xFFFF), lambda x: x)               # a ring-buffer slot saturates
_i16 = _core_op(lambda x: ((x + 32768) & 0xFFFF) - 32768, lambda x: x)  # s4.11 traces are int16
_mul11 = _core_op(lambda x, y: (x * y) >> 11, lambda x, y: x * y)      # STDP_FIXED_MUL_16X16
_mul_af = _core_op(lambda x, y: (x * (y << 4)) >> 15, lambda x, y: x * y)  # mul_accum_fixed(accum, trace)
_unscale = _core_op(lambda x: x >> COND_SHIFT, lambda x: x * (1.0 / COND_SCALE))   # input_type_get_input_value


@njit(inline="always", cache=True)
def _inputs(cond, ge, gi, v, e_rev_e, e_rev_i):
    """The excitatory and inhibitory input as the LIF model sums them (it
    subtracts the second): a current cell's currents as they are; a conductance
    cell's (input_type_conductance.h) g_exc (E_rev_E - V) and -g_inh (E_rev_I - V),
    both conductances first shifted back by the host's weight scale."""
    if not cond:
        return ge, gi
    exc = _mul_k(_unscale(ge), _i32(e_rev_e - v))
    inh = _mul_k(_i32(-_unscale(gi)), _i32(e_rev_i - v))     # -(g) * (E - V): the negation first
    return exc, inh


@njit(inline="always", cache=True)
def _lut(table, delta):
    """An exp lookup table (zero-padded; 0 past its end, as maths.h)."""
    return table[delta] if 0 <= delta < table.shape[0] else table[0] * 0


@njit(inline="always", cache=True)
def _add_trace(t, last_t, last_trace, table, one):
    """timing_add_{pre,post}_spike: decay the trace by the table, add 1 (``one``)."""
    return _i16(_mul11(last_trace, _lut(table, t - last_t)) + one)


@njit(cache=True)
def _stdp_update(t, last_pre_time, last_pre_trace, d, w16, shift, j, ph_count, ph_time, ph_trace,
                 lutp, lutm, a2p, a2m, wmin, wmax):
    """plasticity_update_synapse for one synapse at a pre spike at ``t``:
    the (16-bit) weight after the deferred pair updates, clipped per term."""
    w = _shl(w16, shift)                      # weight_get_initial: s16.15
    begin = max(last_pre_time - d, 0)
    end = max(t - d, 0)
    count = ph_count[j] + 1
    k = end_ev = nxt = count
    while True:                               # post_events_get_window_delayed
        if k < count and ph_time[j, k] > end:
            end_ev = k
        nxt = k
        k -= 1
        if not (ph_time[j, k] > begin and k != 0):
            break
    prev_time, prev_trace, valid = ph_time[j, k], ph_trace[j, k], k != 0
    for e in range(nxt, end_ev):              # potentiation, one post spike at a time
        since = ph_time[j, e] + d - last_pre_time
        if since > 0:
            w = min(_i32(w + _mul_af(a2p, _mul11(last_pre_trace, _lut(lutp, since)))), wmax)
        prev_time, prev_trace, valid = ph_time[j, e], ph_trace[j, e], True
    if valid:                                 # depression by the last post spike (lag 0: exp(0))
        since = t - (prev_time + d)
        w = max(_i32(w - _mul_af(a2m, _mul11(prev_trace, _lut(lutm, since)))), wmin)
    return _w_out(w, shift)                   # weight_get_final


@njit(cache=True, nogil=True)
def run_ticks(s0, s1, RL, one, X, C, cond, Tref, timer, shift, ring, post_rule, ph_count, ph_time, ph_trace,
            src_step, src_gid, src_ptr, indptr, syn_post, syn_type, syn_delay, syn_w, syn_rule, syn_row, syn_learns,
            pre_time, pre_trace, lutp, lutm, rule_c, spiked, sp_step, sp_gid, sp_n,
            rec_every, rec_lo, rec_hi, rec_gid, rec_var, rec_scale, rec_off, rec_cnt, rec_buf):
    """Ticks s0..s1-1 of every neuron, source and synapse; returns the first
    tick not run (the spike buffer is full). ``X``: v, isyn_exc, isyn_inh
    (positive), i_offset -- a conductance cell (``cond`` 1) holds its
    conductances times the weight scale where a current cell holds its
    currents; ``C``: ``emulator.CONSTS``; ``syn_learns``: 0 where a
    plastic synapse is frozen (its pre history still moves, its weight does not)."""
    V, isyn, Ioff = X[0], X[1:3], X[3]
    Vrest, Vreset, Vth, R, expTC, sdecay, sinit = C[0], C[1], C[2], C[3], C[4], C[5:7], C[7:9]
    Erev_E, Erev_I = C[9], C[10]
    N, G = V.shape[0], indptr.shape[0] - 1
    for step in range(s0, s1):
        if sp_n[0] + G > sp_step.shape[0]:
            return step
        # 0. state recording at the tick's start (as sPyNNaker and Brian2), SI units
        for m in range(rec_every.shape[0]):
            if step % rec_every[m] == 0:
                base = rec_off[m] + rec_cnt[m] * (rec_hi[m] - rec_lo[m])
                for e in range(rec_lo[m], rec_hi[m]):
                    rec_buf[base + e - rec_lo[m]] = X[rec_var[e], rec_gid[e]] * rec_scale[e]
                rec_cnt[m] += 1
        slot = step % RL
        # 1. ring buffers of this tick -> synaptic inputs
        for n in range(N):
            for r in range(2):
                val = ring[r, n, slot]
                if val > 0:
                    isyn[r, n] = _i32(isyn[r, n] + _decay(_shl(val, shift[r, n]), sinit[r, n]))
                    ring[r, n, slot] = 0
        # 2. neurons
        nsp = 0
        for n in range(N):
            if timer[n] <= 0:
                exc, inh = _inputs(cond[n], isyn[0, n], isyn[1, n], V[n], Erev_E[n], Erev_I[n])
                inp = _i32(_i32(exc - inh) + Ioff[n])
                alpha = _i32(_mul_k(inp, R[n]) + Vrest[n])
                V[n] = _i32(alpha - _mul_k(expTC[n], _i32(alpha - V[n])))
            else:
                timer[n] -= 1
            if V[n] >= Vth[n]:
                V[n] = Vreset[n]
                timer[n] = Tref[n]
                spiked[nsp] = n
                nsp += 1
                rule = post_rule[n]
                if rule >= 0:                 # synapse_dynamics_process_post_synaptic_event
                    c = ph_count[n]
                    trace = _add_trace(step, ph_time[n, c], ph_trace[n, c], lutm[rule], one)
                    if c < MAX_POST_EVENTS - 1:
                        c += 1
                        ph_count[n] = c
                    else:                     # full: drop the oldest (index 0 is the sentinel)
                        for e in range(1, c):
                            ph_time[n, e], ph_trace[n, e] = ph_time[n, e + 1], ph_trace[n, e + 1]
                    ph_time[n, c], ph_trace[n, c] = step, trace
            isyn[0, n] = _decay(isyn[0, n], sdecay[0, n])
            isyn[1, n] = _decay(isyn[1, n], sdecay[1, n])
        # 3. spike sources
        while src_ptr[0] < src_step.shape[0] and src_step[src_ptr[0]] <= step:
            if src_step[src_ptr[0]] == step:
                spiked[nsp] = src_gid[src_ptr[0]]
                nsp += 1
            src_ptr[0] += 1
        # 4. this tick's spikes through their rows into the ring buffers
        for q in range(nsp):
            g = spiked[q]
            last_row, lpt, lptr = -1, 0, pre_trace[0] * 0
            for s in range(indptr[g], indptr[g + 1]):
                j, r, d, w, rule = syn_post[s], syn_type[s], syn_delay[s], syn_w[s], syn_rule[s]
                if rule >= 0:
                    row = syn_row[s]
                    if row != last_row:       # the row's pre history, once per spike
                        lpt, lptr = pre_time[row], pre_trace[row]
                        pre_time[row] = step
                        pre_trace[row] = _add_trace(step, lpt, lptr, lutp[rule], one)
                        last_row = row
                    if syn_learns[s]:
                        w = _stdp_update(step, lpt, lptr, d, w, shift[r, j], j, ph_count, ph_time, ph_trace,
                                         lutp[rule], lutm[rule], rule_c[rule, 0], rule_c[rule, 1],
                                         rule_c[rule, 2], rule_c[rule, 3])
                        syn_w[s] = w
                k2 = (step + d) % RL
                ring[r, j, k2] = _sat16(ring[r, j, k2] + w)
        # 5. spike recording
        for q in range(nsp):
            sp_step[sp_n[0]], sp_gid[sp_n[0]] = step, spiked[q]
            sp_n[0] += 1
    return s1
