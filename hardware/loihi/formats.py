"""Loihi 1's number formats and limits, and the conversions into them.

Sources: Davies et al., IEEE Micro 38(1), 2018; NxSDK / Lava bit-accurate
models; brian2-loihi's parameter checks (the list with each limit's meaning:
docs/targets/loihi.md, "Limits").
"""
from __future__ import annotations

import numpy as np

DECAY_ONE = 4096                 # decays are fractions of 4096 (12 bits)
DECAY_U_MAX, DECAY_V_MAX = 4096, 4095
REFRACTORY_MAX = 63
DELAY_MAX = 62                   # Loihi delay; spikemem's delay is this + 1 steps
W_EXP_MAX = 7                    # exponents -8..7; negative ones add nothing (the 6-bit shift)
W_MANT = {"exc": (0, 255), "inh": (-256, 0)}
W_ACT_LIMIT = (1 << 21) - (1 << 6)   # largest |w_act| (brian2-loihi: 21 bits, 6 low bits zero)
VTH_MANT_MAX = (1 << 17) - 1
BIAS_MANT_MAX, BIAS_EXP_MAX = 4095, 7
STATE_MAX = (1 << 23) - 1        # 24-bit signed u and v
TRACE_MAX = 127                  # 7-bit learning traces
RULE_MANT_MAX, RULE_EXP_MIN, RULE_EXP_MAX = 127, -7, 9     # constants of dw: m * 2**e

# spikemem's choice of the voltage scale (docs/targets/loihi.md, "Voltage scale")
HEADROOM_BITS = 3                # threshold distance -> 2**(23 - 3) units (mantissa 2**14)
INPUT_UNITS = 1 << 22            # largest one-step input of a neuron
W_SINGLE_MAX = 255 << (6 + W_EXP_MAX)


def w_act_array(mant, exp) -> np.ndarray:
    """brian2-loihi's actual weight of 8-bit mantissas: floor(mant * 2**(6 + exp) / 2**6) * 2**6,
    clipped to 21 bits."""
    mant = np.asarray(mant, np.int64)
    w = (mant << exp) if exp >= 0 else (mant >> -exp)
    return np.clip(w << 6, -W_ACT_LIMIT, W_ACT_LIMIT)


def mant_exp(value, mant_max, exp_lo, exp_hi):
    """(mantissa, exponent): the smallest exponent whose rounded mantissa fits
    ``mant_max``; None when even ``exp_hi`` overflows."""
    for e in range(exp_lo, exp_hi + 1):
        m = int(np.rint(value / 2.0 ** e))
        if abs(m) <= mant_max:
            return m, e
    return None


def effective_tau(dt, decay):
    """The time constant a Loihi decay stands for: x * (1 - decay/4096) per step."""
    f = 1.0 - np.asarray(decay, float) / DECAY_ONE
    with np.errstate(divide="ignore"):
        return np.where(f <= 0, 0.0, np.where(f >= 1, np.inf, -dt / np.log(np.clip(f, 1e-300, 1))))
