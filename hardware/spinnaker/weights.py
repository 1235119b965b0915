"""sPyNNaker's weight scaling: one ring-buffer shift per post population and
synapse type, and the 16-bit weights it leaves (``population_vertex``'s
``get_ring_buffer_shifts`` and ``get_weight_scales``; docs/targets/spinnaker.md)."""
from __future__ import annotations

import math

import numpy as np

from ..common import built_network
from .supported import is_conductance, is_static, rule_of, stdp_spec, weight_unit
from .formats import RECEPTORS, SYNAPSE_TYPE

SPIKES_PER_SECOND = 30.0        # spynnaker.cfg [Simulation]
RING_BUFFER_SIGMA = 5.0
POISSON_SIGMA_SUMMATION_LIMIT = 3.0


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


def _shift_of(w_max: float) -> int:
    """get_ring_buffer_shifts: ceil(log2 W), one more on an exact power of two."""
    p = 0 if w_max <= 0 else int(math.ceil(max(0.0, math.log2(w_max))))
    return p + 1 if 2 ** p <= w_max else p


def weight_scaling(network) -> dict:
    """sPyNNaker's weight scaling per (post population, receptor) of a network.

    Returns ``{(post, "exc" | "inh"): {...}}`` with ``unit`` ("nA" into a
    current cell, "uS" into a conductance cell), ``si`` (SI -> unit),
    ``scale`` (the global weight scale: 1, or 1024 for conductances),
    ``shift`` (ring-buffer left shift), ``estimate`` ("max": single delay per
    projection, the worst case; "stats": sPyNNaker's Poisson estimate),
    ``max_expected`` (its W, in unit x scale), ``resolution`` (one weight
    LSB, 2**(shift-15) / scale, in unit), ``max_weight`` (65535 LSB: the
    largest weight and ring-buffer sum, in unit), and per incoming projection
    ``w16`` (the stored 16-bit weights), ``w`` (them back in SI, spikemem's
    signs), ``max_error`` and ``mean_error`` (in unit).
    """
    built = built_network(network)
    dt = built.dt
    groups: dict = {}
    for bpj in built.projections:
        post = built.populations[bpj.post]
        if post.kind != "neuron" or bpj.target not in SYNAPSE_TYPE or not bpj.i.size:
            continue
        if bpj.target.startswith("gsyn") and not is_conductance(post):
            continue            # a conductance, but not of a cell sPyNNaker scales as IF_cond_exp
        groups.setdefault((bpj.post, RECEPTORS[SYNAPSE_TYPE[bpj.target]]), []).append(bpj)
    spikes_per_tick = max(1.0, SPIKES_PER_SECOND * dt)
    out = {}
    for key, projs in groups.items():
        unit, si, scale = weight_unit(built.populations[key[0]])
        weights, delays = [], []              # (mean, variance, max fan-in) per projection
        total = biggest = 0.0
        for bpj in projs:
            w = np.abs(np.asarray(bpj.w, float)) * si
            n_conns = int(np.bincount(bpj.j).max())
            w_mean, w_var, w_max = float(w.mean()), float(w.var()), float(w.max())
            if not is_static(bpj) and rule_of(bpj) is not None:   # STDP: may all grow to w_max
                w_max = max(w_max, stdp_spec(bpj, si)["w_max"])
                w_mean, w_var = w_max, 0.0
            # _Stats.__add_details: the mean, variance and biggest weight are taken
            # times the global weight scale, the summed worst case is not
            weights.append((w_mean * scale, w_var * scale ** 2, n_conns))
            biggest = max(biggest, w_max * scale)
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
        res = 2.0 ** (shift - 15) / scale     # get_weight_scales: 2**(15 - shift) * scale per unit
        entry = {"unit": unit, "si": si, "scale": scale, "shift": shift, "estimate": estimate,
                 "max_expected": w_exp, "resolution": res, "max_weight": 0xFFFF * res, "projections": {}}
        sign = -1.0 if key[1] == "inh" and unit == "nA" else 1.0     # conductances are >= 0 on both
        for bpj in projs:
            w = np.abs(np.asarray(bpj.w, float)) * si
            w16 = np.rint(w / res).astype(np.int64) & 0xFFFF
            err = np.abs(w16 * res - w)
            entry["projections"][bpj.name] = {
                "w16": w16.astype(np.uint16), "w": sign * w16 * res / si,
                "max_error": float(err.max()), "mean_error": float(err.mean())}
        out[key] = entry
    return out
