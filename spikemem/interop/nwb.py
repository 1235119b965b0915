"""Results as NWB files (Neurodata Without Borders, through pynwb).

The file holds:

- the spikes in the Units table: one unit per recorded neuron, with the columns
  ``population`` and ``neuron_id`` (and ``spike_index``, each spike's position in
  its population's arrays, which makes the round trip exact);
- one ``TimeSeries`` per trace in ``acquisition``, named ``"pop.var"``, in the
  trace's unit, with a ``rate`` where that reproduces the sample times exactly and
  ``timestamps`` otherwise;
- a processing module ``spikemem`` with three tables: ``populations`` (name,
  size, whether a subset was recorded and which neurons), ``traces`` (name and
  neuron ids of each TimeSeries, in the result's order) and ``meta`` (one row per
  entry: key and its value as JSON).

pynwb comes with the optional extra ``experiments`` (``pip install spikemem[experiments]``).
"""
from __future__ import annotations

import datetime
import json
import os
import uuid
import warnings

import numpy as np

from ..errors import ModelError
from ..results import Result, SpikeTrain, Trace, _json_default, atomic_write
from .per_neuron import per_neuron

MODULE = "spikemem"


def write_nwb(result: Result, path: str | os.PathLike, session_description: str = "spikemem simulation",
              identifier: str | None = None) -> None:
    """Write ``result`` to the NWB file ``path``, atomically (on any failure nothing new
    is left on disk). ``identifier``: the file's NWB identifier (default: a fresh UUID).

    Raises ``ModelError`` if pynwb is missing or a trace name holds ``'/'``."""
    pynwb = _pynwb()
    for key in result.traces:
        if "/" in key:
            raise ModelError(f"trace {key!r}: NWB names cannot hold '/'")
    meta = {k: json.dumps(v, default=_json_default) for k, v in result.meta.items()}
    nwb = pynwb.NWBFile(session_description=session_description, identifier=identifier or str(uuid.uuid4()),
                        session_start_time=datetime.datetime.now(datetime.timezone.utc))
    _add_units(nwb, result.spikes)
    module = nwb.create_processing_module(MODULE, "Layout of the spikemem result: populations, trace neuron ids, meta")
    trains = result.spikes.values()
    module.add(_table("populations", "Populations of the result, including those without recorded spikes", {
        "population": ("population name", np.array(list(result.spikes), dtype=str)),
        "size": ("number of neurons", np.array([t.n for t in trains], dtype=np.int64)),
        "subset": ("only some neurons were recorded", np.array([t.recorded is not None for t in trains], dtype=bool)),
        "recorded": ("ids of the recorded neurons where only some were", [_ids(t.recorded) for t in trains])}))
    module.add(_table("traces", "Neuron ids of each TimeSeries in acquisition, in the result's order", {
        "trace": ("name of the TimeSeries", np.array(list(result.traces), dtype=str)),
        "neuron_ids": ("neuron id of each column", [t.ids for t in result.traces.values()])}))
    module.add(_table("meta", "Metadata of the run, one row per entry", {
        "key": ("name of the entry", np.array(list(meta), dtype=str)),
        "value": ("value as JSON", np.array(list(meta.values()), dtype=str))}))
    for key, trace in result.traces.items():
        nwb.add_acquisition(_time_series(pynwb, key, trace))
    with atomic_write(path) as tmp, warnings.catch_warnings():
        # the temporary file's name does not end in .nwb; the file written does
        warnings.filterwarnings("ignore", message="The file path provided", category=UserWarning)
        with pynwb.NWBHDF5IO(tmp, "w") as io:
            io.write(nwb)


def read_nwb(path: str | os.PathLike) -> Result:
    """Read a file written by :func:`write_nwb`.

    Raises ``FileNotFoundError`` for a missing file and ``ModelError`` for an NWB
    file without the ``spikemem`` processing module."""
    pynwb = _pynwb()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    with pynwb.NWBHDF5IO(path, "r") as io:
        nwb = io.read()
        if MODULE not in nwb.processing:
            raise ModelError(f"'{path}': not written by spikemem (no '{MODULE}' processing module)")
        module = nwb.processing[MODULE]
        meta_table, traces_table = module["meta"], module["traces"]
        meta = {str(k): json.loads(v) for k, v in zip(meta_table["key"][:], meta_table["value"][:])}
        spikes = _read_spikes(nwb.units, module["populations"])
        traces = {}
        for row in range(len(traces_table)):
            key = str(traces_table["trace"][row])
            traces[key] = _read_trace(nwb.acquisition[key], traces_table["neuron_ids"][row])
    return Result(spikes, traces, meta)


def _pynwb():
    try:
        import pynwb
    except ImportError:
        raise ModelError("NWB files need pynwb: pip install spikemem[experiments]") from None
    return pynwb


def _ids(ids) -> np.ndarray:
    return np.zeros(0, np.int64) if ids is None else np.asarray(ids, dtype=np.int64)


def _table(name: str, description: str, columns: dict):
    """A DynamicTable of ``columns`` {name: (description, values)}: values a typed array,
    or a list of int arrays for a ragged column. Typed, so that a table without
    rows can be written too."""
    from hdmf.common import DynamicTable, VectorData, VectorIndex
    vectors = []
    for column, (text, values) in columns.items():
        if isinstance(values, list):
            data = VectorData(name=column, description=text, data=np.concatenate([np.zeros(0, np.int64), *values]))
            ends = np.cumsum([len(v) for v in values], dtype=np.int64)
            vectors += [data, VectorIndex(name=f"{column}_index", data=ends, target=data)]
        else:
            vectors.append(VectorData(name=column, description=text, data=values))
    return DynamicTable(name=name, description=description, columns=vectors)


def _add_units(nwb, spikes: dict[str, SpikeTrain]) -> None:
    """One unit per recorded neuron, its spike times in their recorded order."""
    if not any(t.n_recorded for t in spikes.values()):
        return
    nwb.add_unit_column("population", "population of the neuron")
    nwb.add_unit_column("neuron_id", "id of the neuron in its population")
    nwb.add_unit_column("spike_index", "position of each spike in its population's spike arrays", index=True)
    for pop, train in spikes.items():
        for nid, index in per_neuron(train):
            nwb.add_unit(spike_times=train.times[index], population=pop, neuron_id=nid, spike_index=index)


def _time_series(pynwb, key: str, trace: Trace):
    times = trace.times
    timing = {"timestamps": times}
    if times.size > 1 and times[1] > times[0]:
        rate = 1.0 / (times[1] - times[0])
        if np.array_equal(times[0] + np.arange(times.size) / rate, times):
            timing = {"rate": rate, "starting_time": float(times[0])}
    population, _, variable = key.partition(".")
    return pynwb.TimeSeries(name=key, data=trace.values, unit=trace.unit, **timing,
                            description=f"{variable or key} of population {population!r}; the neuron id of "
                                        f"each column is in processing/{MODULE}/traces")


def _read_trace(ts, ids) -> Trace:
    values = ts.data[:]
    if ts.timestamps is None:
        times = ts.starting_time + np.arange(values.shape[0]) / ts.rate
    else:
        times = ts.timestamps[:]
    return Trace(times, np.asarray(ids, dtype=np.int64), values, str(ts.unit))


def _read_spikes(units, populations) -> dict[str, SpikeTrain]:
    rows: dict[str, list] = {}
    if units is not None:
        pops, nids = units["population"][:], units["neuron_id"][:]
        for row in range(len(units)):
            rows.setdefault(str(pops[row]), []).append(
                (int(nids[row]), units["spike_times"][row], np.asarray(units["spike_index"][row], dtype=np.int64)))
    out = {}
    for row in range(len(populations)):
        pop = str(populations["population"][row])
        members = rows.get(pop, [])
        count = sum(len(times) for _, times, _ in members)
        times, ids = np.zeros(count), np.zeros(count, np.int64)
        for nid, spike_times, index in members:
            times[index], ids[index] = spike_times, nid
        recorded = np.asarray(populations["recorded"][row], dtype=np.int64) if populations["subset"][row] else None
        out[pop] = SpikeTrain(times, ids, int(populations["size"][row]), recorded)
    return out
