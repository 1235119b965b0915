"""Outcomes on disk, keyed by what produced them, each written once and atomically.

An entry's key is a digest of the experiment's name and code, spikemem's
version, the parameters (SI), the seed, the backend, the dtype and, for a
later stage, the key of the stage before it. One HDF5 file per entry::

    <root>/<experiment>/<key[:2]>/<key>.h5
        attrs: format, key, metrics (JSON), provenance (JSON), digest
        /result   a Result, as Result.save writes it (when the outcome has one)
        /state    one dataset per checkpoint array

Arrays carry HDF5 checksums and the attributes a digest, so a damaged entry
is found when read (``CorruptEntry``) and computed again. A writer killed
mid-write leaves only a temporary file named after its process, removed by
the next cache opened on that host once the process is gone.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import socket

import h5py
import numpy as np

from ..errors import ModelError
from ..results import Result, _json_default, _write_array, atomic_write, unwritable
from .experiment import Outcome

FORMAT = "spikemem.outcome"

#: where outcomes are cached unless told otherwise (``cache=`` / ``--cache``)
ENV = "SPIKEMEM_EXPERIMENT_CACHE"


class CorruptEntry(Exception):
    """A cache entry exists but cannot be read back whole."""


def default_root() -> str:
    return os.environ.get(ENV) or os.path.join(os.path.expanduser("~"), ".cache", "spikemem", "experiments")


def canonical(value):
    """A parameter value as keys and dataset coordinates hold it."""
    # 12 significant digits: 0.02 s written as 20*ms or as 0.02 is one entry
    return float(f"{value:.12g}") if isinstance(value, float) else value


def entry_key(experiment: str, code: str, params: dict, seed: int, backend: str, dtype: str | None,
              upstream: str | None) -> str:
    from .provenance import versions
    spec = {"experiment": experiment, "code": code, "spikemem": versions()["spikemem"],
            "params": {k: canonical(v) for k, v in params.items()}, "seed": seed, "backend": backend,
            "dtype": dtype, "upstream": upstream}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


LEFTOVER = re.compile(r"^\..+~(?P<pid>\d+)@(?P<host>[A-Za-z0-9-]+)\..+\.tmp$")


class Cache:
    """The outcomes under ``root`` (created on first write)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = os.path.abspath(os.fspath(root) if root is not None else default_root())
        problem = unwritable(self.root, folder=True)
        if problem:
            raise ModelError(f"cache directory '{self.root}' {problem}")
        self.removed_leftovers = self._remove_leftovers()

    def __repr__(self):
        return f"<Cache at {self.root}>"

    def path(self, experiment: str, key: str) -> str:
        return os.path.join(self.root, experiment, key[:2], key + ".h5")

    def load(self, experiment: str, key: str) -> Outcome | None:
        """The stored outcome, None if there is none; ``CorruptEntry`` if it cannot be read whole."""
        path = self.path(experiment, key)
        if not os.path.exists(path):
            return None
        try:
            with h5py.File(path, "r") as f:
                if f.attrs.get("format") != FORMAT or f.attrs.get("key") != key:
                    raise CorruptEntry("not an outcome of this key")
                metrics, provenance = str(f.attrs["metrics"]), str(f.attrs["provenance"])
                if f.attrs.get("digest") != _digest(metrics, provenance):
                    raise CorruptEntry("its metrics or provenance do not match their digest")
                result = Result._from_h5(f["result"]) if "result" in f else None
                state = {name: d[()] for name, d in f["state"].items()}
        except CorruptEntry:
            raise
        except Exception as e:          # h5py reports damage as OSError, KeyError, ValueError, ...
            raise CorruptEntry(f"{type(e).__name__}: {e}") from None
        return Outcome(json.loads(metrics), result, state, json.loads(provenance))

    def store(self, experiment: str, key: str, outcome: Outcome) -> str:
        """Write ``outcome`` once: an entry already there (written by another sweep) is kept."""
        path = self.path(experiment, key)
        if os.path.exists(path):
            return path
        metrics = json.dumps(outcome.metrics, sort_keys=True)
        provenance = json.dumps(outcome.provenance, default=_json_default, sort_keys=True)
        meta = outcome.result._checked_meta() if outcome.result is not None else None
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_write(path, tag=f"~{os.getpid()}@{_host()}") as tmp, h5py.File(tmp, "w") as f:
            f.attrs.update(format=FORMAT, key=key, metrics=metrics, provenance=provenance,
                           digest=_digest(metrics, provenance))
            if outcome.result is not None:
                outcome.result._to_h5(f.create_group("result"), meta)
            state = f.create_group("state")
            for name, array in outcome.state.items():
                _write_array(state, name, np.asarray(array))
        return path

    def discard(self, experiment: str, key: str) -> None:
        try:
            os.remove(self.path(experiment, key))
        except FileNotFoundError:
            pass

    def _remove_leftovers(self) -> int:
        """Temporary files of writers on this host that no longer run."""
        if not os.path.isdir(self.root):
            return 0
        removed, host = 0, _host()
        for folder, _, files in os.walk(self.root):
            for name in files:
                m = LEFTOVER.match(name)
                if m and m.group("host") == host and not _alive(int(m.group("pid"))):
                    os.remove(os.path.join(folder, name))
                    removed += 1
        return removed


def _digest(metrics: str, provenance: str) -> str:
    return hashlib.sha256((metrics + "\0" + provenance).encode()).hexdigest()[:16]
