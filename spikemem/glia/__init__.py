"""Glia: astrocyte templates (cells without a threshold that neurons drive and
read, ``astrocytes``) and the astrocyte-modulated spiking unit (``amsu``), a
neuron whose slow astrocytic state is a reduction of them."""
from .amsu import AMSU, AMSUAstrocyte, AMSUShared, shared_astrocytes
from .astrocytes import (GCHI_DEFAULTS, LI_RINZEL_DEFAULTS, LI_RINZEL_METHODS, GChI, LiRinzel, glutamate_synapse,
                         sic_synapse, synapses_to_astrocyte)

__all__ = ["AMSU", "AMSUAstrocyte", "AMSUShared", "GCHI_DEFAULTS", "LI_RINZEL_DEFAULTS", "LI_RINZEL_METHODS", "GChI",
           "LiRinzel", "glutamate_synapse", "shared_astrocytes", "sic_synapse", "synapses_to_astrocyte"]
