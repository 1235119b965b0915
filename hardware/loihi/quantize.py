"""A network in Loihi 1's integers (``quantize``): the voltage scale of each
population, decays, threshold and bias mantissas, weight mantissas and
exponents, learning-rule constants, and the error of every parameter. The
same pass finds every refusal, so the ``check`` verb is here too. The mapping
from spikemem's exact LIF to Loihi's recurrences is derived in
docs/targets/loihi.md.
"""
from __future__ import annotations

import math

import numpy as np

from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork, BuiltPopulation, BuiltProjection
from spikemem.neurons import integration_of
from spikemem.targets import QuantizationError, Violation, violations_error

from ..common import built_network, linked_violations, listing_violations, rate_violations
from ..glia import glia_violations
from . import check as rules
from .formats import (BIAS_EXP_MAX, BIAS_MANT_MAX, DECAY_ONE, DECAY_U_MAX, DECAY_V_MAX, HEADROOM_BITS,
                      INPUT_UNITS, RULE_EXP_MAX, RULE_EXP_MIN, RULE_MANT_MAX, STATE_MAX, TRACE_MAX,
                      VTH_MANT_MAX, W_EXP_MAX, W_MANT, W_SINGLE_MAX, effective_tau, mant_exp, w_act_array)
from .network import LoihiLearning, LoihiNetwork, LoihiPopulation, LoihiProjection

#: how a rule's A maps to weight units: per unit of weight, or times w_max
RULE_AMPLITUDE = {"stdp_additive_all": "", "stdp_additive_all_wmax_scaled": "*w_max",
                  "spinnaker_stdp": "*w_max"}


def check(network, trace_impulse: int = 64, headroom_bits: int = HEADROOM_BITS) -> list:
    """Every Loihi constraint ``network`` breaks (empty: it maps): the rules of
    ``check.py`` and the limits quantising finds. The options are ``quantize``'s;
    they move the limits of the weights and the threshold."""
    too_large = []
    built = built_network(network, too_large=too_large)
    linked = linked_violations(built, "Loihi") + glia_violations(built, "Loihi", rules.GLIA_NEURON)
    plan = Plan(built, trace_impulse, headroom_bits)
    said = {v.where for v in linked}        # the plan's words on them add nothing
    return listing_violations(too_large, "Loihi") + linked + [v for v in plan.violations if v.where not in said]


def quantize(network, trace_impulse: int = 64, headroom_bits: int = HEADROOM_BITS) -> LoihiNetwork:
    """``network`` in Loihi's integer formats; ``.errors`` says how far each
    parameter moved. Raises one ModelError listing every violation first.

    ``trace_impulse``: what one spike adds to a 7-bit learning trace (the
    trace resolution is 1/impulse; all-to-all pairing saturates at 127).
    ``headroom_bits``: the threshold distance is 2**(23 - headroom_bits)
    units, so v saturates 2**headroom_bits threshold distances from rest;
    fewer bits give finer weights relative to the threshold.
    """
    plan = Plan(built_network(network), trace_impulse, headroom_bits)
    if plan.violations:         # in check's words (glia and synapse-targeting parts named for what they are)
        raise violations_error("loihi", check(network, trace_impulse, headroom_bits))
    return plan.lnet


def _per_neuron(value, n) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(value, dtype=float), (n,)))


def _gain(dt, tau_m, tau_s, c_m, integration="exact"):
    """k: volts added to v over one step per ampere of synaptic current present
    at the step's start: exact integration of the two exponentials, or (the
    "spinnaker" IF_curr_exp) the current held over the step, scaled by
    sPyNNaker's input factor tau_s/dt (1 - exp(-dt/tau_s)), which is Loihi's
    own order of u and v."""
    a, b = np.exp(-dt / tau_m), np.exp(-dt / tau_s)
    if integration == "spinnaker":
        return tau_s / dt * (1 - b) * tau_m / c_m * (1 - a)
    same = np.isclose(tau_m, tau_s, rtol=1e-9, atol=0)
    diff = np.where(same, 1.0, tau_m - tau_s)
    return np.where(same, dt * a / c_m, tau_m * tau_s * (a - b) / (diff * c_m))


def _rest_drive(decay_v, v_rest, v_reset):
    """Volts per step that carry the leak's target from v_reset (Loihi's 0) to
    v_rest: v_rest + a'(v - v_rest) = v_reset + a'(v - v_reset) + (1 - a')(v_rest
    - v_reset) with a' = 1 - decay_v/4096, the decay Loihi applies. Exactly 0
    (no bias) where v_reset == v_rest."""
    return np.where(v_rest == v_reset, 0.0, np.asarray(decay_v, float) / DECAY_ONE * (v_rest - v_reset))


class Plan:
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
        self.plastic: dict[str, str] = {}       # plastic projection -> its rule
        self.violations += rules.monitor_violations(built)
        refused = rate_violations(built, rules.UNEXPRESSIBLE)
        self.violations += refused
        unexpressible = {v.where for v in refused}
        self.bias_input, bad = rules.bias_inputs(built)
        self.violations += bad
        for pop in built.populations.values():
            if f"population '{pop.name}'" not in unexpressible:     # (said above)
                self._population(pop)
        for proj in built.projections:
            rule, bad = rules.learning_rule(proj)
            self.violations += bad
            if rule is not None:
                self.plastic[proj.name] = rule
        for name in self.neuron:
            self._scale(name)
        self.projs = [self._projection(proj) for proj in built.projections]
        self.lnet = None
        if not self.violations:
            self.lnet = LoihiNetwork(built.dt, built.seed, self.pops, self.projs,
                                     list(built.spike_monitors), self.errors, self.notes)

    def violation(self, where, what, value, limit, fix):
        self.violations.append(Violation(where, what, value, limit, fix))

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
        clock = rules.clock_violation(pop, self.dt)
        if clock is not None:       # listed beside what follows, which holds at any dt
            self.violations.append(clock)
        refused = rules.model_violation(pop)
        if refused is not None:
            self.violations.append(refused)
            return
        n, dt = pop.size, self.dt
        p = {k: _per_neuron(pop.params[k], n) for k in
             ("c_m", "tau_m", "tau_syn_E", "tau_syn_I", "v_rest", "v_reset", "v_thresh")}
        p["i_offset"] = _per_neuron(self.bias_input.get(pop.name, pop.init["i_offset"]), n)
        p["v0"] = _per_neuron(pop.init["v"], n)
        bad = rules.neuron_violations(pop, self.built)
        self.violations += bad
        ok = not bad
        tau_s = p["tau_syn_I"] if rules.receptors(pop, self.built) == {"isyn_inh"} else p["tau_syn_E"]
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
        p.update(tau_s=tau_s, decay_u=decay_u, decay_v=decay_v, refractory=rules.loihi_refractory(pop),
                 k=_gain(dt, p["tau_m"], tau_s, p["c_m"], integration_of(pop.model)),
                 kb=p["tau_m"] * decay_v / DECAY_ONE / p["c_m"])
        # Loihi's v = 0 is v_reset; the leak towards v_rest is the leak towards 0 plus a constant
        # drive of (1 - a')(v_rest - v_reset) volts per step, a' the 12-bit decay, so that the
        # quantised neuron still comes to rest at v_rest (the error stays in tau_m alone); kb
        # uses the same decay, so a constant i_offset settles at exactly R * i_offset above rest
        p["drive"] = _rest_drive(decay_v, p["v_rest"], p["v_reset"])
        self.neuron[pop.name] = p

    # --- the voltage scale of each neuron population
    def _scale(self, name):
        p, where = self.neuron[name], f"population '{name}'"
        n = p["k"].size
        pos, neg, single = np.zeros(n), np.zeros(n), 0.0
        plastic = []
        for proj in self.built.projections:
            if proj.post != name or not proj.i.size:
                continue
            w = np.full(proj.i.size, proj.namespace["w_max"]) if proj.name in self.plastic else proj.w
            wv = w * p["k"][proj.j]
            pos += np.bincount(proj.j, np.clip(wv, 0, None), n)
            neg += np.bincount(proj.j, np.clip(-wv, 0, None), n)
            single = max(single, float(np.max(np.abs(wv))))
            if proj.name in self.plastic:
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
            me = mant_exp(b, BIAS_MANT_MAX, 0, BIAS_EXP_MAX)
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
        rows = [("tau_m", p["tau_m"], effective_tau(dt, p["decay_v"]), "s"),
                ("tau_syn", p["tau_s"], effective_tau(dt, p["decay_u"]), "s"),
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
        refused = rules.delivery_violation(proj)
        if refused is not None:
            self.violations.append(refused)
            return None
        self.violations += rules.projection_violations(proj)
        d = proj.delay - 1                                  # Loihi's delay: the spike acts d + 1 steps later
        sign = "exc" if proj.target == "isyn_exc" else "inh"
        p = self.neuron.get(proj.post)
        if p is None or "scale" not in p:          # the population itself was refused
            return None
        lo, hi = W_MANT[sign]
        wv = proj.w * p["k"][proj.j] * p["scale"]          # Loihi units of u
        rule = self.plastic.get(proj.name)
        if rule is not None:
            e = p["w_exp_plastic"]
        else:
            peak = float(np.max(np.abs(wv))) if wv.size else 0.0
            me = mant_exp(peak / 64.0, max(abs(lo), hi), 0, W_EXP_MAX)
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
            me = mant_exp(amp_w / quantum / imp, RULE_MANT_MAX, RULE_EXP_MIN, RULE_EXP_MAX)
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
        return LoihiLearning(rule, ap, ape, am, ame, imp, taus[0], imp, taus[1], learns=ns.get("plastic", 1.0) != 0)
