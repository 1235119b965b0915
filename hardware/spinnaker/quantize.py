"""sPyNNaker's numbers for a network (``quantize``): every LIF constant as the
host writes it and the core derives it, the weight scaling, and the error of
each parameter."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spikemem.errors import ModelError
from spikemem.network import BuiltPopulation
from spikemem.targets import QuantizationError

from ..common import built_network
from .supported import is_conductance, require_emulable
from .formats import (COND_PARAMS, LIF_PARAMS, MS, MV, NA, ONE, RECEPTORS, U032, ceil_accum, expk,
                      expulr, kdivk, s1615)
from .weights import weight_scaling


def neuron_constants(pop: BuiltPopulation, dt: float, fixed: bool = True) -> dict:
    """What sPyNNaker's core holds for a population, one value per neuron: the
    parameters run.py passes (tau_refrac = refractory_steps * dt) as the host
    writes them (S1615) and what neuron_model_initialise / decay_and_init
    derive from them; for a conductance cell also the reversal potentials
    (input_type_conductance.h; 0 for a current cell, which has none).
    ``fixed=False``: the same unrounded, in float64 (the ``arithmetic="float64"`` twin)."""
    n, where = pop.size, f"population '{pop.name}'"
    # the PyNN export's tau_refrac: sPyNNaker holds ceil(tau_refrac/ts) = refractory_steps steps
    tau_refrac = pop.refractory_steps * dt * MS
    if fixed:
        ts = int(s1615(dt * MS, "time step"))
        enc, div, exp_k, exp_ulr, ceil = s1615, kdivk, expk, expulr, ceil_accum

        def init(tau, decay):
            return np.minimum((kdivk(tau, ts) * (U032 - 1 - decay)) >> 15, U032 - 1)
    else:
        ts = dt * MS
        enc, div, exp_k, exp_ulr = (lambda x, _: np.asarray(x, np.float64)), np.divide, np.exp, np.exp

        def ceil(x):
            return np.ceil(np.round(x, 9)).astype(np.int64)

        def init(tau, decay):
            return tau / ts * (1 - decay)
    c = {"ts": ts}
    for name, factor in LIF_PARAMS + COND_PARAMS:
        value = pop.params.get(name, 0.0)           # a current cell has no reversal potentials
        c[name] = enc(np.broadcast_to(np.asarray(value, float) * factor, (n,)), f"{where} {name}")
    for name in ("c_m", "tau_m", "tau_syn_E", "tau_syn_I"):
        if np.any(c[name] <= 0):
            raise ModelError(f"{where}: {name} is 0 in s16.15 (too small for SpiNNaker)")
    c["tau_refrac"] = np.full(n, enc(tau_refrac, f"{where} tau_refrac"))
    c["R"] = div(c["tau_m"], c["c_m"])
    c["exp_TC"] = exp_k(-div(ts, c["tau_m"]))
    c["T_refract"] = ceil(div(c["tau_refrac"], ts))
    for syn, tau in (("exc", "tau_syn_E"), ("inh", "tau_syn_I")):
        c[f"{syn}_decay"] = exp_ulr(-div(ts, c[tau]))
        c[f"{syn}_init"] = init(c[tau], c[f"{syn}_decay"])
    return c


@dataclass
class SpiNNakerQuantization:
    """What the board holds for a network: per population the fixed-point
    constants (``neuron_constants``), per (post, receptor) the weight scaling,
    and the parameters before and after (``errors``)."""
    dt: float
    populations: dict
    weights: dict
    errors: list = field(default_factory=list)


def quantize(network) -> SpiNNakerQuantization:
    """sPyNNaker's numbers for ``network`` and a ``QuantizationError`` per
    parameter (the neuron with the largest error where values differ):
    time constants and v parameters as S1615, exp_TC (s16.15), the synaptic
    decay and init factors (u0.32), R_membrane, T_refract (the steps held
    after a spike, from the exported tau_refrac), and per projection the
    worst and the mean weight after 16-bit scaling."""
    built = require_emulable(built_network(network))
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
        c = pops[name] = neuron_constants(pop, dt)
        exact = neuron_constants(pop, dt, fixed=False)              # the same unrounded
        where = f"population '{name}'"
        for key, label, scale, si, unit in (
                *((k, k, ONE, f, u) for (k, f), u in zip(LIF_PARAMS, ("F", "s", "s", "s", "V", "V", "V"))),
                ("R", "R_membrane", ONE, 1e-6, "ohm"), ("exp_TC", "exp_TC (s16.15)", ONE, 1, ""),
                *((f"{syn}_{k}", f"{syn}_{k} (u0.32)", U032, 1, "") for syn in RECEPTORS for k in ("decay", "init"))):
            row(where, label, exact[key] / si, c[key] / scale / si, unit)
        if is_conductance(pop):
            for key, si in COND_PARAMS:
                row(where, key, exact[key] / si, c[key] / ONE / si, "V")
        row(where, "held steps (T_refract)", np.full(pop.size, pop.refractory_steps), c["T_refract"], "steps")
        row(where, "v (initial)", pop.init["v"], s1615(pop.init["v"] * MV) / ONE / MV, "V")
        row(where, "i_offset", pop.init["i_offset"], s1615(pop.init["i_offset"] * NA) / ONE / NA, "A")
    weights = weight_scaling(built)
    for entry in weights.values():
        unit = "S" if entry["unit"] == "uS" else "A"
        for pname, pw in entry["projections"].items():
            w = np.asarray(next(p for p in built.projections if p.name == pname).w, float)
            k = int(np.argmax(np.abs(pw["w"] - w)))
            where = f"projection '{pname}'"
            errors.append(QuantizationError(where, "w (worst synapse)", float(w[k]), float(pw["w"][k]), unit))
            errors.append(QuantizationError(where, "w (mean)", float(w.mean()), float(pw["w"].mean()), unit))
    return SpiNNakerQuantization(dt, pops, weights, errors)
