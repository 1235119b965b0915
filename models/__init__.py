"""The model zoo: one package per model, each registering itself (``spikemem.zoo``)."""
from spikemem.registry import import_subpackages

import_subpackages(__name__, __path__)
