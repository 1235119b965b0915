"""Simulation results: spike trains, state-variable traces and their HDF5 file format.

Every backend returns a :class:`Result`, so analysis and plotting code never needs to
know which simulator produced the data.  On disk a result is one HDF5 file::

    /                      attrs: format="spikemem.result", format_version, meta (JSON)
    /spikes/<pop>/times    float64 seconds        attrs: n (population size)
    /spikes/<pop>/ids      int64 neuron index
    /spikes/<pop>/recorded int64 recorded neurons (only where a subset was recorded)
    /traces/<key>/times    float64 seconds, (T,)  attrs: unit
    /traces/<key>/ids      int64 recorded neurons, (k,)
    /traces/<key>/values   (T, k)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Iterator

import h5py
import numpy as np

from .errors import ModelError

FORMAT_NAME = "spikemem.result"
FORMAT_VERSION = 1


@dataclass
class SpikeTrain:
    """Spikes of one population as parallel (time, neuron id) arrays.

    ``n`` is the population's size and ids are the population's neuron ids;
    ``recorded`` holds the ids that were recorded when only a subset was (None:
    every neuron)."""

    times: np.ndarray
    ids: np.ndarray
    n: int
    recorded: np.ndarray | None = None

    def __post_init__(self) -> None:
        # Normalise dtypes so results from different backends compare and save identically.
        self.times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        self.ids = np.asarray(self.ids, dtype=np.int64).reshape(-1)
        self.n = int(self.n)
        if self.times.shape != self.ids.shape:
            raise ValueError(f"times and ids differ in length: {self.times.size} != {self.ids.size}")
        if self.n < 0:
            raise ValueError(f"population size must be >= 0, got {self.n}")
        # An out-of-range id would silently grow bincount-based rate arrays.
        if self.ids.size and (self.ids.min() < 0 or self.ids.max() >= self.n):
            raise ValueError(f"neuron ids must lie in [0, {self.n}), got [{self.ids.min()}, {self.ids.max()}]")
        if self.recorded is not None:
            self.recorded = np.asarray(self.recorded, dtype=np.int64).reshape(-1)
            if self.recorded.size and (self.recorded.min() < 0 or self.recorded.max() >= self.n):
                raise ValueError(f"recorded ids must lie in [0, {self.n})")
            if not np.all(np.isin(self.ids, self.recorded)):
                raise ValueError("spike of a neuron that was not recorded")

    def subset(self, ids) -> "SpikeTrain":
        """The spikes of neurons ``ids`` only, which become the recorded neurons."""
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        keep = np.isin(self.ids, ids)
        return SpikeTrain(self.times[keep], self.ids[keep], self.n, ids)

    @property
    def n_recorded(self) -> int:
        """How many neurons were recorded."""
        return self.n if self.recorded is None else int(self.recorded.size)

    def __repr__(self):
        neurons = f"{self.n:,} neurons" if self.recorded is None else f"{self.n_recorded:,} of {self.n:,} neurons"
        span = f", {self.times.min():g} s to {self.times.max():g} s" if self.times.size else ""
        return f"<SpikeTrain: {self.count():,} spikes of {neurons}{span}>"

    def count(self) -> int:
        """Total number of spikes."""
        return int(self.times.size)

    def rates(self, duration: float) -> np.ndarray:
        """Per-neuron firing rate in Hz over a recording of ``duration`` seconds
        (indexed by neuron id; zero for neurons not recorded)."""
        if duration <= 0:
            raise ValueError(f"duration must be positive, got {duration}")
        return np.bincount(self.ids, minlength=self.n) / float(duration)


@dataclass
class Trace:
    """Sampled state variable of ``k`` recorded neurons at ``T`` time points."""

    times: np.ndarray
    ids: np.ndarray
    values: np.ndarray
    unit: str = ""

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        self.ids = np.asarray(self.ids, dtype=np.int64).reshape(-1)
        self.values = np.asarray(self.values)
        self.unit = str(self.unit)
        expected = (self.times.size, self.ids.size)
        if self.values.shape != expected:
            raise ValueError(f"values has shape {self.values.shape}, expected (T, k) = {expected}")

    def __repr__(self):
        span = f", {self.times[0]:g} s to {self.times[-1]:g} s" if self.times.size else ""
        unit = f" in {self.unit}" if self.unit else ""
        return f"<Trace: {self.times.size:,} samples of {self.ids.size:,} neurons{unit}{span}>"


def _json_default(obj):
    # Backends routinely put numpy scalars/arrays into meta; store them as plain JSON.
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"meta value of type {type(obj).__name__} is not JSON-serialisable")


def _current_umask() -> int:
    # os.umask can only be read by setting it; restore immediately.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _nearest_existing(path: str) -> str:
    """``path`` itself or its closest ancestor that exists."""
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def unwritable(path: str | os.PathLike, folder: bool) -> str | None:
    """Why the output ``path`` cannot be created, or None if it can.

    ``folder``: ``path`` is an output folder (it and its missing parents get made);
    else it is a file, whose folder must exist. Probes with a temporary folder that
    is removed at once, so callers can refuse a bad path before any work."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    if not folder and not os.path.isdir(parent):
        what = "is not a directory" if os.path.lexists(parent) else "does not exist"
        return f"its folder '{os.path.dirname(path) or '.'}' {what}"
    base = _nearest_existing(parent)
    if not os.path.isdir(base):
        return f"cannot be created: '{base}' is a file, not a directory"
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".spikemem-probe-", dir=base))
    except OSError as e:
        return f"cannot be written: nothing can be created in '{base}' ({e.strerror or e})"
    return None


def output_problem(path: str | os.PathLike, folder: bool, force: bool, force_name: str = "force=True") -> str | None:
    """Why ``path`` may not be written as an output folder (``folder``) or file, or
    None: it is the other kind, it is taken (a file, a non-empty folder) while
    ``force`` is off (``force_name`` says how to turn it on), or it cannot be
    created (``unwritable``)."""
    path = os.fspath(path)
    if os.path.lexists(path):
        if os.path.isdir(path) != folder:
            return "exists and is not a directory" if folder else "is a directory"
        if not force and not (folder and not os.listdir(path)):
            return f"exists{' and is not empty' if folder else ''} ({force_name} replaces it)"
    return unwritable(path, folder)


@contextlib.contextmanager
def staged_dir(out: str | os.PathLike, check) -> Iterator[str]:
    """Yield a fresh temporary sibling folder of ``out``; on success it replaces ``out``.

    ``check(out)`` raises when ``out`` may not be replaced (it runs again just
    before the swap: the folder may have changed meanwhile). On any failure (or
    interrupt) the temporary folder is removed and ``out`` is left untouched.
    """
    out = os.path.abspath(os.fspath(out))
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.tmp-", dir=parent)
    try:
        # mkdtemp makes 0700 folders; give the result what a plain mkdir would.
        os.chmod(tmp, 0o777 & ~_current_umask())
        yield tmp
        check(out)
        if os.path.isdir(out):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.old-", dir=parent)
            os.rename(out, os.path.join(old, "d"))
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
            return
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, tag: str = "") -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``.

    The temporary file lives in the same directory so ``os.replace`` is an atomic
    rename on the same filesystem: readers see either the old file or the complete
    new one, never a partial write.  On any failure the temporary file is removed and
    an existing ``path`` is left untouched. ``tag`` goes into the temporary
    file's name (a writer that may be killed names itself, so that its leftovers
    can be found).
    """
    path = os.fspath(path)
    problem = output_problem(path, folder=False, force=True)
    if problem:         # named now, not as the temporary file's failure
        raise ModelError(f"'{path}': {problem}")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".tmp", prefix="." + os.path.basename(path) + tag + ".", dir=directory)
    os.close(fd)
    try:
        yield tmp
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_current_umask())
        # Flush to disk before the rename so a power loss cannot expose an empty file.
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _check_name(kind: str, name: str) -> None:
    # "/" would silently create nested HDF5 groups that load() cannot map back.
    if not name or "/" in name:
        raise ValueError(f"{kind} name {name!r} cannot be empty or contain '/'")


def _write_array(group: h5py.Group, name: str, data: np.ndarray) -> None:
    # Compress non-empty arrays (spike times compress well); h5py rejects chunking empty and scalar ones.
    # (fletcher32: a checksum per chunk, so a damaged file fails to read instead of reading wrong)
    chunked = data.size and data.ndim
    kwargs = {"compression": "gzip", "compression_opts": 4, "shuffle": True, "fletcher32": True} if chunked else {}
    group.create_dataset(name, data=data, **kwargs)


@dataclass
class Result:
    """Everything one simulation run produced."""

    spikes: dict[str, SpikeTrain] = field(default_factory=dict)
    traces: dict[str, Trace] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __repr__(self):
        m = self.meta
        duration = f", {m['duration']:g} s" if isinstance(m.get("duration"), (int, float)) else ""
        spikes = ", ".join(f"{pop}: {t.count():,}" for pop, t in self.spikes.items()) or "none"
        traces = f", {len(self.traces)} trace(s)" if self.traces else ""
        return f"<Result of {m.get('backend', '?')}{duration}; spikes {spikes}{traces}>"

    def save(self, path: str | os.PathLike) -> None:
        """Write the result to ``path`` as HDF5, atomically (see :func:`atomic_write`)."""
        meta_json = self._checked_meta()

        with atomic_write(path) as tmp:
            with h5py.File(tmp, "w") as f:
                self._to_h5(f, meta_json)

    def _checked_meta(self) -> str:
        """The meta as JSON, after checking names: a bad one fails before any file is created."""
        for pop in self.spikes:
            _check_name("population", pop)
        for key in self.traces:
            _check_name("trace", key)
        return json.dumps(self.meta, default=_json_default, sort_keys=True)

    def _to_h5(self, f: h5py.Group, meta_json: str) -> None:
        """Write into an open file or group (names and meta checked by the caller)."""
        f.attrs["format"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["meta"] = meta_json
        spikes = f.create_group("spikes")
        for pop, train in self.spikes.items():
            g = spikes.create_group(pop)
            g.attrs["n"] = train.n
            _write_array(g, "times", train.times)
            _write_array(g, "ids", train.ids)
            if train.recorded is not None:
                _write_array(g, "recorded", train.recorded)
        traces = f.create_group("traces")
        for key, trace in self.traces.items():
            g = traces.create_group(key)
            g.attrs["unit"] = trace.unit
            _write_array(g, "times", trace.times)
            _write_array(g, "ids", trace.ids)
            _write_array(g, "values", trace.values)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Result":
        """Read a file written by :meth:`save`.

        Raises ``FileNotFoundError`` if ``path`` does not exist and ``ValueError``
        (naming the path) if it is not a readable spikemem result.
        """
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file")
        try:
            with h5py.File(path, "r") as f:
                return cls._from_h5(f)
        except (OSError, KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
            # h5py signals "not HDF5" and truncation as OSError, missing members as
            # KeyError; callers only need to know this file is unusable and why.
            raise ValueError(f"{path}: not a valid spikemem result file ({exc})") from exc

    @classmethod
    def _from_h5(cls, f: h5py.File) -> "Result":
        if f.attrs.get("format") != FORMAT_NAME:
            raise ValueError(f"missing or wrong 'format' attribute (expected {FORMAT_NAME!r})")
        version = int(f.attrs.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported format_version {version} (expected {FORMAT_VERSION})")
        if "meta" not in f.attrs:
            raise ValueError("missing 'meta' attribute")
        for group in ("spikes", "traces"):
            if group not in f:
                raise ValueError(f"missing '/{group}' group")

        meta = json.loads(f.attrs["meta"])
        spikes = {
            pop: SpikeTrain(times=g["times"][()], ids=g["ids"][()], n=int(g.attrs["n"]),
                            recorded=g["recorded"][()] if "recorded" in g else None)
            for pop, g in f["spikes"].items()
        }
        traces = {
            key: Trace(times=g["times"][()], ids=g["ids"][()], values=g["values"][()], unit=str(g.attrs["unit"]))
            for key, g in f["traces"].items()
        }
        return cls(spikes=spikes, traces=traces, meta=meta)

    def summary(self) -> dict:
        """Per-population spike count and mean rate (Hz per neuron) over meta["duration"]."""
        if "duration" not in self.meta:
            raise ValueError("meta has no 'duration'; cannot compute rates")
        duration = float(self.meta["duration"])
        out = {}
        for pop, train in self.spikes.items():
            count = train.count()
            n = train.n_recorded
            mean_rate = count / (n * duration) if n and duration > 0 else float("nan")
            out[pop] = {"count": count, "mean_rate": mean_rate}
        return out
