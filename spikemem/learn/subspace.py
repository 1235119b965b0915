"""The principal subspace of a layer's inputs, learned by lateral neurons with
a Hebbian / anti-Hebbian (Oja subspace) rule, as HLOP uses it.

M lateral neurons with weights H (M x N) see an input x (N,); their response
is y = H x and the reconstruction they feed back is x_hat = H^T y. One update
of the learnable rows takes

    dH = mean_batch( y (x - x_hat)^T )

(Hebbian y x^T minus anti-Hebbian y y^T H). As in the authors' code dH is
clipped to +-``clip`` per element, smoothed with momentum (v = m * v +
(1 - m) * dH), and applied once scaled by the learning rate (H += eta * v);
this is repeated ``iterations`` times per minibatch, the response recomputed
each time. Rows of earlier tasks are frozen
(``merge``); new rows (``add``) converge to the principal subspace of what the
frozen rows leave unexplained, orthogonal to them. New rows start orthonormal
among themselves, as the authors initialise them, and also orthogonal to the
rows there are: in the authors' 784- and 800-wide layers random rows are
nearly orthogonal to the old ones anyway; in narrow layers they are not, and
rows in directions the data hardly visits never converge (the rule moves a
row at a rate set by the variance along it), so an overlap would stay and
make I - H^T H reverse gradient components instead of removing them.

Spiking lateral neurons (``spikes=T``): y is what a signed integrate-and-fire
neuron driven by y/scale for T steps counts, times scale/T: y clipped to
+-``scale`` and rounded to a multiple of scale/T (the authors' quantisation);
exact as T grows.

``project(g)`` returns g (I - H^T H) with H as learned, not orthonormalised
(the authors' choice: the rule drives the rows towards an orthonormal set);
``basis`` is an orthonormal basis of the rows' span, for comparisons.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import ModelError
from . import checks
from .checks import is_number, is_whole


class Subspace:
    """Lateral subspace neurons over ``n_inputs`` inputs (see the module text).

    ``eta``: learning rate (the authors: 0.001 for a 784-wide input layer,
    0.01 elsewhere); ``momentum`` in [0, 1); ``clip`` > 0 bounds each element
    of an update; ``iterations`` updates per minibatch; ``spikes``: None for
    analog responses, else the number of steps T over which spiking lateral
    neurons count; ``scale``: the largest response they represent."""

    def __init__(self, n_inputs: int, *, eta: float, momentum: float = 0.9, clip: float = 10.0,
                 iterations: int = 5, spikes: int | None = None, scale: float = 20.0,
                 dtype: torch.dtype = torch.float32, device=None):
        if not is_whole(n_inputs) or n_inputs < 1:
            raise ModelError(f"Subspace: n_inputs must be a positive integer, got {n_inputs!r}")
        if not is_number(eta) or not eta > 0:
            raise ModelError(f"Subspace: eta must be a number > 0, got {eta!r}")
        if not is_number(momentum) or not 0 <= momentum < 1:
            raise ModelError(f"Subspace: momentum must be in [0, 1), got {momentum!r}")
        if not is_number(clip) or not clip > 0:
            raise ModelError(f"Subspace: clip must be a number > 0, got {clip!r}")
        if not is_whole(iterations) or iterations < 1:
            raise ModelError(f"Subspace: iterations must be a positive integer, got {iterations!r}")
        if spikes is not None and (not is_whole(spikes) or spikes < 1):
            raise ModelError(f"Subspace: spikes must be None or a positive integer (steps), got {spikes!r}")
        if not is_number(scale) or not scale > 0:
            raise ModelError(f"Subspace: scale must be a number > 0, got {scale!r}")
        self.n_inputs = int(n_inputs)
        self.eta, self.momentum, self.clip = float(eta), float(momentum), float(clip)
        self.iterations, self.spikes, self.scale = int(iterations), spikes, float(scale)
        self.rows = torch.zeros((0, self.n_inputs), dtype=dtype, device=device)
        self._velocity = torch.zeros_like(self.rows)
        self.n_frozen = 0

    @property
    def n_rows(self) -> int:
        return self.rows.shape[0]

    def add(self, m: int, seed: int | torch.Generator = 0) -> None:
        """Add ``m`` learnable rows, orthonormal among themselves and to the
        rows there are (QR of a seeded Gaussian draw)."""
        if not is_whole(m) or m < 1:
            raise ModelError(f"Subspace.add: m must be a positive integer, got {m!r}")
        if self.n_rows + m > self.n_inputs:
            raise ModelError(f"Subspace.add: {self.n_rows} + {m} subspace neurons exceed the {self.n_inputs} "
                             "input dimensions")
        generator = _generator(seed)
        draw = torch.randn((self.n_inputs, m), generator=generator, dtype=torch.float64)
        if self.n_rows:
            old = self.basis.double().cpu()                         # start outside the rows there are
            draw = draw - old.T @ (old @ draw)
        q, r = torch.linalg.qr(draw)
        new = (q * torch.sign(torch.diagonal(r))).T.to(self.rows)     # sign fixed: a unique draw per seed
        self.rows = torch.cat([self.rows, new])
        self._velocity = torch.cat([self._velocity, torch.zeros_like(new)])

    def merge(self) -> None:
        """Freeze every row: later ``learn`` calls change only rows added after."""
        self.n_frozen = self.n_rows

    def response(self, x: torch.Tensor) -> torch.Tensor:
        """y = H x for a batch x (B, N) -> (B, M); quantised when spiking."""
        y = x @ self.rows.T
        if self.spikes is not None:
            step = self.scale / self.spikes
            y = torch.round(torch.clamp(y, -self.scale, self.scale) / step) * step
        return y

    def learn(self, x: torch.Tensor) -> None:
        """One minibatch x (B, N) of the rule, ``iterations`` updates of the
        rows not frozen (none to learn: nothing happens)."""
        x = self._check(x, "Subspace.learn", "x")
        if x.shape[0] == 0:
            raise ModelError("Subspace.learn: x is an empty batch")
        if self.n_rows == self.n_frozen:
            return
        free = slice(self.n_frozen, None)
        for _ in range(self.iterations):
            y = self.response(x)
            residual = x - y @ self.rows
            delta = torch.clamp(y[:, free].T @ residual / x.shape[0], -self.clip, self.clip)
            self._velocity[free] = self.momentum * self._velocity[free] + (1 - self.momentum) * delta
            self.rows[free] += self.eta * self._velocity[free]

    def project(self, g: torch.Tensor) -> torch.Tensor:
        """g (I - H^T H) for a gradient g (..., N) (rows as learned)."""
        g = self._check(g, "Subspace.project", "g", batch=False)
        if self.n_rows == 0:
            return g.clone()
        rows = self.rows.to(g)
        return g - (g @ rows.T) @ rows

    @property
    def basis(self) -> torch.Tensor:
        """An orthonormal basis (M', N) of the rows' span (rows of H)."""
        if self.n_rows == 0:
            return self.rows.clone()
        u, s, vh = torch.linalg.svd(self.rows.double(), full_matrices=False)
        keep = s > s.max() * max(self.rows.shape) * torch.finfo(self.rows.dtype).eps
        return vh[keep].to(self.rows.dtype)

    def _check(self, x, where: str, name: str, batch: bool = True) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise ModelError(f"{where}: {name} must be a torch tensor, got {type(x).__name__}")
        if (batch and x.ndim != 2) or x.ndim < 1 or x.shape[-1] != self.n_inputs:
            shape = "(B, N)" if batch else "(..., N)"
            raise ModelError(f"{where}: {name} must have shape {shape} with N = {self.n_inputs}, "
                             f"got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ModelError(f"{where}: {name} holds NaN or infinite values")
        return x.to(self.rows) if batch else x


def principal_angles(a, b) -> np.ndarray:
    """Principal angles (radians, ascending) between the spans of the rows of
    ``a`` (p, N) and ``b`` (q, N), numpy arrays or torch tensors; min(rank a,
    rank b) of them."""
    a, b = _rows(a, "a"), _rows(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ModelError(f"principal_angles: a and b must have as many columns, got {a.shape} and {b.shape}")
    qa, qb = _orthonormal(a), _orthonormal(b)
    if len(qa) < len(qb):
        qa, qb = qb, qa
    if len(qb) == 0:
        return np.zeros(0)
    # cosines are exact for large angles, sines for small ones (Bjorck and Golub)
    cosines = np.sort(np.linalg.svd(qa @ qb.T, compute_uv=False))[::-1]
    sines = np.sort(np.linalg.svd(qb - (qb @ qa.T) @ qa, compute_uv=False))
    angles = np.where(cosines > np.sqrt(0.5), np.arcsin(np.clip(sines, 0.0, 1.0)),
                      np.arccos(np.clip(cosines, -1.0, 1.0)))
    return np.sort(angles)


def _rows(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ModelError(f"principal_angles: {name} must be a 2-D array (rows span the subspace), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ModelError(f"principal_angles: {name} holds NaN or infinite values")
    return x


def _orthonormal(rows: np.ndarray) -> np.ndarray:
    if rows.shape[0] == 0:
        return rows
    _, s, vh = np.linalg.svd(rows, full_matrices=False)
    return vh[s > s.max() * max(rows.shape) * np.finfo(float).eps] if s.max() > 0 else vh[:0]


def _generator(seed) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(checks.seed(seed, "Subspace.add"))

