"""A translated network as a standalone PyNN folder: ``run.py`` (from ``templates/``),
``model.json``, ``network.npz`` and ``README.txt``, written atomically."""
from __future__ import annotations

import json
import os
from importlib import resources

import numpy as np

from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.results import output_problem, staged_dir

from .translation import translate


def export_pynn(network: Network, directory, duration, force: bool = False) -> str:
    """Write a standalone PyNN script for ``network`` into ``directory``.

    ``duration`` in seconds. Files: ``run.py`` (``python run.py --simulator
    nest|spinnaker [--out spikes.npz]``), ``model.json``, ``network.npz``,
    ``README.txt``. Atomic: everything is written into a temporary folder
    beside ``directory`` and renamed onto it. A non-empty ``directory`` is
    refused unless ``force=True`` (then it is replaced).
    """
    from brian2 import second
    from spikemem.units import to_si
    duration = to_si(duration, "duration", second.dim)
    if not duration > 0:
        raise ModelError(f"duration must be positive, got {duration}")
    directory = os.path.abspath(os.fspath(directory))
    _check_folder(directory, force)
    model = translate(network, duration)        # every check before anything is written
    with staged_dir(directory, lambda path: _check_folder(path, force)) as tmp:
        with open(os.path.join(tmp, "model.json"), "w") as f:
            json.dump(model.spec, f, indent=1)
        np.savez(os.path.join(tmp, "network.npz"), **model.arrays)
        with open(os.path.join(tmp, "run.py"), "w") as f:
            f.write(_template("run.py"))
        with open(os.path.join(tmp, "README.txt"), "w") as f:
            f.write(_template("README.txt"))
    return directory


def _check_folder(directory: str, force: bool) -> None:
    problem = output_problem(directory, folder=True, force=force)
    if problem:
        raise ModelError(f"{directory}: {problem}")


def _template(name: str) -> str:
    """A file of ``templates/`` (shipped as package data), as text."""
    return resources.files(__package__).joinpath("templates", name).read_text()
