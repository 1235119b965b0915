"""Pieces shared by every associative memory in the zoo.

All memories (the spiking CA3 memory and its ANN counterparts) store one content
per cue: ``n_cues`` one-hot cues, each paired with a set of content bits out of
``n_content``. They share one API (:class:`AssociativeMemory`), one answer type
(:class:`Recall`) and the input checks below, so that the comparison helpers in
:mod:`spikemem.models.ca3_cam.compare` work on any of them.

Contents are always given as bit *indices* (any iterable of ints, e.g.
``{0, 3}`` or ``[3, 0, 3]``), never as 0/1 masks: a list of bools is rejected
rather than silently read as the indices 0 and 1.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from spikemem.errors import ModelError


@dataclass(frozen=True)
class Recall:
    """The answer of one recall.

    ``cues``: the cue indices the memory reports; ``content``: the content bit
    indices it reports; ``latency``: how long the answer took, in simulation
    steps for the spiking memory and in update iterations for ANN models.
    """

    cues: frozenset[int]
    content: frozenset[int]
    latency: int


class AssociativeMemory(Protocol):
    """What the comparison helpers need from a memory."""

    n_cues: int
    n_content: int

    def learn(self, cue: int, content_bits: Iterable[int]) -> None: ...

    def recall_by_cue(self, cue: int) -> Recall: ...

    def recall_by_content(self, bits: Iterable[int]) -> Recall: ...


def _is_int(value) -> bool:
    # bool is an int subclass, but True as a size or an index is always a mistake.
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_size(name: str, value) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise ModelError."""
    if not _is_int(value):
        raise ModelError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ModelError(f"{name} must be a positive integer, got {int(value)}")
    return int(value)


def check_cue(cue, n_cues: int) -> int:
    """Return ``cue`` as an int if it indexes one of ``n_cues`` cues, else raise ModelError."""
    if not _is_int(cue):
        raise ModelError(f"cue must be an integer, got {cue!r} ({type(cue).__name__})")
    if not 0 <= cue < n_cues:
        raise ModelError(f"cue {int(cue)} is out of range 0..{n_cues - 1}")
    return int(cue)


def check_content(bits, n_content: int, allow_empty: bool = False) -> frozenset[int]:
    """Return the content bit indices ``bits`` as a frozenset, else raise ModelError.

    ``bits`` is any iterable of integer indices in ``0..n_content-1``; repeats are
    harmless. Empty is an error unless ``allow_empty``.
    """
    try:
        if isinstance(bits, (str, bytes)):
            raise TypeError
        items = list(bits)
    except TypeError:
        raise ModelError(f"content must be an iterable of bit indices, got {bits!r}") from None
    out = set()
    for b in items:
        if not _is_int(b):
            raise ModelError(f"content bit {b!r} is not an integer index ({type(b).__name__})")
        if not 0 <= b < n_content:
            raise ModelError(f"content bit {int(b)} is out of range 0..{n_content - 1}")
        out.add(int(b))
    if not out and not allow_empty:
        raise ModelError("content must have at least one bit, got none")
    return frozenset(out)
