"""Reading NIR files safely: a hostile or damaged HDF5 file is checked in a child process first."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import resources

import nir

from spikemem.errors import ModelError

from .convention import FORMS, IMPORTED, LEGACY_RESETS, problems_error

#: the most array elements, group depth and objects a file may declare before it is refused
MAX_ELEMENTS = 50_000_000
MAX_DEPTH = 32
MAX_OBJECTS = 100_000


def read_nir(path, legacy_reset=None) -> nir.NIRGraph:
    """Read a NIR file safely: ModelError for anything that is not a well-formed NIR 1.x graph.

    Checked first, in a child process with time and memory limits (``_SCAN``):
    an HDF5 file that reads without error, with a version and a node group, no
    links or external storage, at most ``MAX_ELEMENTS`` array elements, node
    types spikemem imports, and an explicit ``v_reset`` on every spiking node
    (else ``legacy_reset`` must say which reset the file meant; see
    docs/interop/nir.md). Then ``nir.read``; whatever it raises becomes a ModelError.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelError(f"{path}: no such NIR file")
    version, legacy = _scan(path)
    if legacy and legacy_reset not in LEGACY_RESETS:
        if legacy_reset is not None:
            raise ModelError(f"legacy_reset must be one of {LEGACY_RESETS}, got {legacy_reset!r}")
        raise ModelError(
            f"{path}: written by NIR {version}; its spiking nodes {legacy} carry no v_reset. NIR before "
            f"v_reset documented a reset by subtracting the threshold, while norse and snntorch reset to "
            f"zero; pass legacy_reset='zero' or 'subtract' to say which one the file means")
    try:
        graph = nir.read(path, type_check=False)
    except Exception as e:       # nir and h5py raise many types for malformed content
        raise ModelError(f"{path}: malformed NIR graph ({type(e).__name__}: {e})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise ModelError(f"{path}: the file holds a single {type(graph).__name__} node, not a NIR graph")
    for name in legacy:
        _node_at(graph, name).metadata["spikemem.reset"] = legacy_reset
    return graph


def _node_at(graph, dotted: str):
    node = graph
    for part in dotted.split("/"):
        node = node.nodes[part]
    return node


# The first read of a file happens in a child process that imports only h5py:
# a damaged or hostile HDF5 file can make the HDF5 library loop, allocate
# without bound or crash, and none of that may happen to the caller. The child
# (templates/scan.py) checks the structure, reads every dataset once within the
# limits, and reports; only then does nir.read open the file here.
_SCAN = resources.files(__package__).joinpath("templates", "scan.py").read_text()
SCAN_TIMEOUT_S = 30
SCAN_MEMORY = 4 << 30


def _scan(path) -> tuple:
    """(version, spiking nodes without v_reset) of a NIR file, refusing unsafe or unknown content."""
    limits = {"elements": MAX_ELEMENTS, "depth": MAX_DEPTH, "objects": MAX_OBJECTS, "memory": SCAN_MEMORY,
              "imported": list(IMPORTED), "spiking": [f.name for f in FORMS.values() if f.spiking]}
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        child = subprocess.run([sys.executable, "-I", "-c", _SCAN, path, json.dumps(limits)], env=env,
                               capture_output=True, text=True, timeout=SCAN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ModelError(f"{path}: reading it took more than {SCAN_TIMEOUT_S} s (a damaged or hostile "
                         f"HDF5 file)") from None
    try:
        report = json.loads(child.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ModelError(f"{path}: the HDF5 library failed reading it (exit status {child.returncode}; "
                         f"a damaged or hostile HDF5 file)") from None
    if "error" in report:
        raise ModelError(f"{path}: {report['error']}")
    version = report["version"]
    major = re.match(r"(\d+)\.", version or "")
    if major is None:
        raise ModelError(f"{path}: unreadable NIR version {version!r}")
    if int(major.group(1)) > 1:
        raise ModelError(f"{path}: written by NIR {version}; this spikemem reads NIR 0.x and 1.x "
                         f"(nir {nir.version} installed)")
    if report["problems"]:
        raise problems_error(f"{path}: cannot import the NIR graph", report["problems"])
    return version, report["legacy"]
