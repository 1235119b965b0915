"""The astrocyte experiments: ``spikemem run astrocytes`` and ``spikemem sweep astrocytes``.

Three parts, each optional in a ``Setting``:

- ``nest``: a Li-Rinzel astrocyte driven by a fixed Poisson train, spikemem
  on the chosen backend against NEST 3.10 (``nest_drive``); without NEST
  (the hardware extra) the part says so and keeps spikemem's traces alone;
- ``ring``: Stimberg et al.'s figure 5, the calcium wave in a ring of
  astrocytes (``ring``), on the chosen backend;
- ``memory``: delayed recall, AM-SU against LIF-SNN, LSTM and GRU at about the
  same parameter count, each trained anew at each delay (torch, whatever the
  backend; ``train.train_recall``).

``quick`` runs all three at small size (about 2 minutes on one core, most of
it the recall training and numba's first compilation); ``nest``, ``ring`` and
``memory`` run one part at the size of the docs' figures.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from spikemem.errors import ModelError
from spikemem.experiments import Param, experiment

EXPERIMENTS = ("quick", "nest", "ring", "memory")
PARTS = ("nest", "ring", "memory")
#: the recurrent models compared (``baselines.KINDS``, named without importing torch)
KINDS = ("lif", "amsu", "lstm", "gru")
#: the delayed-recall task's shape: 3 tokens of 4 symbols (chance 0.25)
TOKENS, VOCAB = 3, 4
#: what ``spikemem sweep`` and ``evaluate`` train with (Adam; benchmarks/amsu.py's rate)
LEARNING_RATE = 1e-2
TEST_SAMPLES = 512


def _whole(value, low, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ModelError(f"{name} must be a whole number >= {low}, got {value!r}")


@dataclass(frozen=True)
class Setting:
    """What ``evaluate`` runs: the parts, and each part's size."""
    parts: tuple = PARTS
    nest_seconds: float = 20.0         # the astrocyte's simulated time
    nest_rate_hz: float = 2.0          # its input train's rate
    ring_seconds: float = 4000.0       # the ring's simulated time (the figure's)
    ring_size: int = 50                # astrocytes in the ring
    delays: tuple = (5, 20, 50)        # recall delays D, in steps
    kinds: tuple = KINDS
    iterations: int = 200              # training iterations (32 sequences each) per model and delay
    budget: int = 2000                 # parameters per model, about
    seed: int = 0

    def __post_init__(self):
        for name, allowed in (("parts", PARTS), ("kinds", KINDS)):
            values = tuple(getattr(self, name))
            object.__setattr__(self, name, values)
            unknown = [v for v in values if v not in allowed]
            if not values or unknown:
                raise ModelError(f"{name} {list(values)}: choose one or more of {list(allowed)}")
        for name in ("nest_seconds", "nest_rate_hz", "ring_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ModelError(f"{name} must be a number > 0, got {value!r}")
        if self.nest_seconds < 0.01:
            raise ModelError(f"nest_seconds must be at least 0.01 s, got {self.nest_seconds!r}")
        _whole(self.ring_size, 3, "ring_size")
        _whole(self.iterations, 1, "iterations")
        _whole(self.budget, 100, "budget")
        _whole(self.seed, 0, "seed")
        object.__setattr__(self, "delays", tuple(self.delays))
        if not self.delays:
            raise ModelError("delays: give at least one delay")
        for d in self.delays:
            _whole(d, 0, f"delay {d!r}: a delay")


#: what ``spikemem run astrocytes --experiment NAME`` runs
SETTINGS = {"quick": Setting(),
            "nest": Setting(parts=("nest",), nest_seconds=60.0),
            "ring": Setting(parts=("ring",)),
            "memory": Setting(parts=("memory",), delays=(10, 50, 200), iterations=400, budget=6000)}


def _simulation_options(backend: str) -> dict:
    """float64 where the backend offers it: the comparisons are to rounding."""
    from spikemem.backends import BACKENDS
    return {"dtype": "float64"} if "float64" in BACKENDS.get(backend).capabilities.dtypes else {}


def against_nest(setting: Setting, backend: str = "numba") -> dict:
    """The ``nest`` part: spikemem's traces (``ours``), NEST's (``nest``, None
    without NEST), their ``differences`` and a ``note`` saying what ran."""
    from . import nest_drive
    duration_ms = 1000.0 * setting.nest_seconds
    times = nest_drive.input_times(duration_ms, setting.nest_rate_hz, setting.seed + 1)
    start = time.perf_counter()
    ours = nest_drive.spikemem_traces(times, duration_ms, backend, **_simulation_options(backend))
    out = {"duration_s": setting.nest_seconds, "rate_hz": setting.nest_rate_hz, "inputs": int(times.size),
           "backend": backend, "spikemem_s": time.perf_counter() - start, "ours": ours, "nest": None,
           "differences": None}
    if not nest_drive.nest_available():
        out["note"] = ("NEST cannot be imported here (it comes with the hardware extra: "
                       "pip install 'spikemem[hardware]'); spikemem's traces alone")
        return out
    try:
        out["nest"] = nest_drive.nest_traces(times, duration_ms)
    except ModelError as e:
        out["note"] = f"NEST failed, spikemem's traces alone: {e}"
        return out
    out["differences"] = nest_drive.differences(out["nest"], ours)
    out["note"] = "spikemem against NEST"
    return out


def ring_wave(setting: Setting, backend: str = "numba") -> dict:
    """The ``ring`` part: calcium every second (uM, (seconds, astrocytes)), the
    wave (``ring.wave``) and its speed from the stimulated astrocyte."""
    from . import ring
    every = int(round(1.0 / ring.DT_S))
    start = time.perf_counter()
    calcium = ring.ring_calcium(setting.ring_seconds, backend, every, setting.ring_size,
                                **_simulation_options(backend))
    seconds = time.perf_counter() - start
    wave = ring.wave(calcium, record_s=1.0)
    return {"duration_s": setting.ring_seconds, "astrocytes": setting.ring_size, "backend": backend,
            "stimulated": setting.ring_size // 2, "run_s": seconds, "calcium_uM": calcium, **wave,
            "speed_per_s": ring.wave_speed(wave["arrival_s"], setting.ring_size // 2)}


def recall_run(kind: str, delay: int, *, budget: int, iterations: int, seed: int) -> dict:
    """One model of ``kind`` with about ``budget`` parameters, trained on
    delayed recall at ``delay``: its test accuracy, loss, chance, parameters, seconds."""
    from . import baselines, train
    model = baselines.build(kind, VOCAB + TOKENS, VOCAB, budget, seed=seed)
    result = train.train_recall(model, delay, iterations=iterations, tokens=TOKENS, vocab=VOCAB,
                                lr=LEARNING_RATE, seed=seed, test_samples=TEST_SAMPLES)
    return {"model": kind, "delay": int(delay), "parameters": baselines.count(model), **result}


def memory_curve(setting: Setting, progress=None) -> dict:
    """The ``memory`` part: one row per (delay, model)."""
    rows = []
    for delay in setting.delays:
        for kind in setting.kinds:
            rows.append(recall_run(kind, delay, budget=setting.budget, iterations=setting.iterations,
                                   seed=setting.seed))
            if progress:
                progress(f"recall D={delay} {kind}: accuracy {rows[-1]['accuracy']:.3f}")
    return {"rows": rows, "tokens": TOKENS, "vocab": VOCAB, "chance": 1 / VOCAB, "budget": setting.budget,
            "iterations": setting.iterations}


def evaluate(setting: Setting = Setting(), backend: str = "numba", progress=None) -> dict:
    """Every part of ``setting``: ``{"setting", "backend", part: its dict, "seconds"}``."""
    from spikemem.backends import backend as registered
    registered(backend)             # a ModelError listing the backends, before any work
    start = time.perf_counter()
    out = {"setting": asdict(setting), "backend": backend}
    if "nest" in setting.parts:
        out["nest"] = against_nest(setting, backend)
    if "ring" in setting.parts:
        out["ring"] = ring_wave(setting, backend)
    if "memory" in setting.parts:
        out["memory"] = memory_curve(setting, progress)
    out["seconds"] = time.perf_counter() - start
    return out


def summary_lines(name: str, data: dict) -> list:
    """What ``spikemem run astrocytes`` prints of the report's metrics."""
    lines = [f"{name} ({data['backend']})"]
    nest = data.get("nest")
    if nest is not None:
        d = nest["differences"]
        if d is None:
            lines.append(f"nest: {nest['note']}")
        else:
            lines.append(f"nest: {nest['duration_s']:g} s, {nest['inputs']} inputs; spikemem - NEST max "
                         + ", ".join(f"{v} {d[v]['max_abs']:.1e}" for v in ("IP3", "Ca_astro", "h_IP3R", "I_SIC")))
    ring = data.get("ring")
    if ring is not None:
        speed = "" if ring["speed_per_s"] is None else f", {ring['speed_per_s']:.3f} astrocytes/s"
        lines.append(f"ring: the wave reached {ring['reached']} of {ring['astrocytes']} astrocytes{speed}")
    memory = data.get("memory")
    if memory is not None:
        for delay in sorted({r["delay"] for r in memory["rows"]}):
            lines.append(f"recall D={delay}: " + ", ".join(f"{r['model']} {r['accuracy']:.3f}"
                                                          for r in memory["rows"] if r["delay"] == delay))
    return lines


def main_job(name: str, backend: str, folder: str) -> list:
    """``spikemem run astrocytes --experiment NAME``: run it, write its report.
    The simulations (nest, ring) run on ``backend``; the training on torch."""
    import sys

    from spikemem.progress import shown

    from .report import write_report
    if name not in SETTINGS:
        raise ModelError(f"unknown experiment '{name}'; choose one of {', '.join(EXPERIMENTS)}")

    def progress(line):
        print(line, file=sys.stderr, flush=True)
    data = write_report(folder, evaluate(SETTINGS[name], backend, progress=progress if shown() else None))
    return summary_lines(name, data)


@experiment(name="astrocytes")
def recall_at_delay(seed, backend, kind=Param("amsu", "the recurrent model", KINDS),
                    delay=Param(20, "blank steps between the tokens and their recall"),
                    budget=Param(2000, "trained parameters, about"),
                    iterations=Param(200, "training iterations of 32 sequences")):
    """Delayed-recall accuracy of one model at one delay (``spikemem sweep
    astrocytes``); the seed draws the weights and the sequences. Training runs
    on torch whatever the backend."""
    setting = replace(Setting(), parts=("memory",), kinds=(kind,), delays=(delay,), budget=budget,
                      iterations=iterations, seed=seed)      # its checks, before any work
    row = recall_run(kind, delay, budget=setting.budget, iterations=setting.iterations, seed=seed)
    return {k: row[k] for k in ("accuracy", "loss", "chance", "parameters", "seconds")}
