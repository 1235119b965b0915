"""sPyNNaker 1!7.4.1's fixed-point arithmetic for IF_curr_exp networks: weight
scaling, quantisation report and a bit-level emulator of its neuron core.

A network exported with ``spikemem.hardware.pynn`` runs on SpiNNaker in ISO C
``accum`` (s16.15) with 16-bit weights. This module computes the numbers the
board holds when it runs the exported ``run.py`` (``weight_scaling``,
``quantize``), runs them in the board's integer arithmetic
(``SpiNNakerSimulation``, backend "spinnaker") and reports how far its spikes
are from spikemem's float64 engine (``emulate``, ``decomposition``). It takes
the parameters as run.py passes them on SpiNNaker: ``tau_refrac - dt`` and,
for the additive STDP rule, ``A * w_max`` (nA).

Sources: SpiNNakerManchester/sPyNNaker, the python side as installed, the C
side the matching ``neural_modelling/src``.

Parameters.  The host writes every LIF and synapse parameter as S1615
(``DataType.S1615``: round to nearest of x * 2**15, in mV, nA, nF, ms; the
time step too: 0.1 ms is stored as 3277/32768 ms). The core derives the rest
at load time (``neuron_model_lif_impl.h``, ``exp_synapse_utils.h``)::

    R_membrane = kdivk(tau_m, c_m)                  s16.15 MOhm (division truncates)
    exp_TC     = expk(-kdivk(ts, tau_m))            s16.15
    T_refract  = ceil(kdivk(tau_refrac, ts))        whole time steps
    decay      = expulr(-kdivk(ts, tau_syn))        u0.32
    init       = (kdivk(tau_syn, ts) * (1 - decay)) >> 15   u0.32, = tau/dt (1 - e^-dt/tau)

``expk`` / ``expulr`` are taken as correctly rounded (spinn_common's are
within one LSB); ``kdivk`` truncates (long division).

Weights (``population_vertex.get_ring_buffer_shifts``, ``get_weight_scales``).
Per post population and synapse type the ring-buffer left shift is
``ceil(log2(W))`` (one more when W is an exact power of two, 0 for W < 1 nA).
run.py gives no ``max_expected_summed_weight``, so W is 7.4.1's estimate: with
a single delay per incoming projection, max(sum of max|w| x max fan-in x
spikes per tick, biggest weight) -- in effect the worst case; else the Poisson
bound (mean + 5 sigma at 30 Hz, spynnaker.cfg) clamped to that worst case. A
plastic projection counts with its w_max. A weight is stored as
``rint(|w| * 2**(15 - shift))`` in 16 bits: steps of 2**(shift-15) nA, at most
65535 of them per synapse and per ring-buffer slot.

Step order (tick t, ``c_main.c`` timer_callback, ``neuron_impl_standard.h``)::

    1  process_ring_buffers: every slot due at t, summed as integers
       (saturating at 0xFFFF), becomes (sum << shift) as s16.15 nA and
       isyn += decay_s1615(input, init)            (synapse_types_exponential_impl.h)
    2  per neuron, with isyn as it is now (a constant over the step):
       if refract_timer <= 0:
           alpha = (exc - inh + I_offset) * R + V_rest
           V     = alpha - exp_TC * (alpha - V)
       else: refract_timer -= 1
       spike if V >= v_thresh: V = V_reset, refract_timer = T_refract,
       post-synaptic event for STDP; then isyn = decay_s1615(isyn, decay)
    3  spikes of this tick (neurons and spike sources) go through their rows:
       each weight lands in the ring-buffer slot t + delay (synapses.c)

``decay_s1615(x, d) = (x * d) >> 32`` (floor); ``accum * accum`` is GCC's
fixed-point multiply, ``(x * y) >> 15``, which truncates (round.h).

Against spikemem.  Both deliver a spike of step n with delay d in step n + d
and label a spike with the step in which v crossed (alignment 0, the best one
measured in the tests), and both hold v for tau_refrac/dt - 1 steps after the
spike step (T_refract from run.py's tau_refrac - dt). What differs, because
sPyNNaker does it so:

* integration: sPyNNaker holds the synaptic current constant over a step
  (after adding ``w * init``, about the mid-step value); spikemem integrates v
  and the decaying current exactly. For tau_syn >> dt they agree to a few uV;
  for dt >~ tau_syn (the CA3 model: dt 1 ms, tau_syn 0.3 ms, tau_m 0.5 ms) a
  6 nA input moves v 5.4 mV instead of 3.2 mV;
* threshold ``>=`` instead of ``>``;
* fixed point, mostly exp_TC: kdivk truncates dt/tau_m to 15 bits, so at
  dt = 0.1 ms, tau_m = 20 ms, 1 - exp_TC is 163/32768 instead of 163.85/32768
  (the membrane is 0.27 % slower; 0.02 % at dt = 1 ms);
* STDP clips after every term (below).

``arithmetic="float64"`` runs the same algorithm unrounded; ``decomposition``
splits the distance to numba into "algorithm" (numba vs that twin) and
"rounding" (twin vs fixed point). Measured (``python
benchmarks/hardware_emulation.py``): on the CA3 functional experiment every
answer equals numba's, every numba spike is there (68 extra of 526, all from
the integration) and the rounding changes no spike; on CUBA (4000 neurons, dt
0.1 ms, 1 s, chaotic) the rounding decorrelates the spike trains within a few
ms (2 % shared) while the rates stay within 2 % of numba's.

Plasticity (``synapse_dynamics_stdp_mad_impl.c``, ``timing_pair_impl.h``,
``weight_additive_one_term_impl.h``, ``post_events.h``, ``maths.h``).
Traces are s4.11 (2048 = 1) decayed by the host's lookup tables
``floor(2048 exp(-k dt/tau))`` (``get_exp_lut_array``); a pre trace per
presynaptic neuron and row, at most 16 post spikes per neuron. At a pre spike
at t, each post spike p with ``last_pre - d < p <= t - d`` in turn does
``w = min(w + A+ * (last_pre_trace * LUT+(p + d - last_pre) >> 11), w_max)``,
then the last post spike ``p <= t - d`` does
``w = max(w - A- * (post_trace * LUT-(t - p - d) >> 11), w_min)`` (nothing at
lag 0), with w held as s16.15 (``w16 << shift``), truncated back to 16 bits
and delivered. A+ and A- are run.py's ``A * w_max``, which the host writes
unscaled as S1615 nA (``weight_dependence_additive``). spikemem's
``spinnaker_stdp`` sums the terms and clips once: the two agree unless a clip
binds within an update (the CA3 model's A: learned weights of 5.6-6 nA
instead of 6).

Not emulated: late or dropped packets, delay-extension cores (every delay is
exact), Poisson sources, current sources other than a constant i_offset,
other neuron models and weight dependences: refused with one ModelError
listing every offender before any work starts.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit, types
from numba.extending import overload

from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork, BuiltPopulation, BuiltProjection
from spikemem.neurons import IF_curr_exp
from spikemem.results import Result
from spikemem.simulation import Simulation

from . import pynn as _pynn
from .target import Emulation, QuantizationError, built_network, compare_spikes, emulate_with

TARGET = "spinnaker"
ONE = 1 << 15                   # 1.0 in s16.15 (ISO C accum)
U032 = 1 << 32                  # 1.0 in u0.32 (unsigned long fract), not representable
STDP_ONE = 1 << 11              # 1.0 in the s4.11 traces of STDP
MAX_POST_EVENTS = 16            # post_events.h
SPIKES_PER_SECOND = 30.0        # spynnaker.cfg [Simulation]
RING_BUFFER_SIGMA = 5.0
POISSON_SIGMA_SUMMATION_LIMIT = 3.0
MS, MV, NA, NF = 1e3, 1e3, 1e9, 1e9
RECEPTORS = ("exc", "inh")      # sPyNNaker synapse types 0 and 1
_TARGETS = {"isyn_exc": 0, "isyn_inh": 1}
_STATE = {"v": 0, "isyn_exc": 1, "isyn_inh": 2, "i_offset": 3}    # rows of the emulator's state
_FACTOR = {"v": MV, "isyn_exc": NA, "isyn_inh": -NA, "i_offset": NA}  # SI -> mV / nA (inh held positive)
_CONSTS = ("v_rest", "v_reset", "v_thresh", "R", "exp_TC", "exc_decay", "inh_decay", "exc_init", "inh_init")
_LIF = (("c_m", NF), ("tau_m", MS), ("tau_syn_E", MS), ("tau_syn_I", MS),
        ("v_rest", MV), ("v_reset", MV), ("v_thresh", MV))
SPIKE_BUFFER = 1 << 16


# ----------------------------------------------------------------- fixed point (host side)
def s1615(x, where="value") -> np.ndarray:
    """``DataType.S1615``: round to nearest (half to even, as numpy) of x * 2**15."""
    a = np.asarray(x, dtype=np.float64)
    if np.any(np.abs(a) >= 65536):
        raise ModelError(f"{where}: {a.flat[np.argmax(np.abs(a))]} does not fit s16.15 (|x| < 65536)")
    return np.round(a * ONE).astype(np.int64)


def _kdivk(a, b) -> np.ndarray:
    """spinn_common's kdivk: s16.15 division by long division (truncates toward 0)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    q = (np.abs(a) << 15) // np.abs(b)
    return np.where((a < 0) ^ (b < 0), -q, q)


def _expk(x) -> np.ndarray:
    """expk of an s16.15 argument, s16.15 result, rounded to nearest."""
    return np.round(np.exp(np.asarray(x, np.float64) / ONE) * ONE).astype(np.int64)


def _expulr(x) -> np.ndarray:
    """expulr of an s16.15 argument (<= 0), u0.32 result, rounded to nearest."""
    return np.minimum(np.round(np.exp(np.asarray(x, np.float64) / ONE) * U032), U032 - 1).astype(np.int64)


def _ceil_accum(bits) -> np.ndarray:
    """lif_ceil_accum: the integer part plus one if any fractional bit is set."""
    bits = np.asarray(bits, np.int64)
    return (bits >> 15) + ((bits & 0x7FFF) > 0)


def _exp_lut(dt_ms: float, tau_ms: float) -> np.ndarray:
    """``get_exp_lut_array``: floor(2048 exp(-k dt/tau)), an even number of entries."""
    lam = dt_ms / float(tau_ms)
    size, extra = divmod(math.log(STDP_ONE) / lam, 2)
    size = (int(size) + (extra > 0)) * 2
    return np.floor(np.exp(np.arange(size) * -lam) * STDP_ONE).astype(np.int64)


# ----------------------------------------------------------------- core arithmetic
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
    since = t - (prev_time + d)
    if valid and since != 0:                  # depression by the last post spike
        w = max(_i32(w - _mul_af(a2m, _mul11(prev_trace, _lut(lutm, since)))), wmin)
    return _w_out(w, shift)                   # weight_get_final


@njit(cache=True, nogil=True)
def _kernel(s0, s1, RL, one, X, C, Tref, timer, shift, ring, post_rule, ph_count, ph_time, ph_trace,
            src_step, src_gid, src_ptr, indptr, syn_post, syn_type, syn_delay, syn_w, syn_rule, syn_row,
            pre_time, pre_trace, lutp, lutm, rule_c, spiked, sp_step, sp_gid, sp_n,
            rec_every, rec_lo, rec_hi, rec_gid, rec_var, rec_scale, rec_off, rec_cnt, rec_buf):
    """Ticks s0..s1-1 of every neuron, source and synapse (see the module
    docstring); returns the first tick not run (the spike buffer is full).
    ``X``: v, isyn_exc, isyn_inh (positive), i_offset; ``C``: ``_CONSTS``."""
    V, isyn, Ioff = X[0], X[1:3], X[3]
    Vrest, Vreset, Vth, R, expTC, sdecay, sinit = C[0], C[1], C[2], C[3], C[4], C[5:7], C[7:9]
    N, G = V.shape[0], indptr.shape[0] - 1
    for step in range(s0, s1):
        if sp_n[0] + G > sp_step.shape[0]:
            return step
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
                inp = _i32(_i32(isyn[0, n] - isyn[1, n]) + Ioff[n])
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
                    w = _stdp_update(step, lpt, lptr, d, w, shift[r, j], j, ph_count, ph_time, ph_trace,
                                     lutp[rule], lutm[rule], rule_c[rule, 0], rule_c[rule, 1],
                                     rule_c[rule, 2], rule_c[rule, 3])
                    syn_w[s] = w
                k2 = (step + d) % RL
                ring[r, j, k2] = _sat16(ring[r, j, k2] + w)
        # 5. recording (end of the step, after reset and decay), SI units
        for q in range(nsp):
            sp_step[sp_n[0]], sp_gid[sp_n[0]] = step, spiked[q]
            sp_n[0] += 1
        for m in range(rec_every.shape[0]):
            if step % rec_every[m] == 0:
                base = rec_off[m] + rec_cnt[m] * (rec_hi[m] - rec_lo[m])
                for e in range(rec_lo[m], rec_hi[m]):
                    rec_buf[base + e - rec_lo[m]] = X[rec_var[e], rec_gid[e]] * rec_scale[rec_var[e]]
                rec_cnt[m] += 1
    return s1


# ----------------------------------------------------------------- what can be emulated
#: the additive pair rules hardware/pynn.py exports (name -> (template, weight dependence, A map))
_RULES = {name: rule for name, rule in _pynn.STDP_RULES.items() if rule[1] == "AdditiveWeightDependence"}


def _norm(text: str) -> str:
    return " ".join(text.split())


def _rule_of(bpj: BuiltProjection):
    """The ``_RULES`` entry a projection was built from, or None."""
    for rule in _RULES.values():
        model = rule[0]
        if (_norm(bpj.plastic_pre) == _norm(model.on_pre) and _norm(bpj.on_post) == _norm(model.on_post)
                and _norm(bpj.equations) == _norm(model.equations_for("amp"))):
            return rule
    return None


def _is_static(bpj: BuiltProjection) -> bool:
    return not bpj.plastic_pre and not bpj.on_post and _norm(bpj.equations) in ("w : amp", "w : weight")


def _stdp_spec(bpj: BuiltProjection) -> dict:
    """The STDPMechanism parameters run.py gets from hardware/pynn.py (ms, nA;
    A as exported, a fraction of w_max)."""
    spec, why = _pynn.stdp_spec(bpj, _rule_of(bpj), NA)
    if why:
        raise ModelError(why)
    return spec


def _problems(built: BuiltNetwork) -> list:
    """Every reason the emulator cannot run ``built`` (empty: it can)."""
    bad, rules = [], {}
    template = IF_curr_exp()
    for name, pop in built.populations.items():
        where = f"population '{name}'"
        if pop.kind == "poisson":
            bad.append(f"{where}: Poisson sources are not emulated (give a spike-source array)")
        elif pop.kind == "neuron" and (pop.model.name != "IF_curr_exp" or not pop.model.same_dynamics(template)):
            bad.append(f"{where}: neuron model '{pop.model.name}' is not the IF_curr_exp template "
                       f"(the emulator implements sPyNNaker's LIF with exponential current synapses)")
    bad += [f"current input on '{inp.population}' ('{inp.variable}'): only a constant i_offset is "
            f"emulated (give the population i_offset instead)" for inp in built.inputs]
    bad += [f"state monitor on '{mon.population}': '{var}' is not emulated (record {sorted(_STATE)})"
            for mon in built.state_monitors for var in mon.variables if var not in _STATE]
    for bpj in built.projections:
        where = f"projection '{bpj.name}'"
        post = built.populations[bpj.post]
        if post.kind != "neuron" or post.model.name != "IF_curr_exp":
            continue            # reported with the population
        if bpj.target not in _TARGETS:
            bad.append(f"{where}: drives '{bpj.target}', not a synapse type (isyn_exc, isyn_inh)")
            continue
        if bpj.on_pre != f"{bpj.target}_post += w":
            bad.append(f"{where}: custom on_pre={bpj.on_pre!r} (SpiNNaker adds the weight)")
            continue
        w = np.asarray(bpj.w, float)
        inh = bpj.target == "isyn_inh"
        if w.size and (np.any(w > 0) if inh else np.any(w < 0)):
            bad.append(f"{where}: {'positive' if inh else 'negative'} weights on the "
                       f"{'inhibitory' if inh else 'excitatory'} synapse type (SpiNNaker stores |w|; "
                       f"the synapse type gives the sign)")
        if _is_static(bpj):
            continue
        if _rule_of(bpj) is None:
            bad.append(f"{where}: synapse model is neither static nor one of {sorted(_RULES)}")
            continue
        if inh:
            bad.append(f"{where}: plastic inhibitory projections are not emulated")
            continue
        try:
            spec = _stdp_spec(bpj)
        except ModelError as e:
            bad.append(f"{where}: {e}")
            continue
        if spec["w_min"] < 0 or spec["w_max"] < spec["w_min"]:
            bad.append(f"{where}: STDP needs 0 <= w_min <= w_max (weights are unsigned), got "
                       f"[{spec['w_min']}, {spec['w_max']}] nA")
        # sPyNNaker merges the plastic projections into one post population into one rule
        if rules.setdefault(bpj.post, spec) != spec:
            bad.append(f"{where}: the plastic projections into '{bpj.post}' have different rules or "
                       f"parameters (sPyNNaker needs one rule per population)")
    return bad


def _check(built: BuiltNetwork) -> BuiltNetwork:
    bad = _problems(built)
    if bad:
        raise ModelError(f"the SpiNNaker emulator cannot run {len(bad)} part(s) of the network:\n  - "
                         + "\n  - ".join(bad))
    return built


# ----------------------------------------------------------------- neuron constants
def _neuron_constants(pop: BuiltPopulation, dt: float, fixed: bool = True) -> dict:
    """What sPyNNaker's core holds for a population, one value per neuron: the
    parameters run.py passes (tau_refrac - dt) as the host writes them (S1615)
    and what neuron_model_initialise / decay_and_init derive from them.
    ``fixed=False``: the same unrounded, in float64 (the ``arithmetic="float64"`` twin)."""
    n, where = pop.size, f"population '{pop.name}'"
    tau_refrac = max(pop.refractory * MS - dt * MS, 0.0)          # run.py, on NEST and SpiNNaker
    if fixed:
        ts = int(s1615(dt * MS, "time step"))
        enc, div, expk, expulr, ceil = s1615, _kdivk, _expk, _expulr, _ceil_accum

        def init(tau, decay):
            return np.minimum((_kdivk(tau, ts) * (U032 - 1 - decay)) >> 15, U032 - 1)
    else:
        ts = dt * MS
        enc, div, expk, expulr = (lambda x, _: np.asarray(x, np.float64)), np.divide, np.exp, np.exp

        def ceil(x):
            return np.ceil(np.round(x, 9)).astype(np.int64)

        def init(tau, decay):
            return tau / ts * (1 - decay)
    c = {"ts": ts}
    for name, factor in _LIF:
        c[name] = enc(np.broadcast_to(np.asarray(pop.params[name], float) * factor, (n,)), f"{where} {name}")
    for name in ("c_m", "tau_m", "tau_syn_E", "tau_syn_I"):
        if np.any(c[name] <= 0):
            raise ModelError(f"{where}: {name} is 0 in s16.15 (too small for SpiNNaker)")
    c["tau_refrac"] = np.full(n, enc(tau_refrac, f"{where} tau_refrac"))
    c["R"] = div(c["tau_m"], c["c_m"])
    c["exp_TC"] = expk(-div(ts, c["tau_m"]))
    c["T_refract"] = ceil(div(c["tau_refrac"], ts))
    for syn, tau in (("exc", "tau_syn_E"), ("inh", "tau_syn_I")):
        c[f"{syn}_decay"] = expulr(-div(ts, c[tau]))
        c[f"{syn}_init"] = init(c[tau], c[f"{syn}_decay"])
    return c


# ----------------------------------------------------------------- weight scaling
def _running_stats(items) -> tuple:
    """RunningStats.add_items over (mean, variance, n) items, in sPyNNaker's
    float operations: (mean, variance, n)."""
    mean, mean_2, count = 0.0, 0.0, 0
    for m, var, n in items:
        if n > 0:
            new_n, delta = count + n, m - mean
            new_mean = (count * mean + n * m) / new_n
            mean_2 = mean_2 + var * (n - 1.0) + delta * delta * count * n / new_n
            count, mean = new_n, new_mean
    return mean, 0.0 if count <= 1 else mean_2 / (count - 1.0), count


def _upper_bound(w_mean, w_std, rate, n_in, dt, sigma):
    """_Stats._ring_buffer_expected_upper_bound (Poisson input, mean + sigma SD)."""
    from scipy import special
    lam = float(n_in * rate) * dt
    poisson_var = lam * w_mean ** 2
    upper = int(round(lam + POISSON_SIGMA_SUMMATION_LIMIT * math.sqrt(lam)))
    w_var = 0.0
    if w_std > 0:
        lngamma = special.gammaln(1 + upper)
        gammai = special.gammaincc(1 + upper, lam)
        big = math.log(lam) * upper - lngamma
        if -701.0 < big < 701.0 and big != 0.0:
            w_var = math.exp(-lam + math.log(lam) + 2.0 * math.log(w_std)
                             + math.log(math.exp(lam) * gammai - math.exp(big)))
    return lam * w_mean + sigma * math.sqrt(poisson_var + w_var)


def _shift_of(w_max_nA: float) -> int:
    """get_ring_buffer_shifts: ceil(log2 W), one more on an exact power of two."""
    p = 0 if w_max_nA <= 0 else int(math.ceil(max(0.0, math.log2(w_max_nA))))
    return p + 1 if 2 ** p <= w_max_nA else p


def weight_scaling(network) -> dict:
    """sPyNNaker's weight scaling per (post population, receptor) of a network.

    Returns ``{(post, "exc" | "inh"): {...}}`` with ``shift`` (ring-buffer left
    shift), ``estimate`` ("max": single delay per projection, the worst case;
    "stats": sPyNNaker's Poisson estimate), ``max_expected_nA`` (its W),
    ``resolution_nA`` (one weight LSB, 2**(shift-15) nA), ``max_weight_nA``
    (65535 LSB: the largest weight and ring-buffer sum), and per incoming
    projection ``w16`` (the stored 16-bit weights), ``w`` (them back in SI,
    spikemem's signs), ``max_error_nA`` and ``mean_error_nA``.
    """
    built = built_network(network)
    dt = built.dt
    groups: dict = {}
    for bpj in built.projections:
        post = built.populations[bpj.post]
        if post.kind != "neuron" or bpj.target not in _TARGETS or not bpj.i.size:
            continue
        groups.setdefault((bpj.post, RECEPTORS[_TARGETS[bpj.target]]), []).append(bpj)
    spikes_per_tick = max(1.0, SPIKES_PER_SECOND * dt)
    out = {}
    for key, projs in groups.items():
        weights, delays = [], []              # (mean, variance, max fan-in) per projection
        total = biggest = 0.0
        for bpj in projs:
            w = np.abs(np.asarray(bpj.w, float)) * NA
            n_conns = int(np.bincount(bpj.j).max())
            w_mean, w_var, w_max = float(w.mean()), float(w.var()), float(w.max())
            if not _is_static(bpj) and _rule_of(bpj) is not None:   # STDP: may all grow to w_max
                w_max = max(w_max, _stdp_spec(bpj)["w_max"])
                w_mean, w_var = w_max, 0.0
            weights.append((w_mean, w_var, n_conns))
            biggest = max(biggest, w_max)
            # FromListConnector's delays: rint(d / ts) * ts in ms, then numpy.var -- not exactly 0
            # for some counts of equal delays (0.1 ms x 3: 1.9e-34), and then sPyNNaker (and this)
            # takes the Poisson estimate
            delays.append((0.0, float(np.var(bpj.delay.astype(np.float64) * (round(dt * 1e6) / 1e3))), n_conns))
            total += spikes_per_tick * w_max * n_conns
        if _running_stats(delays)[1] == 0.0:
            estimate, w_exp = "max", max(total, biggest)
        else:
            mean, var, n_in = _running_stats(weights)
            w_exp = _upper_bound(mean, math.sqrt(var), SPIKES_PER_SECOND, n_in, dt, RING_BUFFER_SIGMA)
            estimate, w_exp = "stats", max(min(w_exp, total), biggest)
        shift = _shift_of(w_exp)
        res = 2.0 ** (shift - 15)
        entry = {"shift": shift, "estimate": estimate, "max_expected_nA": w_exp, "resolution_nA": res,
                 "max_weight_nA": 0xFFFF * res, "projections": {}}
        sign = -1.0 if key[1] == "inh" else 1.0
        for bpj in projs:
            w = np.abs(np.asarray(bpj.w, float)) * NA
            w16 = np.rint(w * 2.0 ** (15 - shift)).astype(np.int64) & 0xFFFF
            err = np.abs(w16 * res - w)
            entry["projections"][bpj.name] = {
                "w16": w16.astype(np.uint16), "w": sign * w16 * res / NA,
                "max_error_nA": float(err.max()), "mean_error_nA": float(err.mean())}
        out[key] = entry
    return out


# ----------------------------------------------------------------- quantisation report
@dataclass
class SpiNNakerQuantization:
    """What the board holds for a network: per population the fixed-point
    constants (``_neuron_constants``), per (post, receptor) the weight scaling,
    and the parameters before and after (``errors``)."""
    dt: float
    populations: dict
    weights: dict
    errors: list = field(default_factory=list)


def quantize(network) -> SpiNNakerQuantization:
    """sPyNNaker's numbers for ``network`` and a ``QuantizationError`` per
    parameter (the neuron with the largest error where values differ):
    time constants and v parameters as S1615, exp_TC (s16.15), the synaptic
    decay and init factors (u0.32), R_membrane, T_refract (from run.py's
    tau_refrac - dt), and per projection the worst and the mean weight after
    16-bit scaling."""
    built = _check(built_network(network))
    dt = built.dt
    pops, errors = {}, []

    def row(where, parameter, value, quantized, unit=""):
        quantized = np.asarray(quantized, float)
        value = np.broadcast_to(np.asarray(value, float), quantized.shape)
        k = int(np.argmax(np.abs(quantized - value))) if quantized.ndim else 0
        errors.append(QuantizationError(where, parameter, float(np.ravel(value)[k]),
                                        float(np.ravel(quantized)[k]), unit))

    row("network", "dt (time_step)", dt, int(s1615(dt * MS)) / ONE / MS, "s")
    for name, pop in built.populations.items():
        if pop.kind != "neuron":
            continue
        c = pops[name] = _neuron_constants(pop, dt)
        exact = _neuron_constants(pop, dt, fixed=False)              # the same unrounded
        where = f"population '{name}'"
        for key, label, scale, si, unit in (
                *((k, k, ONE, f, u) for (k, f), u in zip(_LIF, ("F", "s", "s", "s", "V", "V", "V"))),
                ("R", "R_membrane", ONE, 1e-6, "ohm"), ("exp_TC", "exp_TC (s16.15)", ONE, 1, ""),
                *((f"{syn}_{k}", f"{syn}_{k} (u0.32)", U032, 1, "") for syn in RECEPTORS for k in ("decay", "init"))):
            row(where, label, exact[key] / si, c[key] / scale / si, unit)
        row(where, "tau_refrac - dt (T_refract steps)", max(pop.refractory - dt, 0.0), c["T_refract"] * dt, "s")
        row(where, "v (initial)", pop.init["v"], s1615(pop.init["v"] * MV) / ONE / MV, "V")
        row(where, "i_offset", pop.init["i_offset"], s1615(pop.init["i_offset"] * NA) / ONE / NA, "A")
    weights = weight_scaling(built)
    for entry in weights.values():
        for pname, pw in entry["projections"].items():
            w = np.asarray(next(p for p in built.projections if p.name == pname).w, float)
            k = int(np.argmax(np.abs(pw["w"] - w)))
            where = f"projection '{pname}'"
            errors.append(QuantizationError(where, "w (worst synapse)", float(w[k]), float(pw["w"][k]), "A"))
            errors.append(QuantizationError(where, "w (mean)", float(w.mean()), float(pw["w"].mean()), "A"))
    return SpiNNakerQuantization(dt, pops, weights, errors)


# ----------------------------------------------------------------- the emulator
class SpiNNakerSimulation(Simulation):
    """sPyNNaker 7.4.1's neuron core running hardware/pynn.py's run.py, in
    integers (backend "spinnaker").

    ``arithmetic``: "fixed" (the core's integers) or "float64" (the same
    algorithm and step order in float64, unrounded weights and tables: what
    is left of the difference to numba is the algorithm, not the rounding).
    State between runs is kept; ``get`` / ``set`` read and write v, isyn_exc,
    isyn_inh, i_offset, the LIF parameters and the weights ``w`` in SI units
    (quantised on the way in).
    """

    def __init__(self, built: BuiltNetwork, arithmetic: str = "fixed"):
        if arithmetic not in ("fixed", "float64"):
            raise ModelError(f"spinnaker emulator: arithmetic must be 'fixed' or 'float64', got {arithmetic!r}")
        _check(built)
        t0 = time.perf_counter()
        self.built, self.arithmetic, self.step = built, arithmetic, 0
        fixed = arithmetic == "fixed"
        dtype = np.int64 if fixed else np.float64
        self._unit = float(ONE) if fixed else 1.0       # state units per mV / nA
        neurons = [p for p in built.populations.values() if p.kind == "neuron"]
        sources = [p for p in built.populations.values() if p.kind == "spikes"]
        starts = np.cumsum([0] + [p.size for p in neurons + sources])
        self.offset = {p.name: int(o) for p, o in zip(neurons + sources, starts)}
        self.N, self.G = int(starts[len(neurons)]), int(starts[-1])
        # neuron state (rows of _STATE, isyn_inh positive as the core holds it) and constants
        self.params = {p.name: dict(p.params) for p in neurons}
        self.X = np.zeros((len(_STATE), self.N), dtype)
        self.C = np.zeros((len(_CONSTS), self.N), dtype)
        self.T_refract, self.timer = np.zeros(self.N, np.int64), np.zeros(self.N, np.int64)
        for pop in neurons:
            for var, row in _STATE.items():
                self.X[row, self._slice(pop.name)] = self._state(pop.init[var] * _FACTOR[var],
                                                                 f"population '{pop.name}' {var}")
            self._derive(pop)
        # synapses, spike sources, recording
        self.scaling = weight_scaling(built)
        self.shift = np.zeros((2, self.N), np.int64)
        for (post, receptor), entry in self.scaling.items():
            self.shift[RECEPTORS.index(receptor), self._slice(post)] = entry["shift"]
        self._build_synapses()
        self._source_spikes = {p.name: (p.spike_steps.astype(np.int64), p.spike_ids.astype(np.int64))
                               for p in sources}
        self._merge_sources()
        self._spikes = {name: ([], []) for name in built.spike_monitors}
        self._states = [[] for _ in built.state_monitors]
        self._setup_monitors()
        self.spiked = np.zeros(max(self.G, 1), np.int64)
        cap = max(self.G, SPIKE_BUFFER)
        self.sp_step, self.sp_gid, self.sp_n = np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(1, np.int64)
        self.timings = {"build_s": time.perf_counter() - t0, "run_s": 0.0}

    def _slice(self, name):
        o = self.offset[name]
        return slice(o, o + self.built.populations[name].size)

    def _state(self, x, where):
        """A value in mV / nA as the core holds it (s16.15, or float64)."""
        return s1615(x, where) if self.arithmetic == "fixed" else np.asarray(x, np.float64)

    def _derive(self, pop: BuiltPopulation):
        """(Re)compute a population's constants from its SI parameters."""
        view = BuiltPopulation(pop.name, pop.size, pop.kind, pop.model, pop.parsed, self.params[pop.name],
                               pop.init, pop.refractory)
        c = _neuron_constants(view, self.built.dt, self.arithmetic == "fixed")
        sl = self._slice(pop.name)
        self.C[:, sl] = [c[k] for k in _CONSTS]
        self.T_refract[sl] = c["T_refract"]

    def _build_synapses(self):
        """Every synapse in rows by presynaptic neuron (CSR over neurons and
        sources), a projection's synapses in their order within a row."""
        built, fixed = self.built, self.arithmetic == "fixed"
        cols = {k: [] for k in ("pre", "post", "type", "delay", "w", "rule", "row")}
        self._proj_index = {}           # name -> [positions in the rows, sign, resolution (A), max weight (A)]
        rules, rule_ids, self.post_rule = [], {}, np.full(self.N, -1, np.int64)
        n_rows = 0
        for bpj in built.projections:
            n, r = bpj.i.size, _TARGETS[bpj.target]
            entry = self.scaling.get((bpj.post, RECEPTORS[r]))
            if not fixed:
                w, res, w_max = np.abs(np.asarray(bpj.w, np.float64)) * NA, 1.0 / NA, np.inf
            elif n:
                w = entry["projections"][bpj.name]["w16"].astype(np.int64)
                res, w_max = entry["resolution_nA"] / NA, entry["max_weight_nA"] / NA
            else:
                w, res, w_max = np.zeros(0, np.int64), 0.0, 0.0
            rid, rows = -1, np.full(n, -1, np.int64)
            if n and not _is_static(bpj):
                spec = _stdp_spec(bpj)
                rid = rule_ids.setdefault(tuple(sorted(spec.items())), len(rules))
                if rid == len(rules):
                    rules.append(self._rule(spec))
                self.post_rule[self._slice(bpj.post)] = rid
                rows = n_rows + bpj.i.astype(np.int64)         # a row per pre neuron and projection
                n_rows += built.populations[bpj.pre].size
            for k, v in (("pre", self.offset[bpj.pre] + bpj.i), ("post", self.offset[bpj.post] + bpj.j),
                         ("type", np.full(n, r)), ("delay", bpj.delay), ("w", w), ("rule", np.full(n, rid)),
                         ("row", rows)):
                cols[k].append(np.asarray(v, np.int64 if k != "w" else w.dtype))
            self._proj_index[bpj.name] = [None, -1.0 if r else 1.0, res, w_max]
        cols = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in cols.items()}
        order = np.argsort(cols["pre"], kind="stable")
        pos, start = np.empty_like(order), 0
        pos[order] = np.arange(order.size)
        for bpj in built.projections:
            self._proj_index[bpj.name][0] = pos[start:start + bpj.i.size]
            start += bpj.i.size
        self.indptr = np.zeros(self.G + 1, np.int64)
        np.cumsum(np.bincount(cols["pre"], minlength=self.G), out=self.indptr[1:])
        self.syn_post, self.syn_type, self.syn_delay, self.syn_rule, self.syn_row = (
            cols[k][order] for k in ("post", "type", "delay", "rule", "row"))
        dtype = self.X.dtype
        self.syn_w = cols["w"][order].astype(dtype)
        self.pre_time, self.pre_trace = np.zeros(max(n_rows, 1), np.int64), np.zeros(max(n_rows, 1), dtype)
        self.ph_count = np.zeros(self.N, np.int64)
        self.ph_time = np.zeros((self.N, MAX_POST_EVENTS), np.int64)
        self.ph_trace = np.zeros((self.N, MAX_POST_EVENTS), dtype)
        nr, size = max(len(rules), 1), max([len(t) for r in rules for t in r[:2]] + [1])
        self.lutp, self.lutm = np.zeros((nr, size), dtype), np.zeros((nr, size), dtype)
        self.rule_c = np.zeros((nr, 4), dtype)
        for k, (lutp, lutm, consts) in enumerate(rules):
            self.lutp[k, :len(lutp)], self.lutm[k, :len(lutm)], self.rule_c[k] = lutp, lutm, consts
        self.RL = int(cols["delay"].max(initial=1)) + 1
        self.ring = np.zeros((2, self.N, self.RL), dtype)

    def _rule(self, spec: dict):
        """(LUT+, LUT-, [A+, A-, w_min, w_max]) as the core holds them for the
        STDPMechanism run.py builds on SpiNNaker: A = A * w_max, in nA."""
        dt_ms = self.built.dt * MS
        consts = [spec["A_plus"] * spec["w_max"], spec["A_minus"] * spec["w_max"], spec["w_min"], spec["w_max"]]
        taus = (spec["tau_plus"], spec["tau_minus"])
        if self.arithmetic == "float64":
            return [np.exp(-np.arange(_exp_lut(dt_ms, tau).size) * dt_ms / tau) for tau in taus] + [consts]
        return [_exp_lut(dt_ms, tau) for tau in taus] + [[int(s1615(x, "STDP parameter")) for x in consts]]

    def _merge_sources(self):
        steps, gids = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for name, (s, i) in self._source_spikes.items():
            keep = s >= self.step
            steps.append(s[keep])
            gids.append(self.offset[name] + i[keep])
        steps, gids = np.concatenate(steps), np.concatenate(gids)
        order = np.lexsort((gids, steps))
        self.src_step, self.src_gid, self.src_ptr = steps[order], gids[order], np.zeros(1, np.int64)

    def _setup_monitors(self):
        gid, var, self.rec_lo, self.rec_hi = [], [], [], []
        for mon in self.built.state_monitors:
            self.rec_lo.append(len(gid))
            for v in mon.variables:
                gid += (self.offset[mon.population] + np.asarray(mon.ids, np.int64)).tolist()
                var += [_STATE[v]] * len(mon.ids)
            self.rec_hi.append(len(gid))
        self.rec_gid, self.rec_var, self.rec_lo, self.rec_hi = (
            np.asarray(x, np.int64) for x in (gid, var, self.rec_lo, self.rec_hi))
        self.rec_every = np.asarray([mon.every for mon in self.built.state_monitors], np.int64)
        self.rec_cnt = np.zeros(len(self.rec_every), np.int64)
        self.rec_scale = 1.0 / (np.array([_FACTOR[v] for v in _STATE]) * self._unit)

    def run(self, duration, progress=None):
        n_steps = int(round(float(duration) / self.built.dt))
        if n_steps < 1:
            raise ModelError(f"duration {duration} s is shorter than one time step")
        end = self.step + n_steps
        n_rec = np.zeros(len(self.rec_every), np.int64)      # records of this run per monitor
        for k, every in enumerate(self.rec_every):
            first = -(-self.step // every) * every           # the first recorded step from now on
            n_rec[k] = max(0, -(-(end - first) // every))
        offs = np.concatenate([[0], np.cumsum(n_rec * (self.rec_hi - self.rec_lo))]).astype(np.int64)
        rec_buf = np.zeros(int(offs[-1]))
        self.rec_cnt[:] = 0
        t0 = time.perf_counter()
        while self.step < end:
            self.step = int(_kernel(
                self.step, end, self.RL, STDP_ONE if self.arithmetic == "fixed" else 1.0,
                self.X, self.C, self.T_refract, self.timer, self.shift, self.ring,
                self.post_rule, self.ph_count, self.ph_time, self.ph_trace,
                self.src_step, self.src_gid, self.src_ptr, self.indptr, self.syn_post, self.syn_type,
                self.syn_delay, self.syn_w, self.syn_rule, self.syn_row, self.pre_time, self.pre_trace,
                self.lutp, self.lutm, self.rule_c, self.spiked, self.sp_step, self.sp_gid, self.sp_n,
                self.rec_every, self.rec_lo, self.rec_hi, self.rec_gid, self.rec_var, self.rec_scale,
                offs, self.rec_cnt, rec_buf))
            self._flush_spikes()
        for k, mon in enumerate(self.built.state_monitors):
            self._states[k].append(rec_buf[offs[k]:offs[k + 1]].reshape(n_rec[k], len(mon.variables), len(mon.ids)))
        self.timings["run_s"] += time.perf_counter() - t0

    def _flush_spikes(self):
        n = int(self.sp_n[0])
        steps, gids = self.sp_step[:n], self.sp_gid[:n]
        for name in self.built.spike_monitors:
            o, size = self.offset[name], self.built.populations[name].size
            sel = (gids >= o) & (gids < o + size)
            self._spikes[name][0].append(steps[sel].copy())
            self._spikes[name][1].append(gids[sel] - o)
        self.sp_n[0] = 0

    def result(self) -> Result:
        import numba
        from spikemem import __version__
        dt = self.built.dt
        meta = {"backend": "spinnaker-emulator", "target": TARGET, "arithmetic": self.arithmetic,
                "versions": {"spikemem": __version__, "numba": numba.__version__, "numpy": np.__version__},
                "seed": self.built.seed, "dt": dt, "duration": self.step * dt,
                "network_hash": self.built.hash, "timings": dict(self.timings),
                "ring_buffer_shifts": {f"{post}.{rec}": e["shift"] for (post, rec), e in self.scaling.items()}}
        return Result(self._spike_trains(self._spikes), self._traces(self._states), meta)

    # --- state between runs (checked by Simulation)
    def _get(self, owner, var):
        if isinstance(owner, BuiltPopulation):
            if var in _STATE:
                return self.X[_STATE[var], self._slice(owner.name)] / self._unit / _FACTOR[var]
            factor = dict(_LIF)[var]
            return self._state(np.asarray(self.params[owner.name][var], float) * factor, var) / self._unit / factor
        if var != "w":
            raise ModelError(f"projection '{owner.name}': the SpiNNaker emulator keeps only the weight 'w' "
                             f"(sPyNNaker's STDP traces live per neuron, not as '{var}')")
        pos, sign, res, _ = self._proj_index[owner.name]
        return sign * self.syn_w[pos] * res

    def _set(self, owner, var, values):
        if isinstance(owner, BuiltPopulation):
            if var in _STATE:
                self.X[_STATE[var], self._slice(owner.name)] = self._state(
                    np.asarray(values) * _FACTOR[var], f"'{owner.name}'.{var}")
                return
            old = self.params[owner.name][var]
            self.params[owner.name][var] = values
            try:
                self._derive(owner)
            except ModelError:
                self.params[owner.name][var] = old
                raise
            return
        if var != "w":
            raise ModelError(f"projection '{owner.name}': only 'w' can be set on the SpiNNaker emulator")
        pos, sign, res, w_max = self._proj_index[owner.name]
        w = np.asarray(values, float)
        if np.any(sign * w < 0):
            raise ModelError(f"'{owner.name}'.w: weights must be {'<= 0' if sign < 0 else '>= 0'} "
                             f"(the synapse type gives the sign on SpiNNaker)")
        if np.any(np.abs(w) > w_max * (1 + 1e-12)):
            raise ModelError(f"'{owner.name}'.w: {np.abs(w).max()} A exceeds the largest weight the "
                             f"ring-buffer shift chosen at build time can hold ({w_max} A)")
        if self.arithmetic == "fixed":
            self.syn_w[pos] = np.rint(np.abs(w) / res).astype(np.int64) if res else 0
        else:
            self.syn_w[pos] = np.abs(w) * NA

    def _set_spikes(self, pop, steps, ids):
        self._source_spikes[pop.name] = (np.asarray(steps, np.int64), np.asarray(ids, np.int64))
        self._merge_sources()


# ----------------------------------------------------------------- emulation report
def emulate(network, duration, **options) -> Emulation:
    """Run ``network`` for ``duration`` seconds on the emulator and on the
    numba engine (float64) and compare their spikes step for step (alignment
    0: both label a spike with the step its membrane crossed, see the module
    docstring). ``options`` go to ``SpiNNakerSimulation``."""
    return emulate_with(TARGET, "spinnaker", network, duration, **options)


def decomposition(network, duration, **options) -> dict:
    """Where the emulator parts from numba, in two steps: ``algorithm``
    compares numba (float64, exact integration) with the emulator's float64
    twin (sPyNNaker's step, refractoriness and threshold, no rounding);
    ``rounding`` compares that twin with the fixed-point emulator. Each is
    ``compare_spikes`` per population; ``total`` is numba against the emulator."""
    em = emulate(network, duration, **options)
    twin = SpiNNakerSimulation(network.build(), **{**options, "arithmetic": "float64"})
    twin.run(em.result.meta["duration"])
    twin = twin.result()
    dt = em.result.meta["dt"]
    return {"total": em.distance, "algorithm": compare_spikes(em.reference, twin, dt),
            "rounding": compare_spikes(twin, em.result, dt)}


def ca3_functional(**options):
    """The CA3 functional experiment (models/ca3_experiments.py) on the
    emulator with ``options``; returns (memory, [(cues, content) per operation])."""
    from spikemem.models import ca3_experiments as experiments
    from spikemem.models.ca3_cam import CA3Memory
    mem = CA3Memory(5, 10, backend="spinnaker")
    if options:
        mem.sim = SpiNNakerSimulation(mem.network.build(), **options)
    answers = []
    for kind, arg in experiments.FUNCTIONAL:
        answer = mem.learn(*arg) if kind == "learn" else getattr(mem, kind)(arg)
        answers.append((sorted(answer.cues), sorted(answer.content)))
    return mem, answers
