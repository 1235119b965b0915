"""The Loihi target: current-based LIF networks in Loihi's fixed-point formats.

The five verbs of ``spikemem.hardware.target``::

    check(network)            -> list[Violation]
    quantize(network)         -> LoihiNetwork (integers, plus QuantizationError rows)
    map(network)              -> Resources (cores and chips, Loihi 1; Loihi 2 as assumptions)
    export(network, path)     -> the NIR file written (CubaLIF nodes + the integers as metadata)
    emulate(network, duration)-> Emulation (the bit-accurate emulator beside numba in float64)

``LoihiSimulation`` (backend ``"loihi"``) runs the quantised network on the
integer emulator of ``hardware/loihi_emulator.py``; ``run_brian2_loihi`` runs
the same integers on brian2-loihi (Michaelis et al. 2020), against which the
emulator is cross-validated bit for bit.

From the float model to Loihi's recurrences
-------------------------------------------
spikemem's ``IF_curr_exp`` integrates exactly, per step of ``dt``:

    isyn  <- isyn + sum(w)                      (spikes arriving this step)
    v     <- v_rest + a (v - v_rest) + k isyn + kb i_offset
    isyn  <- b isyn
    a = exp(-dt/tau_m), b = exp(-dt/tau_syn),
    k  = tau_m tau_syn (a - b) / ((tau_m - tau_syn) c_m)    (dt a / c_m if equal)
    kb = tau_m (1 - a) / c_m

Loihi 1 (Davies et al. 2018; Lava's bit-accurate LIF; brian2-loihi) computes,
in 24-bit integers, u first and then v with the *new* u:

    u <- u (4096 - decay_u) / 4096 + sum(w_act)
    v <- v (4096 - decay_v) / 4096 + u + bias          (unless refractory)
    spike if v > vth_mant * 2**6; then v = 0, held for refractory - 1 steps

The exact model has the same shape once u is read as "what the current adds
to v in this step": u = S k isyn, w_act = S k w, v_loihi = S (v - v_reset),
decay_v = 4096 (1 - a), decay_u = 4096 (1 - b), with S the voltage scale
(Loihi units per volt), and

    bias = S (kb' i_offset + (1 - a') (v_rest - v_reset)),  a' = 1 - decay_v / 4096,
    kb' = tau_m (1 - a') / c_m   (so a constant i_offset settles at exactly R i_offset)

Loihi's 0 is the reset, so that a spike's ``v = 0`` is spikemem's
``v = v_reset``; the leak towards v_rest is then the leak towards 0 plus a
constant drive, v_rest + a (v - v_rest) = v_reset + a (v - v_reset) + (1 - a)
(v_rest - v_reset), which is exact. The drive takes Loihi's own decay a'
(not the float a), so that the quantised neuron still comes to rest at
v_rest and its only error is that of tau_m (with the float a it would rest
(1 - a) / (1 - a') (v_rest - v_reset) above the reset: CUBA at dt = 0.1 ms
would rest 0.23 mV high and, uncoupled, fire 6 % too fast instead of 2 %
too slow). With v_reset == v_rest the drive is 0 and the integers are
those of a model with no reset shift. Both hold v, bias included, while
refractory: spikemem's ``v`` is ``unless refractory`` (clamped at v_reset),
Loihi's (Lava's refractory LIF) adds the bias to non-refractory compartments
only. A current arriving at the start of a step acts on v in that same step
in both; the part of it that the exact solution spreads over the step (the
factor k) is folded into the weight once. What differs is only number format: decays on 12 bits (and truncated
towards zero at every step), weights on an 8-bit mantissa with one exponent
per projection, the threshold on 17 bits, the bias on a 13-bit mantissa with
a 3-bit exponent (its rounding is reported as a shift of v_rest where the
reset is not the rest, as an error of i_offset where it is). What cannot be
expressed is refused: a reset at or above the threshold (Loihi's threshold
is a positive distance above 0) and a bias that does not fit its format.
The price of the order is that u is not the current but its
one-step effect on v; reading Loihi's equations as Euler steps of the current
(u = isyn, ``v += dt/c_m u``) would be off by ``dt / (c_m k)``: 1.01 for CUBA
(tau_syn 5 ms at dt = 0.1 ms), but 4.4 and 13.4 for the CA3 layers, whose
0.3 ms synapses have mostly decayed within the 1 ms step. Two consequences
of the single u:
a population that receives both receptors needs ``tau_syn_E == tau_syn_I``
(Loihi would need a second compartment), and ``isyn_exc`` / ``isyn_inh``
are not separately observable -- ``get(pop, "u")`` returns their sum as it
stood after the last step's arrivals, in amperes.

Voltage scale: S is chosen per population, as large as the formats allow,
so that the threshold distance ``v_thresh - v_reset`` maps to 2**20 units
(threshold mantissa 2**14; ``headroom_bits=3``: v saturates only 8 threshold
distances from the reset). Large S matters because a weight's finest step is 64
units of u (the 6-bit shift): at dt = 0.1 ms a current's one-step effect is
small, and CUBA's excitatory weight gets a mantissa of 13 at 2**20. S is
smaller
when the largest one-step input (all incoming synapses of one neuron at once,
plastic ones at ``w_max``) would exceed 2**22 (half the 24-bit range), a
single weight would not fit an 8-bit mantissa with exponent 7, the bias
would not fit, or a v_rest below v_reset (where v settles) would lie more
than 2**22 units below 0. Where a plastic projection enters, S is lowered
further until ``w_max`` is exactly mantissa 255 (Loihi's learning engine clips at the
mantissa range, not at an arbitrary w_max) -- or raised, where that takes
an exponent below 0, which may leave the bias too large for its format.

Timing: the Loihi step is the network's dt (Loihi has no physical time; a
run at dt = 1 ms and one at 0.1 ms are the same integers if the decays are).
A spike at step s with a spikemem delay of D steps reaches u at step s + D,
which is Loihi's synaptic delay D - 1 (0..62).

Plasticity: Loihi's sum-of-products learning rule, evaluated every step
(learning epoch 1)::

    dw = A+ x1 y0 - A- y1 x0 + A- imp_y x0 y0

x0 / y0: a pre spike arrived / the post neuron fired (seen one step later)
in this step; x1 / y1: pre and post traces (7 bits; ``trace_impulse`` per
spike, saturating at 127; decaying by ``x (1 - 1/tau)`` per step with
stochastic rounding); the last term takes a post spike of the pre spike's own
step out of the depression, so that, as in spikemem, a pre and a post spike
in the same step count as pre-before-post only. ``dw`` is rounded away from
zero and added to the 8-bit mantissa, clipped to [0, 255]; A = mant * 2**exp
(8-bit mantissa). Accepted rules: ``stdp`` additive all-to-all (with or
without ``scale_by_w_max``) and ``spinnaker_stdp``; a pair moves the weight
by ``A`` (``A w_max``) times the trace, and tau becomes the integer nearest
``1 / (1 - exp(-dt/tau))`` (CA3's 3 ms at dt = 1 ms: 4 steps, i.e. 3.48 ms).
Not mapped: nearest-neighbour pairing, multiplicative dependence, triplet and
rate rules, plastic inhibitory projections. What differs from spikemem's own
statements: Loihi sees a pre spike when it *arrives*, so a delay of D steps
shortens the lag by D - 1 (none for the usual one-step delay); traces
saturate and are rounded (one trace quantum times A is the smallest weight
change: 0.56 nA for CA3's A = 6 w_max); ``spinnaker_stdp``'s deferral of the
change to the next pre spike and its cancellation of lag-0 depression have
no counterpart -- the weight changes at once. The order of the trace
rounding follows brian2-loihi (see ``loihi_emulator``).

Limits of Loihi 1 used here (Davies et al., IEEE Micro 38(1), 2018; NxSDK /
Lava bit-accurate models; brian2-loihi's parameter checks): refractory period
1..63 steps (6 bits), synaptic delay 0..62 steps, weight mantissa 8 bits
(0..255 excitatory, -256..0 inhibitory), weight exponent -8..7 (weights
scale 2**(6 + exp)), |w_act| < 2**21, threshold mantissa 0..131071 (17 bits,
shifted left by 6), bias mantissa -4096..4095 with exponent 0..7, decays
0..4096 (u; Loihi 1's ds_offset allows 4096) and 0..4095 (v), traces 0..127.
u wraps around on overflow and v saturates at +-(2**23 - 1), as in Lava's
bit-accurate LIF; the emulator counts both (``overflows``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
from brian2 import amp

from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork, BuiltPopulation, BuiltProjection
from spikemem.neurons import IF_curr_exp
from spikemem.plasticity import spinnaker_stdp, stdp
from spikemem.simulation import Simulation

from .loihi_emulator import Emulator, w_act_array
from .target import (Emulation, QuantizationError, Resources, Violation, built_network,
                     emulate_with, error_table, require, violations_error)

NAME = "loihi"
BACKEND = "loihi"                # the bit-accurate emulator, as a simulation backend

# --- Loihi 1 formats and limits (see the module docstring for the sources)
DECAY_ONE = 4096
DECAY_U_MAX, DECAY_V_MAX = 4096, 4095
REFRACTORY_MAX = 63
DELAY_MAX = 62                   # Loihi delay; spikemem's delay is this + 1 steps
W_EXP_MAX = 7                    # exponents -8..7; negative ones add nothing (the 6-bit shift)
W_MANT = {"exc": (0, 255), "inh": (-256, 0)}
VTH_MANT_MAX = (1 << 17) - 1
BIAS_MANT_MAX, BIAS_EXP_MAX = 4095, 7
STATE_MAX = (1 << 23) - 1
TRACE_MAX = 127
RULE_MANT_MAX, RULE_EXP_MIN, RULE_EXP_MAX = 127, -7, 9     # constants of dw: m * 2**e

# --- the voltage scale's targets
HEADROOM_BITS = 3                # threshold distance -> 2**(23 - 3) units (mantissa 2**14)
INPUT_UNITS = 1 << 22            # largest one-step input of a neuron
W_SINGLE_MAX = 255 << (6 + W_EXP_MAX)

# --- resources (Loihi 1: Davies et al. 2018)
CORES_PER_CHIP = 128
COMPARTMENTS_PER_CORE = 1024
SYNAPSE_BITS_PER_CORE = 128 * 1024 * 8
AXONS_IN_PER_CORE = 4096
AXONS_OUT_PER_CORE = 4096
LOIHI2_COMPARTMENTS_PER_CORE = 8192
LOIHI2_SYNAPSES_PER_CORE = 120_000_000 // 128

#: accepted synapse models: (on_pre, on_post) statements of the templates -> rule name
RULES = {(m.on_pre.strip(), m.on_post.strip()): m.name
         for m in (stdp(), stdp(scale_by_w_max=True), spinnaker_stdp())}
RULE_AMPLITUDE = {"stdp_additive_all": "", "stdp_additive_all_wmax_scaled": "*w_max",
                  "spinnaker_stdp": "*w_max"}


# =================================================================== the quantised network
@dataclass
class LoihiLearning:
    """Loihi's pair rule ``dw = A+ x1 y0 - A- y1 x0 + A- imp_y x0 y0`` with
    A = mant * 2**exp (the last term: a post spike in the pre spike's own step
    does not depress, spikemem's pre-before-post convention)."""
    rule: str                        # the spikemem rule it stands for
    a_plus_mant: int
    a_plus_exp: int
    a_minus_mant: int
    a_minus_exp: int
    x_impulse: int
    x_tau: int                       # trace decays by x * (1 - 1/tau) per step
    y_impulse: int
    y_tau: int
    w_lo: int = 0
    w_hi: int = 255

    @property
    def dw(self) -> str:
        """The rule in Loihi's (and brian2-loihi's) notation."""
        return (f"{self.a_plus_mant}*2^{self.a_plus_exp}*x1*y0"
                f"-{self.a_minus_mant}*2^{self.a_minus_exp}*y1*x0"
                f"+{self.a_minus_mant}*2^{self.a_minus_exp}*{self.y_impulse}*x0*y0")


@dataclass
class LoihiPopulation:
    """A population in Loihi's numbers. Neurons: per-compartment integer arrays
    and the scale S (Loihi units per volt); sources: their spikes or rates."""
    name: str
    size: int
    kind: str                        # "neuron", "spikes", "poisson"
    scale: float = 0.0
    v_rest: np.ndarray | None = None     # volts: where the leak goes (through the bias)
    v_reset: np.ndarray | None = None    # volts: Loihi's 0 (v = v_reset + v_loihi / S)
    drive: np.ndarray | None = None      # volts per step of the bias that moves the rest to v_rest
    k: np.ndarray | None = None          # volts per step per ampere of synaptic current
    kb: np.ndarray | None = None         # volts per step per ampere of i_offset
    decay_u: np.ndarray | None = None
    decay_v: np.ndarray | None = None
    vth_mant: np.ndarray | None = None
    bias_mant: np.ndarray | None = None
    bias_exp: np.ndarray | None = None
    refractory: np.ndarray | None = None
    init_v: np.ndarray | None = None
    init_u: np.ndarray | None = None
    spike_steps: np.ndarray | None = None
    spike_ids: np.ndarray | None = None
    rate: np.ndarray | None = None


@dataclass
class LoihiProjection:
    name: str
    pre: str
    post: str
    i: np.ndarray
    j: np.ndarray
    w_mant: np.ndarray               # int64, 8-bit mantissas
    w_exp: int                       # weights scale 2**(6 + w_exp)
    sign: str                        # "exc" or "inh" (Loihi's synapse sign mode)
    delay: np.ndarray                # Loihi delay d: the spike acts d + 1 steps later
    learning: LoihiLearning | None = None


@dataclass
class LoihiNetwork:
    dt: float
    seed: int
    populations: dict
    projections: list
    spike_monitors: list
    errors: list = field(default_factory=list)      # QuantizationError rows
    notes: list = field(default_factory=list)

    def error_table(self) -> str:
        """The quantisation errors as a Markdown table."""
        return error_table(self.errors)


# =================================================================== planning
def _per_neuron(value, n) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(value, dtype=float), (n,)))


def _gain(dt, tau_m, tau_s, c_m):
    """k: volts added to v over one step per ampere of synaptic current present
    at the step's start (exact integration of the two exponentials)."""
    a, b = np.exp(-dt / tau_m), np.exp(-dt / tau_s)
    same = np.isclose(tau_m, tau_s, rtol=1e-9, atol=0)
    diff = np.where(same, 1.0, tau_m - tau_s)
    return np.where(same, dt * a / c_m, tau_m * tau_s * (a - b) / (diff * c_m))


def _mant_exp(value, mant_max, exp_lo, exp_hi):
    """(mantissa, exponent): the smallest exponent whose rounded mantissa fits
    ``mant_max``; None when even ``exp_hi`` overflows."""
    for e in range(exp_lo, exp_hi + 1):
        m = int(np.rint(value / 2.0 ** e))
        if abs(m) <= mant_max:
            return m, e
    return None


def _rest_drive(decay_v, v_rest, v_reset):
    """Volts per step that carry the leak's target from v_reset (Loihi's 0) to
    v_rest: v_rest + a'(v - v_rest) = v_reset + a'(v - v_reset) + (1 - a')(v_rest
    - v_reset) with a' = 1 - decay_v/4096, the decay Loihi applies. Exactly 0
    (no bias) where v_reset == v_rest."""
    return np.where(v_rest == v_reset, 0.0, np.asarray(decay_v, float) / DECAY_ONE * (v_rest - v_reset))


def _effective_tau(dt, decay):
    """The time constant a Loihi decay stands for: x * (1 - decay/4096) per step."""
    f = 1.0 - np.asarray(decay, float) / DECAY_ONE
    with np.errstate(divide="ignore"):
        return np.where(f <= 0, 0.0, np.where(f >= 1, np.inf, -dt / np.log(np.clip(f, 1e-300, 1))))


class _Plan:
    """Everything ``check`` finds and, when it finds nothing, the ``LoihiNetwork``."""

    def __init__(self, built: BuiltNetwork, trace_impulse: int = 64, headroom_bits: int = HEADROOM_BITS):
        self.built, self.dt = built, built.dt
        self.violations: list[Violation] = []
        self.errors: list[QuantizationError] = []
        self.notes = [f"the Loihi step is the network dt ({built.dt:g} s)",
                      "refractory periods and delays are whole steps, as on every spikemem backend (exact)"]
        if not (isinstance(trace_impulse, (int, np.integer)) and 1 <= trace_impulse <= TRACE_MAX):
            raise ModelError(f"trace_impulse must be an integer in 1..{TRACE_MAX}, got {trace_impulse!r}")
        self.trace_impulse = int(trace_impulse)
        if not (isinstance(headroom_bits, (int, np.integer)) and 0 <= headroom_bits <= 16):
            raise ModelError(f"headroom_bits must be an integer in 0..16, got {headroom_bits!r}")
        self.threshold_units = 1 << (23 - int(headroom_bits))
        self.pops: dict[str, LoihiPopulation] = {}
        self.neuron: dict[str, dict] = {}       # neuron population -> its float parameters
        self.rules: dict[str, str] = {}         # plastic projection -> rule
        self._monitors()
        self._inputs()
        for pop in built.populations.values():
            self._population(pop)
        for proj in built.projections:
            self._projection_rule(proj)
        for name in self.neuron:
            self._scale(name)
        self.projs = [self._projection(proj) for proj in built.projections]
        self.lnet = None
        if not self.violations:
            self.lnet = LoihiNetwork(built.dt, built.seed, self.pops, self.projs,
                                     list(built.spike_monitors), self.errors, self.notes)

    def violation(self, where, what, value, limit, fix):
        self.violations.append(Violation(where, what, value, limit, fix))

    # --- network-level
    def _monitors(self):
        for mon in self.built.state_monitors:
            bad = [v for v in mon.variables if v != "v"]
            if bad:
                self.violation(f"population '{mon.population}'", "recorded variables", bad, "['v']",
                               "a Loihi compartment has one current u, not isyn_exc / isyn_inh; record 'v' "
                               "and read u with sim.get(population, 'u')")

    def _inputs(self):
        self.bias_input = {}
        for inp in self.built.inputs:
            values = inp.values
            constant = (inp.variable == "i_offset" and inp.steps[0] == 0
                        and np.all(values == values[0]))
            if constant:
                self.bias_input[inp.population] = values[0]
            else:
                self.violation(f"population '{inp.population}'", "current input",
                               f"'{inp.variable}' set at {inp.steps.size} step(s) from step {inp.steps[0]}",
                               "a constant i_offset (Loihi's bias)",
                               "Loihi has no time-varying current input: drive the population with spike "
                               "sources, or give i_offset one constant value")

    # --- populations
    def _population(self, pop: BuiltPopulation):
        where = f"population '{pop.name}'"
        if pop.kind == "spikes":
            self.pops[pop.name] = LoihiPopulation(pop.name, pop.size, "spikes", spike_steps=pop.spike_steps,
                                                  spike_ids=pop.spike_ids)
            return
        if pop.kind == "poisson":
            self.notes.append(f"{where}: Poisson spikes are drawn on the host (numpy MT19937, the network "
                              f"seed, the numba backend's draw order) and sent as spikes")
            self.pops[pop.name] = LoihiPopulation(pop.name, pop.size, "poisson", rate=pop.rate)
            return
        if not pop.model.same_dynamics(IF_curr_exp()):
            self.violation(where, "neuron model", pop.model.name, "IF_curr_exp",
                           "Loihi's compartment is a current-based LIF: use spikemem.neurons.IF_curr_exp "
                           "(or a spike source)")
            return
        n, dt = pop.size, self.dt
        p = {k: _per_neuron(pop.params[k], n) for k in
             ("c_m", "tau_m", "tau_syn_E", "tau_syn_I", "v_rest", "v_reset", "v_thresh")}
        p["i_offset"] = _per_neuron(self.bias_input.get(pop.name, pop.init["i_offset"]), n)
        p["v0"] = _per_neuron(pop.init["v"], n)
        ok = True
        if np.any(p["v_thresh"] <= p["v_reset"]):
            k = int(np.argmin(p["v_thresh"] - p["v_reset"]))
            self.violation(where, "v_thresh - v_reset", f"{p['v_thresh'][k] - p['v_reset'][k]:g} V "
                           f"(v_reset {p['v_reset'][k]:g} V, v_thresh {p['v_thresh'][k]:g} V)", "> 0",
                           "Loihi resets v to 0 and its threshold is a positive distance above 0: put v_reset "
                           "below v_thresh (a reset at or above threshold fires again as soon as the "
                           "refractory period ends; make the refractory period that interval instead)")
            ok = False
        for var in ("isyn_exc", "isyn_inh"):
            if np.any(pop.init[var] != 0):
                self.violation(where, f"initial {var}", f"{np.max(np.abs(pop.init[var])):g} A", 0,
                               "start the synaptic currents at 0 (Loihi's u starts empty)")
                ok = False
        steps = int(math.floor(pop.refractory / dt + 1e-3))
        if steps > REFRACTORY_MAX:
            self.violation(where, "refractory period", f"{steps} steps ({pop.refractory:g} s)",
                           f"{REFRACTORY_MAX} steps", "shorten the refractory period or use a larger dt")
            ok = False
        targets = {proj.target for proj in self.built.projections if proj.post == pop.name}
        if {"isyn_exc", "isyn_inh"} <= targets and np.any(p["tau_syn_E"] != p["tau_syn_I"]):
            self.violation(where, "tau_syn_E != tau_syn_I",
                           f"{np.max(p['tau_syn_E']):g} s / {np.max(p['tau_syn_I']):g} s",
                           "one synaptic time constant per compartment",
                           "give both receptors the same tau_syn (a Loihi compartment has one current u)")
            ok = False
        tau_s = p["tau_syn_I"] if targets == {"isyn_inh"} else p["tau_syn_E"]
        decay_v = np.clip(np.rint(DECAY_ONE * -np.expm1(-dt / p["tau_m"])), 0, DECAY_V_MAX).astype(np.int64)
        decay_u = np.clip(np.rint(DECAY_ONE * -np.expm1(-dt / tau_s)), 0, DECAY_U_MAX).astype(np.int64)
        for name, d, tau in (("tau_m", decay_v, p["tau_m"]), ("tau_syn", decay_u, tau_s)):
            if np.any(d == 0):
                self.violation(where, f"{name} / dt", f"{np.max(tau) / dt:g}", f"< {2 * DECAY_ONE}",
                               f"the 12-bit decay of {name} rounds to 0 (no decay at all): shorten {name} "
                               f"or use a larger dt")
                ok = False
        if not ok:
            return
        # refractory 0 and 1 step both hold v for no step (Brian2's and Loihi's counting)
        p.update(tau_s=tau_s, decay_u=decay_u, decay_v=decay_v, refractory=max(steps, 1),
                 k=_gain(dt, p["tau_m"], tau_s, p["c_m"]), kb=p["tau_m"] * decay_v / DECAY_ONE / p["c_m"])
        # Loihi's v = 0 is v_reset; the leak towards v_rest is the leak towards 0 plus a constant
        # drive of (1 - a')(v_rest - v_reset) volts per step, a' the 12-bit decay, so that the
        # quantised neuron still comes to rest at v_rest (the error stays in tau_m alone); kb
        # uses the same decay, so a constant i_offset settles at exactly R * i_offset above rest
        p["drive"] = _rest_drive(decay_v, p["v_rest"], p["v_reset"])
        self.neuron[pop.name] = p

    # --- synapse models
    def _projection_rule(self, proj: BuiltProjection):
        where = f"projection '{proj.name}'"
        static = not proj.plastic_pre and not proj.on_post and set(proj.dims) == {"w"}
        rule = None if static else RULES.get((proj.plastic_pre, proj.on_post))
        if not static and rule is None:
            self.violation(where, "synapse model", "a rule other than static or pair STDP",
                           "static, stdp(additive, all-to-all), spinnaker_stdp",
                           "Loihi's learning engine runs pair STDP here (dw = A+ x1 y0 - A- y1 x0); "
                           "use one of the accepted rules")
            return
        if rule is not None:
            ns, state = proj.namespace, proj.state
            per_synapse = sorted(k for k in ("A_plus", "A_minus", "tau_plus", "tau_minus", "w_min", "w_max")
                                 if k in state)
            if per_synapse:
                self.violation(where, "per-synapse rule parameters", per_synapse, "shared values",
                               "Loihi's learning rule is one per projection: give these one value")
                return
            if proj.target != "isyn_exc":
                self.violation(where, "plastic receptor", proj.target, "isyn_exc",
                               "plastic projections must be excitatory here (inhibitory sign mode "
                               "learning is not mapped)")
                return
            if ns["w_min"] != 0 or not ns["w_max"] > 0:
                self.violation(where, "weight bounds", f"[{ns['w_min']:g}, {ns['w_max']:g}] A", "[0, w_max > 0]",
                               "Loihi clips learned excitatory weights at mantissa 0 and 255: use w_min = 0")
                return
            self.rules[proj.name] = rule

    # --- the voltage scale of each neuron population
    def _scale(self, name):
        p, where = self.neuron[name], f"population '{name}'"
        n = p["k"].size
        pos, neg, single = np.zeros(n), np.zeros(n), 0.0
        plastic = []
        for proj in self.built.projections:
            if proj.post != name or not proj.i.size:
                continue
            w = np.full(proj.i.size, proj.namespace["w_max"]) if proj.name in self.rules else proj.w
            wv = w * p["k"][proj.j]
            pos += np.bincount(proj.j, np.clip(wv, 0, None), n)
            neg += np.bincount(proj.j, np.clip(-wv, 0, None), n)
            single = max(single, float(np.max(np.abs(wv))))
            if proj.name in self.rules:
                plastic.append(proj)
        bias = np.abs(p["i_offset"] * p["kb"] + p["drive"])          # volts per step
        limits = [self.threshold_units / np.max(p["v_thresh"] - p["v_reset"])]
        if max(pos.max(), neg.max()) > 0:
            limits.append(INPUT_UNITS / max(pos.max(), neg.max()))
        if single > 0:
            limits.append(W_SINGLE_MAX / single)
        if bias.max() > 0:
            limits.append(BIAS_MANT_MAX * 2 ** BIAS_EXP_MAX / bias.max())
        below = np.max(p["v_reset"] - p["v_rest"])        # a rest below the reset is where v settles
        if below > 0:
            limits.append(INPUT_UNITS / below)
        scale = min(limits)
        p["w_exp_plastic"] = None
        if plastic:
            if np.ptp(p["k"]) > 1e-12 * np.max(p["k"]):
                self.violation(where, "plastic input into neurons with different c_m, tau_m or tau_syn",
                               "per-neuron values", "one value",
                               "the learned weight range maps to one mantissa range: use shared parameters")
                return
            wk = {proj.namespace["w_max"] * p["k"][0] for proj in plastic}
            if len(wk) > 1:
                self.violation(where, "plastic projections with different w_max", sorted(wk), "one w_max",
                               "Loihi clips every learned mantissa at 255: give them one w_max")
                return
            unit = wk.pop()             # volts per step at w_max
            e = int(math.floor(math.log2(scale * unit / (255 << 6))))
            e = min(max(e, 0), W_EXP_MAX)
            scale = (255 << (6 + e)) / unit       # w_max is exactly mantissa 255
            p["w_exp_plastic"] = e
        th = np.rint((p["v_thresh"] - p["v_reset"]) * scale / 64).astype(np.int64)
        if np.any(th < 1) or np.any(th > VTH_MANT_MAX):
            self.violation(where, "threshold mantissa", int(th.min() if np.any(th < 1) else th.max()),
                           f"1..{VTH_MANT_MAX}",
                           "the threshold distance is too small (or too large) next to the inputs: "
                           "scale the weights, the bias or the threshold")
            return
        v0 = np.rint((p["v0"] - p["v_reset"]) * scale).astype(np.int64)
        if np.any(np.abs(v0) > STATE_MAX):
            self.violation(where, "initial v", f"{np.max(np.abs(p['v0'] - p['v_reset'])):g} V from v_reset",
                           f"{STATE_MAX / scale:g} V", "start v closer to v_reset")
            return
        bias_mant, bias_exp = np.zeros(n, np.int64), np.zeros(n, np.int64)
        for c, b in enumerate((p["i_offset"] * p["kb"] + p["drive"]) * scale):
            me = _mant_exp(b, BIAS_MANT_MAX, 0, BIAS_EXP_MAX)
            if me is None:
                self.violation(where, "bias", f"{b:.6g} units per step (i_offset {p['i_offset'][c]:g} A, "
                               f"v_rest - v_reset {p['v_rest'][c] - p['v_reset'][c]:g} V)",
                               f"{BIAS_MANT_MAX} x 2**{BIAS_EXP_MAX} units per step",
                               "the bias (i_offset plus the drive that carries the rest from v_reset to "
                               "v_rest) overflows Loihi's 13-bit mantissa at this voltage scale"
                               + (", which the plastic w_max sets" if plastic else "")
                               + ": lower i_offset, bring v_rest closer to v_reset"
                               + (", or raise w_max" if plastic else ""))
                return
            bias_mant[c], bias_exp[c] = me
        p["scale"] = scale
        self.pops[name] = LoihiPopulation(
            name, n, "neuron", scale=scale, v_rest=p["v_rest"], v_reset=p["v_reset"], drive=p["drive"], k=p["k"],
            kb=p["kb"], decay_u=p["decay_u"], decay_v=p["decay_v"], vth_mant=th, bias_mant=bias_mant,
            bias_exp=bias_exp, refractory=np.full(n, p["refractory"], np.int64), init_v=v0,
            init_u=np.zeros(n, np.int64))
        self._population_errors(name, p, th, bias_mant, bias_exp)

    def _population_errors(self, name, p, th, bias_mant, bias_exp):
        dt, scale = self.dt, p["scale"]
        bias_q = (bias_mant << bias_exp) / scale                    # volts per step
        rows = [("tau_m", p["tau_m"], _effective_tau(dt, p["decay_v"]), "s"),
                ("tau_syn", p["tau_s"], _effective_tau(dt, p["decay_u"]), "s"),
                ("v_thresh", p["v_thresh"], p["v_reset"] + (th << 6) / scale, "V")]
        if np.any(p["drive"] != 0):
            # one bias carries i_offset and the rest's drive; its rounding read as a shift of v_rest
            # (where the quantised neuron settles without input, i_offset taken as exact)
            rows.append(("bias", p["i_offset"] * p["kb"] + p["drive"], bias_q, "V/step"))
            rows.append(("v_rest (bias)", p["v_rest"],
                         p["v_reset"] + (bias_q - p["i_offset"] * p["kb"]) * DECAY_ONE / p["decay_v"], "V"))
        else:
            rows.append(("i_offset (bias)", p["i_offset"], bias_q / p["kb"], "A"))
        for param, value, quantized, unit in rows:
            self._error_row(f"population '{name}'", param, value, quantized, unit)

    def _error_row(self, where, param, value, quantized, unit, mean=False):
        value, quantized = np.asarray(value, float), np.asarray(quantized, float)
        if value.size == 0:
            return
        err = np.abs(quantized - value)
        k = int(np.argmax(err))
        uniform = np.all(value == value.flat[0]) and np.all(quantized == quantized.flat[0])
        label = param if uniform else f"{param} (largest error)"
        self.errors.append(QuantizationError(where, label, float(value.flat[k]), float(quantized.flat[k]), unit))
        if mean and not uniform:
            m = float(np.mean(np.abs(value)))
            self.errors.append(QuantizationError(where, f"{param} (mean |error|, as mean|w| + error)",
                                                 m, m + float(np.mean(err)), unit))

    # --- projections
    def _projection(self, proj: BuiltProjection):
        where = f"projection '{proj.name}'"
        if proj.target not in ("isyn_exc", "isyn_inh") or proj.on_pre != f"{proj.target}_post += w":
            self.violation(where, "delivery", f"'{proj.on_pre}'", "'isyn_exc_post += w' or 'isyn_inh_post += w'",
                           "Loihi adds a weight to the compartment's current: connect to receptor 'exc' or 'inh'")
            return None
        d = proj.delay - 1
        if d.size and d.max() > DELAY_MAX:
            self.violation(where, "delay", f"{int(proj.delay.max())} steps", f"{DELAY_MAX + 1} steps",
                           "Loihi 1's synaptic delay is 6 bits: shorten the delay, use a larger dt, or "
                           "relay the spikes through a chain of neurons")
        sign = "exc" if proj.target == "isyn_exc" else "inh"
        wrong = proj.w < 0 if sign == "exc" else proj.w > 0
        if np.any(wrong):
            self.violation(where, "weight sign", f"{int(wrong.sum())} weight(s) of the wrong sign "
                           f"(e.g. {proj.w[wrong][0]:g} A)", "exc >= 0, inh <= 0",
                           "Loihi's sign mode makes a synapse group excitatory or inhibitory: send "
                           "negative weights to receptor 'inh' and positive ones to 'exc'")
        p = self.neuron.get(proj.post)
        if p is None or "scale" not in p:          # the population itself was refused
            return None
        lo, hi = W_MANT[sign]
        wv = proj.w * p["k"][proj.j] * p["scale"]          # Loihi units of u
        rule = self.rules.get(proj.name)
        if rule is not None:
            e = p["w_exp_plastic"]
        else:
            peak = float(np.max(np.abs(wv))) if wv.size else 0.0
            me = _mant_exp(peak / 64.0, max(abs(lo), hi), 0, W_EXP_MAX)
            if me is None:
                self.violation(where, "weight", f"{np.max(np.abs(proj.w)):g} A",
                               f"mantissa 255 x 2**(6 + {W_EXP_MAX})", "the weight overflows Loihi's format: "
                               "lower it or the other inputs of the population")
                return None
            e = me[1]
        mant = np.clip(np.rint(wv / 2.0 ** (6 + e)), lo, hi).astype(np.int64)
        lost = (mant == 0) & (proj.w != 0)
        if rule is None and np.any(lost):
            self.violation(where, "weights that quantize to 0", f"{int(lost.sum())} of {int((proj.w != 0).sum())} "
                           f"(smallest {np.min(np.abs(proj.w[lost])):g} A)",
                           f"quantum {2 ** (6 + e) / p['scale'] / np.max(p['k']):g} A",
                           "8-bit mantissas with one exponent per projection: set such weights to 0, raise "
                           "them, or move them to a projection of their own")
        learning = self._learning(proj, rule, e, p) if rule else None
        wq = w_act_array(mant, e) / (p["k"][proj.j] * p["scale"])
        self._error_row(where, "w", proj.w, wq, "A", mean=True)
        return LoihiProjection(proj.name, proj.pre, proj.post, proj.i.astype(np.int64), proj.j.astype(np.int64),
                               mant, int(e), sign, d.astype(np.int64), learning)

    def _learning(self, proj, rule, e, p):
        where, ns, dt = f"projection '{proj.name}'", proj.namespace, self.dt
        quantum = 2.0 ** (6 + e) / (p["k"][0] * p["scale"])      # amperes per mantissa unit
        imp = self.trace_impulse
        scaled = RULE_AMPLITUDE[rule] == "*w_max"
        coeffs = []
        for name in ("A_plus", "A_minus"):
            amp_w = ns[name] * (ns["w_max"] if scaled else 1.0)     # amperes per unit trace
            me = _mant_exp(amp_w / quantum / imp, RULE_MANT_MAX, RULE_EXP_MIN, RULE_EXP_MAX)
            if me is None or me[0] <= 0:
                self.violation(where, name, f"{amp_w:g} A per pair",
                               f"{RULE_MANT_MAX} x 2**{RULE_EXP_MAX} .. 2**{RULE_EXP_MIN} mantissa units per "
                               f"trace unit", "the learning rate does not fit Loihi's rule constants")
                return None
            coeffs.append(me)
            self._error_row(where, name + (" x w_max" if scaled else ""), amp_w,
                            me[0] * 2.0 ** me[1] * imp * quantum, "A")
        taus = []
        for name in ("tau_plus", "tau_minus"):
            tau = max(1, int(round(1.0 / -math.expm1(-dt / ns[name]))))
            taus.append(tau)
            self._error_row(where, name, ns[name], -dt / math.log(1 - 1 / tau) if tau > 1 else 0.0, "s")
        self._error_row(where, "w_max", ns["w_max"], 255 * quantum, "A")
        (ap, ape), (am, ame) = coeffs
        return LoihiLearning(rule, ap, ape, am, ame, imp, taus[0], imp, taus[1])


# =================================================================== the five verbs
def check(network, trace_impulse: int = 64, headroom_bits: int = HEADROOM_BITS) -> list:
    """Every Loihi constraint ``network`` breaks (empty: it maps). The options
    are ``quantize``'s; they move the limits of the weights and the threshold."""
    return _Plan(built_network(network), trace_impulse, headroom_bits).violations


def quantize(network, trace_impulse: int = 64, headroom_bits: int = HEADROOM_BITS) -> LoihiNetwork:
    """``network`` in Loihi's integer formats; ``.errors`` says how far each
    parameter moved. Raises one ModelError listing every violation first.

    ``trace_impulse``: what one spike adds to a 7-bit learning trace (the
    trace resolution is 1/impulse; all-to-all pairing saturates at 127).
    ``headroom_bits``: the threshold distance is 2**(23 - headroom_bits)
    units, so v saturates 2**headroom_bits threshold distances from rest;
    fewer bits give finer weights relative to the threshold.
    """
    plan = _Plan(built_network(network), trace_impulse, headroom_bits)
    if plan.violations:
        raise violations_error(NAME, plan.violations)
    return plan.lnet


def map(network) -> Resources:                                   # noqa: A001 (the target's verb)
    """Cores and chips on Loihi 1, one row per population; Loihi 2 as an estimate.

    A population occupies whole cores of its own. Cores = the most of:
    compartments / 1024, synapse memory / 128 KB (bits per synapse: 8 weight +
    10 compartment index + 6 delay where a delay > 1 step + 8 tag where plastic,
    the sparse format), and output axons / 4096 (each neuron sends one axon to
    every core of every population it projects to). Input axons per core (4096)
    cannot be split away, so they are reported, not divided.
    """
    built = built_network(network)
    rows, cores = [], {}
    syn_bits, syn_count, axons_in = {}, {}, {}
    for proj in built.projections:
        bits = 8 + 10 + (6 if proj.delay.size and proj.delay.max() > 1 else 0) + (8 if proj.on_post else 0)
        syn_bits[proj.post] = syn_bits.get(proj.post, 0) + bits * proj.i.size
        syn_count[proj.post] = syn_count.get(proj.post, 0) + proj.i.size
        axons_in[proj.post] = axons_in.get(proj.post, 0) + np.unique(proj.i).size
    for name, pop in built.populations.items():
        if pop.kind == "neuron":
            cores[name] = max(1, math.ceil(pop.size / COMPARTMENTS_PER_CORE),
                              math.ceil(syn_bits.get(name, 0) / SYNAPSE_BITS_PER_CORE))
    fan_out = {name: 0 for name in built.populations}
    for proj in built.projections:
        fan_out[proj.pre] += cores.get(proj.post, 0)
    for name, pop in built.populations.items():
        if pop.kind == "neuron":
            cores[name] = max(cores[name], math.ceil(pop.size * fan_out[name] / AXONS_OUT_PER_CORE))
            loihi2 = max(1, math.ceil(pop.size / LOIHI2_COMPARTMENTS_PER_CORE),
                         math.ceil(syn_count.get(name, 0) / LOIHI2_SYNAPSES_PER_CORE))
        else:
            loihi2 = 0
        n_in = axons_in.get(name, 0)
        rows.append({"population": name, "kind": pop.kind, "compartments": pop.size if pop.kind == "neuron" else 0,
                     "synapses_in": syn_count.get(name, 0), "synapse_kbytes": round(syn_bits.get(name, 0) / 8192, 2),
                     "axons_in": n_in, "axons_out_per_neuron": fan_out[name],
                     "cores": cores.get(name, 0), "loihi2_cores": loihi2,
                     "fits": "yes" if n_in <= AXONS_IN_PER_CORE else f"no: {n_in} input axons per core "
                                                                      f"(limit {AXONS_IN_PER_CORE})"})
    total = sum(cores.values())
    total2 = sum(r["loihi2_cores"] for r in rows)
    return Resources(NAME, rows, {"cores": total, "chips": math.ceil(total / CORES_PER_CHIP) if total else 0,
                                    "loihi2_cores": total2,
                                    "loihi2_chips": math.ceil(total2 / CORES_PER_CHIP) if total2 else 0},
                     assumptions=[
                         "Loihi 1 (Davies et al., IEEE Micro 2018): 128 neuro cores per chip, 1024 compartments, "
                         "128 KB synapse memory, 4096 input and 4096 output axons per core",
                         "one compartment per IF_curr_exp neuron; a population occupies whole cores of its own",
                         "synapse words: 8-bit weight + 10-bit compartment index, + 6-bit delay where a delay "
                         "exceeds one step, + 8-bit tag where plastic (sparse format; real encodings vary)",
                         "spike sources are sent by the host or the embedded x86 cores and take no neuro core",
                         "Loihi 2 (Intel's Loihi 2 brief, 2021; not checked here): 128 neuro cores per chip, up "
                         "to 8192 compartments per core, about 120 M synapses per chip (937 k per core)"])


def export(network, path, trace_impulse: int = 64, headroom_bits: int = HEADROOM_BITS) -> str:
    """Write the quantised network as a NIR file (atomically) and return its path.

    Nodes: ``Input`` per spike source, ``CubaLIF`` per population with the
    dequantised values (tau_syn = dt 4096 / decay_u, tau_mem = dt 4096 /
    decay_v, r = 4096 / decay_v, w_in = 4096 / decay_u, v_reset = v_reset,
    v_threshold = v_reset + vth / S, v_leak = v_rest: the rest's share of the
    bias, ``drive = decay_v / 4096 (v_rest - v_reset)`` per step, is NIR's
    leak towards v_leak) so that NIR's Euler CubaLIF is
    Loihi's recurrence in volts; one ``Affine`` per projection and delay,
    weights = w_act / S volts (+ ``Delay`` of d steps). The integers travel as
    metadata: per CubaLIF node ``spikemem.loihi`` (scale, decays, threshold and
    bias mantissas, refractory), per Affine ``spikemem.loihi.w_mant`` /
    ``w_exp`` / ``sign`` / ``learning``. The rest of the bias (i_offset's
    share and the bias's rounding) is written into the first incoming Affine
    as ``(bias - drive) * decay_u / 4096`` (the same steady state; it reaches
    it after the synaptic filter), and the whole bias exactly in the metadata.
    """
    import nir
    from spikemem.results import atomic_write
    from spikemem import __version__
    lnet = quantize(network, trace_impulse, headroom_bits)
    dt = lnet.dt
    nodes, edges, biased = {}, [], set()
    for pop in lnet.populations.values():
        if pop.kind != "neuron":
            nodes[pop.name] = nir.Input(input_type={"input": np.array([pop.size])})
            continue
        du, dv = pop.decay_u.astype(float), pop.decay_v.astype(float)
        meta = {"scale_units_per_volt": pop.scale, "decay_u": pop.decay_u.tolist(), "decay_v": pop.decay_v.tolist(),
                "vth_mant": pop.vth_mant.tolist(), "bias_mant": pop.bias_mant.tolist(),
                "bias_exp": pop.bias_exp.tolist(), "refractory_steps": pop.refractory.tolist()}
        nodes[pop.name] = nir.CubaLIF(
            tau_syn=dt * DECAY_ONE / du, tau_mem=dt * DECAY_ONE / dv, r=DECAY_ONE / dv,
            v_leak=pop.v_reset + pop.drive * DECAY_ONE / dv,
            v_threshold=pop.v_reset + (pop.vth_mant << 6) / pop.scale,
            v_reset=pop.v_reset.copy(), w_in=DECAY_ONE / du, metadata={"spikemem.loihi": json.dumps(meta)})
    for proj in lnet.projections:
        pre, post = lnet.populations[proj.pre], lnet.populations[proj.post]
        wv = w_act_array(proj.w_mant, proj.w_exp) / post.scale
        for d in np.unique(proj.delay):
            sel = proj.delay == d
            weight = np.zeros((post.size, pre.size))
            np.add.at(weight, (proj.j[sel], proj.i[sel]), wv[sel])
            mant = np.zeros((post.size, pre.size), np.int64)
            np.add.at(mant, (proj.j[sel], proj.i[sel]), proj.w_mant[sel])
            bias = np.zeros(post.size)
            if proj.post not in biased:
                biased.add(proj.post)
                bias = ((post.bias_mant << post.bias_exp) / post.scale - post.drive) * post.decay_u / DECAY_ONE
            name = proj.name if d == proj.delay.min() else f"{proj.name}_d{int(d)}"
            learning = None if proj.learning is None else {**proj.learning.__dict__, "dw": proj.learning.dw}
            nodes[name] = nir.Affine(weight=weight, bias=bias, metadata={
                "spikemem.projection": proj.name, "spikemem.loihi.w_mant": mant, "spikemem.loihi.w_exp": proj.w_exp,
                "spikemem.loihi.sign": proj.sign, "spikemem.loihi.delay": int(d),
                "spikemem.loihi.learning": json.dumps(learning)})
            edges.append((proj.pre, name))
            last = name
            if d > 0:
                nodes[f"{name}_delay"] = nir.Delay(delay=np.full(post.size, d * dt))
                edges.append((name, f"{name}_delay"))
                last = f"{name}_delay"
            edges.append((last, proj.post))
    lost = [p.name for p in lnet.populations.values()
            if p.kind == "neuron" and p.name not in biased and np.any(p.bias_mant != 0)]
    if lost:       # NIR's CubaLIF has no bias of its own: it rides on an incoming Affine
        raise ModelError(f"cannot export the bias (i_offset, or a reset below rest) of population(s) {lost}: "
                         f"they receive no projection whose Affine could carry it in NIR")
    outputs = [n for n in lnet.spike_monitors if lnet.populations[n].kind == "neuron"] or \
              [n for n, p in lnet.populations.items() if p.kind == "neuron"]
    for name in outputs:
        nodes[f"{name}_output"] = nir.Output(output_type={"output": np.array([lnet.populations[name].size])})
        edges.append((name, f"{name}_output"))
    metadata = {"spikemem.dt": float(dt), "spikemem.version": __version__, "spikemem.target": NAME,
                "spikemem.loihi.convention": (
                    "Loihi 1 integers in metadata; node values dequantised: u and v in volts, u <- u (1 - "
                    "decay_u/4096) + sum(w_act)/S + (bias/S - drive) decay_u/4096 (in the Affine), v <- v_leak "
                    "+ (v - v_leak)(1 - decay_v/4096) + u with v_leak = v_reset + drive 4096/decay_v (= v_rest; "
                    "Loihi's v = 0 is v_reset); spike if v > v_threshold, then v = v_reset, held for "
                    "refractory - 1 steps; a spikemem delay of D steps is Affine + "
                    "Delay((D - 1) dt)"),
                "spikemem.loihi.errors": json.dumps([e.to_dict() for e in lnet.errors])}
    try:
        # NIR infers types from the Input nodes; a network driven by biases alone has none
        has_input = any(isinstance(n, nir.Input) for n in nodes.values())
        graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=has_input)
    except (ValueError, AssertionError, NotImplementedError) as e:
        raise ModelError(f"the exported NIR graph does not type-check: {e}") from None
    with atomic_write(path) as tmp:
        nir.write(tmp, graph)
    return str(path)


def emulate(network, duration, rounding: str = "stochastic", trace_impulse: int = 64,
            headroom_bits: int = HEADROOM_BITS) -> Emulation:
    """Run the Loihi emulator and the numba backend (float64) for ``duration``
    seconds and report how far apart their spikes are."""
    return emulate_with(NAME, BACKEND, network, duration, rounding=rounding, trace_impulse=trace_impulse,
                        headroom_bits=headroom_bits)


# =================================================================== the backend
class LoihiSimulation(Simulation):
    """The Loihi target's fixed-point emulator as a spikemem backend.

    Stateful like every backend: chunked runs equal one run; ``set_spikes``
    replaces a spike source's future spikes; ``get`` / ``set`` read and write
    ``v`` (volts), ``u`` (amperes: the synaptic current after the last step's
    arrivals, both receptors together) and projection weights ``w``
    (amperes), all converted from and to the integers; ``v_thresh`` and
    ``i_offset`` read back their quantised values, other parameters their
    float values (``lnet`` holds the integers, ``lnet.errors`` the
    differences; ``i_offset`` is the bias less the drive that moves the rest
    from v_reset to v_rest, and ``v`` counts from v_reset, Loihi's 0).
    ``overflows`` counts u wrap-arounds and v saturations.
    """

    def __init__(self, built, rounding: str = "stochastic", trace_impulse: int = 64,
                 headroom_bits: int = HEADROOM_BITS):
        plan = _Plan(built, trace_impulse, headroom_bits)
        if plan.violations:
            raise violations_error(NAME, plan.violations)
        self.built, self.lnet, self.step = built, plan.lnet, 0
        self._probe = {}                     # population -> compartments probed for state monitors
        comps = []
        self.emulator = Emulator(self.lnet, rounding=rounding)
        for mon in built.state_monitors:
            c = self.emulator.comp0[mon.population] + np.asarray(mon.ids)
            self._probe[id(mon)] = np.arange(len(comps), len(comps) + c.size)
            comps.extend(c.tolist())
        self.emulator.probe_comp = np.asarray(comps, np.int64)

    @property
    def overflows(self) -> dict:
        return {"u_wraps": int(self.emulator.overflow[0]), "v_saturations": int(self.emulator.overflow[1])}

    def run(self, duration, progress=None):
        from spikemem.progress import progress as _progress
        n_steps = int(round(duration / self.built.dt))
        if n_steps < 1:
            raise ModelError(f"duration {duration} s is shorter than one time step")
        chunk = 2000
        with _progress(n_steps, NAME, enabled=progress) as bar:
            left = n_steps
            while left:
                k = min(left, chunk) if bar.enabled else left
                self.emulator.run(k)
                bar.update(k)
                left -= k
        self.step = self.emulator.step

    def result(self):
        from spikemem.results import Result
        table = self.emulator.spike_table()
        spikes = self._spike_trains({name: ([steps], [ids]) for name, (steps, ids) in table.items()})
        v_all, _ = self.emulator.probe_table()
        buffers = []
        for mon in self.built.state_monitors:
            pop = self.lnet.populations[mon.population]
            rows = v_all[::mon.every][:, self._probe[id(mon)]]
            v = pop.v_reset[mon.ids] + rows / pop.scale
            buffers.append([v[:, None, :]])
        traces = self._traces(buffers)
        import brian2, numba
        from spikemem import __version__
        meta = {"backend": NAME, "versions": {"spikemem": __version__, "numba": numba.__version__,
                                                "brian2": brian2.__version__, "numpy": np.__version__},
                "seed": self.built.seed, "dt": self.built.dt, "duration": self.step * self.built.dt,
                "network_hash": self.built.hash, "overflows": self.overflows}
        return Result(spikes, traces, meta)

    # --- state in SI units
    def _owner(self, name, var):
        pop = self.built.populations.get(name)
        if pop is not None and pop.kind == "neuron" and var == "u":
            return pop, amp.dim, pop.size
        return super()._owner(name, var)

    def _get(self, owner, var):
        em = self.emulator
        if isinstance(owner, BuiltPopulation):
            pop, c0 = self.lnet.populations[owner.name], em.comp0[owner.name]
            sl = slice(c0, c0 + pop.size)
            if var == "v":
                return pop.v_reset + em.v[sl] / pop.scale
            if var == "u":
                return em.u[sl] / (pop.k * pop.scale)
            if var == "v_thresh":
                return pop.v_reset + (pop.vth_mant << 6) / pop.scale
            if var == "i_offset":
                return ((pop.bias_mant << pop.bias_exp) / pop.scale - pop.drive) / pop.kb
            if var in ("isyn_exc", "isyn_inh"):
                raise ModelError(f"population '{owner.name}': Loihi keeps one current u per compartment; "
                                 f"read 'u' (both receptors) instead of '{var}'")
            return owner.params[var] if var in owner.params else owner.init[var]
        if var != "w":
            if var in owner.namespace:
                return owner.namespace[var]
            raise ModelError(f"projection '{owner.name}': Loihi's learning engine keeps traces x1, y1, "
                             f"not '{var}'; read 'w'")
        post = self.lnet.populations[owner.post]
        _, wact = em.weights(owner.name)
        return wact / (post.k[owner.j] * post.scale)

    def _set(self, owner, var, values):
        em = self.emulator
        if isinstance(owner, BuiltPopulation) and var in ("v", "u"):
            pop, c0 = self.lnet.populations[owner.name], em.comp0[owner.name]
            x = (values - pop.v_reset) * pop.scale if var == "v" else values * pop.k * pop.scale
            x = np.rint(x)
            if np.any(np.abs(x) > (1 << 23) - 1):
                raise ModelError(f"'{owner.name}'.{var}: {np.max(np.abs(values)):g} is outside Loihi's 24-bit range")
            (em.v if var == "v" else em.u)[c0:c0 + pop.size] = x.astype(np.int64)
            return
        if isinstance(owner, BuiltProjection) and var == "w":
            proj = next(p for p in self.lnet.projections if p.name == owner.name)
            post = self.lnet.populations[owner.post]
            mant = np.rint(values * post.k[owner.j] * post.scale / 2.0 ** (6 + proj.w_exp))
            lo, hi = W_MANT[proj.sign]
            if np.any(mant < lo) or np.any(mant > hi):
                raise ModelError(f"'{owner.name}'.w: weights must quantize into [{lo}, {hi}] x "
                                 f"{2.0 ** (6 + proj.w_exp) / post.scale / np.max(post.k):g} A "
                                 f"(the projection's exponent and sign)")
            em.set_weights(owner.name, mant.astype(np.int64))
            return
        raise ModelError(f"'{owner.name}'.{var} is fixed when the network is quantised; change the network "
                         f"and build a new simulation")

    def _set_spikes(self, pop, steps, ids):
        self.emulator.set_spikes(pop.name, steps, ids)


# =================================================================== brian2-loihi
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
    import brian2
    from unittest import mock
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
            kw = {} if rule is None else dict(dw=rule.dw, imp_x1=rule.x_impulse, tau_x1=rule.x_tau,
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
