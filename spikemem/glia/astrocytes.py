"""Glia: astrocyte templates, cells without a threshold that neurons drive and read.

Two astrocytes: ``LiRinzel`` (NEST's astrocyte_lr_1994, below) and ``GChI``,
Stimberg et al. (2019)'s G-ChI astrocyte, which the synapses it contacts drive
through a projection from their synapses (``synapses_to_astrocyte``; see
``Network.connect``), with the neurotransmitter ``Y_S`` that
``glutamate_synapse`` releases. Its equations are those of the paper's Brian2
examples (figure 2), without the noise on ``h``.

``LiRinzel`` is NEST 3.10's ``astrocyte_lr_1994``, parameter for parameter:
Li and Rinzel's (1994) calcium dynamics with Nadkarni and Jung's (2003) input
and output. State: ``IP3`` and ``Ca_astro`` (concentrations) and ``h_IP3R``
(the fraction of IP3 receptors not inactivated by calcium)::

    dIP3/dt     = (IP3_0 - IP3)/tau_IP3
    dCa_astro/dt = J_channel - J_pump + J_leak
    dh_IP3R/dt  = alpha_h*(1 - h_IP3R) - beta_h*h_IP3R

with, for ``Ca`` the calcium held within [0, Ca_tot] (as NEST 3.10 holds it in
the right-hand side; NEST also clips the state itself after each step, which
these equations do not: calcium stays far below Ca_tot = 2 uM in this model)::

    J_channel = ratio_ER_cyt*rate_IP3R*m_inf**3*n_inf**3*h_IP3R**3*(Ca_ER - Ca)
    J_leak    = ratio_ER_cyt*rate_L*(Ca_ER - Ca)
    J_pump    = rate_SERCA*Ca**2/(Km_SERCA**2 + Ca**2)
    m_inf = IP3/(IP3 + Kd_IP3_1),  n_inf = Ca/(Ca + Kd_act)
    Ca_ER = (Ca_tot - Ca)/ratio_ER_cyt
    alpha_h = k_IP3R*Kd_inh*(IP3 + Kd_IP3_1)/(IP3 + Kd_IP3_2),  beta_h = k_IP3R*Ca

Input: a spike of weight w (dimensionless, >= 0) raises ``IP3`` by
``delta_IP3*w`` (receptor ``"ip3"``; ``delta_IP3`` is a per-astrocyte variable
that the projection reads, ``NeuronModel.weight_scale``). A spike sent at t
with delay d changes the astrocyte from t + d on, in NEST as here.

Output: the slow inward current's factor ``SIC = SIC_scale*ln(y)`` for
``y = (Ca_astro - SIC_th)/nM > 1``, else 0 (dimensionless), which a neuron
with an ``I_SIC`` input (``neurons.AdEx(sic=True)``) reads through a summed
projection (``sic_synapse``): ``I_SIC = sum of w*SIC`` over its astrocytes,
w in amperes (NEST's ``sic_connection`` weight 1 is 1 pA). The neuron
integrating a step reads the SIC of that step's start: NEST's
``sic_connection`` with a delay of one time step, the least it takes. NEST's
default delay, 1 ms, reads the SIC of 1 ms before; ln(y) rises steeply just
above threshold, so the two then differ by up to a few tenths of a pA there
(``benchmarks/astro_nest.py``).

Concentrations are in SI (mol/m**3 = mM): write them with Brian2's units
(``0.2*umolar``). Defaults are NEST 3.10's (``delta_IP3`` 0.0002 uM; NEST's
astrocyte examples use 0.2 uM). ``SIC_scale``, ``SIC_th`` and ``delta_IP3``
are per-astrocyte variables rather than constants, so that projections read
them. Integrated with the classical Runge-Kutta method (``method=`` to
change it). NEST integrates with GSL's adaptive RKF45 (absolute tolerance
1e-3 uM, steps of at most one time step). At dt = 0.1 ms both are exact to
rounding on this slow system: driven by the same spikes, they agree to
1e-13 uM over 60 s, where Euler's method leaves 1e-6 to 1e-4 uM
(``benchmarks/astro_nest.py``, ``docs/models/astrocytes.md``).
"""
from __future__ import annotations

from brian2 import mmolar, ms, second, umolar

from ..errors import ModelError
from ..neurons import GLIA_EVENTS, GLIA_TEMPLATES, NeuronModel
from ..synapses import SynapseModel

#: NEST 3.10's astrocyte_lr_1994 defaults (Nadkarni and Jung 2003), in SI
LI_RINZEL_DEFAULTS = dict(
    Ca_tot=2.0 * umolar, IP3_0=0.16 * umolar, Kd_IP3_1=0.13 * umolar, Kd_IP3_2=0.9434 * umolar,
    Kd_act=0.08234 * umolar, Kd_inh=1.049 * umolar, Km_SERCA=0.1 * umolar, SIC_scale=1.0,
    SIC_th=0.19669 * umolar, delta_IP3=0.0002 * umolar, k_IP3R=0.0002 / (umolar * ms),
    rate_IP3R=0.006 / ms, rate_L=0.00011 / ms, rate_SERCA=0.0009 * umolar / ms, ratio_ER_cyt=0.185,
    tau_IP3=7142.0 * ms)


#: the integration methods that LiRinzel's nonlinear equations take (Brian2's names; NEST solves with its own)
LI_RINZEL_METHODS = ("rk4", "rk2", "euler")

#: NEST's initial state (IP3 at the default IP3_0, whatever IP3_0 is given, as in NEST)
_INIT = dict(IP3=0.16 * umolar, Ca_astro=0.073 * umolar, h_IP3R=0.793)


def LiRinzel(method: str = "rk4", **params) -> NeuronModel:
    """NEST 3.10's ``astrocyte_lr_1994`` (see the module text): parameters by
    NEST's names, in SI or with Brian2's units; initial ``IP3`` (0.16 uM,
    NEST's whatever ``IP3_0`` is), ``Ca_astro`` (0.073 uM) and ``h_IP3R``
    (0.793), or the population's ``init``; ``method`` one of
    ``LI_RINZEL_METHODS``. Receptor ``"ip3"``: a spike of weight w adds
    ``delta_IP3*w`` to ``IP3``. Parameters and initial values are checked at
    build (``neurons.POSITIVE``, ``neurons.NONNEGATIVE``)."""
    if method not in LI_RINZEL_METHODS:
        raise ModelError(f"LiRinzel: method must be one of {list(LI_RINZEL_METHODS)}, got {method!r}")
    unknown = sorted(set(params) - set(LI_RINZEL_DEFAULTS))
    if unknown:
        raise ModelError(f"LiRinzel: unknown parameter(s) {unknown}; its parameters are "
                         f"{sorted(LI_RINZEL_DEFAULTS)}")
    values = {**LI_RINZEL_DEFAULTS, **params}
    equations, receptors, weight_scale = GLIA_TEMPLATES["LiRinzel"]
    return NeuronModel(name="LiRinzel", equations=equations, method=method, params=values,
                       receptors=receptors, weight_scale=weight_scale, init=dict(_INIT))


def sic_synapse() -> SynapseModel:
    """Astrocytes onto neurons with an ``I_SIC`` input: ``I_SIC = sum of
    w*SIC`` over the projection's synapses, recomputed every step; w in
    amperes (NEST's ``sic_connection`` weight 1 is 1 pA). Connect with
    ``receptor="sic"``."""
    return SynapseModel("w : weight\nI_SIC_post = w*SIC_pre : amp (summed)", name="sic")


#: Stimberg et al. (2019)'s G-ChI parameters (their Brian2 examples, figure 2), in SI
GCHI_DEFAULTS = dict(
    O_P=0.9 * umolar / second, K_P=0.1 * umolar, C_T=2 * umolar, rho_A=0.18, Omega_C=6 / second,
    Omega_L=0.1 / second, d_1=0.13 * umolar, d_2=1.05 * umolar, O_2=0.2 / umolar / second, d_3=0.9434 * umolar,
    d_5=0.08 * umolar, O_beta=5 * umolar / second, O_N=0.3 / umolar / second, Omega_N=0.5 / second,
    K_KC=0.5 * umolar, zeta=10, O_delta=0.2 * umolar / second, kappa_delta=1.5 * umolar, K_delta=0.3 * umolar,
    Omega_5P=0.1 / second, K_D=0.5 * umolar, K_3K=1 * umolar, O_3K=4.5 * umolar / second,
    F_ex=0.09 * umolar / second, I_Theta=0.3 * umolar, omega_I=0.05 * umolar, I_bias=0 * umolar)


#: gliotransmitter release of the G-ChI astrocyte (Stimberg et al. 2019, figures 3 and 4), in SI
GLIO_DEFAULTS = dict(C_Theta=0.5 * umolar, Omega_A=0.6 / second, U_A=0.6, G_T=200 * mmolar, rho_e=6.5e-4,
                     Omega_e=60 / second)


def GChI(method: str = "euler", *, gliotransmission: bool = False, **params) -> NeuronModel:
    """Stimberg et al. (2019)'s G-ChI astrocyte (De Pitta et al. 2009), deterministic:
    the fraction of activated receptors ``Gamma_A``, IP3 ``I``, calcium ``C`` and
    the IP3R de-inactivation ``h``, driven by the neurotransmitter ``Y_S`` that
    its synapses sum into it (``synapses_to_astrocyte``). Parameters by the
    paper's names, defaults those of its figure 2 (``GCHI_DEFAULTS``); initial
    ``h`` 0.9, the rest 0, as there. Integrated by Euler's method, as the
    reference examples' Milstein method integrates a noiseless astrocyte.
    Parameters and initial values are checked at build (``neurons.POSITIVE``,
    ``neurons.NONNEGATIVE``).

    ``gliotransmission``: the astrocyte of figures 3 and 4 ("GChI_glio"), which
    releases gliotransmitter when calcium crosses ``C_Theta``: the release
    (its reset) adds ``rho_e*G_T*U_A*x_A`` to the extracellular gliotransmitter
    ``G_A`` and uses ``U_A*x_A`` of the resources ``x_A`` (initially 1), which
    recover at rate ``Omega_A``; ``G_A`` is cleared at rate ``Omega_e``. It is
    refractory while ``C > C_Theta`` (``refractory="C > C_Theta"``): one
    release per crossing. Synapses read ``G_A`` through
    ``astrocyte_to_synapses`` (``gliotransmitter_synapse``). Defaults of the
    release: ``GLIO_DEFAULTS``; figures 3 and 4 integrate with ``method="rk4"``."""
    defaults = {**GCHI_DEFAULTS, **(GLIO_DEFAULTS if gliotransmission else {})}
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ModelError(f"GChI: unknown parameter(s) {unknown}; its parameters are {sorted(defaults)}"
                         + ("" if gliotransmission or set(unknown) - set(GLIO_DEFAULTS) else
                            " (those of the release need gliotransmission=True)"))
    if not gliotransmission:
        equations, receptors, weight_scale = GLIA_TEMPLATES["GChI"]
        return NeuronModel(name="GChI", equations=equations, method=method, params={**defaults, **params},
                           receptors=receptors, weight_scale=weight_scale, init={"h": 0.9})
    equations, receptors, weight_scale = GLIA_TEMPLATES["GChI_glio"]
    threshold, refractory, reset = GLIA_EVENTS["GChI_glio"]
    return NeuronModel(name="GChI_glio", equations=equations, threshold=threshold, reset=reset,
                       refractory=refractory, method=method, params={**defaults, **params}, receptors=receptors,
                       weight_scale=weight_scale, init={"h": 0.9, "x_A": 1.0})


def glutamate_synapse(rho_c=0.001, Y_T=500 * mmolar, Omega_c=40 / second) -> SynapseModel:
    """A synapse that releases neurotransmitter into its own cleft: ``Y_S`` rises
    by ``rho_c*Y_T`` at each presynaptic spike and is cleared at rate
    ``Omega_c`` (Stimberg et al. 2019); its weight is delivered as usual.
    Astrocytes read ``Y_S`` through ``synapses_to_astrocyte``."""
    return SynapseModel("w : weight\ndY_S/dt = -Omega_c*Y_S : mmolar (clock-driven)\nrho_c : 1 (constant)\n"
                        "Y_T : mmolar (constant)\nOmega_c : hertz (constant)", on_pre="Y_S += rho_c*Y_T",
                        params=dict(rho_c=rho_c, Y_T=Y_T, Omega_c=Omega_c), name="glutamate")


def synapses_to_astrocyte() -> SynapseModel:
    """From a projection's synapses to astrocytes (``net.connect(synapses,
    astrocytes, ...)``): each astrocyte's ``Y_S`` is the sum of the ``Y_S`` of
    the synapses it contacts, every step."""
    return SynapseModel("Y_S_post = Y_S_pre : mmolar (summed)", name="synapses_to_astrocyte")


#: the gliotransmitter-modulated synapse of Stimberg et al. (2019), figures 3 and 4, in SI
GLIO_SYNAPSE_DEFAULTS = dict(rho_c=0.005, Y_T=500 * mmolar, Omega_c=40 / second, U_0__star=0.6,
                             Omega_f=3.33 / second, Omega_d=2.0 / second, O_G=1.5 / umolar / second,
                             Omega_G=0.5 / (60 * second), alpha=0.0)


def gliotransmitter_synapse(event_driven: bool = False, **params) -> SynapseModel:
    """A glutamate synapse with short-term plasticity whose release the
    astrocytes' gliotransmitter modulates (Stimberg et al. 2019, figures 3
    and 4; De Pitta et al. 2011). Each presynaptic spike uses ``u_S`` of the
    available resources ``x_S`` (facilitation towards ``U_0``, which decays at
    ``Omega_f``; ``x_S`` recovers at ``Omega_d``), releases ``r_S = u_S*x_S``
    and raises the cleft's neurotransmitter ``Y_S`` by ``rho_c*Y_T*r_S``.
    Gliotransmitter ``G_A`` (summed from astrocytes, ``astrocyte_to_synapses``)
    activates presynaptic receptors ``Gamma_S``, which move the resting release
    probability ``U_0 = (1 - Gamma_S)*U_0__star + alpha*Gamma_S`` (alpha 0:
    depressing, 1: facilitating gliotransmission). Astrocytes read ``Y_S``
    through ``synapses_to_astrocyte``. ``u_S`` and ``x_S`` are clock-driven
    (figure 3 records them), or ``event_driven`` (figure 4: updated at spikes
    only). ``x_S`` starts at 0 unless the projection's ``init`` says 1.
    Parameters by the paper's names (``GLIO_SYNAPSE_DEFAULTS``)."""
    unknown = sorted(set(params) - set(GLIO_SYNAPSE_DEFAULTS))
    if unknown:
        raise ModelError(f"gliotransmitter_synapse: unknown parameter(s) {unknown}; its parameters are "
                         f"{sorted(GLIO_SYNAPSE_DEFAULTS)}")
    kind = "event-driven" if event_driven else "clock-driven"
    equations = f"""w : weight
dY_S/dt = -Omega_c*Y_S : mmolar (clock-driven)
dGamma_S/dt = O_G*G_A*(1 - Gamma_S) - Omega_G*Gamma_S : 1 (clock-driven)
du_S/dt = -Omega_f*u_S : 1 ({kind})
dx_S/dt = Omega_d*(1 - x_S) : 1 ({kind})
r_S : 1
G_A : mmolar
rho_c : 1 (constant)
Y_T : mmolar (constant)
Omega_c : hertz (constant)
U_0__star : 1 (constant)
Omega_f : hertz (constant)
Omega_d : hertz (constant)
O_G : 1/mmolar/second (constant)
Omega_G : hertz (constant)
alpha : 1 (constant)"""
    on_pre = """U_0 = (1 - Gamma_S)*U_0__star + alpha*Gamma_S
u_S += U_0*(1 - u_S)
r_S = u_S*x_S
x_S -= r_S
Y_S += rho_c*Y_T*r_S"""
    return SynapseModel(equations, on_pre=on_pre, params={**GLIO_SYNAPSE_DEFAULTS, **params},
                        name="gliotransmitter")


def astrocyte_to_synapses() -> SynapseModel:
    """From astrocytes to the synapses they contact (``net.connect(astrocytes,
    synapses, ...)``): each synapse's ``G_A`` is the sum of the ``G_A`` of its
    astrocytes, every step (``GChI(gliotransmission=True)`` onto
    ``gliotransmitter_synapse``)."""
    return SynapseModel("G_A_post = G_A_pre : mmolar (summed)", name="astrocyte_to_synapses")
