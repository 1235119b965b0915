"""The calcium wave in a ring of astrocytes: Stimberg et al. (2019)'s figure 5
in spikemem.

The astrocytes are G-ChI astrocytes without synaptic input (no ``Gamma_A``),
with figure 5's parameters where they differ from figure 2's. Each exchanges
IP3 with its two neighbours through gap junctions, a summed projection
between the ring's members (``J_coupling``); the middle one is stimulated
(IP3 pulled towards ``I_bias``, 1 uM) 20 s of every 50 s. dt = 50 ms, rk4.
``benchmarks/astro_stimberg.py`` compares it with the authors' Brian2 script.
"""
from __future__ import annotations

import numpy as np

from spikemem.errors import ModelError

#: figure 5's astrocytes: G-ChI without synaptic input (no Gamma_A), IP3 exchanged with
#: the two neighbours through gap junctions (J_coupling), the middle one stimulated
#: 20 s of every 50 s
RING_EQUATIONS = """
dI/dt = J_delta - J_3K - J_5P + J_ex + J_coupling : mmolar
J_delta = O_delta/(1 + I/kappa_delta)*C**2/(C**2 + K_delta**2) : mmolar/second
J_3K = O_3K*C**4/(C**4 + K_D**4)*I/(I + K_3K) : mmolar/second
J_5P = Omega_5P*I : mmolar/second
stimulus = int((t % (50*second)) < 20*second) : 1
delta_I_bias = I - I_bias*stimulus : mmolar
J_ex = -F_ex/2*(1 + tanh((abs(delta_I_bias) - I_Theta)/omega_I))*sign(delta_I_bias) : mmolar/second
J_coupling : mmolar/second
dC/dt = J_r + J_l - J_p : mmolar
dh/dt = (h_inf - h)/tau_h : 1
J_r = Omega_C*m_inf**3*h**3*(C_T - (1 + rho_A)*C) : mmolar/second
J_l = Omega_L*(C_T - (1 + rho_A)*C) : mmolar/second
J_p = O_P*C**2/(C**2 + K_P**2) : mmolar/second
m_inf = I/(I + d_1)*C/(C + d_5) : 1
h_inf = Q_2/(Q_2 + C) : 1
tau_h = 1/(O_2*(Q_2 + C)) : second
Q_2 = d_2*(I + d_1)/(I + d_3) : mmolar
I_bias : mmolar (constant)
"""
RING_PARAMS = ("O_P", "K_P", "C_T", "rho_A", "Omega_C", "Omega_L", "d_1", "d_2", "O_2", "d_3", "d_5", "O_delta",
               "kappa_delta", "K_delta", "Omega_5P", "K_D", "K_3K", "O_3K", "F_ex", "I_Theta", "omega_I")
#: the figure's run: 4000 s of 50 astrocytes
RING_DURATION_S = 4000.0
N_RING = 50
DT_S = 0.05
#: calcium (uM) that counts as the wave having reached an astrocyte
WAVE_THRESHOLD_UM = 0.5


def unit_name(value) -> str:
    """The unit of a Brian2 quantity as equations write it ("1" for a number)."""
    from brian2.units.fundamentalunits import get_dimensions
    dim = get_dimensions(value)
    return "1" if dim.is_dimensionless else dim._str_representation(python_code=True)


def ring_network(n: int = N_RING, every: int = 20, seed: int = 0):
    """The ring of ``n`` astrocytes (population ``astrocytes``, projection
    ``astro_to_astro``; the stimulated one is ``n // 2``), its calcium ``C``
    recorded every ``every`` steps (of 50 ms)."""
    import spikemem as sm
    from brian2 import ms, second, umolar
    from spikemem.glia import GCHI_DEFAULTS

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 3:
        raise ModelError(f"ring_network: n must be a whole number of astrocytes >= 3, got {n!r}")
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ModelError(f"ring_network: every must be a whole number of steps >= 1, got {every!r}")
    # figure 5's values where they differ from figure 2's
    own = dict(K_P=0.05 * umolar, O_delta=0.6 * umolar / second, K_delta=0.1 * umolar, Omega_5P=0.05 / second,
               K_D=0.7 * umolar)
    params = {k: own.get(k, GCHI_DEFAULTS[k]) for k in RING_PARAMS}
    declared = "".join(f"{k} : {unit_name(v)} (constant)\n" for k, v in params.items())
    model = sm.NeuronModel(RING_EQUATIONS + declared, method="rk4", params=params, name="gchi_ring")
    net = sm.Network(dt=DT_S * 1000 * ms, seed=seed)
    bias = np.zeros(n)
    bias[n // 2] = 1e-3     # 1 uM
    net.population("astrocytes", n, model, params={"I_bias": bias}, init={"h": 0.9})
    pairs = [(i, j) for i in range(n) for j in ((i + 1) % n, (i - 1) % n)]
    gap = sm.SynapseModel("delta_I = I_post - I_pre : mmolar\n"
                          "J_coupling_post = -F/2*(1 + tanh((abs(delta_I) - I_Theta)/omega_I))*sign(delta_I)"
                          " : mmolar/second (summed)\n"
                          "w : 1\nF : mmolar/second (constant)\nI_Theta : mmolar (constant)\n"
                          "omega_I : mmolar (constant)",
                          params=dict(F=0.09 * umolar / second, I_Theta=0.3 * umolar, omega_I=0.05 * umolar),
                          name="gap_junction")
    net.connect("astrocytes", "astrocytes", sm.FromList(sorted(pairs)), weight=1.0, synapse=gap,
                receptor="J_coupling", name="astro_to_astro")
    net.record_state("astrocytes", ["C"], every=every)
    return net


def ring_calcium(duration=RING_DURATION_S, backend="numba", every=20, n: int = N_RING, **options):
    """The ring simulated for ``duration`` seconds on ``backend`` (``options``:
    the backend's, e.g. ``dtype="float64"``): calcium (samples, n) in uM,
    sampled every ``every`` steps, from t = 0."""
    import spikemem as sm
    if not duration > 0:
        raise ModelError(f"ring_calcium: duration must be > 0 s, got {duration!r}")
    result = sm.simulate(ring_network(n, every), duration, backend=backend, **options)
    return result.traces["astrocytes.C"].values * 1e3


def wave(calcium: np.ndarray, record_s: float = 1.0) -> dict:
    """The ring's wave, from (samples, astrocytes) calcium in uM sampled every
    ``record_s``: each astrocyte's peak (uM), the time it first exceeds
    ``WAVE_THRESHOLD_UM`` (s; -1 where it never does), and how many astrocytes it reached."""
    above = calcium > WAVE_THRESHOLD_UM
    first = np.where(above.any(0), above.argmax(0) * record_s, -1.0)
    return {"peak_uM": calcium.max(0).round(9).tolist(), "arrival_s": first.tolist(),
            "reached": int(above.any(0).sum())}


def wave_speed(arrival_s, source: int) -> float | None:
    """Astrocytes per second the first wave travels from ``source``: the
    least-squares slope of ring distance against arrival time over the
    astrocytes it reached (None where it reached fewer than two)."""
    arrival = np.asarray(arrival_s, dtype=float)
    n = arrival.size
    distance = np.minimum(np.abs(np.arange(n) - source), n - np.abs(np.arange(n) - source))
    reached = arrival >= 0
    if reached.sum() < 2 or np.ptp(arrival[reached]) == 0:
        return None
    return float(np.polyfit(arrival[reached], distance[reached], 1)[0])
