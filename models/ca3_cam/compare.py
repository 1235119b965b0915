"""Measurements that work on any associative memory with the common API.

A memory here is any object with ``n_cues``, ``n_content``, ``learn(cue, bits)``,
``recall_by_cue(cue)`` and ``recall_by_content(bits)`` returning a
:class:`~spikemem.models.ca3_cam.recall.Recall` (the ANN memories in
:mod:`spikemem.models.ca3_cam.hopfield` and the spiking CA3 memory alike).

``contents`` is always a sequence whose item ``i`` is the content (bit indices)
stored under cue ``i``. Every helper that takes ``contents`` learns them itself,
so give it a fresh memory.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from spikemem.errors import ModelError

from .recall import AssociativeMemory, check_size

Contents = Sequence[Iterable[int]]


def random_contents(n_cues: int, n_content: int, k_bits: int, rng: np.random.Generator,
                    orthogonal: bool = False) -> list[frozenset[int]]:
    """``n_cues`` random contents of ``k_bits`` bits each out of ``n_content``.

    ``orthogonal=True`` makes the bit sets disjoint, which needs
    ``n_cues * k_bits <= n_content``; otherwise each content is drawn on its own
    and contents may share bits.
    """
    n_cues = check_size("n_cues", n_cues)
    n_content = check_size("n_content", n_content)
    k_bits = check_size("k_bits", k_bits)
    if k_bits > n_content:
        raise ModelError(f"k_bits {k_bits} exceeds n_content {n_content}")
    if orthogonal:
        if n_cues * k_bits > n_content:
            raise ModelError(f"{n_cues} orthogonal contents of k_bits {k_bits} need "
                             f"{n_cues * k_bits} bits, n_content is {n_content}")
        order = rng.permutation(n_content)
        return [frozenset(int(b) for b in order[i * k_bits:(i + 1) * k_bits]) for i in range(n_cues)]
    return [frozenset(int(b) for b in rng.choice(n_content, k_bits, replace=False)) for _ in range(n_cues)]


def store(memory: AssociativeMemory, contents: Contents) -> None:
    """Learn ``contents[i]`` under cue ``i`` for every ``i``."""
    if len(contents) == 0:
        raise ModelError("contents is empty: nothing to store")
    for cue, bits in enumerate(contents):
        memory.learn(cue, bits)


def recalls_exactly(memory: AssociativeMemory, cue: int, content: Iterable[int]) -> bool:
    """Whether recalling ``cue`` gives exactly that cue and ``content``."""
    r = memory.recall_by_cue(cue)
    return r.cues == frozenset([cue]) and r.content == frozenset(content)


def exact_recall_rate(memory: AssociativeMemory, contents: Contents) -> float:
    """Store ``contents``, then the fraction of cues recalled exactly."""
    store(memory, contents)
    return float(np.mean([recalls_exactly(memory, cue, bits) for cue, bits in enumerate(contents)]))


def expected_cues(contents: Contents, fragment: Iterable[int]) -> frozenset[int]:
    """The CA3 answer to a fragment: every cue whose content shares a bit with it."""
    fragment = frozenset(fragment)
    return frozenset(cue for cue, bits in enumerate(contents) if fragment & frozenset(bits))


def fragment_recall(memory: AssociativeMemory, contents: Contents,
                    fragments: Sequence[Iterable[int]]) -> tuple[float, float]:
    """Store ``contents``, recall by each fragment; mean (precision, recall) of the cues.

    The reference answer is :func:`expected_cues` (OR semantics). An empty
    answer has precision 1 (it claims nothing wrong); an empty reference gives
    recall 1 (nothing was missed).
    """
    if len(fragments) == 0:
        raise ModelError("fragments is empty: nothing to recall")
    store(memory, contents)
    return fragment_scores(memory, contents, fragments)


def fragment_scores(memory: AssociativeMemory, contents: Contents,
                    fragments: Sequence[Iterable[int]]) -> tuple[float, float]:
    """Recall by each fragment from the memory as it is; mean (precision,
    recall) of the cues against ``expected_cues`` (as ``fragment_recall``)."""
    precision, recall = [], []
    for fragment in fragments:
        fragment = list(fragment)
        got = memory.recall_by_content(fragment).cues
        want = expected_cues(contents, fragment)
        hits = len(got & want)
        precision.append(hits / len(got) if got else 1.0)
        recall.append(hits / len(want) if want else 1.0)
    return float(np.mean(precision)), float(np.mean(recall))


def capacity_curve(factory: Callable[..., AssociativeMemory], n_content: int, counts: Iterable[int],
                   rng: np.random.Generator, k_bits: int | None = None) -> np.ndarray:
    """Exact recall rate for each number of memories ``k`` in ``counts``.

    Each point builds a fresh ``factory(n_cues=k, n_content=n_content)`` and fills
    every cue with random, overlapping contents of ``k_bits`` bits (default
    ``n_content // 2``: dense random patterns, the classical capacity setting).
    Use ``functools.partial`` to pass other model parameters.
    """
    k_bits = max(1, n_content // 2) if k_bits is None else k_bits
    rates = []
    for k in counts:
        memory = factory(n_cues=k, n_content=n_content)
        rates.append(exact_recall_rate(memory, random_contents(k, n_content, k_bits, rng)))
    return np.array(rates)


@dataclass(frozen=True)
class OverwriteResult:
    """``new_recalled``: the overwritten cue gives exactly the new content;
    ``others_intact``: fraction of the other cues still recalled exactly (1.0 if none)."""

    new_recalled: bool
    others_intact: float


def overwrite_test(memory: AssociativeMemory, contents: Contents, cue: int,
                   new_content: Iterable[int]) -> OverwriteResult:
    """Store ``contents``, learn ``new_content`` under ``cue`` (already used), recall all."""
    store(memory, contents)
    if not 0 <= cue < len(contents):
        raise ModelError(f"cue {cue!r} is not one of the {len(contents)} stored cues")
    new_content = frozenset(new_content)
    memory.learn(cue, new_content)
    others = [recalls_exactly(memory, c, bits) for c, bits in enumerate(contents) if c != cue]
    return OverwriteResult(new_recalled=recalls_exactly(memory, cue, new_content),
                           others_intact=float(np.mean(others)) if others else 1.0)


def ops_per_second(memory: AssociativeMemory, contents: Contents, rounds: int = 1) -> float:
    """Wall-clock rate of learn and recall-by-cue operations.

    Each round learns every content and then recalls every cue; the rate is the
    number of operations over the elapsed ``time.perf_counter`` time.
    """
    rounds = check_size("rounds", rounds)
    start = time.perf_counter()
    for _ in range(rounds):
        store(memory, contents)
        for cue in range(len(contents)):
            memory.recall_by_cue(cue)
    elapsed = time.perf_counter() - start
    return 2 * len(contents) * rounds / max(elapsed, 1e-12)


def random_workload(n_cues: int, n_content: int, density: float, n_operations: int, rng: np.random.Generator,
                    learn_fraction: float = 0.3, max_fragment: int = 3) -> list:
    """A random mix of learns (new cues and overwrites of used ones), recalls by
    cue and recalls by fragments of 1..``max_fragment`` bits, as an operation
    script (``("learn", (cue, bits))``, ``("recall_by_cue", cue)``,
    ``("recall_by_content", bits)``). Every content has ``round(density *
    n_content)`` bits (at least one); recalls start once a cue is stored."""
    n_cues, n_content = check_size("n_cues", n_cues), check_size("n_content", n_content)
    n_operations = check_size("n_operations", n_operations)
    max_fragment = check_size("max_fragment", max_fragment)
    if not 0 < density <= 1:
        raise ModelError(f"density must be in (0, 1], got {density!r}")
    if not 0 <= learn_fraction <= 1:
        raise ModelError(f"learn_fraction must be in [0, 1], got {learn_fraction!r}")
    if max_fragment > n_content:
        raise ModelError(f"max_fragment {max_fragment} exceeds n_content {n_content}")
    k = max(1, round(density * n_content))
    used, ops = set(), []
    for _ in range(n_operations):
        draw = rng.random()
        if not used or draw < learn_fraction:
            cue = int(rng.integers(n_cues))
            used.add(cue)
            ops.append(("learn", (cue, frozenset(int(b) for b in rng.choice(n_content, k, replace=False)))))
        elif draw < (1 + learn_fraction) / 2:
            ops.append(("recall_by_cue", int(rng.choice(sorted(used)))))
        else:
            size = int(rng.integers(1, max_fragment + 1))
            ops.append(("recall_by_content", frozenset(int(b) for b in rng.choice(n_content, size, replace=False))))
    return ops


def expected_answer(stored: dict, kind: str, arg) -> tuple[frozenset, frozenset]:
    """The set-semantics answer (cues, content) to an operation, given the latest
    content of each cue in ``stored`` (learns answer with their own cue and content)."""
    if kind == "learn":
        cue, bits = arg
        return frozenset({cue}), frozenset(bits)
    if kind == "recall_by_cue":
        return frozenset({arg}), frozenset(stored.get(arg, ()))
    return frozenset(c for c, bits in stored.items() if bits & frozenset(arg)), frozenset(arg)
