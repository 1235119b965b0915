"""NIR export and import: a spikemem network as a NIR graph, and a NIR graph as a network.

The convention that fixes NIR's time step, integration, reset, delays and biases
is ``CONVENTION`` (stored in every exported graph); its derivation and what the
consumers (norse, snntorch) do differently are in ``docs/interop/nir.md``.
"""
from importlib.util import find_spec

if find_spec("nir") is None:        # a core-only install: say which extra brings it
    raise ImportError("spikemem.interop.nir needs the 'nir' package: pip install 'spikemem[torch]'")

from .convention import CONVENTION, FORMS, LEGACY_RESETS, step_lags
from .export import export_nir, graph_from_built, nir_problems, write_nir
from .importer import import_nir, population_names
from .rasters import spikes_from_raster, to_raster
from .read import read_nir

__all__ = ["CONVENTION", "FORMS", "LEGACY_RESETS", "export_nir", "graph_from_built", "import_nir",
           "nir_problems", "population_names", "read_nir", "spikes_from_raster", "step_lags", "to_raster",
           "write_nir"]
