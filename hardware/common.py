"""What the hardware targets share beyond the interface: a target's input
network, the emulation beside float64, and optional packages.

The interface and the vocabulary its verbs return (``Violation``,
``QuantizationError``, ``Resources``, ``Emulation``) are the core's,
``spikemem.targets``; the spike distance is ``spikemem.analysis.compare_spikes``.
Like Lava's tagged process models, one definition has a float implementation
(the numba engine) and a fixed-point one chosen by the target; the emulation
report says how far apart their spikes are instead of hiding it.
"""
from __future__ import annotations

import importlib

from spikemem.analysis import compare_spikes
from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork, Network
from spikemem.targets import Emulation


def built_network(network, check_memory=None, too_large: list | None = None) -> BuiltNetwork:
    """A target's input: a Network (built here, once the memory estimate says it
    fits; ``check_memory`` as for ``simulation()``) or an already built one, its
    convolutions listed (``BuiltNetwork.explicit``; ``too_large`` collects those too
    large to list, for a check to report)."""
    if isinstance(network, BuiltNetwork):
        return network.explicit(who="a hardware target", too_large=too_large)
    if isinstance(network, Network):
        from spikemem.backends import require_memory
        from spikemem.progress import status
        # drawing the synapses is what would run out of memory (a convolution is listed up to
        # EXPLICIT_LIMIT synapses, a few hundred MB at most)
        require_memory(network, None, "numba", None, check_memory)
        with status("building the network"):      # (shown where it takes a while: a large map)
            # the chips hold synapses one by one: a convolution's listed
            return network.build().explicit(who="a hardware target", too_large=too_large)
    raise ModelError(f"expected a spikemem Network, got {type(network).__name__}")


def emulate_with(target: str, backend: str, network, duration, check_memory=None,
                 **options) -> Emulation:
    """Run ``network`` on a target's emulator (the simulation ``backend``, built
    with ``options``; all its checks come first) and on the numba engine in
    float64, and compare their spikes step for step; ``check_memory`` as for
    ``simulation()``, for both."""
    from spikemem.backends import simulate, simulation
    if not isinstance(network, Network):
        raise ModelError(f"emulate needs a spikemem Network, got {type(network).__name__}")
    sim = simulation(network, backend, check_memory=check_memory, **options)
    # progress on a terminal or in a notebook (spikemem.progress): an emulation runs for minutes
    reference = simulate(network, duration, "numba", check_memory=check_memory)
    sim.run(duration)
    result = sim.result()
    return Emulation(target, result, reference, compare_spikes(reference, result, sim.built.dt))


def require(module: str, extra: str = "hardware"):
    """Import an optional package, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ModelError(f"'{module}' is not installed; install spikemem's '{extra}' extra: "
                         f"pip install 'spikemem[{extra}]'") from e


def listing_violations(too_large: list, board: str) -> list:
    """A ``Violation`` for each convolution too large to list (``built_network``'s
    ``too_large``): the board holds synapses one by one."""
    from spikemem.network import EXPLICIT_LIMIT
    from spikemem.targets import Violation
    return [Violation(f"projection '{p.name}'", "synapses of a convolution", f"{p.n_synapses:,}",
                      f"{EXPLICIT_LIMIT:,} listed", f"{board} holds synapses one by one; a smaller sheet or kernel "
                      "fits, and numba or torch compute the convolution as it is") for p in too_large]


def linked_violations(built: BuiltNetwork, board: str) -> list:
    """A ``Violation`` for each projection onto or from another projection's synapses
    (an astrocyte's, ``Network.connect``): a board connects neurons to neurons."""
    from spikemem.targets import Violation
    out = []
    for p in built.projections:
        if p.linked:
            other = p.pre if p.linked == "pre" else p.post
            way = "from" if p.linked == "pre" else "onto"
            out.append(Violation(f"projection '{p.name}'", f"sums {way} the synapses of '{other}' (a synapse-"
                                 f"targeting projection)", None, None,
                                 f"{board} connects neurons to neurons; run it on numba, brian2 or torch"))
    return out


#: what to do instead of putting a rate unit, stochastic firing or a signal on a board
UNEXPRESSIBLE_FIX = ("run it on numba, brian2 or torch; on the board, encode the input as spikes "
                     "(spike or Poisson sources) into IF_curr_exp populations")


def rate_violations(built: BuiltNetwork, reasons: dict, fix: str = UNEXPRESSIBLE_FIX) -> list:
    """A ``Violation`` for each population a board cannot hold for what it is:
    a rate unit (``ReLURate``: no spikes), stochastic firing (``rand()`` in the
    threshold, ``PoissonUnit``), a signal read by its equations
    (``Network.signal``). ``reasons``: the board's words for each
    ("rate", "stochastic", "signal"); ``fix``: what to do instead."""
    from spikemem.neurons import template_of
    from spikemem.rates import is_stochastic
    from spikemem.targets import Violation
    out = []
    for name, pop in built.populations.items():
        if pop.kind != "neuron":
            continue
        where, template = f"population '{name}'", template_of(pop.model)
        if template == "ReLURate":
            out.append(Violation(where, f"is a ReLURate: {reasons['rate']}", None, None, fix))
        if is_stochastic(pop.model):
            what = "is a PoissonUnit: stochastic firing" if template == "PoissonUnit" else "stochastic firing"
            out.append(Violation(where, f"{what} ({pop.model.threshold!r} in the threshold) "
                                        f"{reasons['stochastic']}", None, None, fix))
        read = {}
        for k, _, var in built.signal_uses(name):
            read.setdefault(built.signals[k].name, []).append(var)
        for signal, names in read.items():
            out.append(Violation(where, f"reads signal '{signal}' ({', '.join(names)}): {reasons['signal']}",
                                 None, None, fix))
    return out
