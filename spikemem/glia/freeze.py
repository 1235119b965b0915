"""An AM-SU network with its astrocytic state held fixed, as the IF_curr_exp
network the hardware targets run (``freeze_modulation``).

With ``a`` held at a value per neuron, an AM-SU (``glia.amsu.AMSU``) is a
leaky integrate-and-fire neuron: every arriving weight is scaled by the
constant ``m = 1 + k*a``, and ``v + b*a > v_th`` is a threshold on
``u = v + b*a``, which relaxes to ``b*a`` instead of 0. One step of the
frozen unit, in u::

    u <- beta*u + (1 - beta)*b*a + beta*m*w      (w: the weights arriving)
    spike when u > v_th;  then u -= v_th

An ``IF_curr_exp`` whose synaptic current decays within a step (``tau_syn``
a small fraction of dt) takes each weight in the step it arrives, so it is
that step with ``tau_m = tau``, ``v_rest`` at ``b*a``, a threshold ``v_th``
above ``v_reset`` (u in units of ``v_scale``) and each weight in amperes
times ``beta*m*v_scale/gain``, ``gain`` the volts one ampere arriving adds
over its step (``integration``: the IF_curr_exp's). What differs is the
reset: a board's neuron goes to ``v_reset``, where the AM-SU subtracts v_th
and keeps what lay above the threshold. A weight of either sign becomes two
projections, ``exc`` (>= 0) and ``inh`` (<= 0), as the targets take them.
"""
from __future__ import annotations

import numpy as np
from brian2 import mV, nF

from ..errors import ModelError
from ..network import Network
from ..units import plain
from .amsu import is_amsu

#: the name suffix of the inhibitory half of a projection onto a frozen population
INHIBITORY_SUFFIX = "_inh"
#: the shared astrocytes' templates (``glia.amsu.shared_astrocytes``), which do not freeze
SHARED_MODELS = ("AMSUShared", "AMSUAstrocyte")


def _amsu_populations(network: Network) -> list:
    return [name for name, pop in network.populations.items() if not pop.is_source and is_amsu(pop.model)]


def _held_values(a, names: list, sizes: dict) -> dict:
    """``a`` as {population: one value per neuron}, checked."""
    if isinstance(a, dict):
        unknown = sorted(set(a) - set(names))
        missing = sorted(set(names) - set(a))
        if unknown or missing:
            raise ModelError(f"freeze_modulation: a must name every AM-SU population {names}; "
                             f"unknown {unknown}, missing {missing}")
    elif len(names) == 1:
        a = {names[0]: a}
    else:
        raise ModelError(f"freeze_modulation: the network has {len(names)} AM-SU populations {names}; "
                         f"give a as {{population: value(s)}}")
    out = {}
    for name, value in a.items():
        values = np.asarray(value, dtype=float)
        if values.ndim > 1 or values.size not in (1, sizes[name]):
            raise ModelError(f"freeze_modulation: a for '{name}' must be one value or {sizes[name]} (one per "
                             f"neuron), got shape {values.shape}")
        if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values > 1):
            raise ModelError(f"freeze_modulation: a for '{name}' must lie in [0, 1] (where the astrocytic "
                             f"state stays), got values in [{values.min():g}, {values.max():g}]")
        out[name] = np.broadcast_to(values, (sizes[name],)).copy()
    return out


def step_gain(dt, tau_m, tau_syn, c_m, integration: str):
    """Volts one ampere of synaptic weight adds to an IF_curr_exp's v over the
    step it arrives in (v decaying with it): the exact solution, or sPyNNaker's
    step (the current held over the step, scaled by tau_syn/dt*(1 - exp(-dt/tau_syn)))."""
    a, b = np.exp(-dt / tau_m), np.exp(-dt / tau_syn)
    if integration == "spinnaker":
        return tau_syn / dt * (1 - b) * tau_m / c_m * (1 - a)
    return tau_m * tau_syn * (a - b) / ((tau_m - tau_syn) * c_m)


def freeze_modulation(network: Network, a, *, integration: str = "spinnaker", v_scale=10 * mV, v_reset=-65 * mV,
                      tau_syn=None, c_m=1 * nF) -> Network:
    """A copy of ``network`` whose AM-SU populations are ``IF_curr_exp``
    neurons with their astrocytic state held at ``a`` (see the module text):
    a number, one value per neuron (one AM-SU population), or
    ``{population: value(s)}``; each in [0, 1]. ``integration``: the
    IF_curr_exp's (``"spinnaker"``, both boards' step, or ``"exact"``);
    ``v_scale``: the volts of one unit of the AM-SU's v; ``tau_syn``: the
    synaptic time constant (default dt/20, so that a current has decayed
    to e**-20 by the next step). Each neuron starts at its AM-SU's v (its
    u). The rest of the network is copied as it is. Refused: a network without AM-SUs; plastic or synapse-targeting
    projections onto an AM-SU (a frozen weight is a fixed one); a current
    input onto one; state monitors on one (its v is in volts now: record
    the copy's); a projection onto one with an on_pre other than the
    model's delivery; shared astrocytes (``AMSUShared``, ``AMSUAstrocyte``).
    The rest of the network keeps what its build drew (initial values, and
    the synapses of projections whose only synaptic variable is the weight,
    written out), and the projections keep their order."""
    from ..connectors import FromList
    from ..neurons import IF_curr_exp
    if not isinstance(network, Network):
        raise ModelError(f"freeze_modulation needs a spikemem Network, got {type(network).__name__}")
    names = _amsu_populations(network)
    if not names:
        raise ModelError("freeze_modulation: the network has no AM-SU population (spikemem.glia.AMSU)")
    if integration not in ("spinnaker", "exact"):
        raise ModelError(f"freeze_modulation: integration must be 'spinnaker' or 'exact', got {integration!r}")
    scale, rest0, c_m = float(plain(v_scale)), float(plain(v_reset)), float(plain(c_m))
    dt = network.dt
    tau_syn = dt / 20 if tau_syn is None else float(plain(tau_syn))
    if not (scale > 0 and c_m > 0 and 0 < tau_syn < dt):
        raise ModelError(f"freeze_modulation: v_scale and c_m must be > 0 and tau_syn in (0, dt = {dt:g} s), got "
                         f"v_scale {v_scale!r}, c_m {c_m!r}, tau_syn {tau_syn!r}")
    shared = [n for n, pop in network.populations.items()
              if not pop.is_source and pop.model.name in SHARED_MODELS]
    if shared:
        raise ModelError(f"freeze_modulation: populations {shared} are shared astrocytes or their neurons "
                         f"(AMSUShared, AMSUAstrocyte); only AM-SUs with their own astrocyte (AMSU) freeze")
    held = _held_values(a, names, {n: network.populations[n].size for n in names})
    for inp in network.inputs:
        if inp.population in held:
            raise ModelError(f"freeze_modulation: current input on AM-SU population '{inp.population}' "
                             f"('{inp.variable}'): the frozen neuron's variables are IF_curr_exp's")
    for mon in network.monitors:
        if getattr(mon, "variables", None) and mon.population in held:
            raise ModelError(f"freeze_modulation: state monitor on AM-SU population '{mon.population}' "
                             f"({list(mon.variables)}): record the frozen copy's variables instead")
    built = network.build()
    onto = [p for p in built.projections if p.post in held]
    for p in onto:
        if p.linked or p.plastic_pre or p.on_post or set(p.dims) != {"w"}:
            raise ModelError(f"freeze_modulation: projection '{p.name}' onto AM-SU population '{p.post}' is "
                             f"plastic or synapse-targeting; only static projections onto an AM-SU freeze")
        plain_delivery = network.populations[p.post].model.delivery(p.target)
        if p.on_pre.strip() != plain_delivery:
            raise ModelError(f"freeze_modulation: projection '{p.name}' onto AM-SU population '{p.post}' has "
                             f"on_pre {p.on_pre.strip()!r}; only the plain delivery {plain_delivery!r} freezes")
    taken = {p.name for p in built.projections}
    for p in built.projections:
        if p.linked and {p.pre, p.post} & {q.name for q in onto}:
            raise ModelError(f"freeze_modulation: projection '{p.name}' targets the synapses of a projection "
                             f"onto an AM-SU ('{p.pre if p.linked == 'pre' else p.post}'); a frozen weight is "
                             f"a fixed one")
    for p in onto:
        if p.name + INHIBITORY_SUFFIX in taken:
            raise ModelError(f"freeze_modulation: projection '{p.name}' would split into '{p.name}' and "
                             f"'{p.name}{INHIBITORY_SUFFIX}', a name another projection has")
    pops = {name: built.populations[name] for name in held}
    params = {}
    for name, pop in pops.items():
        p = {k: np.broadcast_to(np.asarray(pop.params[k], float), (pop.size,)) for k in
             ("tau", "v_th", "k", "b")}
        if np.any(np.isclose(p["tau"], tau_syn, rtol=1e-9)):
            raise ModelError(f"freeze_modulation: tau_syn {tau_syn:g} s equals the membrane tau of '{name}'")
        beta = np.exp(-dt / p["tau"])
        gain = step_gain(dt, p["tau"], tau_syn, c_m, integration)
        v0 = np.broadcast_to(np.asarray(pop.init["v"], float), (pop.size,))
        params[name] = {"weight": beta * (1 + p["k"] * held[name]) * scale / gain,
                        "v": rest0 + (v0 + p["b"] * held[name]) * scale,            # u = v + b*a
                        "model": dict(c_m=c_m, tau_m=p["tau"], tau_syn_E=tau_syn, tau_syn_I=tau_syn,
                                      v_rest=rest0 + p["b"] * held[name] * scale, v_reset=rest0,
                                      v_thresh=rest0 + p["v_th"] * scale, i_offset=0.0)}
    spec = network.spec()
    frozen_onto = {p.name for p in onto}
    for pop in spec["populations"]:
        if pop["name"] in held:
            pop["model"] = {"kind": "neuron", **IF_curr_exp(integration=integration, tau_refrac=0.0).spec()}
            pop["params"], pop["init"] = {}, {}
    spec["projections"] = [p for p in spec["projections"] if p["name"] not in frozen_onto]
    spec["monitors"] = [m for m in spec["monitors"] if not (m["kind"] == "state" and m["population"] in held)]
    out = Network.from_spec(spec)
    for name, p in params.items():
        # the template's parameters, one value per neuron (the model's spec holds PyNN's defaults)
        out.populations[name].params.update(p["model"])
        out.populations[name].init.update(v=p["v"])
    for p in onto:
        w = p.w * params[p.post]["weight"][p.j]
        for receptor, keep, suffix in (("exc", w >= 0, ""), ("inh", w < 0, INHIBITORY_SUFFIX)):
            if np.any(keep) or receptor == "exc":
                rows = np.column_stack([p.i[keep], p.j[keep], w[keep], p.delay[keep] * dt])
                out.connect(p.pre, p.post, FromList(rows), receptor=receptor, name=p.name + suffix)
    # the frozen projections take their places (each inhibitory half after its excitatory one)
    place = {p.name: k for k, p in enumerate(network.projections)}
    out.projections.sort(key=lambda q: (place[q.name], 0) if q.name in place else
                         (place[q.name[:-len(INHIBITORY_SUFFIX)]], 1))
    _pin_draws(out, built, held, frozen_onto)
    return out


def _pin_draws(out: Network, built, held: dict, frozen: set):
    """Writes into ``out`` what ``built`` drew: the build draws from one generator in order, and the frozen
    populations and projections draw nothing, so everything drawn after them would come out differently.
    Pinned: the other neuron populations' initial values, and the synapses of the other projections
    between whole populations whose only synaptic variable is the weight (the rest draw as the model says)."""
    from ..connectors import FromList
    for name, pop in out.populations.items():
        b = built.populations[name]
        if name in held or b.kind != "neuron":
            continue
        pop.init = {var: np.array(values, float) for var, values in b.init.items()}
    for proj in out.projections:
        b = next((q for q in built.projections if q.name == proj.name), None)
        if (proj.name in frozen or b is None or b.linked or b.conv is not None or set(b.dims) != {"w"}
                or proj.pre_ids is not None or proj.post_ids is not None):
            continue
        proj.connector = FromList(np.column_stack([b.i, b.j, b.w, b.delay * built.dt]))
        proj.weight = proj.delay = None
