"""GPM, gradient projection memory (Saha, Garg and Roy, ICLR 2021): each
layer's input subspace from an exact SVD of its representation matrix, the
weight gradients projected on its orthogonal complement.

After a task, a layer's representation matrix R (n_pre x n) holds its
presynaptic activity on ``samples`` of the task's inputs. Task 0 keeps the
leading left singular vectors of R that hold a fraction ``threshold`` of its
energy ||R||_F^2; a later task takes the part of R outside the basis, R_hat
= R - B^T B R, and adds the leading singular vectors of R_hat until the
energy inside the grown basis reaches ``threshold`` of ||R||_F^2 (none when
the basis already holds it), as the paper does.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ...errors import ModelError
from .. import checks
from ..checks import is_number
from .base import batch_axis, per_layer
from .projection import Projection


class GPM(Projection):
    """Exact-SVD orthogonal gradient projection. ``threshold`` in (0, 1], one
    or per layer (the paper on permuted MNIST: 0.95 for the input layer, 0.99
    for the others); ``samples``: inputs per task that make R (a seeded
    subset; the paper takes 300)."""

    name = "GPM"

    def __init__(self, model, *, threshold: float | Mapping = 0.97, samples: int = 300, batch_size: int = 256,
                 seed: int = 0):
        super().__init__(model, batch_size=batch_size)
        thresholds = per_layer(dict(threshold) if isinstance(threshold, Mapping) else threshold,
                               self.layers, "GPM", "threshold")
        for name, value in thresholds.items():
            if not is_number(value) or not 0 < value <= 1:
                raise ModelError(f"GPM: threshold for layer {name!r} must be in (0, 1], got {value!r}")
        checks.whole(samples, "GPM: samples")
        checks.whole(batch_size, "GPM: batch_size")
        seed = checks.seed(seed, "GPM")
        self.thresholds, self.samples = thresholds, samples
        dtype = model.weight(self.layers[0]).dtype
        self.bases = {name: torch.zeros((0, self.widths[name]), dtype=dtype) for name in self.layers}
        self._generator = torch.Generator().manual_seed(seed)

    def end_task(self, model, x_task: torch.Tensor) -> None:
        axis = batch_axis(x_task, "GPM.end_task", model)
        n = x_task.shape[axis]
        pick = torch.randperm(n, generator=self._generator)[:self.samples].sort().values
        super().end_task(model, x_task.index_select(axis, pick.to(x_task.device)))

    def _grow(self, activity: dict[str, torch.Tensor], task: int) -> None:
        for name in self.layers:
            basis = self.bases[name].double()
            r = activity[name].double().cpu().T                 # (n_pre, n)
            total = float((r ** 2).sum())
            if total == 0:
                continue
            residual = r - basis.T @ (basis @ r)
            kept = total - float((residual ** 2).sum())          # energy the basis holds already
            u, s, _ = torch.linalg.svd(residual, full_matrices=False)
            energy = kept + np.cumsum(s.numpy() ** 2)
            k = int((energy < self.thresholds[name] * total * (1 - 1e-12)).sum()) + 1
            if kept >= self.thresholds[name] * total * (1 - 1e-12):
                k = 0
            k = min(k, self.widths[name] - len(basis), int((s > s.max() * 1e-10).sum()))
            if k > 0:
                grown = torch.cat([basis, u[:, :k].T])
                q, _ = torch.linalg.qr(grown.T)                  # re-orthonormalised against round-off
                self.bases[name] = q.T.to(self.bases[name].dtype)

    def _project(self, name: str, g: torch.Tensor) -> torch.Tensor:
        basis = self.bases[name].to(g)
        return g - (g @ basis.T) @ basis
