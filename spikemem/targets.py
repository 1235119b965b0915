"""Hardware targets: the interface every target implements, and their registry.

A target (a package of ``spikemem.hardware``, or a plugin's) subclasses
:class:`Target` and registers an instance in its package's ``__init__``. The
CLI's ``check``, ``quantize``, ``map``, ``emulate`` and ``export --target``
read the registry; the core never imports a target by name.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from .registry import Registry


class Target(ABC):
    """A neuromorphic target: its limits, number formats, resources, files and arithmetic."""

    name: str = ""
    backend: str = ""           # the registered backend that emulates its arithmetic
    summary: str = ""

    @abstractmethod
    def check(self, network) -> list:
        """Every constraint of the target that ``network`` breaks (``Violation`` rows)."""

    @abstractmethod
    def quantize(self, network):
        """The network in the target's number formats; ``.errors`` lists each parameter's error."""

    @abstractmethod
    def map(self, network):
        """The cores and chips the network occupies (``Resources``)."""

    @abstractmethod
    def export(self, network, path: str, **options):
        """Write what the target's own tools load (atomically; refusals before any file work)."""

    @abstractmethod
    def emulate(self, network, duration: float, **options):
        """Run with the target's arithmetic beside float64 numba (``Emulation``)."""


TARGETS = Registry("hardware target")
register_target = TARGETS.register
