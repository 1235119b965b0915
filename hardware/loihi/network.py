"""The quantised network: a spikemem network in Loihi's integers, as ``quantize``
returns it and the emulator, the NIR export and brian2-loihi read it."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LoihiLearning:
    """Loihi's pair rule ``dw = A+ x1 y0 - A- y1 x0 + A- imp_y x0 y0`` with
    A = mant * 2**exp (the last term: a post spike in the pre spike's own step
    does not depress, spikemem's pre-before-post convention)."""
    rule: str                        # the spikemem rule it stands for
    a_plus_mant: int
    a_plus_exp: int
    a_minus_mant: int
    a_minus_exp: int
    x_impulse: int
    x_tau: int                       # trace decays by x * (1 - 1/tau) per step
    y_impulse: int
    y_tau: int
    w_lo: int = 0
    w_hi: int = 255
    learns: bool = True              # False: frozen (spikemem's switch 'plastic' is 0), weights stay

    @property
    def dw(self) -> str:
        """The rule in Loihi's (and brian2-loihi's) notation."""
        return (f"{self.a_plus_mant}*2^{self.a_plus_exp}*x1*y0"
                f"-{self.a_minus_mant}*2^{self.a_minus_exp}*y1*x0"
                f"+{self.a_minus_mant}*2^{self.a_minus_exp}*{self.y_impulse}*x0*y0")


@dataclass
class LoihiPopulation:
    """A population in Loihi's numbers. Neurons: per-compartment integer arrays
    and the scale S (Loihi units per volt); sources: their spikes or rates."""
    name: str
    size: int
    kind: str                        # "neuron", "spikes", "poisson"
    scale: float = 0.0
    v_rest: np.ndarray | None = None     # volts: where the leak goes (through the bias)
    v_reset: np.ndarray | None = None    # volts: Loihi's 0 (v = v_reset + v_loihi / S)
    drive: np.ndarray | None = None      # volts per step of the bias that moves the rest to v_rest
    k: np.ndarray | None = None          # volts per step per ampere of synaptic current
    kb: np.ndarray | None = None         # volts per step per ampere of i_offset
    decay_u: np.ndarray | None = None
    decay_v: np.ndarray | None = None
    vth_mant: np.ndarray | None = None
    bias_mant: np.ndarray | None = None
    bias_exp: np.ndarray | None = None
    refractory: np.ndarray | None = None
    init_v: np.ndarray | None = None
    init_u: np.ndarray | None = None
    spike_steps: np.ndarray | None = None
    spike_ids: np.ndarray | None = None
    rate: np.ndarray | None = None


@dataclass
class LoihiProjection:
    name: str
    pre: str
    post: str
    i: np.ndarray
    j: np.ndarray
    w_mant: np.ndarray               # int64, 8-bit mantissas
    w_exp: int                       # weights scale 2**(6 + w_exp)
    sign: str                        # "exc" or "inh" (Loihi's synapse sign mode)
    delay: np.ndarray                # Loihi delay d: the spike acts d + 1 steps later
    learning: LoihiLearning | None = None


@dataclass
class LoihiNetwork:
    dt: float
    seed: int
    populations: dict
    projections: list
    spike_monitors: list
    errors: list = field(default_factory=list)      # QuantizationError rows
    notes: list = field(default_factory=list)
