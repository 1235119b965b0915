"""spikemem's PyTorch engine: a built network as an ``nn.Module`` that steps B
independent trials at once, differentiable through surrogate spikes.

The step order is the shared one (``spikemem.lowering``): inputs, delivery of
spikes ``delay`` steps old, summed variables, neuron update + threshold +
reset, spike sources, then the synapse models (clock-driven equations, on_pre,
on_post). Neuron and synapse arithmetic is Brian2's own statements rendered
over tensors (``codegen``), so in float64 the spikes are those of the numba
engine.

Tensors: neuron state (trials, neurons); static weights one value per synapse
(a trainable ``nn.Parameter``, shared by the trials); plastic synapse state
(trials, synapses), changed under ``torch.no_grad``. Static delivery is a
matrix product per distinct delay, dense or sparse (chosen by size, or by the
user); plastic delivery gathers and scatters per synapse. Spike-source input
for a whole chunk of steps is multiplied through in one product before the
step loop.

At the threshold the forward pass is Brian2's exact condition; the backward
pass takes an snntorch surrogate gradient of the scaled distance to threshold.
Resets use the exact condition and pass no gradient through the spike (as
snntorch detaches its reset).
"""
from __future__ import annotations

import ast

import numpy as np
import torch
from torch import nn
import snntorch.surrogate
from brian2.core.variables import ArrayVariable, Constant

from ...errors import ModelError
from ...lowering import neuron_runners, summed_updaters
from ...network import own_dt, signal_oversampling
from .. import abstract_code as ac
from . import SURROGATES, codegen
from .codegen import gather
from .convolution import ConvolutionCode
from .dale import dale_signs, project_

DENSE_LIMIT = 1 << 22          # synapse matrices up to this many entries are dense
DENSE_FRACTION = 0.05          # ... as are those at least this full
MODES = ("auto", "dense", "sparse", "synapses")
INTERNAL = {"N", "_spikespace", "_synaptic_pre", "_synaptic_post", "delay", "_queue",
            "N_incoming", "N_outgoing"}


def _float(value):
    return float(value) if np.ndim(value) == 0 else value


def refuse_own_dt(built) -> None:
    """Refuse, by name, a population with a dt of its own: the engine updates
    every population on every step of the network's."""
    for pop in built.populations.values():
        if pop.every > 1:
            raise ModelError(f"torch backend: population '{pop.name}' has its {own_dt(pop, built.dt)}; the torch "
                             f"engine updates every population at the network's dt (the numba and brian2 "
                             f"backends run it)")


class _Namespace(dict):
    """Globals of one population's or projection's generated functions."""


class PopulationCode:
    """Generated update, threshold and reset of one neuron population."""

    def __init__(self, engine, pop, group):
        self.name, self.size = pop.name, pop.size
        self.ns = _Namespace(dt=float(engine.dt), _shape=(engine.batch, pop.size), **engine.random)
        self.refractory = "lastspike" in group.variables and (pop.refractory_steps > 0
                                                              or pop.refractory_condition is not None)
        self.sources = {}
        trial = engine.trial_params.get(pop.name, {})
        self.vars = [n for n, v in group.variables.items()
                     if isinstance(v, ArrayVariable) and v.owner.name == group.name
                     and n not in INTERNAL and not n.startswith("_")] + sorted(trial)
        blocks = []
        for runner in neuron_runners(group):
            cobj = runner.codeobj
            if cobj is None:     # nothing to integrate (parameters only): Brian2 made no code
                blocks.append(([], []))
                continue
            stmts = ac.statements(runner.abstract_code, cobj.variables)
            for name, var in cobj.variables.items():
                if isinstance(var, Constant) and name not in trial:
                    self.ns[name] = _float(var.get_value())
            blocks.append(stmts)
        self.update = self._update(*blocks[0])
        self.threshold = self._threshold(*blocks[1]) if len(blocks) > 1 else None
        self.reset = self._reset(*blocks[2]) if len(blocks) > 2 else None

    def _names(self):
        return {"t_in_timesteps": "_step"}

    def _loads(self, stmts):
        used = ac.names_in(stmts[0] + stmts[1])
        return [f"    {n} = _P['{n}']" for n in self.vars if n in used]

    def _compile(self, lines, name):
        self.sources[name] = "\n".join(lines) + "\n"      # kept for inspection
        return codegen.compile_function(self.sources[name], name, self.ns)

    def _update(self, scalar, vector):
        names = self._names()
        lines = ["def update(_P, t, _step):"] + self._loads((scalar, vector))
        lines += codegen.render(scalar, names)
        cut = next((k for k, s in enumerate(vector) if s.var == "not_refractory"), None)
        written = [n for n in self.vars if n in {s.var for s in vector}]
        if cut is None:
            lines += codegen.render(vector, names)
        else:
            lines += codegen.render(vector[:cut], names)
            test = vector[cut].expr.replace(" ", "")
            if test.startswith("timestep(t-lastspike,dt)>="):
                # as in the numba engine: Brian2's float test in whole steps
                bound = codegen.render_expr(vector[cut].expr.split(">=", 1)[1], names)
                lines += [f"    not_refractory = (_step - _P['_lsstep']) >= {bound}"]
            else:
                lines += codegen.render(vector[cut:cut + 1], names)
            rest = vector[cut + 1:]
            state = [n for n in written if n != "not_refractory"]
            per_item = set(self.vars) | {s.var for s in vector}
            # Brian2 writes the refractory clamp as int(not_refractory) inside
            # exponentials; evaluated with the flag a literal, both branches
            # are the numba engine's arithmetic, then merged per neuron.
            for flag in (True, False):
                hoisted, body = codegen.render_hoisted(rest, names, per_item, {"not_refractory": flag},
                                                       f"_h{int(flag)}_", "        ")
                lines += [f"    def _branch_{int(flag)}({', '.join(state)}):"] + hoisted + body
                lines += [f"        return ({', '.join(state)},)"]
            lines += [f"    _a = _branch_1({', '.join(state)})", f"    _b = _branch_0({', '.join(state)})"]
            lines += [f"    {n} = where(not_refractory, _a[{k}], _b[{k}])" for k, n in enumerate(state)]
        lines += [f"    _P['{n}'] = {n}" for n in written] + ["    return None"]
        return self._compile(lines, "update")

    def _threshold(self, scalar, vector):
        names = self._names()
        lines = ["def threshold(_P, t, _step):"] + self._loads((scalar, vector))
        vector, draws = codegen.named_draws(vector)
        lines += codegen.render(scalar, names) + draws + codegen.render(vector, names)
        cond = next(s for s in vector if s.var == "_cond")
        distance = codegen.threshold_distance(cond.expr)
        self.distance_rhs = None
        if distance is None:
            lines += ["    return _cond, None"]
        else:
            lines += [f"    return _cond, {codegen.render_expr(distance[0], names)}"]
            self.distance_rhs = codegen.render_expr(distance[1], names)
        return self._compile(lines, "threshold")

    def _reset(self, scalar, vector):
        names = self._names()
        lines = ["def reset(_P, _cond, t, _step):"] + self._loads((scalar, vector))
        lines += codegen.render(scalar, names) + codegen.render(vector, names)
        written = [n for n in self.vars if n in {s.var for s in vector}]
        lines += [f"    _P['{n}'] = where(_cond, {n}, _P['{n}'])" for n in written]
        return self._compile(lines, "reset")


class ProjectionCode:
    """Delivery, synaptic equations and the synapse model of one projection."""

    def __init__(self, engine, k, proj, syn, mode):
        self.k, self.proj, self.name = k, proj, proj.name
        self.pre, self.post = proj.pre, proj.post
        self.key = f"p{k}"
        self.ns = _Namespace(dt=float(engine.dt), **engine.random)
        dev = engine.device
        self.I = torch.as_tensor(proj.i, dtype=torch.long, device=dev)
        self.J = torch.as_tensor(proj.j, dtype=torch.long, device=dev)
        self.n_pre = engine.built.size_of(proj, "pre")
        self.n_post = engine.built.size_of(proj, "post")
        # the state each side's variables are in: a population's, or the synapses' of
        # the projection a synapse-targeting projection links to
        linked = engine.built.linked_index(proj)
        self.pre_key = f"p{linked}" if proj.linked == "pre" else proj.pre
        self.post_key = f"p{linked}" if proj.linked == "post" else proj.post
        # synapses that another projection sums into or reads hold their state per trial
        linked_to = {engine.built.projections[engine.built.linked_index(p)].name
                     for p in engine.built.projections if p.linked}
        self.plastic = bool(proj.plastic_pre or proj.on_post or proj.linked or proj.name in linked_to or
                            (syn.state_updater is not None and syn.state_updater.abstract_code.strip()))
        delays = proj.delay.astype(np.int64)
        self.groups = [(int(d), torch.as_tensor(np.flatnonzero(delays == d), device=dev))
                       for d in np.unique(delays)]
        self.lag = torch.as_tensor(delays, device=dev)
        # The numba engine's (and Brian2's) order of a step's arriving events:
        # longest delay first, then by presynaptic neuron, then synapse order.
        # Per-synapse delivery adds them onto the target in this order, one at
        # a time, so that in float64 each sum rounds as numba's does.
        order = np.lexsort((np.arange(proj.i.size), proj.i, -delays))
        self.order = torch.as_tensor(order, device=dev)
        self.J_ordered = self.J[self.order]
        self._rounds = {}
        # every pair, in (pre, post) order: the weights are the dense matrix itself
        n_pairs = self.n_pre * self.n_post
        self.full = (len(self.groups) == 1 and proj.i.size == n_pairs and
                     np.array_equal(proj.i, np.repeat(np.arange(self.n_pre), self.n_post)) and
                     np.array_equal(proj.j, np.tile(np.arange(self.n_post), self.n_pre)))
        self.vars = [n for n, v in syn.variables.items()
                     if isinstance(v, ArrayVariable) and v.owner.name == syn.name
                     and n not in INTERNAL and not n.startswith("_")]
        self.fast_target = self._plain_delivery(syn)
        if mode == "auto":
            entries = self.n_pre * self.n_post
            dense = entries <= DENSE_LIMIT or proj.i.size >= DENSE_FRACTION * entries
            # many distinct delays: one gather beats a matrix product per delay
            per_synapse = self.plastic or len(self.groups) > 2
            mode = "synapses" if per_synapse else ("dense" if dense else "sparse")
        if self.plastic and mode != "synapses":
            raise ModelError(f"projection '{proj.name}': a plastic projection delivers per synapse; "
                             f"weights='{mode}' is for static projections")
        self.mode = mode
        self.deliver = self._synaptic(syn, syn.pre, "deliver") if proj.on_pre and not self.fast_target else None
        self.on_pre = self._synaptic(syn, syn.plastic, "on_pre") if proj.plastic_pre else None
        self.on_post = self._synaptic(syn, syn.post, "on_post") if proj.on_post else None
        has_update = syn.state_updater is not None and syn.state_updater.abstract_code.strip()
        self.update = self._synaptic(syn, syn.state_updater, "update") if has_update else None
        # (side, target, function): sums onto the postsynaptic side, then onto the presynaptic side
        self.summed = [(side, u.target_var.name, self._synaptic(syn, u, "summed", summed=True))
                       for side in ("post", "pre") for u in summed_updaters(syn, side)]

    def rounds(self, sides: tuple, ordered: bool) -> list:
        """Boolean masks (synapses,) that split the synapses into rounds, each
        touching a neuron of ``sides`` ("pre", "post") at most once: the r-th
        round holds each neuron's r-th synapse in delivery order (``order``)
        or synapse order, so that running the rounds one after the other adds
        as one synapse at a time does. Both sides: one synapse a round."""
        key = (sides, ordered)
        if key not in self._rounds:
            n = self.proj.i.size
            order = self.order.cpu().numpy() if ordered else np.arange(n)
            if len(sides) == 2:
                rank_in_order = np.arange(n)
            else:
                target = (self.proj.j if sides == ("post",) else self.proj.i)[order]
                by_target = np.argsort(target, kind="stable")
                first = np.searchsorted(target[by_target], target[by_target])   # each target's first slot
                rank_in_order = np.empty(n, np.int64)
                rank_in_order[by_target] = np.arange(n) - first
            rank = np.empty(n, np.int64)
            rank[order] = rank_in_order
            self._rounds[key] = [torch.as_tensor(rank == r, device=self.I.device)
                                 for r in range(int(rank.max()) + 1 if n else 0)]
        return self._rounds[key]

    def _plain_delivery(self, syn):
        """The target of a delivery that is exactly ``<target>_post += w``, else None."""
        if not self.proj.on_pre:
            return None
        scalar, vector = ac.statements(syn.pre.abstract_code, syn.pre.codeobj.variables)
        if scalar or len(vector) != 1:
            return None
        s = vector[0]
        var = syn.pre.codeobj.variables.get(s.var)
        if s.op == "+=" and s.expr.strip() == "w" and isinstance(var, ArrayVariable) \
                and syn.pre.codeobj.variable_indices[s.var] == "_postsynaptic_idx":
            self.guard = getattr(var, "conditional_write", None) is not None
            return var.name
        return None

    def _synaptic(self, syn, runner, kind, summed=False):
        """A function of (synapse state, pre state, post state, indices, t, step)
        returning the synaptic variables it wrote and the increments of neuron
        variables (``x_post += ...``)."""
        cobj = runner.codeobj
        scalar, vector = ac.statements(runner.abstract_code, cobj.variables)
        used = ac.names_in(scalar + vector)
        names = {"t_in_timesteps": "_step"}
        loads, neuron = [], {}
        for name in sorted(used):
            var = cobj.variables.get(name)
            if isinstance(var, Constant):
                self.ns[name] = _float(var.get_value())
            elif isinstance(var, ArrayVariable) and name not in ("t", "dt") and (
                    # Brian2 names a neuron variable a subexpression reads "_<subexpr>_<group>_<var>"
                    not name.startswith("_") or cobj.variable_indices[name] in ("_postsynaptic_idx",
                                                                                "_presynaptic_idx")):
                index = cobj.variable_indices[name]
                if var.owner.name == syn.name:
                    loads.append(f"    {name} = _Q['{var.name}']")
                elif index in ("_postsynaptic_idx", "_presynaptic_idx"):
                    side = "post" if index == "_postsynaptic_idx" else "pre"
                    idx = "_J" if side == "post" else "_I"
                    loads.append(f"    {name} = gather(_P{side}['{var.name}'], {idx})")
                    neuron[name] = (side, var.name, getattr(var, "conditional_write", None) is not None)
                else:
                    raise ModelError(f"projection '{self.name}': the torch backend cannot use "
                                     f"'{name}' in synaptic code")
        body = []
        increments = {}
        for s in vector:
            if s.var in neuron:
                if s.op != "+=":
                    raise ModelError(f"projection '{self.name}': the torch backend supports only "
                                     f"'+=' on neuron variables from synapses, got '{s.var} {s.op} {s.expr}'")
                acc = f"_acc_{s.var}"
                if acc not in increments:
                    body.append(f"    {acc} = 0.0")
                increments[acc] = neuron[s.var]
                body.append(f"    {acc} = {acc} + ({codegen.render_expr(s.expr, names)})")
            else:
                body += codegen.render([s], names)
        written = [n for n in self.vars if n in {s.var for s in vector}]
        lines = [f"def {kind}(_Q, _Ppre, _Ppost, _I, _J, t, _step, _shape):"] + loads
        lines += codegen.render(scalar, names) + body
        if summed:
            lines += ["    return _synaptic_var"]
        else:
            lines += ["    return {" + ", ".join(f"'{n}': {n}" for n in written) + "}, {"
                      + ", ".join(f"{increments[a]!r}: {a}" for a in increments) + "}"]
        fn = codegen.compile_function("\n".join(lines) + "\n", kind, self.ns)
        # a neuron variable the code both reads and adds to (``c_post += w*(1 - c_post)``):
        # each synapse must see the additions of the synapses before it (TorchNetwork._event)
        read = {n.id for s in scalar + vector for n in ast.walk(ast.parse(s.expr)) if isinstance(n, ast.Name)}
        added = {increments[a][:2] for a in increments}
        fn.serial = tuple(sorted({neuron[n][0] for n in read if n in neuron and neuron[n][:2] in added}))
        return fn


class TorchNetwork(nn.Module):
    """A built network on PyTorch. ``forward(inputs, steps)`` runs on from the
    current state and returns the spikes (steps, trials, neurons) of ``outputs``."""

    def __init__(self, built, objects, batch=1, device="cpu", dtype=torch.float32, weights="auto",
                 surrogate=None, surrogate_scale=None, trial_params=None, dale=False):
        super().__init__()
        if not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or batch < 1:
            raise ModelError(f"torch backend: batch must be an integer >= 1, got {batch!r}")
        self.built, self.batch, self.dt = built, int(batch), built.dt
        self.device, self.dtype = torch.device(device), dtype
        self.surrogate = self._check_surrogate(surrogate)
        self.trial_params = self._check_trial_params(trial_params or {})
        modes = self._check_modes(weights)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(built.seed)
        opts = dict(generator=self.generator, device=self.device, dtype=self.dtype)
        self.random = {"_rand": lambda shape: torch.rand(shape, **opts),
                       "_randn": lambda shape: torch.randn(shape, **opts)}
        self.pops = {name: PopulationCode(self, pop, objects.groups[name])
                     for name, pop in built.populations.items() if pop.kind == "neuron"}
        self.projs = [ProjectionCode(self, k, proj, syn, modes.get(proj.name, modes["*"]))
                      for k, (proj, syn) in enumerate(zip(built.projections, objects.synapses))
                      if proj.i.size]
        self.convs = [ConvolutionCode(self, k, proj, objects.groups[proj.post])
                      for k, proj in enumerate(built.projections) if proj.conv is not None]
        self.weights = nn.ParameterDict()
        for pc in self.projs:
            if not pc.plastic:
                self.weights[pc.name] = nn.Parameter(self._tensor(pc.proj.w))
        self.dale = dale_signs(built, dale, list(self.weights))     # {projection: +1 | -1} kept in sign
        self.scale = {}
        self.history = {name: 2 for name in built.populations}
        for pc in self.projs:
            if pc.proj.linked != "pre":      # synapses send no spikes
                self.history[pc.pre] = max(self.history[pc.pre], max(d for d, _ in pc.groups) + 1)
        for cc in self.convs:
            self.history[cc.pre] = max(self.history[cc.pre], cc.conv.delay + 1)
        self.objects = objects
        # (signal index, component, variable) each population reads, and the samples
        self.signal_uses = {name: built.signal_uses(name) for name in self.pops}
        self.signal_values = [sig.values for sig in built.signals]
        self.signal_grid = [(over, sig.dt / over) for sig in built.signals
                            for over in [signal_oversampling(built.dt, sig.dt)]]
        self.monitor_ids = [torch.as_tensor(m.ids, device=self.device) for m in built.state_monitors]
        self.reset_state()
        self._surrogate_scales(surrogate_scale)

    # --- configuration checks (all before any state exists)
    def _check_modes(self, weights):
        if isinstance(weights, str):
            weights = {"*": weights}
        weights = dict(weights)
        weights.setdefault("*", "auto")
        known = {p.name for p in self.built.projections} | {"*"}
        for name, mode in weights.items():
            if name not in known:
                raise ModelError(f"torch backend: weights given for unknown projection '{name}'")
            if mode not in MODES:
                raise ModelError(f"torch backend: weights mode for '{name}' must be one of {MODES}, got {mode!r}")
        return weights

    @staticmethod
    def _check_surrogate(surrogate):
        """None (atan), one of SURROGATES by name, or a callable such as an snntorch surrogate."""
        if surrogate is None:
            return snntorch.surrogate.atan()
        if isinstance(surrogate, str):
            if surrogate not in SURROGATES:
                raise ModelError(f"torch backend: unknown surrogate {surrogate!r}; choose one of "
                                 f"{', '.join(SURROGATES)} (or pass an snntorch surrogate)")
            return getattr(snntorch.surrogate, surrogate)()
        if not callable(surrogate):
            raise ModelError(f"torch backend: surrogate must be a name ({', '.join(SURROGATES)}) or "
                             f"a callable such as an snntorch surrogate, got {surrogate!r}")
        return surrogate

    @staticmethod
    def check_input_values(name, x):
        """Refuse spikes for source ``name`` that hold NaN (they would silently count as no spike)."""
        if torch.is_floating_point(x) and bool(torch.isnan(x.detach()).any()):
            raise ModelError(f"torch backend: inputs for '{name}' contain NaN")

    def _check_trial_params(self, trial_params):
        out = {}
        for key, values in trial_params.items():
            pop_name, _, var = key.partition(".")
            pop = self.built.populations.get(pop_name)
            if pop is None or pop.kind != "neuron" or not var:
                raise ModelError(f"torch backend: trial_params key '{key}' must be 'population.variable'")
            if var not in pop.params or np.ndim(pop.params[var]) != 0:
                raise ModelError(f"torch backend: trial_params '{key}': only shared parameters "
                                 f"(one number per population) can vary by trial")
            v = np.asarray(values, dtype=np.float64)
            if v.shape != (self.batch,):
                raise ModelError(f"torch backend: trial_params '{key}': expected {self.batch} values "
                                 f"(one per trial), got shape {v.shape}")
            out.setdefault(pop_name, {})[var] = v
        return out

    def _tensor(self, values, dtype=None):
        return torch.as_tensor(np.asarray(values), dtype=dtype or self.dtype, device=self.device)

    def _surrogate_scales(self, scale):
        """The surrogate sees (distance to threshold) / scale. Default scale: the
        size of the threshold itself (|v_thresh|), so that models in volts and
        dimensionless models get gradients of similar size."""
        for name, pc in self.pops.items():
            if scale is not None:
                self.scale[name] = float(scale)
                continue
            rhs = getattr(pc, "distance_rhs", None)
            value = 1.0
            if rhs is not None:
                try:
                    env = dict(codegen.FUNCTIONS, **pc.ns, **self.state[name])
                    value = float(torch.as_tensor(eval(rhs, env)).abs().mean())
                except Exception:
                    value = 1.0
            self.scale[name] = value if np.isfinite(value) and value > 0 else 1.0

    # --- state
    def reset_state(self):
        """Back to the built network's initial state (weights are kept)."""
        B, built = self.batch, self.built
        self.step = 0
        self.state = {name: {} for name in built.populations}     # spike sources keep no state
        for name, pc in self.pops.items():
            group = self.objects.groups[name]
            P = {}
            for var in pc.vars:
                if var in self.trial_params.get(name, {}):
                    P[var] = self._tensor(self.trial_params[name][var]).reshape(B, 1)
                    continue
                v = group.variables[var]
                value = np.asarray(v.get_value())
                dtype = torch.bool if value.dtype == bool else (torch.long if value.dtype.kind in "iu" else None)
                P[var] = self._tensor(value, dtype).expand(B, pc.size).clone()
            if pc.refractory:
                P["_lsstep"] = torch.as_tensor(np.rint(group.variables["lastspike"].get_value() / self.dt),
                                               dtype=torch.long, device=self.device).expand(B, pc.size).clone()
            self.state[name] = P
        for pc in self.projs:
            syn = self.objects.synapses[pc.k]
            Q = {}
            for var in pc.vars:
                if var == "w" and not pc.plastic:
                    continue
                value = pc.proj.w if var == "w" else syn.variables[var].get_value()
                t = self._tensor(value)
                Q[var] = t.expand(B, t.numel()).clone() if pc.plastic else t
            self.state[pc.key] = Q
        self.ring = {name: [torch.zeros(B, pop.size, dtype=self.dtype, device=self.device)
                            for _ in range(self.history[name])]
                     for name, pop in built.populations.items()}
        # the next values of each delayed summed variable, one row per step ahead (``_delayed_sum``)
        self.sum_rings = {(pc.k, (side, target)): [torch.zeros(B, pc.n_post if side == "post" else pc.n_pre,
                                                               dtype=self.dtype, device=self.device)
                                                   for _ in range(pc.proj.summed_delay)]
                          for pc in self.projs if pc.proj.summed_delay > 1 for side, target, _ in pc.summed}
        self.input_ptr = [0] * len(built.inputs)
        self.sources = {name: (pop.spike_steps, pop.spike_ids) for name, pop in built.populations.items()
                        if pop.kind == "spikes"}
        # this network's own (set_rates changes them, not the built network's)
        self.rates = {name: pop.rate for name, pop in built.populations.items() if pop.kind == "poisson"}

    def use_weights(self, weights: dict) -> None:
        """Read the static projections' weights from ``weights`` ({projection:
        one value per synapse}, tensors of this module's dtype and device) from
        now on: tensors owned elsewhere, e.g. by a model that trains them. The
        module's own weight parameters are dropped."""
        sizes = {name: w.numel() for name, w in self.weights.items()}
        if set(weights) != set(sizes):
            raise ModelError(f"torch backend: use_weights needs the weights of {sorted(sizes)}, "
                             f"got {sorted(weights)}")
        for name, w in weights.items():
            if not isinstance(w, torch.Tensor) or w.numel() != sizes[name]:
                raise ModelError(f"torch backend: use_weights: '{name}' must be a tensor of {sizes[name]} "
                                 f"values (one per synapse), got {getattr(w, 'shape', type(w).__name__)}")
        if isinstance(self.weights, nn.ParameterDict):
            del self.weights
        self.weights = dict(weights)

    def constrain_(self):
        """Clamp the weights that Dale's law keeps (``dale=``) back onto their sign:
        call it after each optimiser step. Every run and forward starts with it too,
        so no step runs with a weight of the wrong sign."""
        project_(self.weights, self.dale)

    def synapse_state(self, pc):
        """The projection's per-synapse variables, the static weight included."""
        Q = self.state[pc.key]
        if not pc.plastic:
            Q = dict(Q, w=self.weights[pc.name])
        return Q

    def forward(self, steps: int, inputs=None, outputs=None):
        """Run ``steps`` steps on from the current state. ``inputs``: {spike source:
        spikes (steps, [trials,] neurons)}; returns {population: spikes (steps,
        trials, neurons)} for ``outputs`` (default: the recorded populations),
        differentiable through the surrogate."""
        outputs = tuple(outputs or self.built.spike_monitors)
        for name in outputs:
            if name not in self.built.populations:
                raise ModelError(f"torch backend: unknown output population '{name}'")
        for name, x in (inputs or {}).items():
            if isinstance(x, torch.Tensor):
                self.check_input_values(name, x)
        record = {"spikes": {name: [] for name in self.built.spike_monitors},
                  "states": [[] for _ in self.built.state_monitors]}
        return self.run_chunk(self.step, self.step + int(steps), dict(inputs or {}), outputs, record)

    # --- one chunk of steps
    def source_spikes(self, name, s0, s1, inputs):
        """Spikes (steps, trials, neurons) of source ``name`` for steps [s0, s1)."""
        pop = self.built.populations[name]
        T, B = s1 - s0, self.batch
        if name in inputs:
            x = inputs[name]
            return x.to(self.dtype) if x.dim() == 3 else x.to(self.dtype).unsqueeze(1).expand(T, B, pop.size)
        if pop.kind == "poisson":
            p = self._tensor(self.rates[name] * self.dt)
            return (torch.rand((T, B, pop.size), generator=self.generator, device=self.device,
                               dtype=self.dtype) < p).to(self.dtype)
        steps, ids = self.sources[name]
        keep = (steps >= s0) & (steps < s1)
        x = torch.zeros(T, pop.size, dtype=self.dtype, device=self.device)
        x[torch.as_tensor(steps[keep] - s0, device=self.device),
          torch.as_tensor(ids[keep], device=self.device)] = 1
        return x.unsqueeze(1).expand(T, B, pop.size)

    def _matrices(self, pc):
        """Per delay group: the static weight matrix (pre, post), dense or sparse."""
        w = self.weights[pc.name]
        if pc.full and pc.mode == "dense":
            return [(pc.groups[0][0], w.view(pc.n_pre, pc.n_post))]
        out = []
        for d, idx in pc.groups:
            i, j, wd = pc.I[idx], pc.J[idx], w[idx]
            if pc.mode == "dense":
                m = torch.zeros(pc.n_pre, pc.n_post, dtype=self.dtype, device=self.device)
                out.append((d, m.index_put((i, j), wd, accumulate=True)))
            else:
                out.append((d, torch.sparse_coo_tensor(torch.stack([i, j]), wd, (pc.n_pre, pc.n_post),
                                                         check_invariants=False).coalesce()))
        return out

    @staticmethod
    def _product(x, m):
        """x (..., pre) times the weight matrix m (pre, post)."""
        if m.is_sparse:
            shape = x.shape
            return torch.sparse.mm(m.t(), x.reshape(-1, shape[-1]).t()).t().reshape(*shape[:-1], m.shape[1])
        return x @ m

    def _spike(self, name, cond, distance):
        spikes = cond.to(self.dtype)
        if distance is not None and torch.is_grad_enabled() and isinstance(distance, torch.Tensor) \
                and distance.requires_grad:
            sg = self.surrogate(distance / self.scale[name])
            spikes = spikes + (sg - sg.detach()).to(self.dtype)
        return spikes

    def run_chunk(self, s0, s1, inputs, outputs, record):
        """Steps [s0, s1). Returns {population: spikes (steps, trials, neurons)} for
        ``outputs``; appends recorded data to ``record``."""
        built, B = self.built, self.batch
        self.constrain_()
        src = {name: self.source_spikes(name, s0, s1, inputs) for name, pop in built.populations.items()
               if pop.kind != "neuron"}
        static = {pc.k: self._matrices(pc) for pc in self.projs if pc.fast_target and pc.mode != "synapses"}
        ahead = {}     # (projection, delay) -> source spikes of this chunk times the weights
        for pc in self.projs:
            if pc.k in static and pc.pre in src:
                for d, m in static[pc.k]:
                    # one tensor per step: selecting steps from one big tensor
                    # would cost a full-size zero gradient per step in backward
                    ahead[pc.k, d] = self._product(src[pc.pre], m).unbind(0)
        src = {name: x.unbind(0) for name, x in src.items()}
        out = {name: [] for name in outputs}
        mon_spikes = {name: [] for name in built.spike_monitors}
        for step in range(s0, s1):
            t = step * self.dt
            self._inputs(step)
            self._signals(t)
            # states at the step's start, after its inputs (Brian2's StateMonitor)
            for k, mon in enumerate(built.state_monitors):
                if step % mon.every == 0:
                    P, ids = self.state[mon.population], self.monitor_ids[k]
                    record["states"][k].append(torch.stack([gather(P[v], ids).detach() for v in mon.variables], 1))
            for pc in self.projs:
                if pc.proj.on_pre:
                    self._deliver(pc, step, s0, static.get(pc.k), ahead)
            for cc in self.convs:
                if cc.conv.source is None:
                    self._convolve_events(cc, step)
            for pc in self.projs:
                for side, target, fn in pc.summed:
                    if side == "post":
                        self._summed(pc, side, target, fn, t, step)
            for cc in self.convs:
                if cc.conv.source is not None:
                    self.state[cc.post][cc.target] = cc.apply(self.state[cc.pre][cc.conv.source])
            for pc in self.projs:      # sums onto the presynaptic side may read those of this step
                for side, target, fn in pc.summed:
                    if side == "pre":
                        self._summed(pc, side, target, fn, t, step)
            for name, pc in self.pops.items():
                P = self.state[name]
                pc.update(P, t, step)
                if pc.threshold is None:
                    spikes = torch.zeros(B, pc.size, dtype=self.dtype, device=self.device)
                else:
                    cond, distance = pc.threshold(P, t, step)
                    spikes = self._spike(name, cond, distance)
                    if pc.reset is not None:
                        pc.reset(P, cond, t, step)
                    if pc.refractory:
                        P["_lsstep"] = torch.where(cond, step, P["_lsstep"])
                        P["lastspike"] = torch.where(cond, t, P["lastspike"])
                        P["not_refractory"] = P["not_refractory"] & ~cond
                self.ring[name][step % len(self.ring[name])] = spikes
            for name, x in src.items():
                self.ring[name][step % len(self.ring[name])] = x[step - s0]
            with torch.no_grad():
                for pc in self.projs:
                    if pc.update is not None:
                        self._event(pc, pc.update, None, t, step)
                for pc in self.projs:
                    if pc.on_pre is not None:
                        self._event(pc, pc.on_pre, gather(self._now(pc.pre, step), pc.I) > 0, t, step)
                for pc in self.projs:
                    if pc.on_post is not None:
                        self._event(pc, pc.on_post, gather(self._now(pc.post, step), pc.J) > 0, t, step)
            for name in outputs:
                out[name].append(self._now(name, step))
            for name in mon_spikes:
                mon_spikes[name].append(self._now(name, step).detach() > 0)
        self.step = s1
        for name, steps in mon_spikes.items():
            idx = torch.stack(steps).nonzero().cpu().numpy()
            record["spikes"][name].append((idx[:, 0] + s0, idx[:, 1], idx[:, 2]))
        return {name: torch.stack(v) for name, v in out.items()}

    def _now(self, name, step):
        return self.ring[name][step % len(self.ring[name])]

    def _inputs(self, step):
        for k, inp in enumerate(self.built.inputs):
            ptr = self.input_ptr[k]
            if ptr < inp.steps.size and inp.steps[ptr] == step:
                P = self.state[inp.population]
                P[inp.variable] = self._tensor(inp.values[ptr]).expand_as(P[inp.variable]).clone()
                self.input_ptr[k] = ptr + 1

    def set_signal(self, k: int, values: np.ndarray):
        """Signal ``k``'s samples from the next step on: (K, d), or (K, trials, d)
        for one series per trial."""
        self.signal_values[k] = values if values.ndim == 2 else self._tensor(values)

    def _signals(self, t):
        """Each signal component's value for the step at time ``t`` into the
        shared variable that reads it: a number, or one per trial (trials, 1)."""
        for name, uses in self.signal_uses.items():
            P = self.state[name]
            for k, c, var in uses:
                values = self.signal_values[k]
                over, eps = self.signal_grid[k]         # network.sample_index, without its set-up per step
                row = min(max(int((t / eps + 0.5) / over), 0), values.shape[0] - 1)
                P[var] = float(values[row, c]) if values.ndim == 2 else values[row, :, c].reshape(self.batch, 1)

    def _deliver(self, pc, step, s0, matrices, ahead):
        P = self.state[pc.post]
        ring = self.ring[pc.pre]
        if pc.fast_target is None:
            self._event(pc, pc.deliver, self._arrived(pc, step) > 0, step * self.dt, step, ordered=True)
            return
        total = None
        if matrices is not None:
            for d, m in matrices:
                if (pc.k, d) in ahead and step - d >= s0:
                    part = ahead[pc.k, d][step - d - s0]
                else:
                    part = self._product(ring[(step - d) % len(ring)], m)
                total = part if total is None else total + part
        else:
            # each arriving weight onto the target in the engine's order (a
            # synapse without a spike adds 0.0, which changes nothing)
            x = (self._arrived(pc, step) * self.synapse_state(pc)["w"])[:, pc.order]
            if pc.guard:
                x = x * gather(P["not_refractory"], pc.J_ordered)
            P[pc.fast_target] = P[pc.fast_target].index_add(1, pc.J_ordered, x)
            return
        if pc.guard:
            total = total * P["not_refractory"]
        P[pc.fast_target] = P[pc.fast_target] + total

    def _convolve_events(self, cc, step):
        """A convolution's spikes of ``delay`` steps ago onto its target."""
        P, ring = self.state[cc.post], self.ring[cc.pre]
        total = cc.apply(ring[(step - cc.conv.delay) % len(ring)])
        if cc.guard:
            total = total * P["not_refractory"]
        P[cc.target] = P[cc.target] + total

    def _arrived(self, pc, step):
        """(trials, synapses): the presynaptic spike that reaches each synapse now."""
        ring = self.ring[pc.pre]
        if len(pc.groups) == 1:
            return gather(ring[(step - pc.groups[0][0]) % len(ring)], pc.I)
        flat = torch.stack(ring, 1).reshape(self.batch, -1)       # (trials, slot * pre)
        return flat.index_select(1, (step - pc.lag) % len(ring) * pc.n_pre + pc.I)

    def _summed(self, pc, side, target, fn, t, step):
        value = fn(self.synapse_state(pc), self.state[pc.pre_key], self.state[pc.post_key], pc.I, pc.J, t, step,
                   (self.batch, pc.I.numel()))
        value = torch.as_tensor(value, dtype=self.dtype, device=self.device).expand(self.batch, pc.I.numel())
        key, size, index = (pc.post_key, pc.n_post, pc.J) if side == "post" else (pc.pre_key, pc.n_pre, pc.I)
        zero = torch.zeros(self.batch, size, dtype=self.dtype, device=self.device)
        if pc.proj.summed_delay > 1:
            self.state[key][target] = self._delayed_sum(pc, (side, target), index, value, step)
            return
        self.state[key][target] = zero.index_add(1, index, value)

    def _delayed_sum(self, pc, which, index, value, step):
        """The target's value this step from a summed variable delayed by
        ``connect(delay=...)`` (as the numba engine's ``delayed_sum``): each
        synapse's term goes to the ring row its delay reaches; this step's row
        is the value and starts again from zero."""
        ring = self.sum_rings[pc.k, which]
        for d, synapses in pc.groups:
            row = (step + d - 1) % len(ring)
            ring[row] = ring[row].index_add(1, index[synapses], value[:, synapses])
        now = ring[step % len(ring)]
        ring[step % len(ring)] = torch.zeros_like(now)
        return now

    def _event(self, pc, fn, active, t, step, ordered=False):
        """Run synaptic code ``fn``; where ``active`` (trials, synapses) is given,
        only those synapses change. ``ordered``: add the increments in delivery
        order (``ProjectionCode.order``), else in synapse order. Code that
        reads a neuron variable it adds to runs in rounds of synapses with
        distinct targets (``ProjectionCode.rounds``), each round reading what
        the rounds before it added, as one synapse at a time."""
        if fn.serial:
            for within in pc.rounds(fn.serial, ordered):
                self._event_once(pc, fn, within if active is None else active & within, t, step, ordered)
        else:
            self._event_once(pc, fn, active, t, step, ordered)

    def _event_once(self, pc, fn, active, t, step, ordered):
        Q = self.synapse_state(pc)
        shape = (self.batch, pc.I.numel())
        written, increments = fn(Q, self.state[pc.pre], self.state[pc.post], pc.I, pc.J, t, step, shape)
        store = self.state[pc.key]
        for var, value in written.items():
            value = torch.as_tensor(value, dtype=store[var].dtype, device=self.device)
            store[var] = (torch.where(active, value, store[var]) if active is not None
                          else value.expand_as(store[var]).clone())
        for (side, var, guard), value in increments.items():
            P = self.state[pc.post if side == "post" else pc.pre]
            value = torch.as_tensor(value, dtype=self.dtype, device=self.device).expand(shape)
            if active is not None:
                value = torch.where(active, value, 0.0)
            idx = pc.J if side == "post" else pc.I
            if ordered:
                value, idx = value[:, pc.order], idx[pc.order]
            if guard:
                value = value * gather(P["not_refractory"], idx)
            P[var] = P[var].index_add(1, idx, value)
