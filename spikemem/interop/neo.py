"""Results as Neo objects (``neo.Block``), and files any of Neo's IOs can open.

A result becomes one Block with one Segment:

- one ``neo.SpikeTrain`` per recorded neuron (seconds, ``t_start`` 0, ``t_stop``
  the run's duration), annotated with its ``population``, ``neuron_id`` and
  ``population_size``;
- one ``neo.AnalogSignal`` per trace (``"pop.var"``), in the trace's unit, with the
  neuron ids as the array annotation ``neuron_id``;
- the block's annotations hold the result's meta: its plain entries one by one,
  and all of it as JSON (``spikemem_meta``).

A few ``spikemem_*`` annotations make :func:`from_neo` an exact inverse even through
files that drop array annotations or reshape empty arrays (MATLAB): the layout of
the populations (size, recorded subset, also of those without any spike train),
each spike's position in its population's arrays, each trace's exact sample times
and unit string. Blocks from elsewhere have none of these and are read as far as
their own annotations allow (see :func:`from_neo`).
"""
from __future__ import annotations

import json
import os
import re

import neo
import numpy as np
import quantities as pq

from ..errors import ModelError
from ..results import Result, SpikeTrain, Trace, _json_default, atomic_write
from .per_neuron import per_neuron

#: Neo IO class for each file suffix :func:`write_neo` and :func:`read_neo` accept.
IOS = {".pkl": "PickleIO", ".mat": "NeoMatlabIO", ".nix": "NixIO"}

_UNIT_TEXT = re.compile(r"[A-Za-z0-9_ ^*/().-]+")   # what a unit string may hold before quantities parses it


def to_neo(result: Result) -> neo.Block:
    """The result as a ``neo.Block`` holding one ``neo.Segment`` (see the module's text).

    Raises ``ModelError`` for a trace unit that the ``quantities`` package cannot
    express and ``TypeError`` for meta that is not JSON-serialisable."""
    meta_json = json.dumps(result.meta, default=_json_default)
    units = {key: neo_unit(key, trace.unit) for key, trace in result.traces.items()}
    layout = {pop: {"n": t.n, "recorded": None if t.recorded is None else t.recorded.tolist()}
              for pop, t in result.spikes.items()}
    block = neo.Block(name="spikemem result")
    block.annotate(**_plain_entries(json.loads(meta_json)), spikemem_meta=meta_json,
                   spikemem_populations=json.dumps(layout))
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    duration = result.meta.get("duration")
    for pop, train in result.spikes.items():
        segment.spiketrains.extend(_neuron_trains(pop, train, duration))
    for key, trace in result.traces.items():
        segment.analogsignals.append(_signal(key, trace, units[key], result.meta.get("dt")))
    block.check_relationships()
    return block


def from_neo(block: neo.Block | neo.Segment) -> Result:
    """A :class:`~spikemem.results.Result` from a Block of one Segment (or a Segment).

    The exact inverse of :func:`to_neo`. For other blocks: spike trains are grouped
    by their annotation ``population`` (else all in one population ``"neo"``); a
    train's neuron id is its annotation ``neuron_id`` (else its place in the group)
    and the population's size the annotation ``population_size`` (else the largest
    id plus one); times are rescaled to seconds. Each analog or irregularly sampled
    signal becomes a trace named after the signal (``"neo.signal<i>"`` if unnamed),
    in the signal's own unit, its neuron ids the array annotation ``neuron_id``
    (else 0..k-1). Meta: ``backend`` ``"neo"`` and the latest ``t_stop`` as
    ``duration``.

    Raises ``ModelError`` for a Block with several Segments and for a train or
    signal whose times are not in a unit of time (naming it and its unit)."""
    if isinstance(block, neo.Segment):
        segment, annotations = block, {}
    elif isinstance(block, neo.Block):
        if len(block.segments) != 1:
            raise ModelError(f"Neo block {block.name!r} has {len(block.segments)} segments, a result is one; "
                             "pass one of them: from_neo(block.segments[i])")
        segment, annotations = block.segments[0], block.annotations
    else:
        raise ModelError(f"from_neo takes a neo.Block or neo.Segment, not {type(block).__name__}")
    layout = json.loads(annotations["spikemem_populations"]) if "spikemem_populations" in annotations else None
    spikes = _spike_trains(segment.spiketrains, layout)
    traces = _traces(list(segment.analogsignals) + list(segment.irregularlysampledsignals))
    if "spikemem_meta" in annotations:
        meta = json.loads(annotations["spikemem_meta"])
    else:
        meta = {"backend": "neo"}
        stops = [float(x.t_stop.rescale(pq.s)) for x in (*segment.spiketrains, *segment.analogsignals,
                                                          *segment.irregularlysampledsignals)]
        if stops:
            meta["duration"] = max(stops)
    return Result(spikes, traces, meta)


def write_neo(result: Result, path: str | os.PathLike) -> None:
    """Write ``result`` with the Neo IO that the suffix of ``path`` names (:data:`IOS`:
    ``.pkl`` PickleIO, ``.mat`` NeoMatlabIO, ``.nix`` NixIO, which needs ``nixio``),
    atomically: on any failure nothing new is left on disk."""
    io_class = _io_class(path)
    block = to_neo(result)
    with atomic_write(path) as tmp:
        if io_class is neo.io.NeoMatlabIO:
            # scipy would otherwise write to "<tmp>.mat" beside the temporary file
            io_class(tmp).write_block(block, appendmat=False)
        elif io_class is neo.io.NixIO:
            with io_class(tmp, mode="ow") as io:
                io.write_block(block)
        else:
            io_class(tmp).write_block(block)


def read_neo(path: str | os.PathLike) -> Result:
    """Read a file written by :func:`write_neo` (or another Neo file of these suffixes
    holding one Block of one Segment, see :func:`from_neo`)."""
    io_class = _io_class(path)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    if io_class is neo.io.NixIO:
        with io_class(path, mode="ro") as io:
            blocks = io.read_all_blocks()
    elif io_class is neo.io.NeoMatlabIO:
        blocks = [b for b in [io_class(path).read_block()] if b is not None]
    else:
        blocks = io_class(path).read(lazy=False)
    if len(blocks) != 1:
        raise ModelError(f"'{path}' holds {len(blocks)} Neo blocks, a result is one")
    return from_neo(blocks[0])


def neo_unit(key: str, unit: str) -> pq.Quantity:
    """The ``quantities`` unit of a trace's unit string (a Brian2 SI unit such as
    ``"V"``, ``"S/(m^2)"`` or ``"V^-1"``; ``""``: dimensionless)."""
    if unit == "":
        return pq.dimensionless
    if _UNIT_TEXT.fullmatch(unit):
        try:
            return pq.Quantity(1.0, unit.replace("^", "**").replace(" ", "*")).units
        except Exception:       # quantities parses with eval: any error means "not a unit"
            pass
    raise ModelError(f"trace {key!r}: unit {unit!r} has no counterpart in the quantities package Neo uses")


def _io_class(path):
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in IOS:
        raise ModelError(f"'{os.fspath(path)}': no Neo file type for the suffix {suffix!r}; "
                         f"use one of {', '.join(IOS)}")
    if suffix == ".nix":
        try:
            import nixio  # noqa: F401
        except ImportError:
            raise ModelError(f"'{os.fspath(path)}': NIX files need the nixio package (pip install nixio)") from None
    return getattr(neo.io, IOS[suffix])


def _plain_entries(meta: dict) -> dict:
    # The scalar entries, for browsing the block; names a MATLAB struct cannot hold stay in the JSON only.
    return {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))
            and k.isidentifier() and not k.startswith(("_", "spikemem_"))}


def _neuron_trains(pop: str, train: SpikeTrain, duration) -> list:
    """One neo.SpikeTrain per recorded neuron of ``train``, in neuron id order."""
    last = float(train.times.max()) if train.times.size else 0.0
    t_stop = last if duration is None else max(float(duration), last)
    return [neo.SpikeTrain(train.times[index], units=pq.s, t_start=0.0, t_stop=t_stop, name=f"{pop}[{nid}]",
                           population=pop, neuron_id=nid, population_size=train.n, spikemem_index=index)
            for nid, index in per_neuron(train)]


def _signal(key: str, trace: Trace, unit, dt) -> neo.AnalogSignal:
    times = trace.times
    # Neo signals are regular: the period of the first two samples, else the run's step.
    period = times[1] - times[0] if times.size > 1 and times[1] > times[0] else (dt or 1.0)
    population, _, variable = key.partition(".")
    return neo.AnalogSignal(trace.values, units=unit, t_start=(times[0] if times.size else 0.0) * pq.s,
                            sampling_period=period * pq.s, name=key,
                            array_annotations={"neuron_id": trace.ids},
                            population=population, variable=variable, neuron_ids=trace.ids,
                            spikemem_unit=trace.unit, spikemem_times=times)


def _seconds(times, what: str) -> np.ndarray:
    """``times`` (a Quantity) in seconds as float64, or a ModelError naming ``what``."""
    if times.dimensionality.simplified != pq.s.dimensionality:
        raise ModelError(f"{what}: times in {times.dimensionality.string}, which is not a unit of time")
    return np.asarray(times.rescale(pq.s).magnitude, dtype=np.float64).reshape(-1)


def _ints(value) -> np.ndarray:
    # MATLAB files give one-element arrays back as scalars
    return np.atleast_1d(np.asarray(value)).astype(np.int64).reshape(-1)


def _spike_trains(trains, layout: dict | None) -> dict[str, SpikeTrain]:
    groups: dict[str, list] = {pop: [] for pop in (layout or {})}
    for i, st in enumerate(trains):
        times = _seconds(st.times, f"spike train {st.name or i!r}")
        groups.setdefault(str(st.annotations.get("population", "neo")), []).append((st, times))
    out = {}
    for pop, members in groups.items():
        annotated = all("neuron_id" in st.annotations for st, _ in members)
        ids = np.array([st.annotations["neuron_id"] if annotated else k for k, (st, _) in enumerate(members)],
                       dtype=np.int64)
        if np.unique(ids).size != ids.size:
            raise ModelError(f"population {pop!r} of the Neo block: several spike trains share a neuron_id")
        if layout is not None:
            n, recorded = layout[pop]["n"], layout[pop]["recorded"]
        else:
            sizes = [int(st.annotations["population_size"]) for st, _ in members if "population_size" in st.annotations]
            n = max(sizes) if sizes else int(ids.max(initial=-1)) + 1
            recorded = None if np.array_equal(np.sort(ids), np.arange(n)) else ids
        times = np.concatenate([t for _, t in members]) if members else np.zeros(0)
        neuron = np.repeat(ids, [t.size for _, t in members]).astype(np.int64)
        order = _spike_order(members, times, neuron)
        try:
            out[pop] = SpikeTrain(times[order], neuron[order], n, recorded)
        except ValueError as e:
            raise ModelError(f"population {pop!r} of the Neo block: {e}") from None
    return out


def _spike_order(members, times, neuron) -> np.ndarray:
    """Positions that put the concatenated spikes into their population's order:
    the one written by :func:`to_neo`, else by time (ties by neuron id)."""
    if members and all("spikemem_index" in st.annotations for st, _ in members):
        index = np.concatenate([_ints(st.annotations["spikemem_index"]) for st, _ in members])
        if np.array_equal(np.sort(index), np.arange(times.size)):
            order = np.empty_like(index)
            order[index] = np.arange(index.size)
            return order
    return np.lexsort((neuron, times))


def _traces(signals) -> dict[str, Trace]:
    out = {}
    for i, sig in enumerate(signals):
        key = sig.name or f"neo.signal{i}"
        if key in out:
            key = f"{key}.{i}"
        what = f"signal {key!r}"
        times = _seconds(sig.times, what)      # checks the unit even where the exact times are kept
        if "spikemem_times" in sig.annotations:
            times = np.atleast_1d(np.asarray(sig.annotations["spikemem_times"], dtype=np.float64)).reshape(-1)
        if "neuron_id" in sig.array_annotations:
            ids = _ints(sig.array_annotations["neuron_id"])
        elif "neuron_ids" in sig.annotations:
            ids = _ints(sig.annotations["neuron_ids"])
        else:
            ids = np.arange(sig.shape[1] if sig.ndim > 1 else 1)
        if "spikemem_unit" in sig.annotations:
            unit = sig.annotations["spikemem_unit"]
            unit = "" if np.size(unit) == 0 else str(unit)     # MATLAB files give "" back as an empty array
        else:
            unit = sig.units.dimensionality.string.replace("dimensionless", "")
        try:
            out[key] = Trace(times, ids, sig.magnitude.reshape(times.size, ids.size), unit)
        except ValueError as e:
            raise ModelError(f"{what} of the Neo block: {e}") from None
    return out
