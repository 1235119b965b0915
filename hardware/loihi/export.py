"""The quantised network as a NIR file: CubaLIF nodes with the dequantised values,
Loihi's integers as metadata (a Lava user's starting point)."""
from __future__ import annotations

import json

import numpy as np

from spikemem.errors import ModelError
from spikemem.interop.nir.pynn_cells import cubalif_of_recurrence

from .formats import DECAY_ONE, HEADROOM_BITS, w_act_array
from .quantize import quantize


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
    import nir                           # the torch extra; only the export needs it
    from spikemem import __version__
    from spikemem.results import atomic_write
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
        nodes[pop.name] = nir.CubaLIF(**cubalif_of_recurrence(
            dt, syn_leak=du / DECAY_ONE, syn_gain=1.0, mem_leak=dv / DECAY_ONE, mem_gain=1.0,
            v_leak=pop.v_reset + pop.drive * DECAY_ONE / dv, v_threshold=pop.v_reset + (pop.vth_mant << 6) / pop.scale,
            v_reset=pop.v_reset.copy()), metadata={"spikemem.loihi": json.dumps(meta)})
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
    metadata = {"spikemem.dt": float(dt), "spikemem.version": __version__, "spikemem.target": "loihi",
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
