"""The sequence tasks: delayed recall and character-level language modelling.

Delayed recall: ``tokens`` symbols drawn from ``vocab`` are shown one per
step (one-hot on channels 0..vocab-1), then ``delay`` blank steps, then
``tokens`` recall steps: at the i-th a cue on channel ``vocab + i`` asks for
the i-th symbol (the cue names the position, so that the task measures
memory, not counting). The sequence is 2*tokens + delay steps
long (or ``length``, padded with blanks at the end). Chance is 1/vocab.

Language modelling: the text of Python's own ``pydoc_data.topics`` (the
help topics, in every Python install), characters as one-hot vectors, the
next character as the target; the last ``val_fraction`` of the text is
held out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikemem.errors import ModelError


@dataclass(frozen=True)
class Recall:
    """A batch of delayed-recall sequences: ``x`` (T, n, vocab + tokens) float32,
    ``y`` (n, tokens) int64 targets, ``at`` (tokens,) the steps where they are asked."""
    x: np.ndarray
    y: np.ndarray
    at: np.ndarray
    delay: int
    vocab: int


def _int_at_least(value, low, name, where):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise ModelError(f"{where}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def delayed_recall(n_samples: int, delay: int, *, tokens: int = 3, vocab: int = 4, length: int | None = None,
                   seed=0) -> Recall:
    """``n_samples`` sequences of the delayed-recall task (see the module
    text). ``length``: the sequence's length in steps (default 2*tokens +
    delay); a delay that leaves no room for the tokens and their recall in it
    is refused. ``seed``: an int or a numpy Generator."""
    where = "delayed_recall"
    n_samples = _int_at_least(n_samples, 1, "n_samples", where)
    delay = _int_at_least(delay, 0, "delay", where)
    tokens = _int_at_least(tokens, 1, "tokens", where)
    vocab = _int_at_least(vocab, 2, "vocab", where)
    need = 2 * tokens + delay
    if length is None:
        length = need
    length = _int_at_least(length, 1, "length", where)
    if need > length:
        raise ModelError(f"{where}: delay {delay} is longer than the sequence allows: {tokens} tokens, the delay "
                         f"and {tokens} recall steps take {need} steps, the sequence has {length}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    y = rng.integers(0, vocab, (n_samples, tokens))
    x = np.zeros((length, n_samples, vocab + tokens), np.float32)
    x[np.arange(tokens)[:, None], np.arange(n_samples)[None, :], y.T] = 1
    at = np.arange(tokens + delay, need)
    x[at, :, vocab + np.arange(tokens)] = 1
    return Recall(x, y.astype(np.int64), at, delay, vocab)


def pydoc_text() -> str:
    """The help topics of ``pydoc_data.topics``, in the order of their names."""
    from pydoc_data.topics import topics
    return "\n".join(topics[name] for name in sorted(topics))


@dataclass(frozen=True)
class CharCorpus:
    """A text as character ids: ``vocab`` (the characters, sorted), ``train``
    and ``val`` (int64 ids: the text's start and its held-out end)."""
    vocab: str
    train: np.ndarray
    val: np.ndarray

    def one_hot(self, ids: np.ndarray) -> np.ndarray:
        """ids (any shape) -> one-hot float32 (..., len(vocab))."""
        return np.eye(len(self.vocab), dtype=np.float32)[ids]


def char_corpus(text: str | None = None, *, val_fraction: float = 0.1, max_chars: int | None = None) -> CharCorpus:
    """``text`` (default ``pydoc_text()``; its first ``max_chars``
    characters) as a ``CharCorpus``, the last ``val_fraction`` held out.
    An empty text is refused."""
    where = "char_corpus"
    text = pydoc_text() if text is None else text
    if not isinstance(text, str):
        raise ModelError(f"{where}: the corpus must be a str, got {type(text).__name__}")
    if max_chars is not None:
        text = text[:_int_at_least(max_chars, 1, "max_chars", where)]
    if not text:
        raise ModelError(f"{where}: the text corpus is empty")
    if not 0 < val_fraction < 1:
        raise ModelError(f"{where}: val_fraction must lie in (0, 1), got {val_fraction!r}")
    vocab = "".join(sorted(set(text)))
    ids = np.searchsorted(np.array(list(vocab)), np.array(list(text))).astype(np.int64)
    split = int(round(len(ids) * (1 - val_fraction)))
    if split < 2 or len(ids) - split < 2:
        raise ModelError(f"{where}: a text of {len(ids)} characters leaves no training or held-out part "
                         f"at val_fraction {val_fraction}")
    return CharCorpus(vocab, ids[:split], ids[split:])


def lm_windows(ids: np.ndarray, seq_len: int, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` random windows of ``seq_len`` characters and the next
    character of each: inputs and targets (seq_len, batch) int64."""
    seq_len = _int_at_least(seq_len, 1, "seq_len", "lm_windows")
    if len(ids) < seq_len + 1:
        raise ModelError(f"lm_windows: {len(ids)} characters are fewer than a window of {seq_len} and its target")
    start = rng.integers(0, len(ids) - seq_len, batch)
    idx = start[None, :] + np.arange(seq_len)[:, None]
    return ids[idx], ids[idx + 1]
