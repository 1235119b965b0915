"""Lowering a built network to Brian2 objects: the model language's single source.

Both CPU backends start here. The Brian2 backend runs the objects; the numba
engine only asks them for the abstract code Brian2's state updaters,
thresholders, resetters and synaptic pathways produce, and for Brian2's own
resolution of every name. Building the objects also runs Brian2's checks of
identifiers and units, so mistakes surface before any simulation work.

Schedule (shared by every backend, see docs/developer/architecture.md): inputs at
'start', then each signal component a population reads (a shared variable of
its group, set from a TimedArray on Brian2 and by the engines themselves
elsewhere), synaptic delivery 'before_groups', summed variables (those onto
postsynaptic sides, then those onto presynaptic sides, ``summed_updaters``) and
the state update 'groups',
'thresholds', 'resets'; then 'after_resets' the clock-driven synaptic equations and the
synapse models' on_pre and on_post statements for this step's spikes (see
``spikemem.synapses``); spikes recorded at the threshold, states at 'start'
after the inputs (Brian2's default: the record of step k is the state at
t = k * dt, the first one the initial state). Delivery before the update means a spike emitted
at step n with a delay of d steps acts at step n + d; Brian2 pushes a spike
into its queue one step after the threshold, so its delay is (d - 1) * dt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import brian2 as b2
from brian2 import Equations, second, Hz
from brian2.equations.equations import DIFFERENTIAL_EQUATION, PARAMETER, SingleEquation
from brian2.units.fundamentalunits import Quantity

from . import state_update_cache
from .errors import ModelError
from .network import BuiltNetwork, BuiltPopulation, BuiltProjection

state_update_cache.install()        # each new process reads the derivations of equations seen before


@dataclass
class Brian2Objects:
    groups: dict = field(default_factory=dict)        # population name -> group
    synapses: list = field(default_factory=list)      # in projection order
    inputs: list = field(default_factory=list)        # run_regularly objects
    input_tables: list = field(default_factory=list)  # their values: (steps, neurons) SI arrays
    signals: list = field(default_factory=list)       # run_regularly objects that read the signals
    spike_monitors: dict = field(default_factory=dict)
    state_monitors: list = field(default_factory=list)
    namespaces: dict = field(default_factory=dict)    # population name -> shared constants

    def all(self):
        return (list(self.groups.values()) + self.synapses + self.inputs + self.signals
                + list(self.spike_monitors.values()) + self.state_monitors)


def _q(value, dim):
    return Quantity(value, dim=dim)


def _unit(dim) -> str:
    return "1" if dim.is_dimensionless else dim._str_representation(python_code=True)


def shared_equations(pop: BuiltPopulation, signals=()) -> Equations:
    """The population's equations with scalar parameters moved to the namespace.
    A population that holds no refractory step (and has no refractory
    condition) loses the "(unless refractory)" flag: Brian2 ignores it without a refractory period, but warns. Each
    signal component it reads (``signals``: (name, dimension) pairs) is a
    shared variable, which every backend sets at the start of each step."""
    eqs = pop.parsed.equations
    if signals:
        eqs = eqs + Equations("\n".join(f"{name} : {_unit(dim)} (shared)" for name, dim in signals))
    kept = [eq for name, eq in eqs.items()
            if not (eq.type == PARAMETER and name in pop.params and np.ndim(pop.params[name]) == 0)]
    if pop.refractory_steps == 0 and pop.refractory_condition is None:
        kept = [SingleEquation(eq.type, eq.varname, eq.dim, eq.var_type, eq.expr,
                               [f for f in eq.flags if f != "unless refractory"])
                if "unless refractory" in eq.flags else eq for eq in kept]
    return Equations(kept)


#: the floating-point types a CPU backend can store state in
FLOAT_DTYPES = {"float64": np.float64, "float32": np.float32}


def float_dtype(value, backend: str):
    """``value`` ("float64", "float32" or the numpy type) as a numpy type."""
    for name, dtype in FLOAT_DTYPES.items():
        if value is dtype or (isinstance(value, str) and value == name):
            return dtype
    raise ModelError(f"{backend} backend: dtype must be one of {list(FLOAT_DTYPES)}, got {value!r}")


def _neuron_group(pop: BuiltPopulation, dt, dtype, signals=()):
    m = pop.model
    namespace = {k: _q(v, pop.parsed.dims[k]) for k, v in pop.params.items() if np.ndim(v) == 0}
    kw = dict(threshold=m.threshold, reset=m.reset, method=m.method, namespace=namespace,
              name=pop.name, dtype=dtype)
    if pop.every > 1:        # its own clock; Brian2 sums onto it on that clock too
        kw["dt"] = pop.every * dt * second
    if pop.refractory_steps > 0:
        # Brian2 holds a neuron while timestep(t - lastspike) < timestep(refractory),
        # i.e. one step fewer than its refractory period: one more step makes it
        # hold exactly refractory_steps, whatever the model's counting
        kw["refractory"] = (pop.refractory_steps + 1) * dt * second
    elif pop.refractory_condition is not None:
        kw["refractory"] = pop.refractory_condition      # held while it is true
    try:
        group = b2.NeuronGroup(pop.size, shared_equations(pop, signals), **kw)
    except Exception as e:
        raise ModelError(f"population '{pop.name}': {e}") from None
    for name, v in pop.params.items():
        if np.ndim(v):
            setattr(group, name + "_", v)
    for var, values in pop.init.items():
        setattr(group, var + "_", values)
    return group, namespace


def _source_group(pop: BuiltPopulation, dt):
    if pop.kind == "spikes":
        return b2.SpikeGeneratorGroup(pop.size, pop.spike_ids, pop.spike_steps * dt * second,
                                      name=pop.name, sorted=True)
    return b2.PoissonGroup(pop.size, pop.rate * Hz, name=pop.name)


#: the per-synapse time up to which a group of a synapse's clock-driven equations is
#: integrated, where they are integrated only when read (``lower(integrated_when_read=...)``)
INTEGRATED_UNTIL = "lastintegrated"


def clock_driven(equations: Equations) -> dict:
    """{variable: equation} of the clock-driven differential equations."""
    return {n: eq for n, eq in equations.items() if eq.type == DIFFERENTIAL_EQUATION and "event-driven" not in eq.flags}


def _clock_driven_groups(equations: Equations) -> list[list[str]]:
    """The clock-driven differential equations' variables, in groups that read
    each other (directly or not): each group can be brought up to date alone."""
    clock = clock_driven(equations)
    groups = []
    for name in clock:
        linked = [g for g in groups if any(v in clock[name].identifiers or name in clock[v].identifiers for v in g)]
        merged = [v for g in linked for v in g] + [name]
        groups = [g for g in groups if g not in linked] + [merged]
    return groups


def _catch_ups(syn, equations: Equations, groups: list) -> None:
    """Code runners (never scheduled by spikemem's engines), one per group of
    ``_clock_driven_groups``, whose statements bring that group from its
    ``lastintegrated_k`` up to ``t``: Brian2's exact solution over that interval
    instead of ``dt``."""
    from brian2.stateupdaters.exact import linear
    for k, names in enumerate(groups):
        since = f"{INTEGRATED_UNTIL}_{k}"
        group = Equations([eq for n, eq in equations.items() if n in names])
        code = re.sub(r"\bdt\b", f"(t - {since})", linear(group, syn.variables))
        syn.run_regularly(f"{code}\n{since} = t", name=f"{syn.name}_catch_up_{k}")


def catch_ups(syn) -> list:
    """``syn``'s catch-up runners (``_catch_ups``), in order; none where its
    clock-driven equations are integrated every step."""
    prefix = f"{syn.name}_catch_up_"
    return sorted((o for o in syn.contained_objects if o.name.startswith(prefix)),
                  key=lambda o: int(o.name[len(prefix):]))


def _synapses(proj: BuiltProjection, groups, order: int, n_projections: int, dt, dtype, when_read=False):
    homogeneous = proj.delay.size == 0 or np.all(proj.delay == proj.delay[0])
    on_pre, delay = {}, {}
    if proj.on_pre:
        on_pre["pre"] = proj.on_pre
        if homogeneous:
            d = int(proj.delay[0]) if proj.delay.size else 1
            delay["pre"] = (d - 1) * dt * second
    if proj.plastic_pre:
        on_pre["plastic"] = proj.plastic_pre
    kw = {"on_pre": on_pre, "delay": delay}
    if proj.on_post:
        kw["on_post"] = proj.on_post
    namespace = {k: _q(v, proj.dims[k]) for k, v in proj.namespace.items()}
    model = Equations([eq for name, eq in Equations(proj.equations).items() if name not in proj.namespace])
    integrated = _clock_driven_groups(model) if when_read else []
    for k in range(len(integrated)):
        model += Equations(f"{INTEGRATED_UNTIL}_{k} : second")
    if integrated:       # times in float64 whatever the state's type, as Brian2's lastupdate
        dtype = {f"{INTEGRATED_UNTIL}_{k}": np.float64 for k in range(len(integrated))}
    try:
        syn = b2.Synapses(groups[proj.pre], groups[proj.post], model=model, method=proj.method,
                          namespace=namespace, name=proj.name, dtype=dtype, **kw)
    except Exception as e:
        raise ModelError(f"projection '{proj.name}': {e}") from None
    # after every reset: clock-driven synaptic equations, then the model's
    # on_pre (spikes of this step), then on_post
    if syn.state_updater is not None:
        syn.state_updater.when, syn.state_updater.order = "after_resets", order
    if proj.on_pre:
        syn.pre.when, syn.pre.order = "before_groups", order
    if proj.plastic_pre:
        syn.plastic.when, syn.plastic.order = "after_resets", n_projections + order
    if proj.on_post:
        syn.post.when, syn.post.order = "after_resets", 2 * n_projections + order
    # summed variables before the groups' updates (Brian2's slot): those onto the postsynaptic
    # side, then those onto the presynaptic side, each in projection order (``summed_updaters``)
    for side, first in (("post", -2 * n_projections), ("pre", -n_projections)):
        for updater in summed_updaters(syn, side):
            updater.order = first + order
    _catch_ups(syn, model, integrated)
    if not proj.i.size:
        syn.active = False    # Brian2 refuses a Synapses object without synapses
    else:
        syn.connect(i=proj.i, j=proj.j)
        if not proj.linked:       # a projection onto or from synapses has no weight
            syn.w_ = proj.w
        for name, values in proj.state.items():
            setattr(syn, name + "_", values)
        if proj.on_pre and not homogeneous:
            syn.pre.delay_ = (proj.delay - 1) * dt
    return syn


def summed_updaters(syn, side: str) -> list:
    """The updaters of ``syn``'s summed variables onto its ``side`` ("pre" or "post").
    Every backend computes all sums onto postsynaptic sides first, then all sums onto
    presynaptic sides, each in projection order, before the neuron updates: a sum onto
    the presynaptic side (``xhat_pre = w*y_post``) may read one onto the postsynaptic
    side of the same step (``y_post = w*r_pre``)."""
    return [u for u in syn.summed_updaters.values() if u.target_varname.endswith("_" + side)]


def neuron_runners(group) -> list:
    """The group's state updater, thresholder and resetter, in step order."""
    runners = [group.state_updater]
    if group.thresholder:
        runners.append(group.thresholder["spike"])
        if group.resetter:
            runners.append(group.resetter["spike"])
    return runners


def lower(built: BuiltNetwork, dtype=np.float64, integrated_when_read=()) -> Brian2Objects:
    """Create the Brian2 objects for ``built``, their floating-point variables
    of type ``dtype`` (Brian2's ``core.default_float_dtype`` while they are
    created, then the preference is put back; the clock's t and dt stay
    float64). ``integrated_when_read``: names of projections whose clock-driven
    equations the numba engine integrates only when read (see its ``schedule``):
    each group of them that reads only itself gets a time ``INTEGRATED_UNTIL_k``
    and a code runner that brings it up to date (``catch_ups``)."""
    saved = b2.prefs.core.default_float_dtype
    b2.prefs.core.default_float_dtype = dtype
    try:
        return _objects(built, dtype, set(integrated_when_read))
    finally:
        b2.prefs.core.default_float_dtype = saved


def _objects(built: BuiltNetwork, dtype, integrated_when_read) -> Brian2Objects:
    b2.defaultclock.dt = built.dt * second     # one clock for every object
    out = Brian2Objects()
    for name, pop in built.populations.items():
        if pop.kind == "neuron":
            uses = [(n, built.signals[k].dim) for k, _, n in built.signal_uses(name)]
            out.groups[name], out.namespaces[name] = _neuron_group(pop, built.dt, dtype, uses)
        else:
            out.groups[name] = _source_group(pop, built.dt)
    for k, proj in enumerate(built.projections):
        # a projection onto or from another's synapses has that Synapses object as its group
        sides = {**out.groups, **{s.name: s for s in out.synapses}} if proj.linked else out.groups
        out.synapses.append(_synapses(proj, sides, k, len(built.projections), built.dt, dtype,
                                      proj.name in integrated_when_read))
    for k, inp in enumerate(built.inputs):
        group = out.groups[inp.population]
        table = np.zeros((int(inp.steps[-1]) + 1, group.N))
        for s, start in enumerate(inp.steps):
            table[start:] = inp.values[s]
        # Before the first change the variable keeps its initial value.
        table[:int(inp.steps[0])] = built.populations[inp.population].init[inp.variable]
        set_input_table(group, k, inp.variable, table, built.dt)
        # on the group's clock: a population with its own dt takes its inputs on its ticks
        op = group.run_regularly(f"{inp.variable} = input_{k}_values(t, i)", when="start",
                                 order=k, name=f"input_{k}")
        out.inputs.append(op)
        out.input_tables.append(table)
    for name in built.populations:
        # after the inputs, before the state monitors: a signal's value for this step
        for k, c, var in built.signal_uses(name):
            group = out.groups[name]
            set_signal_table(group, var, built.signals[k].values[:, c], built.signals[k].dim, built.signals[k].dt)
            out.signals.append(group.run_regularly(f"{var} = signal_{var}_values(t)", when="start",
                                                   order=len(built.inputs), name=f"signal_{name}_{var}"))
    for name in built.spike_monitors:
        out.spike_monitors[name] = b2.SpikeMonitor(out.groups[name], name=f"spikemon_{name}")
    for k, m in enumerate(built.state_monitors):
        out.state_monitors.append(b2.StateMonitor(out.groups[m.population], list(m.variables),
                                                  record=m.ids, dt=m.every * built.dt * second,
                                                  when="start", order=len(built.inputs) + 1,
                                                  name=f"statemon_{k}"))
    return out


def set_input_table(group, k: int, variable: str, table: np.ndarray, dt: float):
    """Input ``k``'s values (SI), one row per step from step 0 (the last row
    holds on), as the TimedArray its run_regularly reads every step."""
    dim = group.variables[variable].dim
    group.namespace[f"input_{k}_values"] = b2.TimedArray(_q(table, dim), dt=dt * second,
                                                         name=f"input_{k}_values")


def set_signal_table(group, var: str, values: np.ndarray, dim, dt: float):
    """A signal component's samples (SI) as the TimedArray that sets ``var`` of
    ``group`` at the start of each step."""
    group.namespace[f"signal_{var}_values"] = b2.TimedArray(_q(np.ascontiguousarray(values, float), dim),
                                                           dt=dt * second,
                                                           name=f"signal_{var}_values")


def prepare(objects: Brian2Objects, target: str = "numpy") -> b2.Network:
    """A Brian2 network with every code object generated: runs all of Brian2's
    identifier and unit checks and fills in the abstract code."""
    b2.prefs.codegen.target = target
    net = b2.Network(objects.all())
    try:
        net._clocks = {obj.clock for obj in net.objects}   # what Network.run sets before before_run
        for clock in net._clocks:      # the shared default clock may stand where a previous run ended
            clock.set_interval(net.t, net.t)
        net.before_run({})
    except Exception as e:
        raise ModelError(_explain(e, objects)) from None
    return net


def _explain(e: Exception, objects: Brian2Objects) -> str:
    """Brian2's message, attributed to the population or projection it concerns."""
    obj = getattr(e, "_brian_objname", "")
    root = e
    while (root.__cause__ or root.__context__) is not None:
        root = root.__cause__ or root.__context__
    text = str(root)
    for syn in objects.synapses:
        if obj == syn.name or obj.startswith(syn.name + "_"):
            return f"projection '{syn.name}': {text}"
    for name in objects.groups:
        if obj == name or obj.startswith(name + "_"):
            return f"population '{name}': {text}"
    return text
