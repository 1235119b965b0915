"""A spikemem network as a NIR graph (``export_nir``) and file (``write_nir``),
refused with every offender listed where NIR cannot carry it."""
from __future__ import annotations

import json
import os

import nir

import numpy as np

from spikemem import __version__
from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork, Network
from spikemem.neurons import is_template
from .neurons import NIR_TEMPLATES
from spikemem.results import atomic_write, output_problem

from .convention import CONVENTION, FORMS, problems_error, step_lags
from .names import Names
from .pynn_cells import CUBALIF, if_curr_exp_as_cubalif, if_curr_exp_problems


#: the largest dense weight matrix a convolution is exported as (an Affine node)
NIR_CONVOLUTION_LIMIT = 4_000_000


def nir_problems(built: BuiltNetwork) -> list:
    """Every reason why ``built`` cannot be written as NIR, one line per population or projection."""
    problems = []
    fed = {p.post for p in built.projections}
    for pop in built.populations.values():
        where = f"population '{pop.name}'"
        if pop.kind == "poisson":
            problems.append(f"{where}: Poisson source (a NIR input carries given spikes only)")
        elif pop.kind == "neuron":
            problems += [f"{where}: {why}" for why in _form_problems(pop, built)]
            if pop.model.name in FORMS and pop.name not in fed and np.any(_bias(built, pop)):
                problems.append(f"{where}: a bias without an incoming projection (NIR carries biases in Affine nodes)")
    for name in dict.fromkeys(inp.population for inp in built.inputs if not _is_bias_onset(inp)):
        problems.append(f"population '{name}': current input (NIR has no time-varying drive; "
                        f"only a bias switched on once is carried, as the Affine bias)")
    for name in built.populations:
        for k, _, var in built.signal_uses(name):
            problems.append(f"population '{name}': reads signal '{built.signals[k].name}' ('{var}'); NIR has "
                            f"no time-varying input other than spikes")
    for proj in built.projections:
        problems += [f"projection '{proj.name}': {why}" for why in _projection_problems(proj, built)]
    return problems


def _receptors(built, pop) -> set:
    return {proj.target for proj in built.projections if proj.post == pop.name}


def _form_problems(pop, built) -> list:
    model = pop.model
    if model.name not in FORMS and not is_template(model, "IF_curr_exp"):
        return [f"{model.name} model is not a NIR neuron form (use LIF, CubaLIF, IF or LI "
                f"from spikemem.interop.nir, or IF_curr_exp)"]
    out = []
    if pop.refractory_condition is not None:
        out.append(f"refractory condition {pop.refractory_condition!r} (NIR neurons have no refractoriness)")
    if pop.every > 1:
        out.append(f"its own dt {pop.every * built.dt:g} s, every {pop.every} steps of the network's (spikemem's "
                   f"NIR convention steps every node at the one dt in spikemem.dt)")
    if pop.refractory_steps > 0:     # a period that holds for no step is no refractoriness
        out.append(f"refractory period {pop.refractory} s, {pop.refractory_steps} held steps "
                   f"(NIR neurons have none; tau_refrac=0 has none)")
    if model.name == "IF_curr_exp":
        return out + if_curr_exp_problems(pop, _receptors(built, pop))
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
    if proj.conv is not None and proj.conv.classes.size ** 2 > NIR_CONVOLUTION_LIMIT:
        out.append(f"a convolution over {proj.conv.classes.size:,} neurons; NIR gets it as an Affine node, "
                   f"a dense matrix of up to {NIR_CONVOLUTION_LIMIT:,} weights (NIR's populations are flat "
                   f"vectors, and it has no node that shapes one into a Conv2d's (classes, ny, nx) input, "
                   f"nor periodic padding)")
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


def _per_neuron(value, n, dtype) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(value, dtype=float), (n,)), dtype=dtype)


def graph_from_built(built: BuiltNetwork, dtype=np.float64, outputs=None) -> nir.NIRGraph:
    """The NIR graph of a built network; ModelError listing every offender if it has no NIR form."""
    problems = nir_problems(built)
    if problems:
        raise problems_error("the network cannot be expressed in NIR", problems)
    built = built.explicit(np.inf)       # a convolution as the Affine of its synapses (sized above)
    names = Names(built.populations)
    nodes, edges, out_of = {}, [], {}
    for pop in built.populations.values():
        out_of[pop.name] = pop.name
        if pop.kind == "spikes":
            nodes[pop.name] = nir.Input(input_type={"input": np.array([pop.size])})
            continue
        if pop.model.name == "IF_curr_exp":
            params = if_curr_exp_as_cubalif(pop, _receptors(built, pop), built.dt)
            nodes[pop.name] = nir.CubaLIF(**{p: _per_neuron(params[p], pop.size, dtype) for p in CUBALIF})
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
    """``network`` as a NIR graph (the convention: ``CONVENTION``, docs/interop/nir.md).

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
    problem = output_problem(path, folder=False, force=True)
    if problem:      # before the export's work, naming the caller's path
        raise ModelError(f"cannot write '{os.fspath(path)}': {problem}")
    graph = export_nir(network, dtype, outputs)      # every refusal happens before the file is touched
    with atomic_write(path) as tmp:
        nir.write(tmp, graph)
    return graph
