"""Layered networks of ``Leaky`` neurons: ``mlp`` builds one; ``layered`` reads
a network back as the chain of layers that the training engines run, refusing,
by name, what does not fit."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..connectors import AllToAll
from ..errors import ModelError
from ..network import BuiltNetwork, Network, own_dt
from ..neurons import Leaky, template_of
from . import checks
from .checks import is_whole


def check_sizes(sizes, where: str) -> list:
    """``sizes`` as a list of at least two integers >= 1."""
    sizes = list(sizes) if isinstance(sizes, (list, tuple)) else sizes
    if not isinstance(sizes, list) or len(sizes) < 2:
        raise ModelError(f"{where}: sizes must be a list [n_in, ..., n_out] of at least two sizes, got {sizes!r}")
    for k, n in enumerate(sizes):
        if not is_whole(n) or n < 1:
            raise ModelError(f"{where}: sizes[{k}] must be an integer >= 1, got {n!r}")
    return [int(n) for n in sizes]


def linear_init(n_post: int, n_pre: int, rng: np.random.Generator) -> np.ndarray:
    """(n_post, n_pre) weights uniform in +-1/sqrt(n_pre), as ``nn.Linear`` draws them."""
    bound = 1 / math.sqrt(n_pre)
    return rng.uniform(-bound, bound, (n_post, n_pre))


def population_names(n_layers: int) -> list:
    """``hidden1``, ..., ``output``: the populations of an ``mlp`` with ``n_layers`` projections."""
    return [f"hidden{k}" for k in range(1, n_layers)] + ["output"]


def mlp(sizes, *, beta: float = 0.9, v_th: float = 1.0, dt: float = 1e-3, recurrent: bool = False,
        seed: int = 0) -> Network:
    """A spike source ``input`` of ``sizes[0]`` neurons, then ``Leaky`` layers
    ``hidden1``, ... and ``output`` of ``sizes[1:]`` neurons, joined all-to-all
    by ``fc1``, ``fc2``, ... (and, with ``recurrent``, ``rec1``, ... from each
    hidden layer onto itself), one step of delay each. ``beta`` is the decay
    per step (tau = dt / ln(1/beta)); weights are drawn as ``nn.Linear`` draws
    them, uniform in +-1/sqrt(n_pre), from ``seed``."""
    sizes = check_sizes(sizes, "mlp")
    checks.seed(seed, "mlp")
    if not 0 < beta < 1:
        raise ModelError(f"mlp: beta must lie in (0, 1), got {beta!r}")
    if not v_th > 0:
        raise ModelError(f"mlp: v_th must be > 0, got {v_th!r}")
    net = Network(dt=dt, seed=int(seed))
    rng = np.random.default_rng(seed)
    model = Leaky(tau=net.dt / math.log(1 / beta), v_th=float(v_th))
    net.spike_source("input", sizes[0], [[] for _ in range(sizes[0])])
    names = ["input"] + population_names(len(sizes) - 1)
    for k, n in enumerate(sizes[1:], start=1):
        net.population(names[k], n, model)
        w = linear_init(n, sizes[k - 1], rng)
        # the built synapses run over (pre, post): the transposed matrix, flattened
        net.connect(names[k - 1], names[k], AllToAll(), weight=w.T.ravel(), name=f"fc{k}")
    if recurrent:       # drawn after every fc: those are ann_mlp's either way
        for k, n in enumerate(sizes[1:-1], start=1):
            net.connect(names[k], names[k], AllToAll(), weight=linear_init(n, n, rng).T.ravel(), name=f"rec{k}")
    net.record_spikes(names[-1])
    return net


@dataclass
class Layer:
    """One feedforward projection ``name`` from ``pre`` onto the population ``post``
    and its optional recurrent projection ``recurrent`` (post onto itself)."""
    name: str
    pre: str
    post: str
    n_pre: int
    n_post: int
    recurrent: str | None = None


@dataclass
class LayerChain:
    """A network read as a chain: ``input`` -> layers[0].post -> ... -> ``output``.
    ``weights``: projection -> (n_post, n_pre); ``beta`` / ``v_th``: population ->
    one value per neuron."""
    input: str
    output: str
    layers: list
    weights: dict
    beta: dict
    v_th: dict
    dt: float

    @property
    def projections(self) -> list:
        """Every projection in chain order: fc1, rec1, fc2, ..."""
        return [n for layer in self.layers for n in (layer.name, layer.recurrent) if n]


def dense(proj, n_pre: int, n_post: int) -> np.ndarray | None:
    """A projection's weights as (n_post, n_pre), or None unless it joins every pair once."""
    if proj.conv is not None or proj.i.size != n_pre * n_post:
        return None
    if not (np.array_equal(proj.i, np.repeat(np.arange(n_pre), n_post))
            and np.array_equal(proj.j, np.tile(np.arange(n_post), n_pre))):
        return None
    return proj.w.reshape(n_pre, n_post).T.copy()


def layered(network: Network, input: str = "input", output: str | None = None, leaky: bool = True) -> LayerChain:
    """``network`` as a chain of all-to-all layers (see ``LayerChain``). ``leaky``:
    every population on it must be a ``Leaky`` starting at v = 0 (the layered
    engine); otherwise any neuron model (the generic engine). Refuses, naming
    it, whatever the chain cannot hold: another source, a side branch, a delay
    other than one step, a plastic synapse, a projection that is not
    all-to-all, current inputs or signals."""
    where = "learn"
    if not isinstance(network, Network):
        raise ModelError(f"{where}: expected a spikemem Network, got {type(network).__name__}")
    built: BuiltNetwork = network.build()
    pops = built.populations
    if input not in pops or pops[input].kind != "spikes":
        raise ModelError(f"{where}: input {input!r} must be a spike-source population of the network; "
                         f"its populations are {sorted(pops)}")
    if output is not None and (output not in pops or pops[output].kind != "neuron"):
        raise ModelError(f"{where}: output {output!r} must be a neuron population of the network")
    if built.inputs or built.signals:
        raise ModelError(f"{where}: the network has current inputs or signals; a trained network is driven "
                         f"by its input spikes only")
    for name, pop in pops.items():
        if name != input and pop.kind != "neuron":
            raise ModelError(f"{where}: population '{name}' is a second source; the input is '{input}'")
    feed, rec = {}, {}
    for proj in built.projections:
        n_pre, n_post = pops[proj.pre].size, pops[proj.post].size
        what = f"{where}: projection '{proj.name}'"
        if proj.conv is not None or dense(proj, n_pre, n_post) is None:
            raise ModelError(f"{what} is not all-to-all (every pre onto every post once)")
        if proj.plastic_pre or proj.on_post or proj.equations.strip().partition(":")[0].strip() != "w" \
                or "\n" in proj.equations.strip():
            raise ModelError(f"{what} has a synapse model; a trained projection is static")
        if proj.on_pre.replace(" ", "") != f"{proj.target}_post+=w":
            raise ModelError(f"{what} delivers '{proj.on_pre}'; a trained projection adds its weight")
        if np.any(proj.delay != 1):
            raise ModelError(f"{what} has delays other than one step ({built.dt} s)")
        if proj.pre == proj.post:
            if proj.post in rec:
                raise ModelError(f"{what}: population '{proj.post}' already has a recurrent projection "
                                 f"'{rec[proj.post].name}'")
            rec[proj.post] = proj
        else:
            if proj.pre in feed:
                raise ModelError(f"{what}: population '{proj.pre}' already projects onward through "
                                 f"'{feed[proj.pre].name}'; the layers must form one chain")
            feed[proj.pre] = proj
    layers, weights, beta, v_th, seen, at = [], {}, {}, {}, {input}, input
    while at in feed and at != output:
        proj = feed[at]
        post = pops[proj.post]
        if proj.post in seen:
            raise ModelError(f"{where}: projection '{proj.name}' closes a loop back onto '{proj.post}'")
        seen.add(proj.post)
        layers.append(Layer(proj.name, proj.pre, proj.post, pops[proj.pre].size, post.size,
                            rec[proj.post].name if proj.post in rec else None))
        weights[proj.name] = dense(proj, pops[proj.pre].size, post.size)
        if proj.post in rec:
            weights[rec[proj.post].name] = dense(rec[proj.post], post.size, post.size)
        if leaky:
            _check_leaky(post, proj.target, where, built.dt)
            beta[post.name] = np.exp(-built.dt / np.broadcast_to(post.params["tau"], post.size)).astype(float)
            v_th[post.name] = np.broadcast_to(np.asarray(post.params["v_th"], float), post.size).copy()
        at = proj.post
    if not layers:
        raise ModelError(f"{where}: no projection leaves the input '{input}'")
    if output is not None and at != output:
        raise ModelError(f"{where}: output '{output}' is not on the chain of layers from '{input}'")
    off = sorted(set(pops) - seen)
    if off:
        raise ModelError(f"{where}: population(s) {off} are not on the chain of layers {input} -> ... -> {at}")
    for name, proj in rec.items():
        if name == input:
            raise ModelError(f"{where}: projection '{proj.name}' connects the input to itself")
    return LayerChain(input, at, layers, weights, beta, v_th, float(built.dt))


def set_thresholds(network: Network, thresholds: dict, where: str) -> None:
    """Write {population: threshold per neuron} into ``network``'s populations as
    their ``v_th``, refused (before any is written) unless each is a population
    of that many neurons whose model has the parameter ``v_th``."""
    for name, v in thresholds.items():
        pop = network.populations.get(name)
        if pop is None or pop.size != np.size(v):
            raise ModelError(f"{where}: the network has no population '{name}' of {np.size(v)} neurons")
        if "v_th" not in pop.model.params:
            raise ModelError(f"{where}: population '{name}' is {pop.model.name}, which has no parameter v_th "
                             f"to take the trained threshold")
    for name, v in thresholds.items():
        network.populations[name].params["v_th"] = np.asarray(v, dtype=float)


def _check_leaky(pop, target, where, dt):
    if template_of(pop.model) != "Leaky":
        raise ModelError(f"{where}: population '{pop.name}' is {pop.model.name}, not Leaky; the layered engine "
                         f"runs Leaky neurons (engine='generic' runs any model)")
    if target != "v":
        raise ModelError(f"{where}: projections into '{pop.name}' must add to v, not {target!r}")
    if np.any(np.asarray(pop.init.get("v", 0.0)) != 0):
        raise ModelError(f"{where}: population '{pop.name}' starts away from v = 0; the layered engine starts "
                         f"every sample at rest")
    if pop.refractory_steps or pop.refractory_condition is not None:
        raise ModelError(f"{where}: population '{pop.name}' has a refractory period; Leaky neurons have none")
    if pop.every > 1:
        raise ModelError(f"{where}: population '{pop.name}' has its {own_dt(pop, dt)}; the layered engine steps "
                         f"every layer at the network's dt")
