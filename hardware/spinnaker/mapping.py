"""Cores and chips from sPyNNaker's own mapping: the exported PyNN script run on a
*virtual* SpiNN-5 board (partitioning, placement, routing, data generation;
nothing is executed), in a temporary folder with its own ``~/.spynnaker.cfg``
(``templates/spynnaker.cfg``): the user's configuration is never read or written."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.resources import files

from spikemem.errors import ModelError
from spikemem.interop.pynn import export_pynn
from spikemem.network import Network
from spikemem.progress import status
from spikemem.targets import Resources, violations_error

from .check import check

MAP_TIMEOUT_S = 600


def map_network(network: Network, duration=None, neurons_per_core: int | None = None,
                keep: str | None = None) -> Resources:
    """Run sPyNNaker's mapping on a virtual SpiNN-5 board and count the cores it placed.

    ``duration`` (s; default 10 steps) sizes the recording and spike-source
    regions. ``keep``: a folder to copy the run (script, cfg, sPyNNaker's
    reports) into; by default everything is removed.
    """
    violations = check(network, neurons_per_core)
    if violations:
        raise violations_error("spinnaker", violations)
    built = network.build().explicit(who="SpiNNaker")      # the chip holds a convolution's synapses listed
    duration = 10 * built.dt if duration is None else duration
    with tempfile.TemporaryDirectory(prefix="spikemem-spinnaker-") as tmp:
        folder = export_pynn(network, os.path.join(tmp, "model"), duration)
        with status("spinnaker: sPyNNaker placing the network on a virtual board"):
            placed = run_mapping(folder, neurons_per_core, keep)
    return resources(placed, built)


def run_mapping(folder: str, neurons_per_core: int | None = None, keep: str | None = None) -> dict:
    """Run an exported PyNN folder on a virtual board; sPyNNaker's placements as a dict."""
    with tempfile.TemporaryDirectory(prefix="spikemem-spinnaker-home-") as home:
        os.makedirs(os.path.join(home, ".config"))
        with open(os.path.join(home, ".spynnaker.cfg"), "w") as f:
            f.write(files(__package__).joinpath("templates", "spynnaker.cfg").read_text())   # a virtual SpiNN-5
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
    return Resources("spinnaker", rows, totals, assumptions=[
        "virtual SpiNN-5 board (48 chips, 18 cores per chip); system cores are sPyNNaker's "
        "monitors on every chip, counted apart from the network's cores"])
