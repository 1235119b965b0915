"""Path integration with the continuous attractor network: the task object.

``PathIntegrator(parameters, backend)`` builds the network for a trajectory,
lets the pattern form at zero velocity, drives it with the trajectory's
velocity (the path resampled every ``every`` seconds, its velocity held over
each frame: a 50 Hz recording interpolated linearly has no more) and reads
the pattern's phase every ``every`` seconds of the run
(``readout``): only the three phases of each frame and the activity of a few
units are kept, so memory does not grow with the trajectory's length beyond
a few numbers per frame. The sheet-to-arena map is fitted on the first
``fit_seconds`` and then held; the error is the distance between the decoded
and the true position over time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from spikemem.backends import simulation
from spikemem.errors import ModelError
from spikemem.progress import progress as bar

from . import readout
from .network import Parameters, can_network
from .trajectory import Trajectory


@dataclass
class PathIntegration:
    """What one run gives: per frame, the time since the trajectory's start,
    the true and decoded positions and their distance."""
    parameters: Parameters
    backend: str
    t: np.ndarray                    # (T,) s
    true_xy: np.ndarray              # (T, 2) m
    displacement: np.ndarray         # (T, 2) neurons, the pattern's since the first frame
    fit: readout.Readout
    position: np.ndarray             # (T, 2) m
    error: np.ndarray                # (T,) m
    unit_ids: np.ndarray             # the units whose activity is kept
    units: np.ndarray                # (T, units) their s per frame
    snapshots: dict = field(default_factory=dict)   # label -> (n, n) sheet
    timings: dict = field(default_factory=dict)

    def error_at(self, seconds) -> float:
        """The error at the frame nearest ``seconds`` after the start."""
        return float(self.error[np.argmin(np.abs(self.t - seconds))])

    def summary(self, at=(60, 300, 600)) -> dict:
        reached = [s for s in at if s <= self.t[-1] + 1e-9]
        return {"error_m": {f"{s:g}s": self.error_at(s) for s in reached},
                "mean_error_m": float(self.error.mean()),
                "gain_m_per_neuron": self.fit.gain, "duration_s": float(self.t[-1]),
                **{k: float(v) for k, v in self.timings.items()}}


@dataclass
class PathIntegrator:
    """The CAN as a path integrator on ``backend`` (any backend that runs
    signals and convolutions; ``options`` go to the simulation)."""
    parameters: Parameters = field(default_factory=Parameters)
    backend: str = "numba"
    seed: int = 0
    options: dict = field(default_factory=dict)

    def run(self, trajectory: Trajectory, every: float = 0.02, fit_seconds: float = 60.0, units: int = 64,
            progress=None) -> PathIntegration:
        p = self.parameters
        steps = int(round(every / p.dt))
        if steps < 1 or abs(steps * p.dt - every) > 1e-9 * every:
            raise ModelError(f"every must be a whole number of time steps ({p.dt} s), got {every!r}")
        if trajectory.duration < every:
            raise ModelError(f"trajectory {trajectory.name!r} lasts {trajectory.duration} s, shorter than one "
                             f"frame ({every} s)")
        path = trajectory.resample(every)
        frames = len(path)
        t0 = time.perf_counter()
        net = can_network(path.velocity(), p, self.seed, velocity_dt=every)
        sim = simulation(net, self.backend, progress=False, **self.options)
        built = time.perf_counter()
        sim.run(p.settle, progress=False)
        n = p.n
        sheet = sim.get("sheet", "s").reshape(n, n)
        snapshots = {"formed": sheet.copy()}
        waves = readout.find_wave_vectors(sheet, lam=None, periodic=p.periodic)
        unit_ids = _central_units(n, units)
        phases = np.empty((frames, len(waves)))
        kept = np.empty((frames, len(unit_ids)))
        phases[0], kept[0] = readout.pattern_phase(sheet, waves), sheet.ravel()[unit_ids]
        with bar(frames - 1, "path integration", enabled=progress) as shown:
            for k in range(1, frames):
                sim.run(steps * p.dt, progress=False)
                sheet = sim.get("sheet", "s").reshape(n, n)
                phases[k], kept[k] = readout.pattern_phase(sheet, waves), sheet.ravel()[unit_ids]
                shown.update(1)
        snapshots["end"] = sheet.copy()
        ran = time.perf_counter()
        t = path.t - path.t[0]
        true_xy = path.xy
        moved = readout.displacement(phases, waves)
        fit = readout.fit_gain(moved, true_xy, t, fit_seconds)
        position = fit.position(moved)
        simulated = (frames - 1) * steps * p.dt
        timings = {"build_s": built - t0, "run_s": ran - built,
                   "engine_run_s": sim.timings["run_s"], "simulated_s": simulated + p.settle,
                   "s_per_simulated_s": sim.timings["run_s"] / (simulated + p.settle)}
        return PathIntegration(p, self.backend, t, true_xy, moved, fit, position,
                               readout.position_error(position, true_xy), unit_ids, kept, snapshots, timings)


def _central_units(n: int, count: int) -> np.ndarray:
    """``count`` unit ids on a regular grid over the sheet's central half (away
    from an aperiodic sheet's fading edge), all of one direction class."""
    side = max(int(np.sqrt(count)), 1)
    rows = (n // 4 + 2 * np.round(np.linspace(0, n // 4 - 1, side))).astype(int)
    y, x = np.meshgrid(rows, rows, indexing="ij")
    return (y * n + x).ravel()
