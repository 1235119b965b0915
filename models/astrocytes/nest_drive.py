"""A Li-Rinzel astrocyte in spikemem against NEST 3.10's astrocyte_lr_1994,
driven by the same deterministic presynaptic spikes.

One astrocyte (``delta_IP3`` 0.2 uM, NEST's examples' value) receives a
fixed-seed Poisson train of weight 1 with NEST's default delay of 1 ms, its
times on the grid half a millisecond off the whole milliseconds so that no
jump of IP3 falls on a recorded sample; it sends its SIC (weight 1, 1 pA,
a delay of one step, as spikemem's summed projection reads it) to an AdEx
neuron with an I_SIC input (NEST: aeif_cond_alpha_astro). Both record every
millisecond at dt = 0.1 ms. ``benchmarks/astro_nest.py`` runs this case and
NEST's own astrocyte examples.

NEST holds its kernel for the whole process, so it runs in a child process
(``python -m spikemem.models.astrocytes.nest``); ``nest_available`` says
whether it can be imported at all.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from importlib.util import find_spec

import numpy as np

from spikemem.errors import ModelError

#: NEST's astrocyte examples' delta_IP3, uM
DELTA_IP3 = 0.2
DT_MS = 0.1
RECORD_MS = 1.0
#: the delay of the input to the astrocyte (NEST's default)
INPUT_DELAY_MS = 1.0
VARIABLES = ("IP3", "Ca_astro", "h_IP3R", "I_SIC")
UNITS = {"IP3": "uM", "Ca_astro": "uM", "h_IP3R": "1", "I_SIC": "pA"}


def input_times(duration_ms: float, rate_hz: float, seed: int) -> np.ndarray:
    """A Poisson train (ms) on the time grid, every time half a millisecond off the whole ones."""
    if not duration_ms > 3.0 or not rate_hz > 0:
        raise ModelError(f"input_times: the duration must exceed 3 ms and the rate be > 0 Hz, "
                         f"got {duration_ms!r} ms and {rate_hz!r} Hz")
    rng = np.random.default_rng(seed)
    n = rng.poisson(rate_hz * duration_ms / 1000.0)
    return np.unique(np.floor(rng.uniform(1.0, duration_ms - 2.0, n))) + 0.5


def nest_available() -> bool:
    """Whether NEST (the hardware extra) can be imported here."""
    return find_spec("nest") is not None


def run_nest(times_ms: np.ndarray, duration_ms: float) -> dict:
    """The case in NEST (in this process, whose kernel it resets): the
    recorded traces (ms; uM; 1; pA), one value per sample."""
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = DT_MS
    astro = nest.Create("astrocyte_lr_1994", params={"delta_IP3": DELTA_IP3})
    post = nest.Create("aeif_cond_alpha_astro")
    nest.Connect(astro, post, syn_spec={"synapse_model": "sic_connection", "weight": 1.0, "delay": DT_MS})
    pre = nest.Create("spike_generator", params={"spike_times": np.asarray(times_ms, dtype=float)})
    nest.Connect(pre, astro, syn_spec={"weight": 1.0, "delay": INPUT_DELAY_MS})
    mm_astro = nest.Create("multimeter", params={"record_from": list(VARIABLES[:3]), "interval": RECORD_MS})
    mm_post = nest.Create("multimeter", params={"record_from": ["I_SIC"], "interval": RECORD_MS})
    nest.Connect(mm_astro, astro)
    nest.Connect(mm_post, post)
    nest.Simulate(float(duration_ms))
    out = {v: np.asarray(mm_astro.events[v], dtype=float) for v in VARIABLES[:3]}
    out["I_SIC"] = np.asarray(mm_post.events["I_SIC"], dtype=float)
    out["t"] = np.asarray(mm_astro.events["times"], dtype=float)
    return out


def nest_traces(times_ms: np.ndarray, duration_ms: float, timeout_s: float = 1200) -> dict:
    """``run_nest`` in a child process; a ModelError with NEST's message if it fails."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(
        sys.modules["spikemem"].__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as d:
        inputs, out = os.path.join(d, "inputs.npy"), os.path.join(d, "nest.npz")
        np.save(inputs, np.asarray(times_ms, dtype=float))
        p = subprocess.run([sys.executable, "-m", __name__, inputs, str(float(duration_ms)), out],
                           capture_output=True, text=True, timeout=timeout_s, env=env)
        if p.returncode:
            raise ModelError(f"NEST failed: {(p.stderr or p.stdout)[-2000:]}")
        with np.load(out) as f:
            return dict(f)


def spikemem_traces(times_ms: np.ndarray, duration_ms: float, backend: str = "numba", method: str = "rk4",
                    **options) -> dict:
    """The case in spikemem on ``backend`` (``options``: the backend's, e.g.
    ``dtype="float64"``): traces every millisecond from t = 0, in ms, uM, 1 and pA."""
    import spikemem as sm
    from brian2 import ms, pA, umolar
    from spikemem.glia import LiRinzel, sic_synapse
    net = sm.Network(dt=DT_MS * ms, seed=0)
    net.spike_source("inp", 1, [list(np.asarray(times_ms, dtype=float) * 1e-3)])
    net.population("astro", 1, LiRinzel(method=method, delta_IP3=DELTA_IP3 * umolar))
    net.population("post", 1, sm.AdEx(sic=True))
    net.connect("inp", "astro", sm.AllToAll(), weight=1.0, delay=INPUT_DELAY_MS * ms, receptor="ip3")
    net.connect("astro", "post", sm.AllToAll(), weight=1 * pA, receptor="sic", synapse=sic_synapse())
    every = int(round(RECORD_MS / DT_MS))
    net.record_state("astro", ["IP3", "Ca_astro", "h_IP3R"], every=every)
    net.record_state("post", ["I_SIC"], every=every)
    result = sm.simulate(net, duration_ms * 1e-3, backend=backend, progress=False, **options)
    out = {v: result.traces[f"astro.{v}"].values[:, 0] / 1e-3 for v in ("IP3", "Ca_astro")}     # mM -> uM
    out["h_IP3R"] = result.traces["astro.h_IP3R"].values[:, 0]
    out["I_SIC"] = result.traces["post.I_SIC"].values[:, 0] / 1e-12
    out["t"] = result.traces["astro.IP3"].times * 1e3
    return out


def common_samples(nest: dict, ours: dict) -> tuple[np.ndarray, dict, dict]:
    """The sample times both have (NEST's first sample is at 1 ms, spikemem's
    at 0) and each side's traces there."""
    a, b = np.round(nest["t"], 6), np.round(ours["t"], 6)
    t = np.intersect1d(a, b)
    return t, {v: nest[v][np.isin(a, t)] for v in VARIABLES}, {v: ours[v][np.isin(b, t)] for v in VARIABLES}


def differences(nest: dict, ours: dict) -> dict:
    """Max and RMS differences per variable on the common samples, and NEST's range."""
    t, theirs, mine = common_samples(nest, ours)
    out = {"samples": int(t.size)}
    for v in VARIABLES:
        d = mine[v] - theirs[v]
        out[v] = {"max_abs": float(np.max(np.abs(d))), "rms": float(np.sqrt(np.mean(d ** 2))),
                  "range": [float(theirs[v].min()), float(theirs[v].max())]}
    return out


def main(argv=None):
    """The child process: ``INPUTS.npy DURATION_MS OUT.npz``."""
    inputs, duration, out = argv if argv is not None else sys.argv[1:]
    np.savez(out, **run_nest(np.load(inputs), float(duration)))


if __name__ == "__main__":
    main()
