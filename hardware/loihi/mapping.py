"""Cores and chips a network occupies on Loihi 1 (Loihi 2 as an estimate)."""
from __future__ import annotations

import math

import numpy as np

from spikemem.targets import Resources

from ..common import built_network

# Loihi 1 (Davies et al. 2018); Loihi 2 from Intel's Loihi 2 brief (2021)
CORES_PER_CHIP = 128
COMPARTMENTS_PER_CORE = 1024
SYNAPSE_BITS_PER_CORE = 128 * 1024 * 8
AXONS_IN_PER_CORE = 4096
AXONS_OUT_PER_CORE = 4096
LOIHI2_COMPARTMENTS_PER_CORE = 8192
LOIHI2_SYNAPSES_PER_CORE = 120_000_000 // 128


def map_network(network) -> Resources:
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
    return Resources("loihi", rows, {"cores": total, "chips": math.ceil(total / CORES_PER_CHIP) if total else 0,
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
