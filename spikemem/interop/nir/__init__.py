"""NIR export and import: a spikemem network as a NIR graph, and a NIR graph as a network.

The convention that fixes NIR's time step, integration, reset, delays and biases
is ``CONVENTION`` (stored in every exported graph); its derivation and what the
consumers (norse, snntorch) do differently are in ``docs/interop/nir.md``.
NIR's neuron forms (``LIF``, ``CubaLIF``, ``IF``, ``LI``) are templates of
their own here, usable without the ``nir`` package; everything else needs it.
"""
import importlib
from importlib.util import find_spec

from .neurons import IF, LI, LIF, NIR_TEMPLATES, CubaLIF

#: name -> the submodule that defines it (imported on first use)
_LAZY = {
    "CONVENTION": "convention", "FORMS": "convention", "LEGACY_RESETS": "convention", "step_lags": "convention",
    "export_nir": "export", "graph_from_built": "export", "nir_problems": "export", "write_nir": "export",
    "import_nir": "importer", "population_names": "importer",
    "spikes_from_raster": "rasters", "to_raster": "rasters",
    "read_nir": "read",
}

_NIR_MODULES = ("export", "importer", "read")     # the submodules that import nir

__all__ = ["IF", "LI", "LIF", "CubaLIF", "NIR_TEMPLATES", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _LAZY[name] in _NIR_MODULES and find_spec("nir") is None:    # a core-only install: name the extra
        raise ImportError(f"spikemem.interop.nir.{name} needs the 'nir' package: pip install 'spikemem[torch]'")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
