"""Neuron models as Brian2-style equations, and the ready-made templates.

A model declares every parameter in its equations as ``name : unit (constant)``;
values come from the template's defaults or the population's ``params``. A
scalar value becomes one shared constant, an array gives one value per neuron.
``receptors`` maps a receptor name ("exc", "inh", ...) to the state variable a
projection increments by its weight when a spike arrives.

Templates (defaults in SI, PyNN's names and defaults where PyNN has the model):

=================  ==========================================================
``IF_curr_exp``    LIF, exponentially decaying current synapses (PyNN
                   IF_curr_exp). Inhibitory weights are negative currents,
                   as in PyNN's current-based models.
                   ``integration="exact"`` (default; NEST's exact
                   solution, fires at v > v_thresh) or ``"spinnaker"``
                   (sPyNNaker's step: current held over the step,
                   exponential Euler, fires at v >= v_thresh).
``IF_cond_exp``    LIF, exponentially decaying conductances (PyNN
                   IF_cond_exp); ``adaptive=True`` adds a threshold that
                   jumps by ``delta_vt`` at each spike and relaxes to
                   ``v_thresh`` with ``tau_vt``; both stop while its
                   switch ``adapting`` is 0 (``Simulation.freeze``).
``Izhikevich``     Izhikevich (2003) with a, b, c, d; current synapses.
``AdEx``           adaptive exponential integrate-and-fire (Brette and
                   Gerstner 2005); current synapses. The adaptation
                   current is ``w_adapt`` (``w`` is every synapse's weight).
``RateUnit``       tau dr/dt = -r + gain * max(I, 0); no spikes; driven by
                   currents or by rate projections into ``I``.
``Leaky``          dimensionless leaky integrate-and-fire, dv/dt = -v/tau,
                   v > v_th fires, reset by subtracting v_th; a weight adds
                   to v directly (either sign): snntorch's ``Leaky``, the
                   neuron that ``spikemem.learn`` trains.
=================  ==========================================================

Rate units that read signals and their Poisson-spiking counterpart,
``ReLURate`` and ``PoissonUnit``, are in ``spikemem.rates``; the astrocyte
``LiRinzel`` (no threshold; ``GLIA_TEMPLATES``) is in ``spikemem.glia``.

``weight_scale`` maps a receptor's variable to a neuron variable that
multiplies each arriving weight (``IP3_post += delta_IP3_post*w``): the
weights are then in the variable's unit over the scale's.

Checked at build for the templates (``template_of``): the parameters in
``POSITIVE`` must be > 0, those in ``NONNEGATIVE`` (parameters or initial
values) >= 0 and those in ``AT_MOST`` at most their bound, and weights take
PyNN's sign (``SIGNS``): >= 0 on excitatory receptors and on conductances,
<= 0 on the inhibitory current of the current-based templates. A model of
one's own declares none of these.

Refractoriness: ``refractory_counting`` says how a model's refractory period
becomes whole steps (``held_steps``): the steps after its spike step in which
a neuron cannot fire and its ``(unless refractory)`` variables are held (the
templates' synaptic currents keep decaying and receiving input). ``"pynn"``,
the counting of ``IF_curr_exp`` and ``IF_cond_exp`` (``tau_refrac``), holds
ceil(refractory/dt) steps, as PyNN, NEST and sPyNNaker do; ``"brian2"``, that
of every other model, is Brian2's test ``timestep(t - lastspike) <
timestep(refractory)``: floor(refractory/dt) - 1 steps, so 1 ms at dt = 1 ms
holds none. The PyNN templates take ``refractory_counting="brian2"`` for
Brian2's meaning.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from brian2 import mV, ms, nA, nF, nS, pF, Hz

from .errors import ModelError
from .units import plain

#: how a refractory period counts in steps (``held_steps``)
REFRACTORY_COUNTINGS = ("brian2", "pynn")

#: a period within this fraction of a step of a whole number of steps is that
#: number (Brian2's ``timestep`` margin): 2 ms / 0.1 ms = 20.000000000000004 is 20
STEP_TOLERANCE = 1e-3


def held_steps(refractory: float, counting: str, dt: float) -> int:
    """The steps a neuron is held after the step of its spike, for a refractory
    period of ``refractory`` seconds under ``counting`` at time step ``dt``:
    ``"brian2"`` floor(refractory/dt) - 1 (Brian2 integrates again once
    ``timestep(t - lastspike) >= timestep(refractory)``), at least 0;
    ``"pynn"`` ceil(refractory/dt) (sPyNNaker's ``T_refract``, NEST's
    refractory counts). Every backend and target derives its refractoriness
    from this number (``BuiltPopulation.refractory_steps``)."""
    steps = refractory / dt
    if counting == "brian2":
        return max(math.floor(steps + STEP_TOLERANCE) - 1, 0)
    if counting == "pynn":
        return max(math.ceil(steps - STEP_TOLERANCE), 0)
    raise ModelError(f"refractory_counting {counting!r} is not one of {list(REFRACTORY_COUNTINGS)}")


@dataclass(frozen=True)
class NeuronModel:
    equations: str
    threshold: str | None = None
    reset: str | None = None
    refractory: object = 0.0          # seconds (number or quantity) or a condition string
    method: str = "exact"
    params: dict = field(default_factory=dict)
    receptors: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)   # default initial values of state variables
    name: str = "custom"
    # pairs of parameters that must differ under exact integration: its solution
    # divides by their difference (e.g. tau_m - tau_syn_E), equal values give inf/NaN
    distinct: tuple = ()
    # how ``refractory`` counts in steps, one of REFRACTORY_COUNTINGS (see held_steps):
    # "pynn" for PyNN's cell types, "brian2" for equations written for Brian2
    refractory_counting: str = "brian2"
    # the shared parameter that multiplies every change of an adaptive threshold
    # (1 adapts, 0 holds it; ``Simulation.freeze``), None for a model without one
    switch: str | None = None
    # receptor variable -> the neuron variable a weight is multiplied by on delivery
    # (``<target>_post += <scale>_post*w``, w then dimensionless; NEST's astrocyte adds
    # delta_IP3*w to IP3); a variable without one receives w itself
    weight_scale: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.refractory_counting not in REFRACTORY_COUNTINGS:
            raise ModelError(f"neuron model '{self.name}': refractory_counting {self.refractory_counting!r} "
                             f"is not one of {list(REFRACTORY_COUNTINGS)}")

    def same_dynamics(self, other: "NeuronModel") -> bool:
        """The same equations, threshold, reset, integration method and
        receptors: ``other`` with, at most, other parameters, initial values
        or refractory period and its counting (how hardware targets
        recognise a template)."""
        return (self.equations == other.equations and self.threshold == other.threshold
                and self.reset == other.reset and self.method == other.method
                and dict(self.receptors) == dict(other.receptors)
                and dict(self.weight_scale) == dict(other.weight_scale))

    def spec(self) -> dict:
        from .distributions import to_spec
        return {"equations": self.equations, "threshold": self.threshold, "reset": self.reset,
                "refractory": to_spec(plain(self.refractory)), "method": self.method,
                "params": {k: to_spec(plain(v)) for k, v in self.params.items()},
                "receptors": dict(self.receptors),
                "init": {k: to_spec(plain(v)) for k, v in self.init.items()}, "name": self.name,
                "distinct": [list(p) for p in self.distinct],
                "refractory_counting": self.refractory_counting,
                # only where set: the specs (and hashes) of models without a switch stay as they were
                **({"switch": self.switch} if self.switch else {}),
                **({"weight_scale": dict(self.weight_scale)} if self.weight_scale else {})}

    def delivery(self, target: str) -> str:
        """The statement a projection's spike runs on ``target`` (see ``weight_scale``)."""
        scale = self.weight_scale.get(target)
        return f"{target}_post += {scale}_post*w" if scale else f"{target}_post += w"

    @classmethod
    def from_spec(cls, spec: dict) -> "NeuronModel":
        from .distributions import from_spec
        spec = dict(spec)
        spec["refractory"] = from_spec(spec["refractory"])
        spec["params"] = {k: from_spec(v) for k, v in spec["params"].items()}
        spec["init"] = {k: from_spec(v) for k, v in spec["init"].items()}
        spec["distinct"] = tuple(tuple(p) for p in spec.get("distinct", ()))
        # specs written before the field existed meant Brian2's counting everywhere
        spec.setdefault("refractory_counting", "brian2")
        return cls(**spec)


def _pynn_names(params):
    # Brian2 reserves ``cm`` (the unit centimetre); PyNN's name is accepted and stored as c_m.
    if "cm" in params:
        params["c_m"] = params.pop("cm")


#: how IF_curr_exp integrates: "exact" (the linear system solved exactly, as NEST does) or
#: "spinnaker" (sPyNNaker's closed form, see IF_curr_exp)
INTEGRATIONS = ("exact", "spinnaker")

_CURRENT = {"exact": "(isyn_exc + isyn_inh + i_offset)/c_m",
            # sPyNNaker adds a weight w to its current as w*(tau_syn/dt)*(1 - exp(-dt/tau_syn))
            "spinnaker": "(isyn_exc*(tau_syn_E/dt)*(1 - exp(-dt/tau_syn_E))"
                         " + isyn_inh*(tau_syn_I/dt)*(1 - exp(-dt/tau_syn_I)) + i_offset)/c_m"}


def IF_curr_exp(*, refractory_counting: str = "pynn", integration: str = "exact", **params) -> NeuronModel:
    """PyNN's IF_curr_exp; ``tau_refrac`` holds v for ceil(tau_refrac/dt)
    steps after a spike, as in PyNN (``refractory_counting="brian2"``:
    Brian2's reading, see ``held_steps``).

    ``integration="exact"`` solves the linear equations exactly over each step
    (NEST's iaf_psc_exp). ``"spinnaker"`` computes a step as sPyNNaker's
    neuron core does: the synaptic currents are held at their value at the
    start of the step while v follows its closed form, then they decay; a
    weight w raises the held current by w*(tau_syn/dt)*(1 - exp(-dt/tau_syn))
    (``isyn_exc`` holds the summed weights, the membrane sees them times that
    factor); a neuron fires at v >= v_thresh. This is exponential Euler on
    these equations; networks tuned on the board (the CA3 memory) need it
    where a weight sits near the firing threshold."""
    if integration not in INTEGRATIONS:
        raise ModelError(f"IF_curr_exp: integration {integration!r} is not one of {list(INTEGRATIONS)}")
    defaults = dict(c_m=1 * nF, tau_m=20 * ms, tau_syn_E=5 * ms, tau_syn_I=5 * ms,
                    v_rest=-65 * mV, v_reset=-65 * mV, v_thresh=-50 * mV, i_offset=0 * nA)
    refractory = params.pop("tau_refrac", 0.1 * ms)
    _pynn_names(params)
    exact = integration == "exact"
    return NeuronModel(
        name="IF_curr_exp",
        equations=f"""
        dv/dt = (v_rest - v)/tau_m + {_CURRENT[integration]} : volt (unless refractory)
        disyn_exc/dt = -isyn_exc/tau_syn_E : amp
        disyn_inh/dt = -isyn_inh/tau_syn_I : amp
        c_m : farad (constant)
        tau_m : second (constant)
        tau_syn_E : second (constant)
        tau_syn_I : second (constant)
        v_rest : volt (constant)
        v_reset : volt (constant)
        v_thresh : volt (constant)
        i_offset : amp
        """,
        threshold="v > v_thresh" if exact else "v >= v_thresh", reset="v = v_reset", refractory=refractory,
        method="exact" if exact else "exponential_euler",
        distinct=(("tau_m", "tau_syn_E"), ("tau_m", "tau_syn_I")) if exact else (),
        refractory_counting=refractory_counting,
        params={**defaults, **params}, receptors={"exc": "isyn_exc", "inh": "isyn_inh"},
        init={"v": defaults["v_rest"] if "v_rest" not in params else params["v_rest"]})


def integration_of(model: NeuronModel) -> str | None:
    """How an IF_curr_exp integrates (one of ``INTEGRATIONS``); None for any other model."""
    return next((i for i in INTEGRATIONS if model.same_dynamics(IF_curr_exp(integration=i))), None)


def is_template(model: NeuronModel, name: str) -> bool:
    """Whether ``model`` is the template ``name`` with, at most, other
    parameters, initial values, refractory period or (IF_curr_exp) integration:
    how targets and exporters recognise a template."""
    if name not in TEMPLATES or model.name != name:
        return False
    if name == "IF_curr_exp":
        return integration_of(model) is not None
    return model.same_dynamics(TEMPLATES[name]())


def IF_cond_exp(adaptive: bool = False, *, refractory_counting: str = "pynn", **params) -> NeuronModel:
    """PyNN's IF_cond_exp (with ``adaptive``, a moving threshold);
    ``tau_refrac`` and ``refractory_counting`` as in ``IF_curr_exp``."""
    defaults = dict(c_m=1 * nF, tau_m=20 * ms, tau_syn_E=5 * ms, tau_syn_I=5 * ms,
                    e_rev_E=0 * mV, e_rev_I=-70 * mV, v_rest=-65 * mV, v_reset=-65 * mV,
                    v_thresh=-50 * mV, i_offset=0 * nA)
    refractory = params.pop("tau_refrac", 0.1 * ms)
    _pynn_names(params)
    eqs = """
        dv/dt = (v_rest - v)/tau_m + (gsyn_exc*(e_rev_E - v) + gsyn_inh*(e_rev_I - v) + i_offset)/c_m : volt (unless refractory)
        dgsyn_exc/dt = -gsyn_exc/tau_syn_E : siemens
        dgsyn_inh/dt = -gsyn_inh/tau_syn_I : siemens
        c_m : farad (constant)
        tau_m : second (constant)
        tau_syn_E : second (constant)
        tau_syn_I : second (constant)
        e_rev_E : volt (constant)
        e_rev_I : volt (constant)
        v_rest : volt (constant)
        v_reset : volt (constant)
        v_thresh : volt (constant)
        i_offset : amp
        """
    threshold, reset, init = "v > v_thresh", "v = v_reset", {}
    if adaptive:
        # adapting: 1 moves the threshold, 0 holds it (Simulation.freeze)
        defaults.update(tau_vt=50 * ms, delta_vt=1 * mV, adapting=1.0)
        eqs += """
        dvt/dt = adapting*(v_thresh - vt)/tau_vt : volt
        tau_vt : second (constant)
        delta_vt : volt (constant)
        adapting : 1 (constant)
        """
        threshold, reset = "v > vt", "v = v_reset\nvt += adapting*delta_vt"
        init["vt"] = params.get("v_thresh", defaults["v_thresh"])
    init["v"] = params.get("v_rest", defaults["v_rest"])
    return NeuronModel(name="IF_cond_exp_adaptive" if adaptive else "IF_cond_exp",
                       equations=eqs, threshold=threshold, reset=reset, refractory=refractory,
                       method="euler", params={**defaults, **params},
                       receptors={"exc": "gsyn_exc", "inh": "gsyn_inh"}, init=init,
                       refractory_counting=refractory_counting, switch="adapting" if adaptive else None)


def Izhikevich(**params) -> NeuronModel:
    """Izhikevich (2003): v in volts, u in volts/second; a, b in 1/ms-style SI rates."""
    defaults = dict(a=0.02 / ms, b=0.2 / ms, c=-65 * mV, d=8 * mV / ms,
                    tau_syn_E=5 * ms, tau_syn_I=5 * ms, i_offset=0 * mV / ms)
    return NeuronModel(
        name="Izhikevich",
        equations="""
        dv/dt = (0.04/ms/mV)*v**2 + (5/ms)*v + 140*mV/ms - u + isyn_exc + isyn_inh + i_offset : volt
        du/dt = a*(b*v - u) : volt/second
        disyn_exc/dt = -isyn_exc/tau_syn_E : volt/second
        disyn_inh/dt = -isyn_inh/tau_syn_I : volt/second
        a : 1/second (constant)
        b : 1/second (constant)
        c : volt (constant)
        d : volt/second (constant)
        tau_syn_E : second (constant)
        tau_syn_I : second (constant)
        i_offset : volt/second
        """,
        threshold="v >= 30*mV", reset="v = c\nu += d", method="euler",
        params={**defaults, **params}, receptors={"exc": "isyn_exc", "inh": "isyn_inh"},
        init={"v": -65 * mV, "u": -13 * mV / ms})


def AdEx(sic: bool = False, **params) -> NeuronModel:
    """Adaptive exponential integrate-and-fire with current synapses; ``sic``
    adds ``I_SIC`` (amperes) to the membrane current, the slow inward current
    astrocytes send through ``glia.sic_synapse`` (NEST's
    aeif_cond_alpha_astro has this input; template ``AdEx_SIC``)."""
    defaults = dict(C=281 * pF, g_L=30 * nS, E_L=-70.6 * mV, V_T=-50.4 * mV, delta_T=2 * mV,
                    tau_w=144 * ms, a=4 * nS, b=0.0805 * nA, V_r=-70.6 * mV, V_peak=-40 * mV,
                    tau_syn_E=5 * ms, tau_syn_I=5 * ms, i_offset=0 * nA)
    refractory = params.pop("tau_refrac", 0 * ms)
    # with sic, one more current, summed by the projections from astrocytes
    sic_current, sic_line = (" + I_SIC", "        I_SIC : amp\n") if sic else ("", "")
    receptors = {"exc": "isyn_exc", "inh": "isyn_inh", **({"sic": "I_SIC"} if sic else {})}
    return NeuronModel(
        name="AdEx_SIC" if sic else "AdEx",
        equations=f"""
        dv/dt = (g_L*(E_L - v) + g_L*delta_T*exp((v - V_T)/delta_T) - w_adapt + isyn_exc + isyn_inh + i_offset{sic_current})/C : volt (unless refractory)
        dw_adapt/dt = (a*(v - E_L) - w_adapt)/tau_w : amp
        disyn_exc/dt = -isyn_exc/tau_syn_E : amp
        disyn_inh/dt = -isyn_inh/tau_syn_I : amp
        C : farad (constant)
        g_L : siemens (constant)
        E_L : volt (constant)
        V_T : volt (constant)
        delta_T : volt (constant)
        tau_w : second (constant)
        a : siemens (constant)
        b : amp (constant)
        V_r : volt (constant)
        V_peak : volt (constant)
        tau_syn_E : second (constant)
        tau_syn_I : second (constant)
        i_offset : amp
{sic_line}        """,
        threshold="v > V_peak", reset="v = V_r\nw_adapt += b", refractory=refractory, method="euler",
        params={**defaults, **params}, receptors=receptors,
        init={"v": params.get("E_L", defaults["E_L"])})


def RateUnit(**params) -> NeuronModel:
    defaults = dict(tau=10 * ms, gain=1 * Hz, i_offset=0.0)
    return NeuronModel(
        name="RateUnit",
        equations="""
        dr/dt = (-r + gain*clip(I + i_offset, 0, inf)*second)/tau : 1
        I : 1
        tau : second (constant)
        gain : hertz (constant)
        i_offset : 1
        """,
        method="euler", params={**defaults, **params}, receptors={"input": "I"})


def Leaky(*, tau=10 * ms, v_th=1.0) -> NeuronModel:
    """Dimensionless leaky integrate-and-fire: ``dv/dt = -v/tau``, a spike when
    ``v > v_th``, then ``v -= v_th`` (reset by subtraction). A spike arriving
    on any receptor adds its weight to v, whatever its sign. A step is
    delivery (``v += w`` for the spikes of the step before), exact decay
    (``v *= beta``, beta = exp(-dt/tau)), threshold, reset: snntorch's
    ``Leaky(beta)`` with the input added before the decay. ``tau`` and
    ``v_th`` may be one value per neuron."""
    return NeuronModel(
        name="Leaky",
        equations="""
        dv/dt = -v/tau : 1
        tau : second (constant)
        v_th : 1 (constant)
        """,
        threshold="v > v_th", reset="v -= v_th", method="exact",
        params={"tau": tau, "v_th": v_th}, receptors={"exc": "v", "inh": "v", "input": "v"},
        init={"v": 0.0})


TEMPLATES = {f.__name__: f for f in (IF_curr_exp, IF_cond_exp, Izhikevich, AdEx, RateUnit, Leaky)}

#: spikemem.rates' templates: (the lines their equations start with, threshold,
#: reset); what follows, their drive and extra equations, is the user's, so a
#: model is the template whatever it adds (``template_of``)
RATE_TEMPLATES = {
    "ReLURate": ("""
ds/dt = (-s + clip(I + drive, 0, inf))/tau : 1
I : 1
tau : second (constant)
""", None, None),
    "PoissonUnit": ("""
ds/dt = -s/tau : 1
rate = gain*clip(I + drive, 0, inf) : hertz
I : 1
tau : second (constant)
gain : hertz (constant)
""", "rand() < rate*dt", "s += 1")}

#: spikemem.glia's templates: (equations, receptors, weight_scale); no threshold.
#: SIC_scale, SIC_th and delta_IP3 are variables, not constants, so that
#: projections read them (the summed SIC, the weight scale of the ip3 receptor)
GLIA_TEMPLATES = {"LiRinzel": ("""
dIP3/dt = (IP3_0 - IP3)/tau_IP3 : mmolar
dCa_astro/dt = J_channel - J_pump + J_leak : mmolar
dh_IP3R/dt = alpha_h*(1 - h_IP3R) - beta_h*h_IP3R : 1
Ca = clip(Ca_astro, 0*mmolar, Ca_tot) : mmolar
Ca_ER = (Ca_tot - Ca)/ratio_ER_cyt : mmolar
m_inf = IP3/(IP3 + Kd_IP3_1) : 1
n_inf = Ca/(Ca + Kd_act) : 1
J_channel = ratio_ER_cyt*rate_IP3R*m_inf**3*n_inf**3*h_IP3R**3*(Ca_ER - Ca) : mmolar/second
J_leak = ratio_ER_cyt*rate_L*(Ca_ER - Ca) : mmolar/second
J_pump = rate_SERCA*Ca**2/(Km_SERCA**2 + Ca**2) : mmolar/second
alpha_h = k_IP3R*Kd_inh*(IP3 + Kd_IP3_1)/(IP3 + Kd_IP3_2) : hertz
beta_h = k_IP3R*Ca : hertz
SIC = SIC_scale*log(clip((Ca_astro - SIC_th)/nmolar, 1, inf)) : 1
Ca_tot : mmolar (constant)
IP3_0 : mmolar (constant)
Kd_IP3_1 : mmolar (constant)
Kd_IP3_2 : mmolar (constant)
Kd_act : mmolar (constant)
Kd_inh : mmolar (constant)
Km_SERCA : mmolar (constant)
SIC_scale : 1
SIC_th : mmolar
delta_IP3 : mmolar
k_IP3R : 1/mmolar/second (constant)
rate_IP3R : hertz (constant)
rate_L : hertz (constant)
rate_SERCA : mmolar/second (constant)
ratio_ER_cyt : 1 (constant)
tau_IP3 : second (constant)
""", {"ip3": "IP3"}, {"IP3": "delta_IP3"}),
    # Stimberg et al. (2019)'s G-ChI astrocyte, deterministic; Y_S is the neurotransmitter
    # its synapses sum into it (a projection from their synapses)
    "GChI": ("""
dGamma_A/dt = O_N*Y_S*(1 - Gamma_A) - Omega_N*(1 + zeta*C/(C + K_KC))*Gamma_A : 1
dI/dt = J_beta + J_delta - J_3K - J_5P + J_ex : mmolar
J_beta = O_beta*Gamma_A : mmolar/second
J_delta = O_delta/(1 + I/kappa_delta)*C**2/(C**2 + K_delta**2) : mmolar/second
J_3K = O_3K*C**4/(C**4 + K_D**4)*I/(I + K_3K) : mmolar/second
J_5P = Omega_5P*I : mmolar/second
delta_I_bias = I - I_bias : mmolar
J_ex = -F_ex/2*(1 + tanh((abs(delta_I_bias) - I_Theta)/omega_I))*sign(delta_I_bias) : mmolar/second
dC/dt = J_r + J_l - J_p : mmolar
dh/dt = (h_inf - h_clipped)/tau_h : 1
h_clipped = clip(h, 0, 1) : 1
J_r = Omega_C*m_inf**3*h_clipped**3*(C_T - (1 + rho_A)*C) : mmolar/second
J_l = Omega_L*(C_T - (1 + rho_A)*C) : mmolar/second
J_p = O_P*C**2/(C**2 + K_P**2) : mmolar/second
m_inf = I/(I + d_1)*C/(C + d_5) : 1
h_inf = Q_2/(Q_2 + C) : 1
tau_h = 1/(O_2*(Q_2 + C)) : second
Q_2 = d_2*(I + d_1)/(I + d_3) : mmolar
Y_S : mmolar
I_bias : mmolar (constant)
O_P : mmolar/second (constant)
K_P : mmolar (constant)
C_T : mmolar (constant)
rho_A : 1 (constant)
Omega_C : hertz (constant)
Omega_L : hertz (constant)
d_1 : mmolar (constant)
d_2 : mmolar (constant)
O_2 : 1/mmolar/second (constant)
d_3 : mmolar (constant)
d_5 : mmolar (constant)
O_beta : mmolar/second (constant)
O_N : 1/mmolar/second (constant)
Omega_N : hertz (constant)
K_KC : mmolar (constant)
zeta : 1 (constant)
O_delta : mmolar/second (constant)
kappa_delta : mmolar (constant)
K_delta : mmolar (constant)
Omega_5P : hertz (constant)
K_D : mmolar (constant)
K_3K : mmolar (constant)
O_3K : mmolar/second (constant)
F_ex : mmolar/second (constant)
I_Theta : mmolar (constant)
omega_I : mmolar (constant)
""", {}, {})}
# the G-ChI astrocyte that releases gliotransmitter (Stimberg et al. 2019, figures 3 and 4):
# x_A the resources available, G_A the gliotransmitter in the extracellular space
GLIA_TEMPLATES["GChI_glio"] = (GLIA_TEMPLATES["GChI"][0] + """dx_A/dt = Omega_A*(1 - x_A) : 1
dG_A/dt = -Omega_e*G_A : mmolar
C_Theta : mmolar (constant)
Omega_A : hertz (constant)
U_A : 1 (constant)
G_T : mmolar (constant)
rho_e : 1 (constant)
Omega_e : hertz (constant)
""", {}, {})
#: the glia templates that fire: (threshold, refractory, reset). GChI_glio releases when
#: calcium crosses C_Theta and not again until it has fallen below
GLIA_EVENTS = {"GChI_glio": ("C > C_Theta", "C > C_Theta", "G_A += rho_e*G_T*U_A*x_A\nx_A -= U_A*x_A")}

_TAU_SYN = ("tau_syn_E", "tau_syn_I")
_LIF = ("c_m", "tau_m") + _TAU_SYN

#: the parameters a template divides by or takes as a time constant: zero or a
#: negative value gives inf, NaN or a growing solution, so they must be > 0
POSITIVE = {"IF_curr_exp": _LIF, "IF_cond_exp": _LIF, "IF_cond_exp_adaptive": _LIF + ("tau_vt",),
            "Izhikevich": _TAU_SYN, "AdEx": ("C", "g_L", "delta_T", "tau_w") + _TAU_SYN,
            "AdEx_SIC": ("C", "g_L", "delta_T", "tau_w") + _TAU_SYN, "RateUnit": ("tau",),
            # spikemem.rates: a zero gain never fires, a negative one is no rate
            "ReLURate": ("tau",), "PoissonUnit": ("tau", "gain"), "Leaky": ("tau",),
            # spikemem.glia: NEST's astrocyte_lr_1994 refuses these <= 0
            "LiRinzel": ("Ca_tot", "Kd_act", "Kd_IP3_1", "Kd_IP3_2", "Km_SERCA", "ratio_ER_cyt", "SIC_scale",
                         "tau_IP3"),
            # Stimberg et al.'s G-ChI: affinities and scales it divides by
            "GChI": ("C_T", "K_P", "d_1", "d_2", "d_3", "d_5", "K_KC", "kappa_delta", "K_delta", "K_D", "K_3K",
                     "omega_I", "O_2")}
POSITIVE["GChI_glio"] = POSITIVE["GChI"]

#: the parameters and initial values a template takes >= 0: concentrations,
#: rates and their scales (NEST refuses negative ones)
NONNEGATIVE = {"LiRinzel": ("IP3_0", "Kd_inh", "SIC_th", "delta_IP3", "k_IP3R", "rate_IP3R", "rate_L",
                            "rate_SERCA", "IP3", "Ca_astro", "h_IP3R"),
            "GChI": ("O_P", "rho_A", "Omega_C", "Omega_L", "O_beta", "O_N", "Omega_N", "zeta", "O_delta",
                     "Omega_5P", "O_3K", "F_ex", "I_Theta", "Gamma_A", "I", "C", "h")}
NONNEGATIVE["GChI_glio"] = NONNEGATIVE["GChI"] + ("C_Theta", "Omega_A", "U_A", "G_T", "rho_e", "Omega_e", "x_A",
                                                  "G_A")

#: upper bounds of a template's parameters or initial values (a fraction is at most 1)
AT_MOST = {"LiRinzel": {"h_IP3R": 1.0}, "GChI": {"Gamma_A": 1.0, "h": 1.0},
           "GChI_glio": {"Gamma_A": 1.0, "h": 1.0, "U_A": 1.0, "x_A": 1.0}}

_CURRENT_SIGNS = {"isyn_exc": 1, "isyn_inh": -1}
_CONDUCTANCE_SIGNS = {"gsyn_exc": 1, "gsyn_inh": 1}

#: PyNN's sign convention: the sign of the weights into a template's receptor
#: variables. Current-based templates add isyn_inh to the membrane, so
#: inhibitory weights are <= 0; conductances are >= 0 on both receptors (the
#: reversal potential gives the sign). Custom models have no rule.
SIGNS = {"IF_curr_exp": _CURRENT_SIGNS, "Izhikevich": _CURRENT_SIGNS, "AdEx": _CURRENT_SIGNS,
         "AdEx_SIC": _CURRENT_SIGNS,
         "IF_cond_exp": _CONDUCTANCE_SIGNS, "IF_cond_exp_adaptive": _CONDUCTANCE_SIGNS,
         # an astrocyte's input raises IP3 (NEST refuses negative weights)
         "LiRinzel": {"IP3": 1}}


def weight_sign(model: NeuronModel, target: str) -> int | None:
    """The sign (1 or -1) weights into ``target`` of ``model`` take by PyNN's
    convention (``SIGNS``); None where there is no rule (custom models, other
    variables)."""
    return SIGNS.get(template_of(model), {}).get(target)


def template_of(model: NeuronModel) -> str | None:
    """The template ``model`` is (its name, ``IF_cond_exp_adaptive`` included),
    with any parameters; None for a custom model."""
    if model.name in GLIA_TEMPLATES:     # spikemem.glia's, integrated by any method
        equations, receptors, weight_scale = GLIA_TEMPLATES[model.name]
        threshold, refractory, reset = GLIA_EVENTS.get(model.name, (None, 0.0, None))
        same = (model.equations == equations and model.threshold == threshold and model.reset == reset
                and (refractory == 0.0 or model.refractory == refractory)
                and dict(model.receptors) == receptors and dict(model.weight_scale) == weight_scale)
        return model.name if same else None
    if model.name == "IF_cond_exp_adaptive":
        return model.name if model.same_dynamics(IF_cond_exp(adaptive=True)) else None
    if model.name == "AdEx_SIC":
        return model.name if model.same_dynamics(AdEx(sic=True)) else None
    if model.name in RATE_TEMPLATES:
        core, threshold, reset = RATE_TEMPLATES[model.name]
        same = (model.equations.startswith(core) and model.threshold == threshold and model.reset == reset
                and dict(model.receptors) == {"input": "I"})
        return model.name if same else None
    return model.name if is_template(model, model.name) else None
