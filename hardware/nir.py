"""NIR export and import: a spikemem network as a NIR graph, and a NIR graph as a network.

NIR (the Neuromorphic Intermediate Representation, package ``nir``) describes
a circuit as nodes (neurons, linear maps) and edges, with no time step of its
own. Running a graph means choosing one; spikemem fixes the choice below and
writes it into every exported graph's metadata, so that a graph gives the same
spikes here, in norse (``norse.torch.from_nir``) and in snntorch
(``snntorch.import_nir.import_from_nir``).

Convention (``CONVENTION``, stored as graph metadata ``spikemem.convention``)
--------------------------------------------------------------------------
* Time step ``dt`` seconds (metadata ``spikemem.dt``); ``tau`` values are seconds.
* Integration: one forward-Euler step per dt, with ``I`` the node's input in
  that step (the sum of its incoming Affine outputs ``W s + b``, ``s`` the 0/1
  spike vector)::

      LIF, LI   v += dt/tau * (v_leak - v + r*I)
      IF        v += dt * r * I                          (r in 1/s)
      CubaLIF   i_syn += dt/tau_syn * (w_in*I - i_syn)
                v += dt/tau_mem * (v_leak - v + r*i_syn)  (the updated i_syn)

  These are the templates ``spikemem.neurons.LIF, CubaLIF, IF, LI`` (method
  "euler"); NIR's ``r`` and ``tau`` are their ``r`` and ``tau`` unchanged.
* Spikes: ``v > v_threshold`` after the update, then ``v = v_reset`` -- the
  rule of NIR >= 1.0 files that carry ``v_reset``. Files without it (NIR 0.x
  and early 1.0, e.g. ``version 0.2.0``) document a subtractive reset while
  norse and snntorch reset to zero: they are refused unless
  ``legacy_reset="zero"`` or ``"subtract"`` says which one was meant. A
  Threshold node after an LI spikes in every step with ``v > threshold`` and
  resets nothing. No refractoriness.
* Delays: a spikemem projection acts d >= 1 steps after the spike. In NIR it is
  an Affine followed, when d > 1, by ``Delay((d - 1) * dt)``: an Affine acts in
  the same step, so the remaining step is spikemem's transmission step. A
  population reached through k projections from the inputs therefore spikes k
  steps later in spikemem than in a consumer that applies every Affine in the
  step it is computed (``step_lags``, metadata ``spikemem.step_lags``). A
  projection from a population onto itself needs its one step in both (a
  consumer feeds a cycle with the previous step's output).
* Bias: an Affine's bias is the ``bias`` variable of the population it feeds
  (export writes it into the population's first incoming Affine). A same-step
  consumer applies it from its first step, which is spikemem's step ``lag``;
  import therefore switches a population's bias on at its lag (a current
  input on ``bias``), so that it rests at ``v_leak`` until then and agrees
  from the first step. Export accepts that one switch-on, no other current input.
* Initial state: ``v = v_leak`` (LIF, CubaLIF, LI), ``v = 0`` (IF), ``i_syn = 0``.

So: a consumer's output at step n equals spikemem's spikes at step n + lag,
for every n, when the consumer follows NIR's equations as above.

What the consumers do differently (nir 1.0.8, nirtorch 2.6, norse 1.1.0,
snntorch 1.0.0; read from their from_nir / import_from_nir code):

* norse ``from_nir`` drops ``r`` and ``v_reset`` of LIF and IF, drops ``dt``
  of IF (``v += I``), leaks CubaLIF's current towards ``v_leak``, has no LI,
  Threshold or Delay, and computes in float32. It agrees when ``r = 1`` (LIF),
  ``r = 1/dt`` (IF), ``v_reset = 0`` and, for CubaLIF, ``v_leak = 0``. Its
  executor returns the output of the last node it runs, so give a graph one
  Output. ``norse.torch.to_nir`` writes ``tau = dt * tau`` (1e-5 for 10 ms at
  dt = 1 ms).
* snntorch ``import_from_nir`` integrates at a fixed ``dt = 1e-4`` whatever
  the graph's, requires ``v_leak = 0``, ``v_reset = 0``, one threshold per
  layer and, for CubaLIF, ``r = tau_mem/dt``; its IF is a leaky neuron (beta
  0.9). nirtorch's ``nir_to_torch``, which it uses, never returns on a graph
  with two Output nodes, and raises AttributeError where snntorch wraps a
  recurrent layer into a subgraph (norse's braille.nir). snntorch's
  ``export_to_nir`` fails NIR's type check with nir 1.0.8.

Import maps Input nodes to spike sources, LIF/CubaLIF/IF/LI nodes to
populations, and every path of Affine/Linear/Scale/Delay nodes between them to
a projection (a weight matrix, a delay; the bias becomes the population's
``bias``). Subgraphs are inlined. The nodes feeding Output nodes are recorded.
"""
from __future__ import annotations

import json
import keyword
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field, replace

import nir
import numpy as np

from spikemem import __version__
from spikemem.connectors import FromMatrix
from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork, Network
from spikemem.neurons import NIR_TEMPLATES
from spikemem.results import SpikeTrain, atomic_write

CONVENTION = (
    "spikemem NIR convention: fixed step dt seconds (metadata spikemem.dt); one forward-Euler "
    "step per dt with I the node's input in that step (sum of incoming Affine outputs W s + b): "
    "LIF/LI v += dt/tau*(v_leak - v + r*I); IF v += dt*r*I; CubaLIF i_syn += dt/tau_syn*(w_in*I - i_syn) "
    "then v += dt/tau_mem*(v_leak - v + r*i_syn) with the updated i_syn. Spike when v > v_threshold "
    "after the update, then v = v_reset (explicit v_reset, NIR >= 1.0); Threshold after LI: spike when "
    "v > threshold, no reset; no refractoriness. Initial v = v_leak (0 for IF), i_syn = 0. A spikemem "
    "projection with delay d >= 1 steps is Affine (same step) + Delay((d-1)*dt); its remaining step "
    "makes a population k projections from the inputs spike k steps later in spikemem than in a "
    "same-step consumer (spikemem.step_lags); a projection onto its own population keeps one step in both. "
    "An Affine bias is the bias of the population it feeds; spikemem switches it on at the population's "
    "lag, when a same-step consumer starts."
)

#: the most array elements, group depth and objects a file may declare before it is refused
MAX_ELEMENTS = 50_000_000
MAX_DEPTH = 32
MAX_OBJECTS = 100_000

LEGACY_RESETS = ("zero", "subtract")


@dataclass(frozen=True)
class NodeForm:
    """A NIR neuron node and the spikemem template of the same name (same parameter names)."""
    name: str
    params: tuple
    spiking: bool = True


FORMS = {f.name: f for f in (
    NodeForm("LIF", ("tau", "r", "v_leak", "v_threshold", "v_reset")),
    NodeForm("CubaLIF", ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")),
    NodeForm("IF", ("r", "v_threshold", "v_reset")),
    NodeForm("LI", ("tau", "r", "v_leak"), spiking=False),
)}
LINEAR = ("Affine", "Linear", "Scale", "Delay")
IMPORTED = ("Input", "Output", "Threshold", "NIRGraph") + LINEAR + tuple(FORMS)


def _problems_error(what: str, problems: list) -> ModelError:
    return ModelError(f"{what}:\n  " + "\n  ".join(problems))


# =================================================================== export
def nir_problems(built: BuiltNetwork) -> list:
    """Every reason why ``built`` cannot be written as NIR, one line per population or projection."""
    problems = []
    fed = {p.post for p in built.projections}
    for pop in built.populations.values():
        where = f"population '{pop.name}'"
        if pop.kind == "poisson":
            problems.append(f"{where}: Poisson source (a NIR input carries given spikes only)")
        elif pop.kind == "neuron":
            problems += [f"{where}: {why}" for why in _form_problems(pop)]
            if pop.model.name in FORMS and pop.name not in fed and np.any(_bias(built, pop)):
                problems.append(f"{where}: a bias without an incoming projection (NIR carries biases in Affine nodes)")
    for name in dict.fromkeys(inp.population for inp in built.inputs if not _is_bias_onset(inp)):
        problems.append(f"population '{name}': current input (NIR has no time-varying drive; "
                        f"only a bias switched on once is carried, as the Affine bias)")
    for proj in built.projections:
        problems += [f"projection '{proj.name}': {why}" for why in _projection_problems(proj, built)]
    return problems


def _form_problems(pop) -> list:
    model = pop.model
    if model.name not in FORMS:
        return [f"{model.name} model is not a NIR neuron form (use LIF, CubaLIF, IF or LI "
                f"from spikemem.neurons)"]
    out = []
    if pop.refractory > 0:
        out.append(f"refractory period {pop.refractory} s (NIR neurons have none)")
    template = NIR_TEMPLATES[model.name](**({"v_threshold": 0.0} if model.name == "LI" and model.threshold else {}))
    for part in ("equations", "threshold", "reset", "method"):
        if getattr(model, part) != getattr(template, part):
            out.append(f"its {part} differ from spikemem.neurons.{model.name} (not a NIR {model.name})")
    return out


def _projection_problems(proj, built) -> list:
    out = []
    if proj.plastic_pre or proj.on_post or proj.state or set(proj.dims) != {"w"}:
        out.append("synapse model with state or plasticity (NIR carries static weights only)")
    if proj.on_pre != f"{proj.target}_post += w":
        out.append(f"delivery '{proj.on_pre}' (NIR adds the weight to the node's input)")
    post = built.populations[proj.post]
    if post.model.name in FORMS and proj.target != "x":
        out.append(f"drives '{proj.target}'; a NIR node takes its input through 'x' (receptor 'input')")
    if proj.delay.size and np.any(proj.delay != proj.delay[0]):
        out.append(f"per-synapse delays of {proj.delay.min()} to {proj.delay.max()} steps "
                   f"(NIR has one delay per projection)")
    pre = built.populations[proj.pre]
    if pre.kind == "neuron" and pre.model.threshold is None:
        out.append(f"population '{pre.name}' emits no spikes (in NIR its output would be a continuous value)")
    return out


def _is_bias_onset(inp) -> bool:
    return inp.variable == "bias" and inp.steps.size == 1


def _bias(built, pop) -> np.ndarray:
    """A population's bias: the value a bias onset switches on, else its initial value."""
    onset = [inp for inp in built.inputs if inp.population == pop.name and _is_bias_onset(inp)]
    return onset[0].values[0] if onset else np.broadcast_to(pop.init.get("bias", 0.0), (pop.size,))


def _lags(sources, edges) -> dict:
    """Projections on the way from ``sources`` to each node; None where that is not one number."""
    edges = [(a, b) for a, b in edges if a != b]
    lag = {name: 0 for name in sources}
    frontier = list(lag)
    while frontier:
        nxt = []
        for pre, post in edges:
            if pre in frontier and post not in lag:
                lag[post] = lag[pre] + 1
                nxt.append(post)
        frontier = nxt
    bad = {post for pre, post in edges if pre not in lag or lag[post] != lag[pre] + 1}
    while True:                     # everything downstream of a bad node is bad too
        more = {post for pre, post in edges if pre in bad} - bad
        if not more:
            return {name: value for name, value in lag.items() if name not in bad}
        bad |= more


def step_lags(network) -> dict:
    """Steps by which each population's spikes trail a consumer that applies Affine nodes in the same step.

    Spike sources lag 0; a population reached through k projections lags k.
    ``None`` where no constant lag exists: populations no input reaches, and
    populations (with everything downstream) fed by projections that skip or
    go back across layers.
    """
    built = network if isinstance(network, BuiltNetwork) else network.build()
    lag = _lags([name for name, p in built.populations.items() if p.kind != "neuron"],
                [(p.pre, p.post) for p in built.projections])
    return {name: lag.get(name) for name in built.populations}


class _Names:
    """Unique node names: the population names first, then suffixes where a name is taken."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def new(self, name: str) -> str:
        out, k = name, 2
        while out in self.taken:
            out, k = f"{name}_{k}", k + 1
        self.taken.add(out)
        return out


def _per_neuron(value, n, dtype) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(value, dtype=float), (n,)), dtype=dtype)


def graph_from_built(built: BuiltNetwork, dtype=np.float64, outputs=None) -> nir.NIRGraph:
    """The NIR graph of a built network; ModelError listing every offender if it has no NIR form."""
    problems = nir_problems(built)
    if problems:
        raise _problems_error("the network cannot be expressed in NIR", problems)
    names = _Names(built.populations)
    nodes, edges, out_of = {}, [], {}
    for pop in built.populations.values():
        out_of[pop.name] = pop.name
        if pop.kind == "spikes":
            nodes[pop.name] = nir.Input(input_type={"input": np.array([pop.size])})
            continue
        form = FORMS[pop.model.name]
        nodes[pop.name] = getattr(nir, form.name)(
            **{p: _per_neuron(pop.params[p], pop.size, dtype) for p in form.params})
        if pop.model.name == "LI" and pop.model.threshold:
            out_of[pop.name] = names.new(f"{pop.name}_threshold")
            nodes[out_of[pop.name]] = nir.Threshold(threshold=_per_neuron(pop.params["v_threshold"], pop.size, dtype))
            edges.append((pop.name, out_of[pop.name]))
    with_bias = set()
    for proj in built.projections:
        pre, post = built.populations[proj.pre], built.populations[proj.post]
        weight = np.zeros((post.size, pre.size))
        np.add.at(weight, (proj.j, proj.i), proj.w)
        bias = np.zeros(post.size)
        if proj.post not in with_bias:         # the population's bias rides on its first Affine
            bias = _per_neuron(_bias(built, post), post.size, float)
            with_bias.add(proj.post)
        last = names.new(proj.name)
        nodes[last] = nir.Affine(weight=weight.astype(dtype), bias=bias.astype(dtype),
                                 metadata={"spikemem.projection": proj.name})
        edges.append((out_of[proj.pre], last))
        steps = int(proj.delay[0]) if proj.delay.size else 1
        if steps > 1:
            delay = names.new(f"{proj.name}_delay")
            nodes[delay] = nir.Delay(delay=np.full(post.size, (steps - 1) * built.dt, dtype=dtype))
            edges.append((last, delay))
            last = delay
        edges.append((last, proj.post))
    for pop in _outputs(built, outputs):
        out = names.new(f"{pop}_output")
        nodes[out] = nir.Output(output_type={"output": np.array([built.populations[pop].size])})
        edges.append((out_of[pop], out))
    lags = step_lags(built)
    metadata = {"spikemem.dt": float(built.dt), "spikemem.convention": CONVENTION,
                "spikemem.version": __version__, "spikemem.nir_version": nir.version,
                "spikemem.network_hash": built.hash,
                "spikemem.step_lags": json.dumps(lags)}
    try:
        return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=True)
    except (ValueError, AssertionError, NotImplementedError) as e:      # a bug here, not the user's
        raise ModelError(f"the exported NIR graph does not type-check: {e}") from None


def _outputs(built, outputs) -> list:
    """The populations that get an Output node: ``outputs``, or else every neuron population
    that projects to no other population (the last layer)."""
    neuron = [name for name, p in built.populations.items() if p.kind == "neuron"]
    if outputs is None:
        pres = {p.pre for p in built.projections if p.pre != p.post}
        return [name for name in neuron if name not in pres]
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    unknown = [name for name in outputs if name not in neuron]
    if unknown:
        raise ModelError(f"outputs {unknown} are not neuron populations; these are {neuron}")
    return list(dict.fromkeys(outputs))


def export_nir(network: Network, dtype=np.float64, outputs=None) -> nir.NIRGraph:
    """``network`` as a NIR graph (see the module docstring for the convention).

    Raises ModelError listing every population and projection NIR cannot carry.
    ``dtype`` of the stored arrays: float64 keeps spikemem's numbers exactly;
    float32 is what most consumers compute in. ``outputs``: the populations
    given Output nodes (default: the last layer). One Output is what consumers
    handle: norse's executor returns one node's output, and nirtorch 2.6
    (snntorch's importer) does not return from a graph with two.
    """
    return graph_from_built(network.build(), dtype, outputs)


def write_nir(network: Network, path, dtype=np.float64, outputs=None) -> nir.NIRGraph:
    """Write ``network`` as a NIR (HDF5) file, atomically (a temporary file in the same
    directory, then a rename), and return the graph written."""
    graph = export_nir(network, dtype, outputs)      # every refusal happens before the file is touched
    with atomic_write(path) as tmp:
        nir.write(tmp, graph)
    return graph


# =================================================================== reading files
def read_nir(path, legacy_reset=None) -> nir.NIRGraph:
    """Read a NIR file safely: ModelError for anything that is not a well-formed NIR 1.x graph.

    Checked first, in a child process with time and memory limits (``_SCAN``):
    an HDF5 file that reads without error, with a version and a node group, no
    links or external storage, at most ``MAX_ELEMENTS`` array elements, node
    types spikemem imports, and an explicit ``v_reset`` on every spiking node
    (else ``legacy_reset`` must say which reset the file meant; see the module
    docstring). Then ``nir.read``; whatever it raises becomes a ModelError.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelError(f"{path}: no such NIR file")
    version, legacy = _scan(path)
    if legacy and legacy_reset not in LEGACY_RESETS:
        if legacy_reset is not None:
            raise ModelError(f"legacy_reset must be one of {LEGACY_RESETS}, got {legacy_reset!r}")
        raise ModelError(
            f"{path}: written by NIR {version}; its spiking nodes {legacy} carry no v_reset. NIR before "
            f"v_reset documented a reset by subtracting the threshold, while norse and snntorch reset to "
            f"zero; pass legacy_reset='zero' or 'subtract' to say which one the file means")
    try:
        graph = nir.read(path, type_check=False)
    except Exception as e:       # nir and h5py raise many types for malformed content
        raise ModelError(f"{path}: malformed NIR graph ({type(e).__name__}: {e})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise ModelError(f"{path}: the file holds a single {type(graph).__name__} node, not a NIR graph")
    for name in legacy:
        _node_at(graph, name).metadata["spikemem.reset"] = legacy_reset
    return graph


def _node_at(graph, dotted: str):
    node = graph
    for part in dotted.split("/"):
        node = node.nodes[part]
    return node


# The first read of a file happens in a child process that imports only h5py:
# a damaged or hostile HDF5 file can make the HDF5 library loop, allocate
# without bound or crash, and none of that may happen to the caller. The child
# checks the structure, reads every dataset once within the limits, and
# reports; only then does nir.read open the file here.
_SCAN = r"""
import json, re, resource, sys
limits = json.loads(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
import h5py
import numpy as np

class Refused(Exception):
    pass

def check_tree(group, depth, budget):
    if depth > limits["depth"]:
        raise Refused(f"groups nested deeper than {limits['depth']} levels at '{group.name}'")
    for key in group:
        link = group.get(key, getlink=True)
        where = f"{group.name.rstrip('/')}/{key}"
        if not isinstance(link, h5py.HardLink):
            raise Refused(f"'{where}' is a link ({type(link).__name__}); a NIR file holds none")
        obj = group[key]
        budget["objects"] += 1
        if budget["objects"] > limits["objects"]:
            raise Refused(f"more than {limits['objects']} objects")
        if isinstance(obj, h5py.Group):
            check_tree(obj, depth + 1, budget)
        elif isinstance(obj, h5py.Dataset):
            if obj.is_virtual or obj.external:
                raise Refused(f"'{where}' keeps its data outside the file")
            budget["elements"] += int(np.prod(obj.shape, dtype=np.int64)) if obj.shape else 1
            if budget["elements"] > limits["elements"]:
                raise Refused(f"more than {limits['elements']} array elements (at '{where}')")
            obj[()]                  # read once: a damaged dataset fails here, in the child
        else:
            raise Refused(f"'{where}' is a {type(obj).__name__}")

def text(dataset):
    if not isinstance(dataset, h5py.Dataset) or dataset.shape != () or dataset.dtype.kind not in "OSU":
        return None
    value = dataset[()]
    return value.decode("utf8", "replace") if isinstance(value, bytes) else str(value)

def scan_node(group, name, problems, legacy):
    where = f"node '{name}'" if name else "the root node"
    kind = text(group.get("type"))
    if kind is None:
        problems.append(f"{where}: no readable 'type'")
    elif kind == "NIRGraph":
        nodes = group.get("nodes")
        if not isinstance(nodes, h5py.Group) or not isinstance(group.get("edges"), h5py.Dataset):
            problems.append(f"{where}: a NIRGraph without 'nodes' and 'edges'")
            return
        for key in nodes:
            if isinstance(nodes[key], h5py.Group):
                scan_node(nodes[key], f"{name}/{key}" if name else key, problems, legacy)
            else:
                problems.append(f"node '{name}/{key}' is not a group")
    elif kind not in limits["imported"]:
        problems.append(f"{where}: type '{kind}' is not one spikemem imports ({', '.join(limits['imported'])})")
    elif kind in limits["spiking"] and "v_reset" not in group:
        legacy.append(name)

def scan(path):
    try:
        f = h5py.File(path, "r")
    except Exception as e:
        raise Refused(f"not a readable HDF5 file ({e})")
    with f:
        check_tree(f, 0, {"elements": 0, "objects": 0})
        if not isinstance(f.get("version"), h5py.Dataset) or not isinstance(f.get("node"), h5py.Group):
            raise Refused("not a NIR file (no 'version' dataset and 'node' group)")
        version = text(f["version"])
        problems, legacy = [], []
        scan_node(f["node"], "", problems, legacy)
        return {"version": version, "problems": problems, "legacy": legacy}

try:
    out = scan(sys.argv[1])
except Refused as e:
    out = {"error": str(e)}
except MemoryError:
    out = {"error": f"reading it needs more than {limits['memory'] >> 20} MiB"}
except Exception as e:
    out = {"error": f"damaged HDF5 file ({type(e).__name__}: {e})"}
print(json.dumps(out))
"""
SCAN_TIMEOUT_S = 30
SCAN_MEMORY = 4 << 30


def _scan(path) -> tuple:
    """(version, spiking nodes without v_reset) of a NIR file, refusing unsafe or unknown content."""
    limits = {"elements": MAX_ELEMENTS, "depth": MAX_DEPTH, "objects": MAX_OBJECTS, "memory": SCAN_MEMORY,
              "imported": list(IMPORTED), "spiking": [f.name for f in FORMS.values() if f.spiking]}
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        child = subprocess.run([sys.executable, "-I", "-c", _SCAN, path, json.dumps(limits)], env=env,
                               capture_output=True, text=True, timeout=SCAN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ModelError(f"{path}: reading it took more than {SCAN_TIMEOUT_S} s (a damaged or hostile "
                         f"HDF5 file)") from None
    try:
        report = json.loads(child.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ModelError(f"{path}: the HDF5 library failed reading it (exit status {child.returncode}; "
                         f"a damaged or hostile HDF5 file)") from None
    if "error" in report:
        raise ModelError(f"{path}: {report['error']}")
    version = report["version"]
    major = re.match(r"(\d+)\.", version or "")
    if major is None:
        raise ModelError(f"{path}: unreadable NIR version {version!r}")
    if int(major.group(1)) > 1:
        raise ModelError(f"{path}: written by NIR {version}; this spikemem reads NIR 0.x and 1.x "
                         f"(nir {nir.version} installed)")
    if report["problems"]:
        raise _problems_error(f"{path}: cannot import the NIR graph", report["problems"])
    return version, report["legacy"]


# =================================================================== import
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
    names, out = _Names(), {}
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
            raise _problems_error("cannot import the NIR graph", self.problems)
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
            raise _problems_error("cannot import the NIR graph", self.problems)
        names = population_names(self.nodes)
        signals, memo = {}, {}
        for name in pops:
            if self.kind(name) != "Input":
                signals[name] = self.input_signal(name, spikes_of, memo, set())
        inputs = self._input_spikes(inputs or {}, pops, names)
        lags = _lags([n for n in pops if self.kind(n) == "Input"],
                     [(src, post) for post, sig in signals.items() for (src, _), m in sig.terms.items() if np.any(m)])
        net = Network(self.dt, self.seed)
        for name in pops:
            if self.kind(name) == "Input":
                times, ids = inputs.get(name, ([], []))
                net.spike_source(names[name], self.sizes[name][1], np.asarray(times, float), ids)
                continue
            bias, onset = signals[name].bias, lags.get(name)
            if not np.any(bias) or not onset:     # (lag 0 or undefined: on from the start)
                net.population(names[name], self.sizes[name][1], self._model(name, bias))
                continue
            # The population's first input arrives at step `onset` (its lag); a same-step
            # consumer starts it then, with the bias. Until then it rests at v_leak.
            net.population(names[name], self.sizes[name][1], self._model(name, 0.0))
            net.current(names[name], [onset * self.dt], bias[None, :], variable="bias")
        taken = _Names(names.values())
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


def spikes_from_raster(raster, dt, n=None, where="raster") -> tuple:
    """(times, ids) of a (T, N) 0/1 spike raster whose row k is step k (time k*dt)."""
    try:
        a = np.asarray(raster)
        numeric = a.dtype.kind in "biuf"
    except (TypeError, ValueError):
        numeric = False
    if not numeric or a.ndim != 2:
        raise ModelError(f"{where}: expected a (steps, neurons) array of 0/1 spikes")
    if n is not None and a.shape[1] != n:
        raise ModelError(f"{where}: {a.shape[1]} columns for an input of {n} neurons")
    if not np.all((a == 0) | (a == 1)):
        raise ModelError(f"{where}: spikes must be 0 or 1 (graded spikes are not carried)")
    steps, ids = np.nonzero(a)
    return steps * dt, ids


def to_raster(train: SpikeTrain, dt, n_steps, lag=0) -> np.ndarray:
    """A (n_steps, n) bool raster of ``train`` whose row k holds the spikes of step k + lag."""
    steps = np.rint(np.asarray(train.times) / dt).astype(np.int64) - int(lag)
    keep = (steps >= 0) & (steps < n_steps)
    out = np.zeros((n_steps, train.n), dtype=bool)
    out[steps[keep], train.ids[keep]] = True
    return out


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
