"""ANN counterparts of the CA3 content-addressable memory: two Hopfield networks.

Both store the same cue+content patterns as the spiking memory (see
``docs/models/ca3-cam.md``) and share its API (``learn``, ``recall_by_cue``,
``recall_by_content``, ``stored``). A memory is one vector of length
``n_cues + n_content``: the cue part one-hot, the content part the set bits,
coded bipolar (+1 set, -1 not set).

A recall starts from a *probe*: what the caller specifies is +1/-1, what it
leaves open is 0 (unknown, so it adds nothing to any field or overlap).

- recall by cue: cue part +1 at the cue and -1 at every other cue, content part 0;
- recall by content: cue part 0, content part +1 at the fragment's bits and 0
  elsewhere (a fragment says which bits are set, not which are clear).

Nothing is clamped: the network settles from the probe, and the answer is read
from where it ends (cues = +1 units of the cue part, content = +1 units of the
content part), so a recall can land on a wrong or spurious memory. That is what
the capacity measurements count.

Unlike the spiking memory, both networks keep a record of what they stored
(``stored()``): the modern network *is* that record, and the classical one needs
it to unlearn an overwritten memory. The CA3 model forgets by STDP depression of
the old pairs and needs no such record.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from spikemem.errors import ModelError

from .recall import Recall, check_content, check_cue, check_size


class _BipolarMemory:
    """Sizes, input checks, probe building and decoding shared by both networks."""

    def __init__(self, n_cues: int, n_content: int, max_iter: int):
        self.n_cues = check_size("n_cues", n_cues)
        self.n_content = check_size("n_content", n_content)
        self.max_iter = check_size("max_iter", max_iter)
        self._stored: dict[int, frozenset[int]] = {}

    @property
    def n_units(self) -> int:
        return self.n_cues + self.n_content

    def stored(self) -> dict[int, frozenset[int]]:
        """The latest content learned under each cue (a copy)."""
        return dict(self._stored)

    def pattern(self, cue: int, content: frozenset[int]) -> np.ndarray:
        """The bipolar vector of one memory."""
        x = -np.ones(self.n_units, dtype=np.int64)
        x[cue] = 1
        x[[self.n_cues + b for b in content]] = 1
        return x

    def recall_by_cue(self, cue: int) -> Recall:
        """Settle from the full cue (one-hot, bipolar) with the content unknown."""
        cue = check_cue(cue, self.n_cues)
        probe = np.zeros(self.n_units, dtype=np.int64)
        probe[: self.n_cues] = -1
        probe[cue] = 1
        return self._decode(*self._settle(probe))

    def recall_by_content(self, bits: Iterable[int]) -> Recall:
        """Settle from a content fragment (its bits +1, everything else unknown)."""
        bits = check_content(bits, self.n_content)
        probe = np.zeros(self.n_units, dtype=np.int64)
        probe[[self.n_cues + b for b in bits]] = 1
        return self._decode(*self._settle(probe))

    def _decode(self, state: np.ndarray, iterations: int) -> Recall:
        on = np.flatnonzero(state > 0)
        cues = frozenset(int(i) for i in on if i < self.n_cues)
        content = frozenset(int(i) - self.n_cues for i in on if i >= self.n_cues)
        return Recall(cues=cues, content=content, latency=iterations)

    def _settle(self, probe: np.ndarray) -> tuple[np.ndarray, int]:
        raise NotImplementedError


class ClassicalHopfield(_BipolarMemory):
    """Hopfield (1982) network with Hebbian outer-product weights.

    ``weights`` is the sum of ``p p^T`` over the stored bipolar patterns ``p``,
    with a zero diagonal (integers, so unlearning removes a pattern exactly).

    Updates are asynchronous and deterministic: each sweep visits first the
    units the probe left unknown, then the ones it specified (each group in index
    order), and sets each to the sign of its field, using the values already
    updated in this sweep. Filling in the blanks first means a specified unit is
    revised on the whole pattern, not on the probe alone. With symmetric weights
    and no self-coupling this never cycles (Hopfield's energy falls), unlike
    synchronous updates, which can oscillate. A zero field keeps the unit's
    value, and an unknown (0) unit with a zero field becomes -1 (not set).
    Recall stops after a sweep that changes nothing, or after ``max_iter`` sweeps;
    ``Recall.latency`` counts the sweeps run, the final unchanged one included.

    One-hot cues make the stored patterns strongly correlated (every pattern is -1
    on almost every cue unit), so capacity is a handful of memories, far below the
    ~0.14 N of random patterns, and it barely grows with ``n_content``. Hebbian
    weights also store every mirror ``-p``; with two cues the probe's cue part
    (+1, -1) is as much the cue part of memory 0 as of the mirror of memory 1, and
    recall can settle on the mirror.

    Learning under a cue already in use adds the new pattern and, with
    ``unlearn=True`` (default), subtracts the old pattern's outer product, which
    needs the record kept in ``stored()``. With ``unlearn=False`` the old pattern
    stays in the weights and competes with the new one.
    """

    def __init__(self, n_cues: int, n_content: int, max_iter: int = 100, unlearn: bool = True):
        super().__init__(n_cues, n_content, max_iter)
        self.unlearn = bool(unlearn)
        self.weights = np.zeros((self.n_units, self.n_units), dtype=np.int64)

    def learn(self, cue: int, content_bits: Iterable[int]) -> None:
        """Store ``content_bits`` under ``cue`` (Hebbian; unlearns the old content if asked)."""
        cue = check_cue(cue, self.n_cues)
        content = check_content(content_bits, self.n_content)
        if self.unlearn and cue in self._stored:
            self._hebb(self.pattern(cue, self._stored[cue]), -1)
        self._hebb(self.pattern(cue, content), +1)
        self._stored[cue] = content

    def _hebb(self, p: np.ndarray, sign: int) -> None:
        self.weights += sign * np.outer(p, p)
        np.fill_diagonal(self.weights, 0)

    def _settle(self, probe: np.ndarray) -> tuple[np.ndarray, int]:
        x = probe.copy()
        field = self.weights @ x
        # Fill in the blanks before revising what the probe specified.
        order = np.concatenate([np.flatnonzero(probe == 0), np.flatnonzero(probe != 0)])
        for sweep in range(1, self.max_iter + 1):
            changed = False
            for i in order:
                if field[i] > 0:
                    new = 1
                elif field[i] < 0:
                    new = -1
                else:
                    new = x[i] if x[i] != 0 else -1
                if new != x[i]:
                    # Keep every field current instead of recomputing W @ x per unit.
                    field += self.weights[:, i] * (new - x[i])
                    x[i] = new
                    changed = True
            if not changed:
                break
        return x, sweep


class ModernHopfield(_BipolarMemory):
    """Modern (dense) Hopfield network, Ramsauer et al. 2020, "Hopfield Networks is All You Need".

    ``memories`` holds one column per cue slot; learning under a cue writes (or
    replaces) that slot, so overwriting needs no unlearning. Retrieval iterates

        xi <- X softmax(beta * X^T xi)

    over the filled columns ``X`` until no entry moves by more than ``tol`` (or
    ``max_iter`` updates), then reads the answer by thresholding at 0.
    ``Recall.latency`` counts the updates, the final unchanged one included.

    Overlaps are raw bipolar dot products (range ``-N..N``, ``N = n_cues + n_content``).
    A full cue beats every other memory's cue part by 4, so the default
    ``beta = 1`` already weights the right memory ``e^4`` times more than each
    other one, and the content part then widens the gap on the next update.

    Softmax retrieval returns *one* pattern, a blend weighted towards the best
    match. Recall by content therefore gives the best-matching memory, not every
    memory that shares a bit with the fragment (the CA3 memory's OR semantics);
    memories that match equally well blend, and a blend of different cues decodes
    to no cue at all. This difference is the point of the comparison.
    """

    def __init__(self, n_cues: int, n_content: int, beta: float = 1.0, max_iter: int = 100,
                 tol: float = 1e-6):
        super().__init__(n_cues, n_content, max_iter)
        for name, value in (("beta", beta), ("tol", tol)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not np.isfinite(value) or value <= 0:
                raise ModelError(f"{name} must be a positive finite number, got {value!r}")
        self.beta = float(beta)
        self.tol = float(tol)
        self.memories = np.zeros((self.n_units, self.n_cues))

    def learn(self, cue: int, content_bits: Iterable[int]) -> None:
        """Write ``content_bits`` into ``cue``'s slot, replacing what was there."""
        cue = check_cue(cue, self.n_cues)
        content = check_content(content_bits, self.n_content)
        self.memories[:, cue] = self.pattern(cue, content)
        self._stored[cue] = content

    def _settle(self, probe: np.ndarray) -> tuple[np.ndarray, int]:
        X = self.memories[:, sorted(self._stored)]
        xi = probe.astype(float)
        if X.shape[1] == 0:
            return xi, 0  # nothing stored: the answer is the probe itself
        for step in range(1, self.max_iter + 1):
            a = self.beta * (X.T @ xi)
            w = np.exp(a - a.max())  # shift for a stable softmax
            new = X @ (w / w.sum())
            moved = np.max(np.abs(new - xi))
            xi = new
            if moved <= self.tol:
                break
        return xi, step
