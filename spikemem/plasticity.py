"""Plasticity rules as synapse-model templates (Brian2 equations and statements).

Spike-timing rules keep exponential traces as ``(event-driven)`` variables, so
they cost nothing between spikes. Timing convention (see ``synapses``): a rule
sees the lag between the pre and the post neuron's spike times (the delay
postpones only the current); spikes in the same step count as pre-before-post.
``spinnaker_stdp`` adds sPyNNaker's one-step back-propagation delay to the
post spikes and defers every change to the next presynaptic spike.

========================================  ===================================================
``stdp``                                  pair STDP; additive or multiplicative weight
                                          dependence; all-to-all or nearest-neighbour
                                          pairing; optional sPyNNaker scaling of A by w_max
``spinnaker_stdp``                        sPyNNaker's own pair STDP: updates deferred to
                                          the next presynaptic spike, clipped per term
``triplet_stdp``                          Pfister and Gerstner (2006), all-to-all or nearest
``diehl_cook_stdp``                       the triplet variant of Diehl and Cook (2015); pair
                                          it with ``IF_cond_exp(adaptive=True)`` (theta) and
                                          ``normalize_weights`` between examples
``hebbian``, ``anti_hebbian``, ``oja``    rate rules (clock-driven) between
                                          rate units, delivering through a summed variable
``oja_subspace``                          Oja's subspace rule: y = H r onto the post side,
                                          the reconstruction H^T y onto the pre side
========================================  ===================================================

One pair moves a weight by ``A_plus * exp(-lag/tau_plus)`` (post after pre)
or ``-A_minus * exp(-lag/tau_minus)`` (post before pre), clipped to
``[w_min, w_max]``; multiplicative dependence scales potentiation by
``(w_max - w)`` and depression by ``(w - w_min)``.

Every rule multiplies each weight change by its shared switch ``plastic``
(``SynapseModel.switch``): 1 (the default) learns, bit for bit as without the
switch; 0 keeps the weights while spikes are delivered and traces run
(``Simulation.freeze``). A clipped rule still clips a weight set outside
``[w_min, w_max]``; the two-state synapse does not settle while frozen.

Units: a parameter in units of the weight (``w_max``, the additive rule's
``A_plus``) takes the projection's weight unit. Its default is PyNN's number in
PyNN's unit of that weight (``InWeightUnits``): ``stdp()`` has w_max = 1 nA on
a current synapse, 1 uS on a conductance, 1 on a dimensionless weight. A bare
number given here is SI (``w_max=1`` is 1 A). On the inhibitory receptor of a
current-based template the weights are negative (PyNN's sign convention,
checked at build): give ``w_min <= w <= w_max <= 0``; potentiation then moves
a weight towards ``w_max``, weaker inhibition.
"""
from __future__ import annotations

import numpy as np
from brian2 import ms

from .errors import ModelError
from .synapses import SynapseModel
from .units import InWeightUnits, to_si

_TRACE_OP = {"all": "+=", "nearest": "="}


def _pairing(pairing: str) -> str:
    if pairing not in _TRACE_OP:
        raise ModelError(f"STDP pairing must be one of {sorted(_TRACE_OP)}, got {pairing!r}")
    return _TRACE_OP[pairing]


def _positive(rule: str, **taus):
    """Refuse time constants <= 0 (a trace would grow instead of decaying)."""
    for name, tau in taus.items():
        v = to_si(tau, f"{rule} {name}", ms.dim)
        if np.any(np.asarray(v) <= 0):
            raise ModelError(f"{rule}: {name} must be > 0, got {tau!r}")


def stdp(weight_dependence: str = "additive", pairing: str = "all", scale_by_w_max: bool = False,
         tau_plus=20 * ms, tau_minus=20 * ms, A_plus=None, A_minus=None, w_min=0.0,
         w_max=InWeightUnits(1.0)):
    """Pair STDP (PyNN ``STDPMechanism`` with ``SpikePairRule``).

    ``weight_dependence``: "additive" (A in units of the weight) or
    "multiplicative" (A dimensionless). ``scale_by_w_max``: sPyNNaker's
    convention for the additive rule, where A is a fraction of w_max
    (dimensionless) and a pair moves the weight by ``A * w_max``. Defaults:
    PyNN's A_plus = 0.01, A_minus = 0.012 (in PyNN's weight unit for the
    additive rule, see the module text) and w_max = 1 in PyNN's weight unit.
    """
    op = _pairing(pairing)
    _positive("stdp", tau_plus=tau_plus, tau_minus=tau_minus)
    in_weight = weight_dependence == "additive" and not scale_by_w_max
    A_plus = (InWeightUnits(0.01) if in_weight else 0.01) if A_plus is None else A_plus
    A_minus = (InWeightUnits(0.012) if in_weight else 0.012) if A_minus is None else A_minus
    if weight_dependence == "additive":
        a_unit = "1" if scale_by_w_max else "weight"
        scale = "*w_max" if scale_by_w_max else ""
        potentiate, depress = f"A_plus{scale}*apre", f"A_minus{scale}*apost"
    elif weight_dependence == "multiplicative":
        if scale_by_w_max:
            raise ModelError("scale_by_w_max applies to the additive weight dependence only")
        a_unit = "1"
        potentiate, depress = "A_plus*apre*(w_max - w)", "A_minus*apost*(w - w_min)"
    else:
        raise ModelError(f"weight_dependence must be 'additive' or 'multiplicative', got {weight_dependence!r}")
    return SynapseModel(
        name=f"stdp_{weight_dependence}_{pairing}" + ("_wmax_scaled" if scale_by_w_max else ""),
        equations=_pair_equations(a_unit),
        on_pre=f"apre {op} 1\nw = clip(w - plastic*{depress}, w_min, w_max)",
        on_post=f"apost {op} 1\nw = clip(w + plastic*{potentiate}, w_min, w_max)",
        params=dict(tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus, A_minus=A_minus,
                    w_min=w_min, w_max=w_max, plastic=1.0), switch="plastic")


def _pair_equations(a_unit: str) -> str:
    """Weight, bounds, amplitudes and the two all-to-all traces of a pair rule."""
    return f"""
        w : weight
        w_min : weight (constant)
        w_max : weight (constant)
        A_plus : {a_unit} (constant)
        A_minus : {a_unit} (constant)
        tau_plus : second (constant)
        tau_minus : second (constant)
        dapre/dt = -apre/tau_plus : 1 (event-driven)
        dapost/dt = -apost/tau_minus : 1 (event-driven)
        plastic : 1 (constant)
        """


def spinnaker_stdp(tau_plus=20 * ms, tau_minus=20 * ms, A_plus=0.01, A_minus=0.012, w_min=0.0,
                   w_max=InWeightUnits(1.0), binary_threshold: float | None = None):
    """Pair STDP as sPyNNaker 7 computes it on the board (``STDPMechanism``
    with ``SpikePairRule`` and ``AdditiveWeightDependence``), for projections
    with a delay of one time step.

    sPyNNaker changes a weight only when it processes a presynaptic spike
    (``synapse_dynamics_stdp_mad_impl.c``): it then applies the potentiation
    of every postsynaptic spike since the previous presynaptic spike, each
    term clipped at w_max, then the depression of this presynaptic spike,
    clipped at w_min (``weight_additive_one_term_impl.h``); the spike is
    delivered with the new weight. A postsynaptic spike reaches the synapse
    one step late (the back-propagated dendritic delay), so a pre spike at
    step s and a post spike at step p form a pair with lag ``p + 1 - s``: a
    post spike in the same step as the pre spike or after it potentiates,
    one earlier depresses, and one in the step just before (lag 0) depresses
    fully (``timing_pair_impl.h`` applies exp(0) = 1). All-to-all pairing; A
    is a fraction of w_max, so a pair moves the weight by
    ``A * w_max * exp(-|lag|/tau)`` (run.py hands sPyNNaker 7 ``A * w_max``,
    the weight units it reads A in).

    Exactly: at a pre spike, ``w = clip(min(w + A_plus*w_max*P, w_max) -
    A_minus*w_max*D, w_min, w_max)`` with P the sum over post spikes since the
    previous pre spike of the pre trace one step after them, and D the post
    trace one step before this pre spike. Not modelled: sPyNNaker's 16-bit
    fixed point, its lookup tables for exp (0 from a lag of 24 time constants'
    worth of steps) and its history of at most 15 post spikes per neuron. On
    a longer delay the rule still shifts post spikes by one step and the
    current arrives with the weight of its arrival, whereas sPyNNaker makes the
    whole delay dendritic (post spikes shifted by the delay).

    ``binary_threshold`` (not sPyNNaker's): a two-state synapse. After every
    update the weight settles to w_max if it reached ``binary_threshold`` of
    [w_min, w_max], else to w_min, so partial updates (a single pairing, the
    remainder a forgotten association leaves) never add up.
    """
    _positive("spinnaker_stdp", tau_plus=tau_plus, tau_minus=tau_minus)
    params = dict(tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus, A_minus=A_minus, w_min=w_min, w_max=w_max,
                  plastic=1.0)
    equations, settle, name = _pair_equations("1") + "pending : 1\n", "", "spinnaker_stdp"
    if binary_threshold is not None:
        if not 0 < binary_threshold <= 1:
            raise ModelError(f"binary_threshold must be in (0, 1], got {binary_threshold!r}")
        params["theta"] = float(binary_threshold)
        equations += "theta : 1 (constant)\n"
        # the settling is a weight change too: a frozen synapse (plastic = 0) keeps its weight;
        # selecting by int() keeps an unfrozen one's settled weight bit for bit
        settle = ("w = w*int(plastic == 0) + int(plastic != 0)*(w_min + (w_max - w_min)*int(w >= w_min + "
                  "theta*(w_max - w_min)))\n")
        name = "spinnaker_stdp_binary"
    # pending: potentiation (in trace units) waiting for the next pre spike
    return SynapseModel(
        name=name, equations=equations,
        on_pre="w = clip(clip(w + plastic*A_plus*w_max*pending, w_min, w_max) "
               "- plastic*A_minus*w_max*apost*exp(dt/tau_minus), w_min, w_max)\n" + settle + "pending = 0\napre += 1\n",
        on_post="pending += apre*exp(-dt/tau_plus)\napost += 1\n",
        params=params, switch="plastic")


def spinnaker_stdp_potentiated(w, pending, A_plus, w_min, w_max, binary_threshold=None):
    """``spinnaker_stdp``'s weight ``w`` once the potentiation ``pending`` (in
    trace units) waiting for the next presynaptic spike is applied, as the
    first clause of its ``on_pre`` applies it (and, with ``binary_threshold``,
    settles it), before that spike's own depression; weights in any one unit."""
    w = np.clip(w + A_plus * w_max * pending, w_min, w_max)
    if binary_threshold is not None:
        w = np.where(w >= w_min + binary_threshold * (w_max - w_min), w_max, w_min)
    return w


def triplet_stdp(pairing: str = "all", tau_plus=16.8 * ms, tau_minus=33.7 * ms, tau_x=101 * ms,
                 tau_y=125 * ms, A2_plus=InWeightUnits(5e-10), A3_plus=InWeightUnits(6.2e-3),
                 A2_minus=InWeightUnits(7e-3), A3_minus=InWeightUnits(2.3e-4), w_min=0.0,
                 w_max=InWeightUnits(1.0)):
    """Triplet STDP (Pfister and Gerstner 2006); defaults: their all-to-all
    visual-cortex fit, for w_max = 1 in PyNN's weight unit. Amplitudes are in
    units of the weight. The triplet terms use the slow traces from *before*
    the current spike."""
    op = _pairing(pairing)
    _positive("triplet_stdp", tau_plus=tau_plus, tau_minus=tau_minus, tau_x=tau_x, tau_y=tau_y)
    return SynapseModel(
        name=f"triplet_stdp_{pairing}",
        equations="""
        w : weight
        w_min : weight (constant)
        w_max : weight (constant)
        A2_plus : weight (constant)
        A3_plus : weight (constant)
        A2_minus : weight (constant)
        A3_minus : weight (constant)
        tau_plus : second (constant)
        tau_minus : second (constant)
        tau_x : second (constant)
        tau_y : second (constant)
        dr1/dt = -r1/tau_plus : 1 (event-driven)
        dr2/dt = -r2/tau_x : 1 (event-driven)
        do1/dt = -o1/tau_minus : 1 (event-driven)
        do2/dt = -o2/tau_y : 1 (event-driven)
        plastic : 1 (constant)
        """,
        on_pre=f"w = clip(w - plastic*o1*(A2_minus + A3_minus*r2), w_min, w_max)\nr1 {op} 1\nr2 {op} 1",
        on_post=f"w = clip(w + plastic*r1*(A2_plus + A3_plus*o2), w_min, w_max)\no1 {op} 1\no2 {op} 1",
        params=dict(tau_plus=tau_plus, tau_minus=tau_minus, tau_x=tau_x, tau_y=tau_y,
                    A2_plus=A2_plus, A3_plus=A3_plus, A2_minus=A2_minus, A3_minus=A3_minus,
                    w_min=w_min, w_max=w_max, plastic=1.0), switch="plastic")


def diehl_cook_stdp(nu_pre=InWeightUnits(1e-4), nu_post=InWeightUnits(1e-2), tau_pre=20 * ms,
                    tau_post1=20 * ms, tau_post2=40 * ms, w_max=InWeightUnits(1.0)):
    """The learning rule of Diehl and Cook (2015): nearest-spike traces set to 1,
    depression ``nu_pre * post1`` at each pre spike, potentiation
    ``nu_post * pre * post2`` (post2 from before this spike) at each post spike;
    nu_pre, nu_post and w_max in units of the weight (defaults in PyNN's)."""
    _positive("diehl_cook_stdp", tau_pre=tau_pre, tau_post1=tau_post1, tau_post2=tau_post2)
    return SynapseModel(
        name="diehl_cook_stdp",
        equations="""
        w : weight
        w_max : weight (constant)
        nu_pre : weight (constant)
        nu_post : weight (constant)
        tau_pre : second (constant)
        tau_post1 : second (constant)
        tau_post2 : second (constant)
        dpre/dt = -pre/tau_pre : 1 (event-driven)
        dpost1/dt = -post1/tau_post1 : 1 (event-driven)
        dpost2/dt = -post2/tau_post2 : 1 (event-driven)
        plastic : 1 (constant)
        """,
        on_pre="pre = 1\nw = clip(w - plastic*nu_pre*post1, 0*w_max, w_max)",
        on_post="w = clip(w + plastic*nu_post*pre*post2, 0*w_max, w_max)\npost1 = 1\npost2 = 1",
        params=dict(nu_pre=nu_pre, nu_post=nu_post, tau_pre=tau_pre, tau_post1=tau_post1,
                    tau_post2=tau_post2, w_max=w_max, plastic=1.0), switch="plastic")


def _variable_names(rule, distinct=False, **names):
    """Refuse ``names`` ({role: variable}) that are not variable names (or, with
    ``distinct``, that name one variable twice)."""
    for what, name in names.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(f"{rule}: {what} must be a variable name, got {name!r}")
    if distinct and len(set(names.values())) < len(names):
        raise ModelError(f"{rule}: {', '.join(names)} must be different variables, got "
                         f"{', '.join(f'{k}={v!r}' for k, v in names.items())}")


def _rate_rule(name, dw, params, sums):
    """A clock-driven rule between rate variables, dw/dt = plastic*(``dw``), with
    dimensionless weights; ``sums``: the summed variables the projection drives
    ("target_post = w*r_pre"); ``params`` (eta in 1/second, the others
    dimensionless) are its constants."""
    return SynapseModel(
        name=name,
        equations=f"""
        dw/dt = plastic*({dw}) : 1 (clock-driven)
        eta : 1/second (constant)
""" + "".join(f"        {line} : 1 (summed)\n" for line in sums) + "        "
        + "".join(f"{k} : 1 (constant)\n" for k in params if k != "eta") + "plastic : 1 (constant)\n",
        params={**params, "plastic": 1.0}, method="euler", switch="plastic")


def _driving(rule, target, rate):
    _variable_names(rule, target=target, rate=rate)
    return [f"{target}_post = w*{rate}_pre"]


def hebbian(eta=0.01, target="I", rate="r"):
    """dw/dt = eta * r_pre * r_post; the projection drives ``target`` with sum(w * r_pre).
    Rate rules use dimensionless weights (rate units have dimensionless r and I)."""
    return _rate_rule("hebbian", f"eta*{rate}_pre*{rate}_post", {"eta": eta}, _driving("hebbian", target, rate))


def anti_hebbian(eta=0.01, target="I", rate="r"):
    """dw/dt = -eta * r_pre * r_post (decorrelating, e.g. lateral inhibition)."""
    return _rate_rule("anti_hebbian", f"-eta*{rate}_pre*{rate}_post", {"eta": eta},
                      _driving("anti_hebbian", target, rate))


def oja(eta=0.01, alpha=1.0, target="I", rate="r"):
    """Oja's rule, dw/dt = eta * (r_pre * r_post - alpha * r_post**2 * w): Hebbian
    growth with a decay that keeps each post neuron's weight vector bounded."""
    return _rate_rule("oja", f"eta*({rate}_pre*{rate}_post - alpha*{rate}_post**2*w)",
                      {"eta": eta, "alpha": alpha}, _driving("oja", target, rate))


def oja_subspace(eta=0.01, rate="r", output="y", reconstruction="xhat"):
    """Oja's subspace rule (Oja 1989) between rate variables, with ``H[post, pre] = w``:
    the projection sums ``output_post = sum w*rate_pre`` (y = H r) and, from that y
    of the same step, ``reconstruction_pre = sum w*output_post`` (x_hat = H^T y, a
    summed variable onto the presynaptic side), and learns ``dw/dt = eta * y_post *
    (r_pre - xhat_pre)``, i.e. dH/dt = eta y (r - H^T y)^T: Hebbian growth y r^T less
    the anti-Hebbian y y^T H. The rows of H converge to an orthonormal basis of the
    principal subspace of r (its top eigenvectors of E[r r^T], not centred).

    Both sums are taken before the neuron updates and the rule runs after them
    (``spikemem.synapses``), so where r decays in its update by ``beta`` per step,
    the rule sees beta*r and the rows converge to sqrt(beta) times that basis (the
    subspace is the same). ``output`` and ``reconstruction`` must be parameters
    (``y : 1``) of the post and pre populations; connect with the receptor that
    names ``output``; the three names differ."""
    _variable_names("oja_subspace", distinct=True, rate=rate, output=output, reconstruction=reconstruction)
    return _rate_rule("oja_subspace", f"eta*{output}_post*({rate}_pre - {reconstruction}_pre)", {"eta": eta},
                      [f"{output}_post = w*{rate}_pre", f"{reconstruction}_pre = w*{output}_post"])


def normalize_weights(sim, projection: str, total: float):
    """Scale each postsynaptic neuron's incoming weights to sum to ``total``
    (Diehl and Cook normalise like this before every example)."""
    w = sim.get(projection, "w")
    post = sim.built_projection(projection).j
    if not post.size:       # no synapses: nothing to normalise
        return
    sums = np.bincount(post, weights=w, minlength=post.max() + 1 if post.size else 0)
    factor = np.divide(total, sums, out=np.ones_like(sums), where=sums > 0)
    sim.set(projection, "w", w * factor[post])
