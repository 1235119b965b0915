"""Registries: backends, hardware targets and models register themselves by name.

Each entry is registered where it is defined. The core finds the packages
outside itself (the model zoo, the hardware targets, third-party plugins)
through the ``spikemem.plugins`` entry-point group, so that the core never
imports them by name.
"""
from __future__ import annotations

import importlib
import pkgutil
import warnings
from importlib.metadata import entry_points

from .errors import ModelError

PLUGIN_GROUP = "spikemem.plugins"
_plugins_loaded = False


def load_plugins() -> None:
    """Load every entry of the ``spikemem.plugins`` entry-point group, once. A
    plugin that fails to load is reported and left out; the others still load."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    for ep in entry_points(group=PLUGIN_GROUP):
        try:
            ep.load()
        except Exception as e:
            warnings.warn(f"spikemem plugin '{ep.name}' ({ep.value}) failed to load and is left out: {e}",
                          RuntimeWarning, stacklevel=2)
    _plugins_loaded = True


def import_subpackages(package: str, path) -> None:
    """Import every subpackage of ``package`` (``path``: its ``__path__``): each registers its entries."""
    for module in pkgutil.iter_modules(path):
        if module.ispkg:
            importlib.import_module(f"{package}.{module.name}")


def load_object(path: str):
    """The object named by ``"package.module:attribute"``."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


class Registry:
    """Named entries of one kind (each with a ``name`` attribute)."""

    def __init__(self, kind: str, load=None):
        self.kind = kind
        self._load_own = load           # called before the first look-up: the built-in entries register
        self._loaded = False
        self._entries: dict = {}

    def register(self, entry):
        if entry.name in self._entries and self._entries[entry.name] != entry:
            raise ModelError(f"a {self.kind} named '{entry.name}' is registered already")
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            if self._load_own is not None:
                self._load_own()
        load_plugins()

    def get(self, name: str):
        self._load()
        if name not in self._entries:
            raise ModelError(f"unknown {self.kind} '{name}'; choose one of {', '.join(self.names())}")
        return self._entries[name]

    def names(self) -> list:
        self._load()
        return list(self._entries)

    def entries(self) -> list:
        self._load()
        return list(self._entries.values())

    def __contains__(self, name) -> bool:
        self._load()
        return name in self._entries
