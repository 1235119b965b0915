"""Static data (batch, n) in [0, 1] as input over ``steps`` time steps (steps, batch, n)."""
from __future__ import annotations

import torch

from ..errors import ModelError

HOW = ("repeat", "poisson")


def generator_of(seed=0, generator=None, device="cpu") -> torch.Generator:
    """``generator`` itself, or a new one seeded with ``seed``."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise ModelError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ModelError(f"seed must be an integer >= 0, got {seed!r}")
    return torch.Generator(device=device).manual_seed(seed)


def encode(x, steps: int, how: str = "repeat", *, seed: int = 0, generator: torch.Generator | None = None):
    """``x`` (batch, n) in [0, 1] as (steps, batch, n): ``"repeat"`` gives the
    analog values at every step (an input current; the torch engines only),
    ``"poisson"`` Bernoulli spikes with probability x per step (drawn from
    ``generator``, or one seeded with ``seed``)."""
    raise NotImplementedError
