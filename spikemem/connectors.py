"""Connectors: rules that turn two population sizes into a list of synapses.

Every connector returns ``(i, j, w, d)``: pre indices, post indices, and
optionally per-synapse weights / delays it defines itself (None otherwise).
Synapses come out sorted by (pre, post) so that every backend creates them in
the same order (summation order is part of cross-backend agreement).
Randomness comes from the rng the network hands in, seeded by the network.
"""
from __future__ import annotations

from dataclasses import dataclass, field, asdict

import numpy as np

from .errors import ModelError


def _exclude_self(i, j):
    keep = i != j
    return i[keep], j[keep]


def _sorted(i, j, w=None, d=None):
    order = np.lexsort((j, i))
    pick = lambda a: None if a is None else np.asarray(a)[order]
    return i[order].astype(np.int64), j[order].astype(np.int64), pick(w), pick(d)


class Connector:
    """Base: subclasses implement ``_pairs(n_pre, n_post, rng)``."""

    def build(self, n_pre: int, n_post: int, rng, where: str):
        i, j, *wd = self._pairs(n_pre, n_post, rng, where)
        w, d = (wd + [None, None])[:2]
        return _sorted(np.asarray(i), np.asarray(j), w, d)

    def expected_synapses(self, n_pre: int, n_post: int) -> int:
        """How many synapses ``build`` is expected to draw, before drawing them
        (``spikemem.sizing``): at most every pair, unless a connector knows better."""
        return n_pre * n_post

    def spec(self) -> dict:
        return {"type": type(self).__name__, **{k: _jsonable(v) for k, v in asdict(self).items()}}


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return {"array": v.tolist()}
    return v


@dataclass
class OneToOne(Connector):
    def expected_synapses(self, n_pre, n_post):
        return n_pre

    def _pairs(self, n_pre, n_post, rng, where):
        if n_pre != n_post:
            raise ModelError(f"{where}: OneToOne needs equal sizes, got {n_pre} -> {n_post}")
        idx = np.arange(n_pre)
        return idx, idx


@dataclass
class AllToAll(Connector):
    allow_self: bool = True

    def _pairs(self, n_pre, n_post, rng, where):
        i, j = np.divmod(np.arange(n_pre * n_post), n_post)
        return (i, j) if self.allow_self else _exclude_self(i, j)


@dataclass
class FixedProbability(Connector):
    p: float
    allow_self: bool = True

    def expected_synapses(self, n_pre, n_post):
        return int(round(float(self.p) * n_pre * n_post))

    def _pairs(self, n_pre, n_post, rng, where):
        if not 0.0 <= self.p <= 1.0:
            raise ModelError(f"{where}: connection probability must be in [0, 1], got {self.p}")
        # Row by row keeps memory at O(synapses) for large populations.
        rows = [np.flatnonzero(rng.random(n_post) < self.p) for _ in range(n_pre)]
        i = np.repeat(np.arange(n_pre), [len(r) for r in rows])
        j = np.concatenate(rows) if rows else np.zeros(0, int)
        return (i, j) if self.allow_self else _exclude_self(i, j)


def _choose(rng, n_from, k, exclude, replace, where, what):
    pool = np.delete(np.arange(n_from), exclude) if exclude is not None else np.arange(n_from)
    if not replace and k > len(pool):
        raise ModelError(f"{where}: {what}={k} exceeds the {len(pool)} candidates")
    return np.sort(rng.choice(pool, size=k, replace=replace))


@dataclass
class FixedNumberPre(Connector):
    """Every postsynaptic neuron receives exactly ``n`` inputs."""
    n: int
    allow_self: bool = True
    with_replacement: bool = False

    def expected_synapses(self, n_pre, n_post):
        return int(self.n) * n_post

    def _pairs(self, n_pre, n_post, rng, where):
        i = [_choose(rng, n_pre, self.n, None if self.allow_self else post,
                     self.with_replacement, where, "n") for post in range(n_post)]
        return np.concatenate(i), np.repeat(np.arange(n_post), self.n)


@dataclass
class FixedNumberPost(Connector):
    """Every presynaptic neuron makes exactly ``n`` outputs."""
    n: int
    allow_self: bool = True
    with_replacement: bool = False

    def expected_synapses(self, n_pre, n_post):
        return int(self.n) * n_pre

    def _pairs(self, n_pre, n_post, rng, where):
        j = [_choose(rng, n_post, self.n, None if self.allow_self else pre,
                     self.with_replacement, where, "n") for pre in range(n_pre)]
        return np.repeat(np.arange(n_pre), self.n), np.concatenate(j)


@dataclass
class FromList(Connector):
    """Rows of (i, j), (i, j, w) or (i, j, w, delay_seconds)."""
    conn_list: list = field(default_factory=list)

    def expected_synapses(self, n_pre, n_post):
        return len(self.conn_list)

    def _pairs(self, n_pre, n_post, rng, where):
        a = np.asarray(self.conn_list, dtype=float)
        if a.ndim != 2 or a.shape[1] not in (2, 3, 4):
            raise ModelError(f"{where}: FromList rows must be (i, j[, w[, delay]]), got shape {a.shape}")
        i, j = a[:, 0], a[:, 1]
        if np.any(i != np.round(i)) or np.any(j != np.round(j)):
            raise ModelError(f"{where}: FromList indices must be integers")
        _check_range(i.astype(int), n_pre, where, "pre")
        _check_range(j.astype(int), n_post, where, "post")
        w = a[:, 2] if a.shape[1] > 2 else None
        d = a[:, 3] if a.shape[1] > 3 else None
        return i.astype(int), j.astype(int), w, d


@dataclass
class FromMatrix(Connector):
    """Synapses where ``matrix[i, j] != 0`` with weight ``matrix[i, j]`` (shape n_pre x n_post)."""
    matrix: np.ndarray = None

    def __post_init__(self):
        self.matrix = np.asarray(self.matrix, dtype=float)

    def expected_synapses(self, n_pre, n_post):
        return int(np.count_nonzero(self.matrix))

    def _pairs(self, n_pre, n_post, rng, where):
        if self.matrix.shape != (n_pre, n_post):
            raise ModelError(f"{where}: weight matrix has shape {self.matrix.shape}, "
                             f"expected ({n_pre}, {n_post})")
        i, j = np.nonzero(self.matrix)
        return i, j, self.matrix[i, j]


@dataclass
class DistanceKernel(Connector):
    """Weights from the distance between neurons laid out on a 1-D or 2-D grid.

    Both populations sit on the same grid ``shape`` (row-major index). The weight
    of i -> j is ``kernel(x_j - x_i - shift_i)`` where ``shift`` is an optional
    per-presynaptic offset (n_pre x ndim; the grid-cell attractor shifts each
    neuron's outgoing kernel along its preferred direction). Kernels:
    ``gaussian``: ``amplitude * exp(-|x|^2 / (2 sigma^2))``;
    ``dog``: ``a * exp(-gamma |x|^2) - exp(-beta |x|^2)`` (difference of Gaussians).
    Distances wrap around when ``periodic``. Synapses with ``|w| <= cutoff`` are dropped.
    """
    shape: tuple = (1,)
    kernel: str = "gaussian"
    params: dict = field(default_factory=dict)
    shift: np.ndarray | None = None
    periodic: bool = True
    cutoff: float = 0.0
    allow_self: bool = True

    def _positions(self):
        grids = np.meshgrid(*[np.arange(s) for s in self.shape], indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1).astype(float)

    def _weights(self, r2, where):
        p = self.params
        try:
            if self.kernel == "gaussian":
                return p.get("amplitude", 1.0) * np.exp(-r2 / (2 * p["sigma"] ** 2))
            if self.kernel == "dog":
                return p["a"] * np.exp(-p["gamma"] * r2) - np.exp(-p["beta"] * r2)
        except KeyError as e:
            raise ModelError(f"{where}: kernel '{self.kernel}' needs parameter {e}") from None
        raise ModelError(f"{where}: unknown kernel '{self.kernel}' (use 'gaussian' or 'dog')")

    def _pairs(self, n_pre, n_post, rng, where):
        self.shape = tuple(int(s) for s in np.atleast_1d(self.shape))
        n = int(np.prod(self.shape))
        if len(self.shape) not in (1, 2):
            raise ModelError(f"{where}: grid shape must be 1-D or 2-D, got {self.shape}")
        if n_pre != n or n_post != n:
            raise ModelError(f"{where}: grid {self.shape} has {n} cells, populations have {n_pre} and {n_post}")
        x = self._positions()
        diff = x[None, :, :] - x[:, None, :]           # [pre, post, dim]: x_j - x_i
        if self.shift is not None:
            shift = np.asarray(self.shift, dtype=float).reshape(n_pre, len(self.shape))
            diff = diff - shift[:, None, :]
        if self.periodic:
            size = np.asarray(self.shape, dtype=float)
            diff = (diff + size / 2) % size - size / 2
        w = self._weights(np.sum(diff ** 2, axis=-1), where)
        if not self.allow_self:
            np.fill_diagonal(w, 0.0)
        i, j = np.nonzero(np.abs(w) > self.cutoff)
        return i, j, w[i, j]

    def spec(self):
        s = super().spec()
        s["shape"] = list(self.shape)
        return s


BOUNDARIES = ("periodic", "aperiodic")


@dataclass
class Convolution(Connector):
    """One kernel (or one per source class) slid over a 2-D sheet of ``sheet = (ny, nx)``
    neurons, both populations laid out alike (neuron ``y*nx + x``).

    ``kernel`` is (ky, kx), or (C, ky, kx) with ``classes`` (ny, nx) naming each
    source's class in [0, C); ky and kx are odd, ``r = (k - 1) / 2``.
    ``kernel[c][ry + dy, rx + dx]`` is the weight onto (y, x) from the source of
    class c at (y - dy, x - dx): indices wrap with ``boundary="periodic"``, and
    sources off the sheet do not exist with ``"aperiodic"``. The projection means
    what ``build`` enumerates, a synapse for every nonzero tap, but
    ``Network.build`` keeps it as the kernel (``spikemem.network.BuiltConvolution``):
    the backends compute the convolution, and the explicit synapses are drawn on
    demand (``BuiltProjection.explicit``). This is a convolution proper: the
    weights of torch's ``conv2d`` or NIR's ``Conv2d``, which correlate, are this
    kernel flipped (``w[..., ::-1, ::-1]``).
    """
    kernel: np.ndarray = None
    sheet: tuple = None
    boundary: str = "periodic"
    classes: np.ndarray | None = None

    def __post_init__(self):
        self.kernel = np.asarray(self.kernel, dtype=float)
        if self.classes is not None:
            self.classes = np.asarray(self.classes)
        if self.sheet is not None and np.ndim(self.sheet) == 1:
            self.sheet = tuple(int(s) for s in self.sheet)

    def check(self, n_pre: int, n_post: int, where: str):
        """Refuse by name a kernel, sheet, class map or boundary that does not fit."""
        sheet = self.sheet
        if sheet is None or np.ndim(sheet) != 1 or len(sheet) != 2 or min(sheet) < 1:
            raise ModelError(f"{where}: Convolution sheet must be (ny, nx) with both >= 1, got {sheet!r}")
        ny, nx = sheet
        if n_pre != ny * nx or n_post != ny * nx:
            raise ModelError(f"{where}: the Convolution sheet {ny} x {nx} has {ny * nx} neurons, "
                             f"the populations have {n_pre} (pre) and {n_post} (post)")
        if self.boundary not in BOUNDARIES:
            raise ModelError(f"{where}: Convolution boundary must be one of {BOUNDARIES}, got {self.boundary!r}")
        k = self.kernel
        if k.ndim not in (2, 3) or 0 in k.shape:
            raise ModelError(f"{where}: Convolution kernel must be (ky, kx) or (classes, ky, kx), "
                             f"got shape {k.shape}")
        if not np.all(np.isfinite(k)):
            raise ModelError(f"{where}: Convolution kernel has a value that is not finite")
        ky, kx = k.shape[-2:]
        if ky % 2 == 0 or kx % 2 == 0:
            raise ModelError(f"{where}: Convolution kernel sizes must be odd (a centre tap), got {ky} x {kx}")
        if ky > ny or kx > nx:
            raise ModelError(f"{where}: Convolution kernel {ky} x {kx} is larger than the sheet {ny} x {nx}")
        if k.ndim == 2:
            if self.classes is not None:
                raise ModelError(f"{where}: Convolution classes need one kernel per class, "
                                 f"a kernel of shape (classes, ky, kx); got {k.shape}")
            return
        c = self.classes
        if c is None:
            if k.shape[0] == 1:          # one kernel for every source, as a sliced Conv2d weight gives it
                return
            raise ModelError(f"{where}: a Convolution kernel of {k.shape[0]} classes needs classes=, "
                             f"the (ny, nx) class of every source")
        if c.shape != (ny, nx):
            raise ModelError(f"{where}: Convolution classes must have the sheet's shape ({ny}, {nx}), "
                             f"got {c.shape}")
        if not np.issubdtype(c.dtype, np.integer):
            raise ModelError(f"{where}: Convolution classes must be integers, got {c.dtype}")
        if c.size and (c.min() < 0 or c.max() >= k.shape[0]):
            bad = c[(c < 0) | (c >= k.shape[0])][0]
            raise ModelError(f"{where}: Convolution class {bad} is out of range for {k.shape[0]} kernels")

    def kernels(self) -> np.ndarray:
        """(C, ky, kx) kernels, C = 1 without classes."""
        return self.kernel if self.kernel.ndim == 3 else self.kernel[None]

    def class_map(self) -> np.ndarray:
        """(ny, nx) int class of each source (all 0 without classes)."""
        return np.zeros(self.sheet, np.int64) if self.classes is None else self.classes.astype(np.int64)

    def expected_synapses(self, n_pre, n_post):
        """The nonzero taps that land on the sheet, counted without listing them: each
        tap of class c serves every source of that class whose target exists."""
        try:
            self.check(n_pre, n_post, "Convolution")
        except ModelError:
            return n_pre * n_post
        ny, nx = self.sheet
        classes = self.class_map()
        total = 0
        for c, k in enumerate(self.kernels()):
            ry, rx = (np.asarray(k.shape) - 1) // 2
            a, b = np.nonzero(k)
            if self.boundary == "periodic":
                total += int(np.count_nonzero(classes == c)) * a.size
                continue
            # sources of class c in the window whose shifted target stays on the sheet
            cum = np.zeros((ny + 1, nx + 1), np.int64)
            cum[1:, 1:] = np.cumsum(np.cumsum(classes == c, 0), 1)
            dy, dx = a - ry, b - rx
            y0, y1 = np.maximum(0, -dy), ny - np.maximum(0, dy)
            x0, x1 = np.maximum(0, -dx), nx - np.maximum(0, dx)
            total += int(np.sum(cum[y1, x1] - cum[y0, x1] - cum[y1, x0] + cum[y0, x0]))
        return total

    def _pairs(self, n_pre, n_post, rng, where):
        self.check(n_pre, n_post, where)
        k = self.kernels()
        return convolution_synapses(k, k != 0, self.class_map(), self.boundary == "periodic")

    def spec(self):
        s = super().spec()
        s["sheet"] = list(self.sheet) if self.sheet is not None else None
        return s


def convolution_synapses(kernels, taps, classes, periodic: bool):
    """(i, j, w) of a convolution's synapses, one per tap in ``taps`` (C, ky, kx) and
    source of that tap's class whose target lies on the sheet, weights from
    ``kernels``; in tap order (``Connector.build`` sorts them)."""
    ny, nx = classes.shape
    y, x = np.divmod(np.arange(ny * nx), nx)
    out_i, out_j, out_w = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for c, (k, on) in enumerate(zip(kernels, taps)):
        ry, rx = (np.asarray(k.shape) - 1) // 2
        for a, b in zip(*np.nonzero(on)):
            sy, sx = y - (a - ry), x - (b - rx)       # the source of post (y, x) through this tap
            if periodic:
                sy, sx = sy % ny, sx % nx
                keep = np.ones(y.size, bool)
            else:
                keep = (sy >= 0) & (sy < ny) & (sx >= 0) & (sx < nx)
                sy, sx = np.where(keep, sy, 0), np.where(keep, sx, 0)
            keep &= classes[sy, sx] == c
            out_i.append((sy * nx + sx)[keep])
            out_j.append(np.flatnonzero(keep))
            out_w.append(np.full(out_j[-1].size, k[a, b]))
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_w)


def _check_range(idx, n, where, side):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)][0]
        raise ModelError(f"{where}: {side} index {bad} out of range for a population of {n}")


CONNECTORS = {c.__name__: c for c in (OneToOne, AllToAll, FixedProbability, FixedNumberPre,
                                      FixedNumberPost, FromList, FromMatrix, DistanceKernel, Convolution)}


def from_spec(spec: dict) -> Connector:
    kw = {k: (np.asarray(v["array"]) if isinstance(v, dict) and "array" in v else v)
          for k, v in spec.items() if k != "type"}
    if "shape" in kw:
        kw["shape"] = tuple(kw["shape"])
    return CONNECTORS[spec["type"]](**kw)
