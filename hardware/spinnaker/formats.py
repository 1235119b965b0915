"""sPyNNaker's number formats (ISO C ``accum`` s16.15, ``unsigned long fract``
u0.32, the s4.11 STDP traces) and the host side's conversions into them.

Sources: SpiNNakerManchester/sPyNNaker 1!7.4.1, the python side as installed,
the C side the matching ``neural_modelling/src``; ``expk`` / ``expulr`` are
taken as correctly rounded (spinn_common's are within one LSB).
"""
from __future__ import annotations

import math

import numpy as np

from spikemem.errors import ModelError

ONE = 1 << 15                   # 1.0 in s16.15 (ISO C accum)
U032 = 1 << 32                  # 1.0 in u0.32 (unsigned long fract), not representable
STDP_ONE = 1 << 11              # 1.0 in the s4.11 traces of STDP
MS, MV, NA, NF, US = 1e3, 1e3, 1e9, 1e9, 1e6     # SI -> the units sPyNNaker takes: ms, mV, nA, nF, uS
RECEPTORS = ("exc", "inh")      # sPyNNaker synapse types 0 and 1
# spikemem receptor -> synapse type (IF_curr_exp's currents, IF_cond_exp's conductances)
SYNAPSE_TYPE = {"isyn_exc": 0, "isyn_inh": 1, "gsyn_exc": 0, "gsyn_inh": 1}
# the neuron state the core holds: a conductance cell keeps its conductances where
# a current cell keeps its currents (sPyNNaker calls both isyn_exc / isyn_inh)
STATE = {"v": 0, "isyn_exc": 1, "isyn_inh": 2, "gsyn_exc": 1, "gsyn_inh": 2, "i_offset": 3}
LIF_PARAMS = (("c_m", NF), ("tau_m", MS), ("tau_syn_E", MS), ("tau_syn_I", MS),
              ("v_rest", MV), ("v_reset", MV), ("v_thresh", MV))
COND_PARAMS = (("e_rev_E", MV), ("e_rev_I", MV))    # input_type_conductance's reversal potentials
# InputTypeConductance.get_global_weight_scale(): the host multiplies conductance
# weights (uS) by 1024 so that small ones survive 16 bits; the core's
# input_type_get_input_value undoes it with >> 10 before the membrane sees them
# (so in the IF_cond_exp.aplx 7.4.1 ships; later sources shift by 5)
COND_SHIFT = 10
COND_SCALE = 1 << COND_SHIFT


def s1615(x, where="value") -> np.ndarray:
    """``DataType.S1615``: round to nearest (half to even, as numpy) of x * 2**15."""
    a = np.asarray(x, dtype=np.float64)
    if np.any(np.abs(a) >= 65536):
        raise ModelError(f"{where}: {a.flat[np.argmax(np.abs(a))]} does not fit s16.15 (|x| < 65536)")
    return np.round(a * ONE).astype(np.int64)


def kdivk(a, b) -> np.ndarray:
    """spinn_common's kdivk: s16.15 division by long division (truncates toward 0)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    q = (np.abs(a) << 15) // np.abs(b)
    return np.where((a < 0) ^ (b < 0), -q, q)


def expk(x) -> np.ndarray:
    """expk of an s16.15 argument, s16.15 result, rounded to nearest."""
    return np.round(np.exp(np.asarray(x, np.float64) / ONE) * ONE).astype(np.int64)


def expulr(x) -> np.ndarray:
    """expulr of an s16.15 argument (<= 0), u0.32 result, rounded to nearest."""
    return np.minimum(np.round(np.exp(np.asarray(x, np.float64) / ONE) * U032), U032 - 1).astype(np.int64)


def ceil_accum(bits) -> np.ndarray:
    """lif_ceil_accum: the integer part plus one if any fractional bit is set."""
    bits = np.asarray(bits, np.int64)
    return (bits >> 15) + ((bits & 0x7FFF) > 0)


def exp_lut(dt_ms: float, tau_ms: float) -> np.ndarray:
    """``get_exp_lut_array``: floor(2048 exp(-k dt/tau)), an even number of entries."""
    lam = dt_ms / float(tau_ms)
    size, extra = divmod(math.log(STDP_ONE) / lam, 2)
    size = (int(size) + (extra > 0)) * 2
    return np.floor(np.exp(np.arange(size) * -lam) * STDP_ONE).astype(np.int64)
