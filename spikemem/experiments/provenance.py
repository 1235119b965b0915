"""The provenance record kept with every result: what produced it, where and when."""
from __future__ import annotations

import datetime
import functools
import os
import platform
import socket
import subprocess
from importlib.metadata import PackageNotFoundError, version

#: packages whose versions every record names (those not installed are left out)
PACKAGES = ("numpy", "scipy", "brian2", "numba", "torch", "snntorch", "norse", "nir", "dask", "distributed",
            "xarray", "neo", "elephant", "h5py")


@functools.lru_cache(maxsize=1)
def versions() -> dict:
    """spikemem's version and the installed versions of ``PACKAGES``."""
    from .. import __version__
    out = {"spikemem": __version__}
    for package in PACKAGES:
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The git commit of the spikemem source in use (``+dirty`` with uncommitted
    changes), or None when it is not a git checkout (an installed wheel)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        rev = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def record(experiment: str, code: str, stage: str | None, key: str, params: dict, seed: int, backend: str,
           dtype: str | None, started: float, wall_s: float, outcome) -> dict:
    """The provenance of one computed outcome. ``params`` are plain SI values;
    the network hash and simulation details come from the outcome's result
    (its ``meta``) or from what the experiment put in ``outcome.provenance``."""
    meta = outcome.result.meta if outcome.result is not None else {}
    own = dict(outcome.provenance)
    return {
        "experiment": experiment, "stage": stage, "code": code, "key": key,
        "params": params, "seed": seed, "backend": backend, "dtype": dtype,
        "network_hash": own.pop("network_hash", meta.get("network_hash")),
        "simulation": {k: meta[k] for k in ("backend", "registered_as", "options", "dt", "duration", "timings")
                       if k in meta},
        "spikemem": versions()["spikemem"], "git_revision": git_revision(), "versions": versions(),
        "python": platform.python_version(), "host": socket.gethostname(), "pid": os.getpid(),
        "started": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(timespec="seconds"),
        "wall_s": wall_s, **own,
    }
