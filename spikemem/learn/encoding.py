"""Static data (batch, n) as input over ``steps`` time steps (steps, batch, n)."""
from __future__ import annotations

import torch

from ..errors import ModelError
from . import checks

HOW = ("repeat", "poisson")


def generator_of(seed=0, generator=None, device="cpu") -> torch.Generator:
    """``generator`` itself, or a new one seeded with ``seed``."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise ModelError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    return torch.Generator(device=device).manual_seed(checks.seed(seed, "encode"))


def encode(x, steps: int, how: str = "repeat", *, seed: int = 0, generator: torch.Generator | None = None):
    """``x`` (batch, n) as (steps, batch, n): ``"repeat"`` gives the analog
    values at every step (an input current of either sign, e.g. standardised
    pixels; the torch engines only), ``"poisson"`` Bernoulli spikes with
    probability x in [0, 1] per step (drawn from ``generator``, or one seeded
    with ``seed``)."""
    if how not in HOW:
        raise ModelError(f"encode: how must be one of {list(HOW)}, got {how!r}")
    checks.whole(steps, "encode: steps")
    x = torch.as_tensor(x)
    if not torch.is_floating_point(x):
        x = x.to(torch.float32)
    if x.dim() != 2:
        raise ModelError(f"encode: x must be (batch, n), got shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ModelError("encode: x contains NaN or inf")
    if how == "poisson" and x.numel() and (float(x.min()) < 0 or float(x.max()) > 1):
        raise ModelError(f"encode: poisson firing probabilities x must lie in [0, 1], "
                         f"got values in [{float(x.min()):g}, {float(x.max()):g}]")
    gen = generator_of(seed, generator, x.device)     # checked for "repeat" too
    if how == "repeat":
        return x.unsqueeze(0).expand(steps, *x.shape)
    draws = torch.rand((steps, *x.shape), generator=gen, device=x.device, dtype=x.dtype)
    return (draws < x).to(x.dtype)
