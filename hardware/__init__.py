"""Neuromorphic hardware targets, one package each: they register a ``Target``
(``spikemem.targets``) and their emulator backend when this package loads."""
from spikemem.registry import import_subpackages

import_subpackages(__name__, __path__)
