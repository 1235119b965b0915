"""The authors' SpiNNaker recordings of the CA3 memory, and their replay.

Two recordings ship with the model (``recordings/*.csv``, one row per step and
population: ``t_ms,population,neurons``): the functional experiment (n = 5,
m = 10, one operation every 10 ms) and the 4x4 state map (n = 16, m = 6, one
learn every 7 ms). The functional recording is the authors' own 9-operation
script, not ``experiments.FUNCTIONAL``: learn cue 0 <- {0, 1, 8, 9}, cue 4 <-
{1, 5, 6}, cue 3 <- {4, 5, 6}; recall by cue 0; recall by content {6}, then
{0, 4}; overwrite cue 3 <- {1, 3, 4, 8}; recall by cue 3; recall by content
{6}. ``replay`` gives the recorded input spikes to ``ca3_network`` on any
backend and compares every population's spikes with the board's, step by
step.
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikemem.backends import simulation
from spikemem.errors import ModelError

from .network import DT, ca3_network
from .recall import check_size

FOLDER = Path(__file__).parent / "recordings"

#: name -> (file, n_cues, n_content, duration in steps, steps per operation)
RECORDINGS = {
    "functional": ("functional.csv", 5, 10, 90, 10),
    "map": ("map.csv", 16, 6, 140, 7),
}

#: the recording's population names -> (network population, id offset, size: "n", "m" or 1)
POPULATIONS = {
    "INcue": ("IL", 0, "n"), "INcont": ("IL", "n", "m"),
    "CA3cueCueRecall": ("CueCue", 0, "n"), "CA3contCueRecall": ("ContCue", 0, "m"),
    "CA3contCond": ("ContCond", 0, "m"), "CA3contCondInt": ("ContCondInt", 0, 1),
    "CA3cueContRecall": ("CueCont", 0, "n"), "CA3contContRecall": ("ContCont", 0, "m"),
    "CA3MergeCue": ("MergeCue", 0, "n"), "CA3MergeCont": ("MergeCont", 0, "m"),
    "OUTcue": ("OL", 0, "n"), "OUTcont": ("OL", "n", "m"),
}
INPUTS = ("INcue", "INcont")


@dataclass(frozen=True)
class Recording:
    """Spikes recorded on the board: ``spikes[population]`` = (steps, ids), in
    the recording's population names and ids (content ids from 0)."""
    name: str
    n_cues: int
    n_content: int
    steps: int
    operation_steps: int | None
    spikes: dict = field(repr=False)

    def span(self, population: str) -> tuple[str, int, int]:
        """(network population, first id, size) of a recorded population."""
        target, offset, size = POPULATIONS[population]
        sizes = {"n": self.n_cues, "m": self.n_content}
        return target, sizes.get(offset, offset), sizes.get(size, size)

    def recorded(self, population: str) -> set:
        """The recorded (step, id) pairs of a population, in the recording's ids."""
        steps, ids = self.spikes.get(population, ((), ()))
        return set(zip(np.asarray(steps).tolist(), np.asarray(ids).tolist()))

    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """The input layer's spikes as (steps, IL ids), in time order."""
        pairs = sorted((step, self.span(pop)[1] + i) for pop in INPUTS for step, i in self.recorded(pop))
        return (np.array([s for s, _ in pairs], np.int64), np.array([i for _, i in pairs], np.int64))


def load_recording(source: str | Path, n_cues: int | None = None, n_content: int | None = None,
                   steps: int | None = None, operation_steps: int | None = None) -> Recording:
    """A shipped recording by name ("functional", "map") or a CSV file of the same
    columns (then give its sizes and duration). Every row is checked before
    anything runs: a population the network lacks, a neuron id outside its
    population or a time that is not a whole step is a ModelError naming it."""
    given = (n_cues, n_content, steps, operation_steps)
    if str(source) in RECORDINGS:
        name = str(source)
        if given != (None,) * 4:
            raise ModelError(f"recording {name!r} ships with its sizes and duration; give them for a CSV file only")
        file, n, m, duration, op_steps = RECORDINGS[name]
        path = FOLDER / file
    else:
        path = Path(source)
        name = path.stem
        if None in given[:3]:
            raise ModelError(f"recording {str(source)!r}: not one of {sorted(RECORDINGS)}; a CSV file needs "
                             f"n_cues, n_content and steps")
        if not path.is_file():
            raise ModelError(f"recording {str(source)!r}: no such file")
        n, m, duration = (check_size(k, v) for k, v in zip(("n_cues", "n_content", "steps"), given))
        op_steps = None if operation_steps is None else check_size("operation_steps", operation_steps)
    rows: dict = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["t_ms", "population", "neurons"]:
            raise ModelError(f"{path.name}: columns must be t_ms,population,neurons, got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            where = f"{path.name} line {line}"
            if None in row.values() or None in row:
                raise ModelError(f"{where}: expected 3 fields (t_ms,population,neurons), got {list(row.values())}")
            pop = row["population"]
            if pop not in POPULATIONS:
                raise ModelError(f"{where}: population {pop!r} is not in the CA3 network "
                                 f"(recorded populations: {sorted(POPULATIONS)})")
            step = _whole_step(row["t_ms"], where)
            if not 0 <= step < duration:
                raise ModelError(f"{where}: t_ms {row['t_ms']} is outside the recording (0 to {duration - 1} ms)")
            size = {"n": n, "m": m}.get(POPULATIONS[pop][2], 1)
            for token in row["neurons"].split():
                if not re.fullmatch(r"[0-9]+", token):
                    raise ModelError(f"{where}: {token!r} is not a neuron id")
                if int(token) >= size:
                    raise ModelError(f"{where}: neuron id {token!r} is outside population {pop!r} "
                                     f"(ids 0..{size - 1})")
                rows.setdefault(pop, []).append((step, int(token)))
    spikes = {pop: tuple(np.array(col, np.int64) for col in zip(*sorted(pairs))) for pop, pairs in rows.items()}
    return Recording(name, n, m, duration, op_steps, spikes)


def _whole_step(text: str, where: str) -> int:
    try:
        t = float(text)
    except ValueError:
        t = math.nan
    if not math.isfinite(t):
        raise ModelError(f"{where}: t_ms {text!r} is not a number")
    step = t * 1e-3 / float(DT)
    if abs(step - round(step)) > 1e-9:
        raise ModelError(f"{where}: t_ms {text} is not a whole step (dt = {float(DT) * 1e3:g} ms)")
    return int(round(step))


@dataclass
class PopulationMatch:
    recorded: int
    matched: int
    extra: int
    missing_spikes: list      # (step, id) recorded but not fired
    extra_spikes: list        # (step, id) fired but not recorded


@dataclass
class Replay:
    """The board's spikes beside a simulation's, per recorded population."""
    recording: Recording
    backend: str
    populations: dict         # recorded population -> PopulationMatch
    result: object = field(repr=False, default=None)

    @property
    def recorded(self) -> int:
        return sum(p.recorded for p in self.populations.values())

    @property
    def matched(self) -> int:
        return sum(p.matched for p in self.populations.values())

    @property
    def extra(self) -> int:
        return sum(p.extra for p in self.populations.values())

    @property
    def exact(self) -> bool:
        return self.matched == self.recorded and self.extra == 0

    def table(self) -> str:
        lines = [f"{self.recording.name} on {self.backend}: {self.matched}/{self.recorded} recorded spikes, "
                 f"{self.extra} extra"]
        for pop, p in self.populations.items():
            if p.missing_spikes or p.extra_spikes:
                lines.append(f"  {pop:18s} {p.matched}/{p.recorded}, {p.extra} extra; "
                             f"missing {p.missing_spikes[:4]} extra {p.extra_spikes[:4]}")
        return "\n".join(lines)


def replay(recording: Recording | str, backend: str = "numba", **options) -> Replay:
    """Give ``ca3_network`` the recording's input spikes, run it for the
    recording's duration on ``backend`` (built with ``options``) and compare
    every population's spikes with the board's, step by step."""
    rec = recording if isinstance(recording, Recording) else load_recording(recording)
    sim = simulation(ca3_network(rec.n_cues, rec.n_content), backend, **options)
    steps, ids = rec.inputs()
    sim.set_spikes("IL", steps * float(DT), ids)
    sim.run(rec.steps * float(DT), progress=False)
    result = sim.result()
    populations = {}
    for pop in POPULATIONS:
        if pop in INPUTS:
            continue
        target, first, size = rec.span(pop)
        train = result.spikes[target]
        sel = (train.ids >= first) & (train.ids < first + size)
        fired_steps = np.rint(train.times[sel] / float(DT)).astype(np.int64)
        got = set(zip(fired_steps.tolist(), (train.ids[sel] - first).tolist()))
        want = rec.recorded(pop)
        populations[pop] = PopulationMatch(len(want), len(want & got), len(got - want),
                                           sorted(want - got), sorted(got - want))
    return Replay(rec, backend, populations, result)
