"""Neuromorphic hardware targets, one package each: they register a ``Target``
(``spikemem.targets``) and their emulator backend when this package loads."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if _module.ispkg:
        importlib.import_module(f"{__name__}.{_module.name}")
