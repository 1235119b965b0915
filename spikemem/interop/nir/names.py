"""Unique names for the nodes of an exported graph and the populations of an imported one."""
from __future__ import annotations


class Names:
    """Unique node names: the population names first, then suffixes where a name is taken."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def new(self, name: str) -> str:
        out, k = name, 2
        while out in self.taken:
            out, k = f"{name}_{k}", k + 1
        self.taken.add(out)
        return out
