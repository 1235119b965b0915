"""The SpiNNaker target: ``check``, ``quantize``, ``map``, ``export``, ``emulate``.

* ``check`` lists every constraint the network breaks on the installed sPyNNaker:
  the PyNN translation (cell types, connectors, STDP rules: ``hardware/pynn.py``),
  the time step, neurons per core, the longest delay the ring buffer plus delay
  extensions can hold, the binaries sPyNNaker ships for each neuron/STDP
  combination, and weights lost to the fixed-point weight scaling.
* ``map`` exports the PyNN script and runs it with ``--simulator spinnaker`` on
  a *virtual* board (sPyNNaker's whole toolchain: partitioning, placement,
  routing, data generation; nothing is executed), in a temporary folder with
  its own ``~/.spynnaker.cfg``: the user's own configuration is never read or
  written. The cores it placed become the resource table.
* ``quantize`` / ``emulate``: sPyNNaker's s16.15 arithmetic
  (``spikemem.hardware.spinnaker_emulator``).
* ``export``: the standalone PyNN script (``spikemem.hardware.pynn.export_pynn``).

The limits are read from the installed sPyNNaker, not copied: neurons per core
(``POP_TABLE_MAX_ROW_LENGTH``), ring-buffer bits (``MAX_RING_BUFFER_BITS``: atom
bits + synapse-type bits + delay bits share them) and delay-extension stages
(``DelayExtensionVertex.MAX_SLOTS``).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from spikemem.errors import ModelError
from spikemem.network import Network

from . import pynn as _pynn
from .target import Resources, Violation, require, violations_error

NAME = "spinnaker"
BACKEND = "spinnaker"           # the s16.15 emulator, as a simulation backend
TIMESTEPS_MS = (1.0, 0.1)       # the time steps sPyNNaker's binaries are built and tested for
SYNAPSE_TYPES = 2               # excitatory, inhibitory
MAP_TIMEOUT_S = 600

# Virtual SpiNN-5 board (48 chips): sPyNNaker runs its mapping without hardware.
VIRTUAL_BOARD_CFG = """[Machine]
virtual_board = True
version = 5
"""


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
    slots = 2 ** (lim["ring_buffer_bits"] - _n_bits(atoms) - _n_bits(SYNAPSE_TYPES))
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
    built = network.build()
    model, problems = _pynn.translation(network, built=built)
    out = []
    for line in problems:
        where, _, why = line.partition(": ")
        out.append(Violation(where, why, None, None, "see the translation table in spikemem.hardware.pynn"))
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
    """Non-zero weights the 16-bit weights of a current synapse type round to 0.

    sPyNNaker picks one ring-buffer shift per post population and receptor from
    the largest input it expects, so a small weight beside large ones is lost.
    """
    from .spinnaker_emulator import weight_scaling
    out = []
    for (post, receptor), entry in weight_scaling(built).items():
        for name, q in entry["projections"].items():
            w = np.abs(next(p.w for p in built.projections if p.name == name))
            lost = (w > 0) & (q["w16"] == 0)
            if np.any(lost):
                out.append(Violation(
                    f"projection '{name}'", "weight resolution",
                    f"{int(lost.sum())} weight(s) down to {w[lost].min() * 1e9:.3g} nA round to 0",
                    f"a step of {entry['resolution_nA']:.3g} nA on '{post}' ({receptor}, shift {entry['shift']})",
                    "scale the small weights up, or move them to a population whose inputs "
                    "have a similar range (the weights of one receptor share 16 bits)"))
    return out


def quantize(network: Network):
    """sPyNNaker's fixed-point numbers for the network (``spinnaker_emulator.quantize``)."""
    from .spinnaker_emulator import quantize as _quantize
    return _quantize(network)


def emulate(network: Network, duration):
    """The s16.15 emulator beside the float64 numba run (an ``Emulation``)."""
    from .spinnaker_emulator import emulate as _emulate
    return _emulate(network, duration)


def export(network: Network, directory, duration, force: bool = False) -> str:
    """The standalone PyNN script (runs with ``--simulator spinnaker`` or ``nest``)."""
    violations = check(network)
    if violations:
        raise violations_error(NAME, violations)
    return _pynn.export_pynn(network, directory, duration, force=force)


def map(network: Network, duration=None, neurons_per_core: int | None = None,
        keep: str | None = None) -> Resources:
    """Run sPyNNaker's mapping on a virtual SpiNN-5 board and count the cores it placed.

    ``duration`` (s; default 10 steps) sizes the recording and spike-source
    regions. ``keep``: a folder to copy the run (script, cfg, sPyNNaker's
    reports) into; by default everything is removed.
    """
    violations = check(network, neurons_per_core)
    if violations:
        raise violations_error(NAME, violations)
    built = network.build()
    duration = 10 * built.dt if duration is None else duration
    with tempfile.TemporaryDirectory(prefix="spikemem-spinnaker-") as tmp:
        folder = _pynn.export_pynn(network, os.path.join(tmp, "model"), duration)
        placed = run_mapping(folder, neurons_per_core, keep)
    return resources(placed, built)


def run_mapping(folder: str, neurons_per_core: int | None = None, keep: str | None = None) -> dict:
    """Run an exported PyNN folder on a virtual board; sPyNNaker's placements as a dict."""
    with tempfile.TemporaryDirectory(prefix="spikemem-spinnaker-home-") as home:
        os.makedirs(os.path.join(home, ".config"))
        with open(os.path.join(home, ".spynnaker.cfg"), "w") as f:
            f.write(VIRTUAL_BOARD_CFG)
        # sPyNNaker reads ~/.spynnaker.cfg and the XDG config folders: point all of them here
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
               "XDG_CONFIG_DIRS": os.path.join(home, "xdg"), "MPLBACKEND": "Agg"}
        placements = os.path.join(home, "placements.json")
        cmd = [sys.executable, os.path.join(folder, "run.py"), "--simulator", "spinnaker",
               "--placements", placements]
        if neurons_per_core is not None:
            cmd += ["--neurons-per-core", str(int(neurons_per_core))]
        try:
            proc = subprocess.run(cmd, cwd=home, env=env, capture_output=True, text=True,
                                  timeout=MAP_TIMEOUT_S)
        finally:
            if keep is not None:        # the script, the cfg and sPyNNaker's reports
                shutil.copytree(folder, os.path.join(keep, "model"), dirs_exist_ok=True)
                shutil.copytree(home, os.path.join(keep, "run"), dirs_exist_ok=True)
        if proc.returncode != 0:
            raise ModelError("sPyNNaker's mapping failed:\n" + _last_error(proc.stderr + proc.stdout))
        with open(placements) as f:
            return json.load(f)


def _last_error(log: str) -> str:
    """sPyNNaker's exception line (its log is long), else the log's tail."""
    lines = [ln for ln in log.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "Exception" in ln or "Error" in ln]
    return "\n".join(errors[-3:] if errors else lines[-15:])


def resources(placed: dict, built) -> Resources:
    """Cores per population, chips, totals. A population's cores are its neuron (or
    source) cores, the synapse cores sPyNNaker splits off when one core cannot
    process its input in a step, and the delay-extension cores of its outgoing
    long delays."""
    cores = placed["cores"]
    rows = []
    for name, pop in built.populations.items():
        own = [c for c in cores if c["app_label"] == name]
        synapse = [c for c in own if "Synapses" in c["vertex"]]
        delay = [c for c in cores if c["app_vertex"] == "DelayExtensionVertex" and c["app_label"] == f"{name}_delayed"]
        chips = {(c["x"], c["y"]) for c in own + delay}
        rows.append({"population": name, "kind": pop.kind, "neurons": pop.size,
                     "cores": len(own) + len(delay), "neuron_cores": len(own) - len(synapse),
                     "synapse_cores": len(synapse), "delay_cores": len(delay),
                     "max_neurons_per_core": max((c["atoms"] for c in own), default=0), "chips": len(chips)})
    network_cores = [c for c in cores if c["app_label"] is not None]   # system vertices have none
    system = [c for c in cores if c["app_label"] is None]
    totals = {"cores": len(network_cores), "chips": len({(c["x"], c["y"]) for c in network_cores}),
              "system_cores": len(system), "board_chips": placed["machine_chips"]}
    return Resources(NAME, rows, totals, assumptions=[
        "virtual SpiNN-5 board (48 chips, 18 cores per chip); system cores are sPyNNaker's "
        "monitors on every chip, counted apart from the network's cores"])
