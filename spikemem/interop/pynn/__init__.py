"""PyNN export: a spikemem network as a standalone PyNN script (NEST, SpiNNaker).

``translate`` checks the network against the translation table (one ModelError
listing every offender); ``export_pynn`` writes the folder that ``python run.py
--simulator nest|spinnaker`` runs; ``read_spikes`` reads its spikes back. The
table, units, STDP amplitudes and NEST's timing: ``docs/interop/pynn.md``.
"""
from .export import export_pynn
from .read import read_spikes
from .translation import CELL_TYPES, STDP_RULES, PyNNModel, learning_switch, stdp_spec, translate, translation

__all__ = ["CELL_TYPES", "STDP_RULES", "PyNNModel", "export_pynn", "learning_switch", "read_spikes", "stdp_spec",
           "translate", "translation"]
