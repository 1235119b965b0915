"""``Network.describe()``: a text summary of a network, as PyNN's ``describe()``.

It speaks of the built instance (the numbers every backend simulates): sizes,
parameters, synapse counts, and weight and delay summaries, in readable units.
"""
from __future__ import annotations

from dataclasses import fields

import numpy as np
from brian2 import second
from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

from .units import display_unit


def quantity(values, dim=None) -> str:
    """'1.2 nA' for one value (or values all alike); 'mean 1.2 nA (0.8 to 1.6)' otherwise."""
    unit = "" if dim is None or dim is DIMENSIONLESS or dim.is_dimensionless else str(get_unit(dim))
    shown, factor = display_unit(unit)
    suffix = f" {shown}" if shown else ""
    v = np.asarray(values, dtype=float) * factor
    if v.size == 0:
        return "none"
    if v.min() == v.max():
        return f"{v.flat[0]:.4g}{suffix}"
    return f"mean {v.mean():.4g}{suffix} ({v.min():.4g} to {v.max():.4g})"


def wrapped(items, indent="  ") -> list:
    """Comma-separated ``items`` as lines of about 100 characters, an item never split."""
    lines = [indent + items[0]]
    for item in items[1:]:
        if len(lines[-1]) + len(item) + 2 > 100:
            lines[-1] += ","
            lines.append(indent + item)
        else:
            lines[-1] += ", " + item
    return lines


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:g} ms"


def connector(c) -> str:
    """The connector and its settings, lists and arrays by their length only."""
    parts = []
    for f in fields(c):
        v = getattr(c, f.name)
        if isinstance(v, (list, tuple, np.ndarray)) and np.size(v) > 4:
            v = f"<{len(v)} entries>"
        elif isinstance(v, dict):
            v = "{" + ", ".join(f"{k}={x:g}" if isinstance(x, float) else f"{k}={x}" for k, x in v.items()) + "}"
        parts.append(f"{f.name}={v}")
    return f"{type(c).__name__}({', '.join(parts)})"


def summary_line(n_pops, n_neurons, n_projs, dt, seed, synapses=None) -> str:
    syn = "" if synapses is None else f" ({synapses:,} synapses)"
    return (f"{n_pops} population{'' if n_pops == 1 else 's'} ({n_neurons:,} neurons), "
            f"{n_projs} projection{'' if n_projs == 1 else 's'}{syn}, dt={milliseconds(dt)}, seed={seed}")


def describe(net, built) -> str:
    """The text of ``net.describe()``; ``built`` is ``net.build()``."""
    n_syn = sum(p.n_synapses for p in built.projections)
    lines = [f"Network {built.hash}: " + summary_line(len(built.populations),
                                                      sum(p.size for p in built.populations.values()),
                                                      len(built.projections), built.dt, built.seed, n_syn)]
    lines.append("Populations")
    for pop in built.populations.values():
        lines += ["  " + line for line in _population(net.populations[pop.name], pop, built.dt)]
    if built.projections:
        lines.append("Projections")
        for decl, proj in zip(net.projections, built.projections):
            lines += ["  " + line for line in _projection(decl, proj, built)]
    if built.inputs:
        lines.append("Inputs")
        for inp in built.inputs:
            dim = built.populations[inp.population].parsed.dims[inp.variable]
            changes = [f"{milliseconds(s * built.dt)}: {quantity(v, dim)}" for s, v in zip(inp.steps, inp.values)]
            if len(changes) > 4:
                changes = changes[:2] + [f"... ({len(changes)} changes)", changes[-1]]
            lines += wrapped([f"{inp.population}.{inp.variable} set at {changes[0]}"] + changes[1:])
    if built.signals:
        lines.append("Signals")
        for sig in built.signals:
            readers = [name for name in built.populations if any(k == built.signals.index(sig)
                                                                 for k, _, _ in built.signal_uses(name))]
            lines.append(f"  {sig.name}: {sig.values.shape[0]:,} samples of {', '.join(sig.names)} every "
                         f"{milliseconds(sig.dt)} ({sig.duration:g} s), read by "
                         f"{', '.join(readers) if readers else 'no population'}")
    if built.spike_monitors or built.state_monitors:
        lines.append("Monitors")
        for name in built.spike_monitors:
            ids = built.spike_ids.get(name)
            which = "" if ids is None else f" ({ids.size:,} of {built.populations[name].size:,} neurons)"
            lines.append(f"  spikes of {name}{which}")
        for m in built.state_monitors:
            every = "every step" if m.every == 1 else f"every {m.every} steps"
            lines.append(f"  {', '.join(m.variables)} of {m.population} ({len(m.ids)} neurons, {every})")
    return "\n".join(lines)


def _population(decl, pop, dt) -> list:
    head = f"{pop.name}: {pop.size:,} x {_kind(decl, pop)}"
    if pop.kind == "spikes":
        steps = pop.spike_steps
        span = f" from {milliseconds(steps[0] * dt)} to {milliseconds(steps[-1] * dt)}" if steps.size else ""
        return [f"{head}, {steps.size:,} spikes{span}"]
    if pop.kind == "poisson":
        return [f"{head} at {quantity(pop.rate)} Hz"]
    dims = pop.parsed.dims
    params = [f"{k} = {quantity(v, dims.get(k))}" for k, v in pop.params.items()]
    if pop.refractory_condition is not None:
        params.append(f"refractory while {pop.refractory_condition} (after a spike)")
    else:
        params.append(f"refractory = {milliseconds(pop.refractory)} ({_steps(pop.refractory_steps)} held)")
    if pop.every > 1:
        params.append(f"own dt {milliseconds(pop.every * dt)} (every {_steps(pop.every)})")
    init = [f"{k} = {quantity(v, dims.get(k))}" for k, v in pop.init.items()]
    return [head] + wrapped(params) + wrapped(["initial " + init[0]] + init[1:])


def _convolution(proj, built) -> list:
    """A convolution, counted and summarised from its kernel (its synapses are not listed)."""
    conv = proj.conv
    w = conv.kernel[conv.taps]
    ny, nx = conv.sheet
    c, ky, kx = conv.kernel.shape
    what = "summed from '" + conv.source + "'" if conv.source else \
        f"delay {quantity(conv.delay * built.dt, second.dim)} ({_steps(conv.delay)})"
    return [f"  {proj.n_synapses:,} synapses as a convolution: {c} kernel(s) {ky} x {kx} over a {ny} x {nx} "
            f"{'periodic' if conv.periodic else 'aperiodic'} sheet, {int(conv.taps.sum()):,} taps, "
            f"weight {quantity(w, proj.weight_dim)}, {what}"]


def _steps(n) -> str:
    return f"{n} step{'' if n == 1 else 's'}"


def _kind(decl, pop) -> str:
    if pop.kind == "spikes":
        return "SpikeSource"
    if pop.kind == "poisson":
        return "PoissonSource"
    return pop.model.name


def _projection(decl, proj, built) -> list:
    def side(name, ids):
        return name if ids is None else f"{name}[{len(ids)} of {built.populations[name].size}]"

    n = proj.n_synapses
    if proj.linked:
        other = proj.pre if proj.linked == "pre" else proj.post
        side_text = {proj.linked: f"the synapses of '{other}'"}
        return [f"{proj.name}: {side_text.get('pre', proj.pre)} -> {side_text.get('post', proj.post)} by "
                f"{connector(decl.connector)}, summed into '{proj.target}'",
                f"  {n:,} links, synapse '{decl.synapse.name}'"]
    scale = built.populations[proj.post].model.weight_scale.get(proj.target)
    target = f"{proj.target}, weight times {scale}" if scale else proj.target
    lines = [f"{proj.name}: {side(proj.pre, decl.pre_ids)} -> {side(proj.post, decl.post_ids)} by "
             f"{connector(decl.connector)}, receptor '{decl.receptor}' ({target})"]
    if proj.conv is not None:
        return lines + _convolution(proj, built)
    if not n:
        delay = "delay none"
    elif proj.delay.min() == proj.delay.max():
        delay = f"delay {quantity(proj.delay * built.dt, second.dim)} ({_steps(proj.delay[0])})"
    else:
        delay = (f"delays {milliseconds(proj.delay.min() * built.dt)} to {milliseconds(proj.delay.max() * built.dt)}"
                 f" ({proj.delay.min()} to {proj.delay.max()} steps)")
    rounded = "" if decl.delay_rounding is None else f", rounded ({decl.delay_rounding})"
    given = "" if decl.set_w is None else " (set_weights)"
    lines.append(f"  {n:,} synapses, weight {quantity(proj.w, proj.weight_dim)}{given}, {delay}{rounded}")
    if decl.synapse.name != "static" or proj.namespace:
        consts = ", ".join(f"{k} = {quantity(v, proj.dims.get(k))}" for k, v in proj.namespace.items())
        lines.append(f"  synapse '{decl.synapse.name}'" + (f": {consts}" if consts else ""))
    return lines

