"""Glia: astrocyte templates (cells without a threshold that neurons drive and
read, ``astrocytes``) and the astrocyte-modulated spiking unit (``amsu``), a
neuron whose slow astrocytic state is a reduction of them."""
from .amsu import AMSU
from .freeze import freeze_modulation
from .astrocytes import (GCHI_DEFAULTS, LI_RINZEL_DEFAULTS, LI_RINZEL_METHODS, GChI, LiRinzel, glutamate_synapse,
                         sic_synapse, synapses_to_astrocyte)

__all__ = ["AMSU", "GCHI_DEFAULTS", "LI_RINZEL_DEFAULTS", "LI_RINZEL_METHODS", "GChI", "LiRinzel",
           "freeze_modulation", "glutamate_synapse", "sic_synapse", "synapses_to_astrocyte"]
