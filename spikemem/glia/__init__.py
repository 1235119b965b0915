"""Glia: astrocyte templates (cells without a threshold that neurons drive and
read, ``astrocytes``) and the astrocyte-modulated spiking unit (``amsu``), a
neuron whose slow astrocytic state is a reduction of them."""
from .amsu import AMSU, AMSUAstrocyte, AMSUShared, shared_astrocytes
from .astrocytes import (GCHI_DEFAULTS, GLIO_DEFAULTS, GLIO_SYNAPSE_DEFAULTS, LI_RINZEL_DEFAULTS, LI_RINZEL_METHODS,
                         GChI, LiRinzel, astrocyte_to_synapses, gliotransmitter_synapse, glutamate_synapse,
                         sic_synapse, synapses_to_astrocyte)
from .freeze import freeze_modulation

__all__ = ["AMSU", "AMSUAstrocyte", "AMSUShared", "GCHI_DEFAULTS", "GLIO_DEFAULTS", "GLIO_SYNAPSE_DEFAULTS",
           "LI_RINZEL_DEFAULTS", "LI_RINZEL_METHODS", "GChI", "LiRinzel", "astrocyte_to_synapses", "freeze_modulation",
           "gliotransmitter_synapse", "glutamate_synapse", "shared_astrocytes", "sic_synapse", "synapses_to_astrocyte"]
