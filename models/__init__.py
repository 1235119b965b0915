"""The model zoo: one package per model, each registering itself (``spikemem.zoo``)."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if _module.ispkg:
        importlib.import_module(f"{__name__}.{_module.name}")
