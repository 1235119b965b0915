"""spikemem: biologically inspired spiking circuits, defined once, simulated on
numba, Brian2 or PyTorch, and exported to neuromorphic hardware.

``import spikemem as sm`` gives the names a user needs::

    net = sm.Network(dt=0.1 * sm.ms)
    net.population("cells", 100, sm.IF_curr_exp())
    result = sm.simulate(net, 1 * sm.second)
    sm.plot.raster(result)

Names are imported on first use, so that ``import spikemem`` (and the CLI's
``--help``) stays fast.
"""
import importlib

from . import _brian2_quiet

__version__ = "0.1.0"

#: public name -> the module that defines it
_API = {
    # networks
    "Network": "network", "BuiltNetwork": "network", "PopulationView": "network",
    # cell templates
    "NeuronModel": "neurons", "IF_curr_exp": "neurons", "IF_cond_exp": "neurons", "Izhikevich": "neurons",
    "AdEx": "neurons", "RateUnit": "neurons", "Leaky": "neurons", "ReLURate": "rates", "PoissonUnit": "rates",
    # glia
    "LiRinzel": "glia", "sic_synapse": "glia", "GChI": "glia", "glutamate_synapse": "glia",
    "synapses_to_astrocyte": "glia", "AMSU": "glia", "gliotransmitter_synapse": "glia",
    "astrocyte_to_synapses": "glia", "AMSUShared": "glia", "AMSUAstrocyte": "glia", "shared_astrocytes": "glia",
    # synapses and plasticity
    "SynapseModel": "synapses", "STATIC": "synapses", "summed": "synapses",
    "stdp": "plasticity", "spinnaker_stdp": "plasticity", "triplet_stdp": "plasticity",
    "diehl_cook_stdp": "plasticity", "hebbian": "plasticity", "anti_hebbian": "plasticity", "oja": "plasticity",
    "oja_subspace": "plasticity", "normalize_weights": "plasticity",
    # connectors and random parameters
    "OneToOne": "connectors", "AllToAll": "connectors", "FixedProbability": "connectors",
    "FixedNumberPre": "connectors", "FixedNumberPost": "connectors", "FromList": "connectors",
    "FromMatrix": "connectors", "DistanceKernel": "connectors", "Convolution": "connectors",
    "Uniform": "distributions", "Normal": "distributions",
    # running
    "simulate": "backends", "simulation": "backends", "BACKENDS": "backends", "Simulation": "backends.contract",
    "estimate": "sizing",
    # experiments: parameters, seeds, cache, provenance, sweeps on Dask
    "experiment": "experiments", "chain": "experiments", "sweep": "experiments", "Outcome": "experiments",
    # results
    "Result": "results", "SpikeTrain": "results", "Trace": "results",
    # errors
    "ModelError": "errors", "UnitWarning": "errors",
}
#: Brian2's units, the model language's (``sm.ms``, ``sm.mV``, ``sm.nA``, ...)
_UNITS = ("second", "ms", "us", "Hz", "volt", "mV", "amp", "nA", "pA", "farad", "nF", "pF",
          "siemens", "nS", "uS", "ohm", "Mohm")
#: submodules reached as attributes (``sm.plot.raster``)
_MODULES = ("plot", "analysis", "units", "backends", "targets", "zoo", "experiments", "encoding", "learn")

__all__ = sorted([*_API, *_MODULES, *_UNITS, "__version__"])


def __getattr__(name):
    if name in _API:
        value = getattr(importlib.import_module(f"{__name__}.{_API[name]}"), name)
    elif name in _UNITS:
        value = getattr(importlib.import_module("brian2"), name)
    elif name in _MODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'spikemem' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return __all__


_brian2_quiet.install()     # brian2's excepthook and debug files stay out of the script
