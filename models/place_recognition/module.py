"""Training and testing one module: unsupervised STDP on a region's reference
images, then frozen responses, a neuron-to-place assignment and place scores.

Training, as the authors' code does it: a 500 ms rest with no input, then per
image (in the order given, ``epochs`` times) each excitatory neuron's input
weights are scaled to sum to 78 nS (``network.normalisation_total``), the
input fires at the image's rates (``spikemem.encoding.image_rates``) for
``present`` and is silent for ``rest``. Diehl and Cook show an image again,
at an intensity one step higher (rates times (2 + k) / 2 on the k-th retry:
up to +32 Hz each time for the brightest pixel), while the excitatory layer
fires fewer than 5 spikes; the authors' place-recognition code turns that off
(``repeat_no_spikes = False``), so ``retry_below`` is 0 by default and 5 is
Diehl and Cook's (at most ``MAX_RETRIES`` retries). Testing freezes the
weights and the thresholds (``Simulation.freeze``) and shows each image once,
without normalisation.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from brian2 import ms, nS

from spikemem.backends import simulation
from spikemem.encoding import image_rates
from spikemem.errors import ModelError
from spikemem.experiments import checkpoint
from spikemem.plasticity import normalize_weights
from spikemem.units import to_si

from .assignment import Assignment, assign, scores
from .network import N_INPUTS, module_network, normalisation_total, theta_of

__all__ = ["MAX_RETRIES", "Presenter", "TrainedModule", "assign", "check_images", "scores", "train_module"]

PRESENT = 350 * ms
REST = 150 * ms
FIRST_REST = 500 * ms
#: Diehl and Cook retry until the layer fires; a bound keeps a silent module from looping forever
MAX_RETRIES = 10
#: what a checkpoint of a module holds: the plastic weights and the adaptive thresholds
STATE = {"input_to_exc": ["w"], "exc": ["vt"]}


def check_images(images, n_inputs: int = N_INPUTS, where: str = "images") -> np.ndarray:
    """``images`` as an n x H x W float array, refused (by image) if empty or not finite."""
    a = np.asarray(images)
    if a.ndim != 3 or a.shape[0] == 0 or a.shape[1] == 0 or a.shape[2] == 0:
        raise ModelError(f"{where}: expected a non-empty n x H x W array of grayscale images, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise ModelError(f"{where}: expected numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(a).all(axis=(1, 2)))
    if bad.size:
        raise ModelError(f"{where}: image {bad[0]} has a pixel that is not finite")
    side = int(round(np.sqrt(n_inputs)))
    if side * side != n_inputs:
        raise ModelError(f"{where}: n_inputs = {n_inputs} is not a square number of pixels")
    return a


def rates_of(images: np.ndarray, n_inputs: int) -> np.ndarray:
    """Each image's Poisson rates (Hz), resized to sqrt(n_inputs) pixels a side."""
    side = int(round(np.sqrt(n_inputs)))
    return np.stack([image_rates(im, size=side, where=f"image {k}") for k, im in enumerate(images)])


def _duration(value, name) -> float:
    d = float(to_si(value, name, ms.dim))
    if not np.isfinite(d) or d <= 0:
        raise ModelError(f"{name} must be a positive duration, got {value!r}")
    return d


class Presenter:
    """Shows images to a module's simulation: a first rest (``FIRST_REST``), then
    per image the input at its rates for ``present`` and silence for ``rest``;
    a call returns each excitatory neuron's spikes during the presentation."""

    def __init__(self, sim, n_e: int, present=PRESENT, rest=REST):
        self.sim, self.n_e, self.present, self.rest = sim, n_e, float(present), float(rest)
        self.seen = 0
        sim.run(float(FIRST_REST), progress=False)
        self._spikes()

    def _spikes(self) -> np.ndarray:
        """Each neuron's spikes since the last call (the recordings keep growing)."""
        ids = self.sim.result().spikes["exc"].ids
        new, self.seen = ids[self.seen:], ids.size
        return np.bincount(new, minlength=self.n_e)

    def __call__(self, rates) -> np.ndarray:
        self.sim.set_rates("input", rates)
        self.sim.run(self.present, progress=False)
        counts = self._spikes()
        self.sim.set_rates("input", 0.0)
        self.sim.run(self.rest, progress=False)
        self._spikes()          # spikes during the rest belong to no image
        return counts


@dataclass
class TrainedModule:
    """A trained module: its network's options, the checkpoint of its plastic
    state (``state``: the input weights and the thresholds, naming the network
    they belong to) and the neuron-to-place assignment."""
    n_e: int
    n_inputs: int
    seed: int
    dt: float
    state: dict
    assignment: Assignment | None = None
    present: float = float(PRESENT)
    rest: float = float(REST)
    options: dict = field(default_factory=dict)    # module_network's variants (pre_potentiates, timer)

    # --- what it learnt
    def network(self):
        return module_network(self.n_e, self.n_inputs, self.seed, self.dt, **self.options)

    @property
    def weights(self) -> np.ndarray:
        """The input weights in nS, inputs x neurons."""
        proj = next(p for p in self.network().build().projections if p.name == "input_to_exc")
        w = np.zeros((self.n_inputs, self.n_e))
        w[proj.i, proj.j] = self.state["input_to_exc.w"] / 1e-9
        return w

    @property
    def theta(self) -> np.ndarray:
        """The authors' theta of each excitatory neuron, in volts."""
        return theta_of(self.state["exc.vt"])

    def restore(self, sim) -> None:
        """Write the learnt weights and thresholds into ``sim``; a simulation of
        another network is refused (``checkpoint.restore``)."""
        checkpoint.restore(sim, self.state)

    # --- testing
    def responses(self, images, backend: str = "numba", progress=None) -> np.ndarray:
        """Spike counts (images x n_e) with learning and threshold adaptation frozen."""
        rates = rates_of(check_images(images, self.n_inputs), self.n_inputs)
        sim = simulation(self.network(), backend, progress=False)
        self.restore(sim)
        sim.freeze("input_to_exc")
        sim.freeze("exc")
        show = Presenter(sim, self.n_e, self.present, self.rest)
        out = np.zeros((len(rates), self.n_e))
        for k in _steps(len(rates), progress, "responses"):
            out[k] = show(rates[k])
        return out

    def scores(self, responses) -> np.ndarray:
        if self.assignment is None:
            raise ModelError("this module has no assignment yet: assign it (module.assign) first")
        return scores(responses, self.assignment)

    def assign(self, responses, places, weighted: bool = False) -> Assignment:
        self.assignment = assign(responses, places, weighted)
        return self.assignment

    # --- files
    def save(self, path) -> None:
        a = self.assignment
        extra = {} if a is None else {"assignment.places": a.places, "assignment.neuron_place": a.neuron_place}
        if a is not None and a.counts is not None:
            extra["assignment.counts"] = a.counts
        meta = np.array([self.n_e, self.n_inputs, self.seed], np.int64)
        np.savez(path, meta=meta, times=np.array([self.dt, self.present, self.rest]),
                 options=np.array(json.dumps(self.options, sort_keys=True)),
                 **{f"state:{k}": v for k, v in self.state.items()}, **extra)

    @classmethod
    def load(cls, path) -> "TrainedModule":
        try:
            with np.load(path, allow_pickle=False) as f:
                data = {k: f[k] for k in f.files}
        except (OSError, ValueError) as e:
            raise ModelError(f"{path}: not a readable module file ({e})") from None
        if "meta" not in data or "state:" + checkpoint.NETWORK not in data:
            raise ModelError(f"{path}: not a module file (no network named)")
        n_e, n_inputs, seed = (int(v) for v in data["meta"])
        dt, present, rest = (float(v) for v in data["times"])
        state = {k[len("state:"):]: v for k, v in data.items() if k.startswith("state:")}
        assignment = None
        if "assignment.places" in data:
            assignment = Assignment(data["assignment.places"], data["assignment.neuron_place"],
                                    data.get("assignment.counts"))
        return cls(n_e, n_inputs, seed, dt, state, assignment, present, rest, json.loads(str(data["options"])))


def _steps(n, progress, what):
    if progress:
        from spikemem.progress import progress as bar
        with bar(n, what, enabled=True) as b:
            for k in range(n):
                yield k
                b.update(1)
    else:
        yield from range(n)


def train_module(images, places, n_e: int = 400, epochs: int = 20, seed: int = 0, backend: str = "numba",
                 present=PRESENT, rest=REST, progress=None, retry_below: int = 0, weighted: bool = False,
                 dt=0.5 * ms, n_inputs: int = N_INPUTS, total=None, pre_potentiates: bool = False,
                 timer: bool = False, backend_options: dict | None = None) -> TrainedModule:
    """Train a module on ``images`` (n x H x W) of ``places`` (one id per image),
    then assign its neurons from its frozen responses to the same images.
    ``n_inputs``: pixels of the resized images (a square number; 784 = 28 x 28).
    ``total``: what each neuron's input weights sum to (siemens or a quantity);
    None: 78 nS for 784 inputs, in proportion for others (the same mean weight).
    ``backend_options``: options of the training simulation (numba's
    ``shared_traces=True``: a third of the time and memory, not bit for bit Brian2's).
    ``pre_potentiates``, ``timer``: variants of the network (``module_network``)."""
    places = np.asarray(places)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ModelError(f"train_module: epochs must be an integer >= 1, got {epochs!r}")
    if isinstance(retry_below, bool) or not isinstance(retry_below, (int, np.integer)) or retry_below < 0:
        raise ModelError(f"train_module: retry_below must be an integer >= 0, got {retry_below!r}")
    images = check_images(images, n_inputs)
    if places.shape != (len(images),):
        raise ModelError(f"train_module: {len(images)} images but places of shape {places.shape}")
    present, rest = _duration(present, "present"), _duration(rest, "rest")
    options = {k: True for k, on in (("pre_potentiates", pre_potentiates), ("timer", timer)) if on}
    net = module_network(n_e, n_inputs, seed, dt, **options)
    rates = rates_of(images, n_inputs)
    sim = simulation(net, backend, progress=False, **(backend_options or {}))
    total = normalisation_total(n_inputs) if total is None else float(to_si(total, "total", nS.dim))
    if not np.isfinite(total) or total <= 0:
        raise ModelError(f"train_module: total must be a positive conductance, got {total!r}")
    show = Presenter(sim, n_e, present, rest)
    for k in _steps(epochs * len(images), progress, "training"):
        r = rates[k % len(images)]
        for retry in range(MAX_RETRIES + 1):
            normalize_weights(sim, "input_to_exc", total)
            spikes = show(r * (2 + retry) / 2).sum()
            if spikes >= retry_below:
                break
    module = TrainedModule(n_e, n_inputs, seed, float(net.dt), checkpoint.capture(sim, STATE),
                           present=present, rest=rest, options=options)
    module.assign(module.responses(images, backend), places, weighted)
    return module
