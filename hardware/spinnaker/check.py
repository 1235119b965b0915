"""What the installed sPyNNaker refuses (``check``): the PyNN translation, the
time step, neurons per core, delays, shipped binaries, and weights lost to the
weight scaling, each listed in full before any work starts.

The limits are read from the installed sPyNNaker, not copied: neurons per core
(``POP_TABLE_MAX_ROW_LENGTH``), ring-buffer bits (``MAX_RING_BUFFER_BITS``: atom
bits + synapse-type bits + delay bits share them) and delay-extension stages
(``DelayExtensionVertex.MAX_SLOTS``).
"""
from __future__ import annotations

import math
import os

import numpy as np

from spikemem.errors import ModelError
from spikemem.interop import pynn
from spikemem.network import Network
from spikemem.targets import Violation

from ..common import linked_violations, listing_violations, rate_violations, require
from ..glia import glia_violations
from .formats import RECEPTORS
from .weights import weight_scaling

TIMESTEPS_MS = (1.0, 0.1)       # the time steps sPyNNaker's binaries are built and tested for

#: why rate units, stochastic firing and signals stay off the board (``rate_violations``)
UNEXPRESSIBLE = {
    "rate": "a rate unit (its output s is a continuous value; it never spikes), and SpiNNaker's cores send "
            "each other spikes only: sPyNNaker has no rate neuron",
    "stochastic": "has no PyNN cell type on SpiNNaker: sPyNNaker's stochastic neurons (IF_cond_exp_stoc's "
                  "Maass threshold, StocExp, StocSigma) fire with their own functions of the membrane "
                  "voltage, not with probability rate*dt",
    "signal": "a time-varying value shared by every neuron, and sPyNNaker's neurons take only spikes and a "
              "constant i_offset (nothing the host writes each step)"}
#: SpiNNaker's neuron, in the words of ``glia_violations``
GLIA_NEURON = "PyNN's IF_curr_exp or IF_cond_exp (fixed weights into exponential currents or conductances)"


def limits(neurons_per_core: int | None = None) -> dict:
    """The installed sPyNNaker's limits (``neurons_per_core``: a user's ceiling)."""
    require("spynnaker")
    from spynnaker.pyNN.models.utility_models.delays.delay_extension_vertex import DelayExtensionVertex
    from spynnaker.pyNN.utilities.constants import MAX_RING_BUFFER_BITS, POP_TABLE_MAX_ROW_LENGTH
    from spynnaker.pyNN import model_binaries
    binaries = sorted(f[:-5] for f in os.listdir(model_binaries.__path__[0]) if f.endswith(".aplx"))
    return {"max_neurons_per_core": POP_TABLE_MAX_ROW_LENGTH,
            "neurons_per_core": POP_TABLE_MAX_ROW_LENGTH if neurons_per_core is None else neurons_per_core,
            "ring_buffer_bits": MAX_RING_BUFFER_BITS, "delay_extension_stages": DelayExtensionVertex.MAX_SLOTS,
            "binaries": binaries}


def _n_bits(n: int) -> int:
    """pacman's get_n_bits: bits that index n values."""
    return 0 if n == 0 else 1 if n == 1 else int(math.ceil(math.log2(n)))


def max_delay_steps(post_size: int, lim: dict) -> int:
    """Longest delay (in steps) into a population of ``post_size`` neurons: the ring
    buffer's delay slots on its core, times one plus the delay-extension stages."""
    atoms = min(post_size, lim["neurons_per_core"])
    slots = 2 ** (lim["ring_buffer_bits"] - _n_bits(atoms) - _n_bits(len(RECEPTORS)))
    return slots * (1 + lim["delay_extension_stages"])


def binary_name(cell_type: str, synapse: dict | None) -> str:
    """The sPyNNaker binary a population needs (``IF_curr_exp_stdp_mad_pair_additive``)."""
    if synapse is None or synapse["type"] == "static":
        return cell_type
    wd = "additive" if synapse["weight_dependence"].startswith("Additive") else "multiplicative"
    return f"{cell_type}_stdp_mad_pair_{wd}"


def check(network: Network, neurons_per_core: int | None = None) -> list:
    """Every constraint of the installed sPyNNaker the network breaks."""
    if not isinstance(network, Network):
        raise ModelError(f"check needs a spikemem Network, got {type(network).__name__}")
    lim = limits(neurons_per_core)
    too_large = []          # the chip holds a convolution's synapses listed
    built = network.build().explicit(who="SpiNNaker", too_large=too_large)
    model, problems = pynn.translation(network, built=built)
    # (parts named for what they are: the translation's generic words on them add nothing)
    linked = linked_violations(built, "SpiNNaker") + glia_violations(built, "SpiNNaker", GLIA_NEURON)
    out = listing_violations(too_large, "SpiNNaker") + rate_violations(built, UNEXPRESSIBLE) + linked
    said = {v.where for v in out}        # (the translation's "no PyNN cell type" adds nothing to these)
    for line in problems:
        where, _, why = line.partition(": ")
        if where in said and (why.startswith("neuron model") or where in {v.where for v in linked}):
            continue
        out.append(Violation(where, why, None, None, "see the translation table in spikemem.interop.pynn"))
    npc = lim["neurons_per_core"]
    if not (isinstance(npc, (int, np.integer)) and 1 <= npc <= lim["max_neurons_per_core"]):
        out.append(Violation("network", "neurons per core", npc, lim["max_neurons_per_core"],
                             f"choose 1..{lim['max_neurons_per_core']}"))
        return out
    dt_ms = built.dt * 1e3
    if not any(abs(dt_ms - t) <= 1e-9 * t for t in TIMESTEPS_MS):
        out.append(Violation("network", "time step", f"{dt_ms:g} ms", " or ".join(f"{t:g} ms" for t in TIMESTEPS_MS),
                             "build the network with dt = 1 ms or 0.1 ms"))
    if out:          # the rest reads the PyNN translation
        return out
    by_name = {p["name"]: p for p in model.spec["populations"]}
    for pr in model.spec["projections"]:
        post = by_name[pr["post"]]
        where = f"projection '{pr['name']}'"
        d = model.arrays[pr["key"] + "__delay"]
        longest = int(round(float(d.max()) / dt_ms)) if d.size else 0
        limit = max_delay_steps(post["size"], lim)
        if longest > limit:
            out.append(Violation(where, "delay", f"{longest} steps", f"{limit} steps into '{post['name']}' "
                                 f"at {npc} neurons per core",
                                 "shorten the delay, or put fewer neurons on a core (more delay bits)"))
        binary = binary_name(post["cell_type"], pr["synapse"])
        if binary not in lim["binaries"]:
            out.append(Violation(where, "sPyNNaker binary", binary, "not shipped",
                                 "use a static synapse or a pair rule with additive weight dependence"))
    out += _weight_violations(built)
    return out


def _weight_violations(built) -> list:
    """Non-zero weights the 16-bit weights of a synapse type round to 0.

    sPyNNaker picks one ring-buffer shift per post population and receptor from
    the largest input it expects, so a small weight beside large ones is lost.
    """
    out = []
    for (post, receptor), entry in weight_scaling(built).items():
        for name, q in entry["projections"].items():
            w = np.abs(next(p.w for p in built.projections if p.name == name))
            lost = (w > 0) & (q["w16"] == 0)
            if np.any(lost):
                out.append(Violation(
                    f"projection '{name}'", "weight resolution",
                    f"{int(lost.sum())} weight(s) down to {w[lost].min() * entry['si']:.3g} {entry['unit']} "
                    f"round to 0",
                    f"a step of {entry['resolution']:.3g} {entry['unit']} on '{post}' ({receptor}, "
                    f"shift {entry['shift']})",
                    "scale the small weights up, or move them to a population whose inputs "
                    "have a similar range (the weights of one receptor share 16 bits)"))
    return out
