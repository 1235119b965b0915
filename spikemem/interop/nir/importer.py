"""A NIR graph as a fresh spikemem Network (``import_nir``): Input nodes become
spike sources, neuron nodes populations, and every path of linear nodes between
them a projection (weights and a delay; an Affine bias the population's bias)."""
from __future__ import annotations

import keyword
import os
import re
from dataclasses import dataclass, field, replace

import nir
import numpy as np

from spikemem.connectors import FromMatrix
from spikemem.errors import ModelError
from spikemem.network import Network
from .neurons import NIR_TEMPLATES

from .convention import FORMS, IMPORTED, LEGACY_RESETS, LINEAR, lags, problems_error
from .names import Names
from .rasters import spikes_from_raster
from .read import read_nir


@dataclass
class _Pass:
    """A flattened subgraph's Input or Output: passes its signal through."""
    size: int


@dataclass
class _Signal:
    """A linear combination of spike vectors: ``sum(M @ s_src(t - k*dt)) + bias`` over terms (src, k)."""
    size: int
    terms: dict = field(default_factory=dict)
    bias: np.ndarray = None

    def __post_init__(self):
        self.bias = np.zeros(self.size) if self.bias is None else self.bias

    def __add__(self, other):
        terms = dict(self.terms)
        for key, m in other.terms.items():
            terms[key] = terms[key] + m if key in terms else m
        return _Signal(self.size, terms, self.bias + other.bias)

    def map(self, weight, bias=None):
        out = _Signal(weight.shape[0], {k: weight @ m for k, m in self.terms.items()}, weight @ self.bias)
        if bias is not None:
            out.bias = out.bias + bias
        return out

    def delayed(self, steps):
        out = _Signal(self.size, bias=self.bias)
        for k in np.unique(steps):
            rows = (steps == k)[:, None]
            for (src, d), m in self.terms.items():
                key = (src, d + int(k))
                out.terms[key] = out.terms.get(key, 0) + np.where(rows, m, 0.0)
        return out


def _flatten(graph, prefix="") -> tuple:
    """Nodes and edges of ``graph`` with every subgraph inlined (names joined by '.')."""
    if not isinstance(getattr(graph, "nodes", None), dict):
        raise ModelError(f"subgraph '{prefix[:-1]}' has no node dictionary")
    nodes, edges, entry, exit_ = {}, [], {}, {}
    for name, node in graph.nodes.items():
        full = prefix + str(name)
        if not isinstance(node, nir.NIRGraph):
            nodes[full] = node
            continue
        inner, inner_edges = _flatten(node, full + ".")
        ins = [k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
        outs = [k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
        if len(ins) != 1 or len(outs) != 1:
            raise ModelError(f"subgraph '{full}': needs one Input and one Output node, "
                             f"has {len(ins)} and {len(outs)}")
        entry[full], exit_[full] = f"{full}.{ins[0]}", f"{full}.{outs[0]}"
        inner[entry[full]] = _Pass(_size(_type_shape(node.nodes[ins[0]], "input"), entry[full]))
        inner[exit_[full]] = _Pass(_size(_type_shape(node.nodes[outs[0]], "output"), exit_[full]))
        nodes.update(inner)
        edges += inner_edges
    try:
        pairs = [(str(a), str(b)) for a, b in graph.edges]
    except (TypeError, ValueError):
        raise ModelError(f"{'subgraph ' + repr(prefix[:-1]) if prefix else 'graph'}: edges must be "
                         f"(source, target) pairs") from None
    edges += [(exit_.get(prefix + a, prefix + a), entry.get(prefix + b, prefix + b)) for a, b in pairs]
    return nodes, edges


def _type_shape(node, side):
    types = getattr(node, f"{side}_type", None)
    return None if not isinstance(types, dict) or len(types) != 1 else next(iter(types.values()))


def _size(shape, name) -> int:
    try:
        shape = np.asarray(shape, dtype=np.int64).ravel()
    except (TypeError, ValueError):
        shape = None
    if shape is None or shape.size == 0:
        raise ModelError(f"node '{name}': unreadable shape")
    if shape.size != 1 and np.prod(shape[:-1]) != 1:
        raise ModelError(f"node '{name}': shape {shape.tolist()}; spikemem imports 1-D signals only")
    if shape[-1] < 1:
        raise ModelError(f"node '{name}': empty shape {shape.tolist()}")
    return int(shape[-1])


def population_names(nodes) -> dict:
    """The spikemem name of each NIR node (of a graph, subgraphs inlined, or of node names):
    an ASCII identifier, unique."""
    if isinstance(nodes, nir.NIRGraph):
        nodes = _flatten(nodes)[0]
    names, out = Names(), {}
    for node in nodes:
        name = re.sub(r"[^0-9A-Za-z_]", "_", str(node)).strip("_") or "node"
        if not name[0].isalpha():
            name = "n" + name
        if keyword.iskeyword(name):
            name += "_node"
        out[node] = names.new(name)
    return out


class _Importer:
    """One NIR graph -> one fresh Network. Collects every problem it can before raising."""

    def __init__(self, graph, dt, seed):
        self.nodes, self.edges = _flatten(graph)
        self.dt, self.seed = dt, seed
        self.problems = []
        self.sizes = {}          # node -> (input size, output size)
        self.arrays = {}         # node -> {field: float64 array}
        for name, node in self.nodes.items():
            self._read_node(name, node)
        self._check_edges()
        if self.problems:
            raise problems_error("cannot import the NIR graph", self.problems)
        self.inputs_of = {name: [a for a, b in self.edges if b == name] for name in self.nodes}
        self.outputs_of = {name: [b for a, b in self.edges if a == name] for name in self.nodes}

    # --- reading and checking nodes
    def _array(self, name, node, attr, ndim, optional=False):
        value = getattr(node, attr, None)
        if value is None and optional:
            return None
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):      # (RuntimeError: a tensor needing grad)
            self.problems.append(f"node '{name}': '{attr}' is not numeric")
            return None
        if a.ndim != ndim:
            self.problems.append(f"node '{name}': '{attr}' has shape {a.shape}, expected {ndim}-D")
            return None
        if not np.all(np.isfinite(a)):
            self.problems.append(f"node '{name}': '{attr}' has non-finite values")
            return None
        return a

    def _read_node(self, name, node):
        kind = type(node).__name__
        if isinstance(node, _Pass):
            self.sizes[name] = (node.size, node.size)
            return
        if kind not in IMPORTED or not isinstance(node, nir.NIRNode):
            self.problems.append(f"node '{name}': type '{kind}' is not one spikemem imports ({', '.join(IMPORTED)})")
            return
        if kind in ("Input", "Output"):
            try:
                n = _size(_type_shape(node, kind.lower()), name)
            except ModelError as e:
                self.problems.append(str(e))
                return
            self.sizes[name] = (n, n)
            return
        fields = {"Affine": (("weight", 2), ("bias", 1)), "Linear": (("weight", 2),), "Scale": (("scale", 1),),
                  "Delay": (("delay", 1),), "Threshold": (("threshold", 1),)}.get(kind)
        if fields is None:
            fields = tuple((p, 1) for p in FORMS[kind].params)
        arrays = {f: self._array(name, node, f, nd, optional=(kind, f) == ("Affine", "bias")) for f, nd in fields}
        for tau in ("tau", "tau_mem", "tau_syn"):
            if arrays.get(tau) is not None and np.any(arrays[tau] <= 0):
                self.problems.append(f"node '{name}': {tau} must be positive")
        if any(v is None for f, v in arrays.items() if (kind, f) != ("Affine", "bias")):
            return
        if kind in ("Affine", "Linear"):
            out, inp = arrays["weight"].shape
            if arrays.get("bias") is not None and arrays["bias"].shape != (out,):
                self.problems.append(f"node '{name}': bias has {arrays['bias'].size} values for {out} outputs")
                return
            self.sizes[name] = (inp, out)
        else:
            shapes = {f: a.shape for f, a in arrays.items()}
            if len(set(shapes.values())) != 1:
                self.problems.append(f"node '{name}': parameters of different shapes {shapes}")
                return
            n = next(iter(shapes.values()))[0]
            self.sizes[name] = (n, n)
        self.arrays[name] = arrays
        if kind == "Delay" and np.any(arrays["delay"] < 0):
            self.problems.append(f"node '{name}': negative delay")

    def _check_edges(self):
        for a, b in self.edges:
            missing = [x for x in (a, b) if x not in self.nodes]
            if missing:
                self.problems.append(f"edge '{a}' -> '{b}': unknown node(s) {missing}")
                continue
            if isinstance(self.nodes[a], nir.Output) or isinstance(self.nodes[b], nir.Input):
                self.problems.append(f"edge '{a}' -> '{b}': leaves an Output or enters an Input")
            elif a in self.sizes and b in self.sizes and self.sizes[a][1] != self.sizes[b][0]:
                self.problems.append(f"edge '{a}' -> '{b}': '{a}' gives {self.sizes[a][1]} values, "
                                     f"'{b}' takes {self.sizes[b][0]}")

    def kind(self, name):
        node = self.nodes[name]
        return "Pass" if isinstance(node, _Pass) else type(node).__name__

    # --- the populations and what they emit
    def endpoints(self):
        """Populations in node order, and for each node that emits spikes, the population it belongs to."""
        pops = [n for n in self.nodes if self.kind(n) == "Input" or self.kind(n) in FORMS]
        spikes_of = {n: n for n in pops if self.kind(n) == "Input" or FORMS[self.kind(n)].spiking}
        self.threshold = {}
        for name in self.nodes:
            if self.kind(name) != "Threshold":
                continue
            src = self.inputs_of[name]
            if len(src) != 1 or self.kind(src[0]) != "LI":
                self.problems.append(f"node '{name}': a Threshold must follow exactly one LI node "
                                     f"(spikemem has no stateless threshold), it follows {src}")
                continue
            li = src[0]
            others = [b for b in self.outputs_of[li] if b != name and self.kind(b) != "Output"]
            if others or li in self.threshold:
                self.problems.append(f"node '{li}': an LI with a Threshold may feed only Output nodes besides it")
            self.threshold[li] = self.arrays[name]["threshold"]
            spikes_of[name] = li
        return pops, spikes_of

    def signal(self, name, spikes_of, memo, visiting):
        """The input ``name`` computes in one step, in terms of spike vectors of populations."""
        if name in spikes_of:
            n = self.sizes[name][1]
            return _Signal(n, {(spikes_of[name], 0): np.eye(n)})
        if name in memo:
            return memo[name]
        kind = self.kind(name)
        if kind not in LINEAR + ("Pass",):
            raise ModelError(f"node '{name}' ({kind}) feeds a projection with a continuous value; "
                             f"spikemem projections carry spikes")
        if name in visiting:
            raise ModelError(f"node '{name}': a loop of linear nodes with no neuron in it")
        visiting.add(name)
        total = self.input_signal(name, spikes_of, memo, visiting)
        a = self.arrays.get(name, {})
        if kind == "Affine":
            out = total.map(a["weight"], a.get("bias"))
        elif kind == "Linear":
            out = total.map(a["weight"])
        elif kind == "Scale":
            out = total.map(np.diag(a["scale"]))
        elif kind == "Delay":
            out = total.delayed(self._steps(name, a["delay"]))
        else:
            out = total
        visiting.discard(name)
        memo[name] = out
        return out

    def input_signal(self, name, spikes_of, memo, visiting):
        total = _Signal(self.sizes[name][0])
        for src in self.inputs_of[name]:
            total = total + self.signal(src, spikes_of, memo, visiting)
        return total

    def _steps(self, name, delay):
        steps = np.rint(delay / self.dt)
        if np.any(np.abs(delay / self.dt - steps) > 1e-6):
            raise ModelError(f"node '{name}': delay {delay[np.argmax(np.abs(delay / self.dt - steps))]} s is "
                             f"not a whole number of steps (dt = {self.dt} s)")
        return steps.astype(np.int64)

    # --- the network
    def network(self, inputs) -> Network:
        pops, spikes_of = self.endpoints()
        if self.problems:
            raise problems_error("cannot import the NIR graph", self.problems)
        names = population_names(self.nodes)
        signals, memo = {}, {}
        for name in pops:
            if self.kind(name) != "Input":
                signals[name] = self.input_signal(name, spikes_of, memo, set())
        inputs = self._input_spikes(inputs or {}, pops, names)
        lag_of = lags([n for n in pops if self.kind(n) == "Input"],
                    [(src, post) for post, sig in signals.items() for (src, _), m in sig.terms.items() if np.any(m)])
        net = Network(self.dt, self.seed)
        for name in pops:
            if self.kind(name) == "Input":
                times, ids = inputs.get(name, ([], []))
                net.spike_source(names[name], self.sizes[name][1], np.asarray(times, float), ids)
                continue
            bias, onset = signals[name].bias, lag_of.get(name)
            if not np.any(bias) or not onset:     # (lag 0 or undefined: on from the start)
                net.population(names[name], self.sizes[name][1], self._model(name, bias))
                continue
            # The population's first input arrives at step `onset` (its lag); a same-step
            # consumer starts it then, with the bias. Until then it rests at v_leak.
            net.population(names[name], self.sizes[name][1], self._model(name, 0.0))
            net.current(names[name], [onset * self.dt], bias[None, :], variable="bias")
        taken = Names(names.values())
        for post, sig in signals.items():
            for (src, k), m in sig.terms.items():
                if not np.any(m):
                    continue
                proj = taken.new(f"{names[src]}_to_{names[post]}" + (f"_d{k + 1}" if k else ""))
                net.connect(names[src], names[post], FromMatrix(m.T), delay=(k + 1) * self.dt,
                            receptor="input", name=proj)
        self._record(net, names, spikes_of)
        net.build()                 # every remaining check, before the caller sees the network
        return net

    def _model(self, name, bias):
        kind = self.kind(name)
        params = {p: _shared(v) for p, v in self.arrays[name].items()}
        params["bias"] = _shared(bias)
        if kind == "LI" and name in self.threshold:
            params["v_threshold"] = _shared(self.threshold[name])
        model = NIR_TEMPLATES[kind](**params)
        reset = (getattr(self.nodes[name], "metadata", None) or {}).get("spikemem.reset")
        if reset == "subtract" and FORMS[kind].spiking:
            model = replace(model, reset="v = v - v_threshold", name=f"{kind}_subtract_reset")
        return model

    def _input_spikes(self, inputs, pops, names) -> dict:
        if not isinstance(inputs, dict):
            raise ModelError(f"inputs must map Input node names to spike rasters, got {type(inputs).__name__}")
        by_name = {n: n for n in pops if self.kind(n) == "Input"}
        by_name.update({names[n]: n for n in by_name})
        out = {}
        for key, raster in inputs.items():
            if key not in by_name:
                raise ModelError(f"inputs: '{key}' is not an Input node; the graph's inputs are "
                                 f"{sorted(n for n in pops if self.kind(n) == 'Input')}")
            node = by_name[key]
            out[node] = spikes_from_raster(raster, self.dt, self.sizes[node][1], f"inputs['{key}']")
        return out

    def _record(self, net, names, spikes_of):
        recorded = set()
        for out in (n for n in self.nodes if self.kind(n) == "Output"):
            for src in self.inputs_of[out]:
                while self.kind(src) == "Pass" and len(self.inputs_of[src]) == 1 and src not in spikes_of:
                    src = self.inputs_of[src][0]
                if src in spikes_of:
                    if spikes_of[src] not in recorded:
                        net.record_spikes(names[spikes_of[src]])
                        recorded.add(spikes_of[src])
                elif self.kind(src) == "LI":
                    net.record_state(names[src], "v")
                else:
                    raise ModelError(f"Output '{out}' is fed by '{src}' ({self.kind(src)}), a linear readout; "
                                     f"spikemem records the spikes or the v of neuron nodes only")


def _shared(values):
    """One number where every neuron has the same value, else the per-neuron array."""
    values = np.asarray(values, dtype=float).ravel()
    return float(values[0]) if values.size and np.all(values == values[0]) else values


def import_nir(source, dt=None, inputs=None, seed=0, legacy_reset=None) -> Network:
    """A fresh Network from a NIR graph or file; ModelError (and no network) if it cannot be imported.

    ``dt``: seconds per step (default: the graph's ``spikemem.dt`` metadata).
    ``inputs``: ``{Input node name: (steps, neurons) 0/1 array}``; row k fires
    at step k. Inputs not given start without spikes (``set_spikes`` adds them).
    Spikes of the nodes that feed Output nodes are recorded (the v of an LI).
    A consumer's output at step n is the recorded spikes at step n + lag
    (``step_lags(network)``); each population's bias is switched on at its lag.
    ``legacy_reset``: "zero" or "subtract" for files without v_reset (a graph
    object in memory always carries v_reset). ``seed``: the Network's seed.
    Population names are the node names made identifiers (``population_names``).
    """
    if legacy_reset is not None and legacy_reset not in LEGACY_RESETS:
        raise ModelError(f"legacy_reset must be one of {LEGACY_RESETS}, got {legacy_reset!r}")
    if isinstance(source, nir.NIRGraph):
        graph = source
    elif isinstance(source, nir.NIRNode):
        raise ModelError(f"import_nir needs a NIR graph, got a single {type(source).__name__} node")
    elif isinstance(source, (str, os.PathLike)):
        graph = read_nir(source, legacy_reset)
    else:
        raise ModelError(f"import_nir needs a nir.NIRGraph or a file path, got {type(source).__name__}")
    if dt is None:
        dt = (getattr(graph, "metadata", None) or {}).get("spikemem.dt")
        if dt is None:
            raise ModelError("import_nir: give dt (seconds per step); the graph does not state one")
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise ModelError(f"import_nir: dt must be a number of seconds, got {dt!r}") from None
    if not (np.isfinite(dt) and dt > 0):
        raise ModelError(f"import_nir: dt must be positive, got {dt}")
    return _Importer(graph, dt, seed).network(inputs)
