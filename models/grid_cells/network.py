"""The Burak and Fiete (2009) continuous attractor network as a spikemem ``Network``.

An n x n sheet of ReLU rate units (or their Poisson-spiking counterpart), each
with a preferred direction (N, S, E, W in 2 x 2 blocks, ``kernels``). Every unit
obeys tau ds/dt = -s + relu(I + B): ``I`` is the recurrent input, one
convolution per direction class (``spikemem.Convolution``, never an explicit
synapse list), and B = A (1 + alpha e_theta . v) the velocity drive, read from
the network's signal ``v`` (the animal's velocity in m/s, ``v_x`` and ``v_y``).
The spiking variant fires with probability relu(I + B) dt / tau per step and its
``s`` jumps by 1 at a spike and decays with tau, so that its mean is the rate
variant's ``s``.

The sheet starts from small random activity; the pattern forms at zero
velocity during ``settle`` seconds, before the trajectory's velocity starts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikemem import Convolution, PoissonUnit, ReLURate
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.synapses import summed

from .kernels import direction_classes, envelope, preferred_vectors, recurrent_kernels

BOUNDARIES = ("periodic", "aperiodic")


@dataclass(frozen=True)
class Parameters:
    """The paper's parameters (Burak and Fiete 2009, periodic network, Fig. 2)."""
    n: int = 128                 # neurons a side
    boundary: str = "periodic"
    spiking: bool = False
    lam: float = 13.0            # grid period of the pattern, in neurons
    l: float = 2.0               # noqa: E741 (the paper's name) shift of the outgoing weights, neurons
    a: float = 1.0               # W0's excitatory amplitude (1: purely inhibitory connectivity)
    gamma_ratio: float = 1.05    # W0's gamma / beta (the inhibitory surround's narrower Gaussian)
    scale: float = 5.0           # the recurrent input's factor, as the authors' published code has it
    alpha: float = 0.10315       # velocity gain, s/m
    tau: float = 10e-3           # s
    dt: float = 0.5e-3           # s
    settle: float = 0.5          # s of zero velocity in which the pattern forms
    init_scale: float = 1e-3     # the initial activity, uniform in [0, init_scale)

    def __post_init__(self):
        if self.boundary not in BOUNDARIES:
            raise ModelError(f"boundary {self.boundary!r} is not one of {list(BOUNDARIES)}")
        for name in ("tau", "dt", "lam", "alpha", "gamma_ratio"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ModelError(f"{name} must be a positive number, got {getattr(self, name)!r}")
        if self.settle < 0:
            raise ModelError(f"settle must be >= 0 seconds, got {self.settle!r}")

    @property
    def periodic(self) -> bool:
        return self.boundary == "periodic"


DRIVE = """
B = A*(1 + alpha*(ex*v_x + ey*v_y)) : 1
A : 1 (constant)
ex : 1 (constant)
ey : 1 (constant)
alpha : 1 (constant)
"""


def can_network(velocity: np.ndarray | None = None, parameters: Parameters = Parameters(), seed: int = 0,
                record_spikes: bool = False, velocity_dt: float | None = None) -> Network:
    """The CAN driven by ``velocity`` ((K, 2) m/s, one row per ``velocity_dt``
    seconds (default: the time step), held between samples, after
    ``parameters.settle`` seconds of zero velocity; None: zero velocity only).
    A path sampled at 50 Hz and interpolated linearly has one velocity per 20
    ms, so giving it at 20 ms holds 40 times fewer samples than at 0.5 ms for
    the same drive."""
    p = parameters
    n = p.n
    velocity_dt = p.dt if velocity_dt is None else velocity_dt
    steps = velocity_dt / p.dt
    if not (np.isfinite(steps) and steps >= 1 - 1e-9 and abs(steps - round(steps)) < 1e-6):
        raise ModelError(f"velocity_dt must be a whole number of time steps ({p.dt} s), got {velocity_dt!r}")
    settle_samples = p.settle / velocity_dt
    if abs(settle_samples - round(settle_samples)) > 1e-6:
        raise ModelError(f"settle ({p.settle} s) must be a whole number of velocity samples ({velocity_dt} s)")
    velocity = np.zeros((0, 2)) if velocity is None else np.asarray(velocity, dtype=float)
    if velocity.ndim != 2 or velocity.shape[1] != 2:
        raise ModelError(f"velocity must be (steps, 2) in m/s, got shape {velocity.shape}")
    signal = np.concatenate([np.zeros((int(round(settle_samples)), 2)), velocity])
    if not len(signal):
        signal = np.zeros((1, 2))
    ex, ey = preferred_vectors(n)
    params = dict(tau=p.tau, A=envelope(n, p.boundary), ex=ex, ey=ey, alpha=p.alpha)
    unit = (PoissonUnit(drive="B", equations=DRIVE, gain=1 / p.tau, **params) if p.spiking
            else ReLURate(drive="B", equations=DRIVE, **params))
    net = Network(dt=p.dt, seed=seed)
    rng = np.random.default_rng(seed)
    sheet = net.population("sheet", n * n, unit, init={"s": rng.uniform(0, p.init_scale, n * n)})
    net.signal("v", signal, dt=velocity_dt)
    kernels = p.scale * recurrent_kernels(n, p.lam, p.l, p.a, boundary=p.boundary,
                                                gamma_ratio=p.gamma_ratio)
    net.connect(sheet, sheet, Convolution(kernels, sheet=(n, n), boundary=p.boundary, classes=direction_classes(n)),
                synapse=summed(source="s", target="I"), receptor="input", name="recurrent")
    if record_spikes:
        net.record_spikes(sheet)
    return net


def grid_network(n: int = 128, boundary: str = "periodic", spiking: bool = False, duration: float = 1.0,
                 seed: int = 0) -> Network:
    """The zoo's factory: the network at zero velocity for ``duration`` seconds
    after ``settle`` (``spikemem describe grid-cells``, the targets' ``check``)."""
    p = Parameters(n=n, boundary=boundary, spiking=spiking)
    return can_network(np.zeros((int(round(duration / p.dt)), 2)), p, seed)
