"""The grid-cell experiments: the attractor network integrating the recorded
rat path, and the trained RNN beside it.

``integrate(setting)``: the Burak-Fiete network (``network.py``) driven by the
first ``duration`` seconds of the Sargolini trajectory, read out by the
pattern's phase (``integrator.py``), with the grid scores of a few of its units
and what each hardware target's ``check`` says of the network.

``train_rnn(setting)``: the RNN path integrator (``rnn.py``) at a size this
machine trains in minutes, its decoding error on the same path, and its units'
grid scores.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from spikemem.errors import ModelError
from spikemem.experiments import Param, experiment

from . import gridscore
from .integrator import PathIntegration, PathIntegrator
from .network import BOUNDARIES, Parameters, can_network
from .trajectory import sargolini

EXPERIMENTS = ("sargolini", "rnn")
TARGETS = ("spinnaker", "loihi")


@dataclass(frozen=True)
class Setting:
    """What ``integrate`` runs (``spikemem run grid-cells``)."""
    n: int = 128
    boundary: str = "periodic"
    spiking: bool = False
    duration: float = 120.0       # seconds of the Sargolini trajectory
    every: float = 0.02           # seconds between readout frames
    fit_seconds: float = 60.0     # the sheet-to-arena map is fitted on these, then held
    units: int = 64               # units whose rate maps and grid scores are kept
    seed: int = 0

    def __post_init__(self):
        if self.boundary not in BOUNDARIES:
            raise ModelError(f"boundary {self.boundary!r} is not one of {list(BOUNDARIES)}")
        if not (np.isfinite(self.duration) and self.duration > 0):
            raise ModelError(f"duration must be a positive number of seconds, got {self.duration!r}")
        if not (0 < self.fit_seconds <= self.duration):
            raise ModelError(f"fit_seconds must lie in (0, duration = {self.duration}], got {self.fit_seconds!r}")

    @property
    def parameters(self) -> Parameters:
        return Parameters(n=self.n, boundary=self.boundary, spiking=self.spiking)


#: what ``spikemem run grid-cells`` runs per experiment (None: ``rnn_settings()``)
SETTINGS = {"sargolini": Setting(), "rnn": None}


def integrate(setting: Setting = Setting(), backend: str = "numba", progress=None) -> dict:
    """The network on the Sargolini path: the run, the grid scores of its kept
    units and each target's check of the network."""
    path = sargolini().resample(setting.every)
    if setting.duration > path.duration:
        raise ModelError(f"duration {setting.duration} s is longer than the Sargolini trajectory "
                         f"({path.duration:.1f} s)")
    path = path.slice(0, setting.duration + setting.every / 2)
    run = PathIntegrator(setting.parameters, backend, setting.seed).run(
        path, setting.every, setting.fit_seconds, setting.units, progress)
    maps = gridscore.rate_map(run.true_xy, run.units, path.box)
    return {"setting": asdict(setting), "backend": backend, "run": run, "rate_maps": maps,
            "grid_scores": gridscore.grid_scores(maps), "box": path.box, "hardware": hardware_check(setting)}


def hardware_check(setting: Setting) -> dict:
    """What each target's ``check`` says of the network (a short one: the
    reasons do not depend on the trajectory's length)."""
    from spikemem.targets import TARGETS as REGISTRY
    net = can_network(None, setting.parameters, setting.seed)
    return {target: [str(v) for v in REGISTRY.get(target).check(net)] for target in TARGETS}


def rnn_settings():
    """What ``spikemem run grid-cells --experiment rnn`` trains: 512 units on
    Gaussian place cells for 1000 steps, which this machine trains in minutes
    (Sorscher's difference-of-Gaussians target is not learnt in that time; the
    model page has both)."""
    from . import rnn
    return rnn.Settings(surround_scale=None, steps=1000)


def train_rnn(settings=None, seed: int = 0, progress=False) -> dict:
    """The RNN path integrator trained with ``settings`` (``rnn.Settings``), its
    error along the first minute of the Sargolini path and its units' grid
    scores over 2500 short random walks in its box (Sorscher's maps)."""
    from . import rnn
    settings = rnn_settings() if settings is None else settings
    model = rnn.train_path_integrator(settings, seed, progress=progress)
    path = sargolini().resample(settings.dt).slice(0, 60.0)
    walks = rnn.random_walk(2500, settings.sequence_length, settings.box, np.random.default_rng(seed + 1),
                            settings.dt)
    return {"settings": asdict(settings), "model": model, "error": rnn.decoding_error(model, path),
            "dt": settings.dt, "grid_scores": rnn.unit_grid_scores(model, walks)}


def main_job(name: str, backend: str, folder: str) -> list:
    """``spikemem run grid-cells --experiment sargolini|rnn``: run it, write its report."""
    from spikemem.progress import shown
    from .report import write_report, write_rnn_report
    if name == "sargolini":
        data = write_report(folder, integrate(SETTINGS["sargolini"], backend, progress=shown()))
        errors = ", ".join(f"{k} {v * 100:.1f} cm" for k, v in data["error_m"].items())
        return [f"path integration, n = {data['setting']['n']} {data['setting']['boundary']} "
                f"({backend}), Sargolini first {data['setting']['duration']:g} s: error {errors}",
                f"{data['s_per_simulated_s']:.2f} s of compute per simulated second; "
                f"grid score median {data['grid_score_median']:.2f}"]
    if name == "rnn":
        data = write_rnn_report(folder, train_rnn(SETTINGS["rnn"], progress=shown()))
        return [f"RNN path integrator, {data['settings']['n_units']} units: error on the Sargolini path "
                f"{data['error_m']['1s']:.2f} m after 1 s, {data['error_m']['60s']:.2f} m after 60 s; "
                f"{data['grid_fraction']:.0%} of units with grid score > 0.3"]
    raise ModelError(f"unknown experiment '{name}'; choose one of {', '.join(EXPERIMENTS)}")


@experiment(name="grid-cells")
def path_integration(seed, backend, n=Param(64, "neurons a side of the sheet"),
                     boundary=Param("periodic", "periodic or aperiodic sheet"),
                     spiking=Param(False, "Poisson-spiking units instead of rate units"),
                     duration=Param(60.0, "seconds of the Sargolini trajectory"),
                     fit_seconds=Param(30.0, "seconds the gain is fitted on")):
    """Path-integration error (``spikemem sweep grid-cells``): at the end of the
    path and its mean, the fitted gain and the compute per simulated second."""
    setting = Setting(n=n, boundary=boundary, spiking=spiking, duration=duration, fit_seconds=fit_seconds,
                      seed=seed, units=16)
    run: PathIntegration = integrate(setting, backend)["run"]
    return {"error_end_m": float(run.error[-1]), "mean_error_m": float(run.error.mean()),
            "gain_m_per_neuron": run.fit.gain, "s_per_simulated_s": run.timings["s_per_simulated_s"]}
