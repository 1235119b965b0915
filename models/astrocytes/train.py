"""Training loops and measurements for the sequence tasks: recall accuracy,
bits per character, latency per token, throughput and peak memory.

Every model maps (T, B, n_in) to logits (T, B, n_out) and takes an optional
state to continue from (``model(x, state)``, the state after the call in
``model.last_state``). Training is BPTT with Adam and gradient clipping (norm
1); a fresh batch is drawn at every iteration. Timings are on the calling
thread (``torch.set_num_threads`` is the caller's).
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from spikemem.errors import ModelError

from .tasks import CharCorpus, delayed_recall, lm_windows


def _check_iterations(iterations, where):
    if not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise ModelError(f"{where}: iterations must be an integer >= 1, got {iterations!r}")


def _step(model, optimiser, loss):
    optimiser.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimiser.step()


def recall_accuracy(model: nn.Module, task) -> float:
    """The fraction of recalled tokens ``model`` names correctly on ``task`` (a ``tasks.Recall``)."""
    with torch.no_grad():
        logits = model(torch.from_numpy(task.x))[task.at]          # (tokens, n, vocab + ...)
    return float((logits[..., :task.vocab].argmax(-1).T.numpy() == task.y).mean())


def train_recall(model: nn.Module, delay: int, *, iterations: int = 300, batch: int = 32, tokens: int = 3,
                 vocab: int = 4, lr: float = 3e-3, seed: int = 0, test_samples: int = 512) -> dict:
    """Trains ``model`` on delayed recall at ``delay`` (fresh sequences each
    iteration, cross-entropy at the recall steps); returns the test accuracy
    on ``test_samples`` new sequences, the last losses and the seconds taken."""
    _check_iterations(iterations, "train_recall")
    rng = np.random.default_rng(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    losses, start = [], time.perf_counter()
    for _ in range(iterations):
        task = delayed_recall(batch, delay, tokens=tokens, vocab=vocab, seed=rng)
        logits = model(torch.from_numpy(task.x))[task.at][..., :vocab]
        loss = F.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(task.y.T.copy()).reshape(-1))
        _step(model, optimiser, loss)
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    test = delayed_recall(test_samples, delay, tokens=tokens, vocab=vocab, seed=rng)
    return {"accuracy": recall_accuracy(model, test), "loss": float(np.mean(losses[-20:])), "seconds": seconds,
            "chance": 1 / vocab}


def train_lm(model: nn.Module, corpus: CharCorpus, *, iterations: int = 500, seq_len: int = 64, batch: int = 32,
             lr: float = 3e-3, seed: int = 0) -> dict:
    """Trains ``model`` to predict the next character on random windows of
    the training text; returns the mean loss (bits per character) of the last
    iterations and the seconds taken."""
    _check_iterations(iterations, "train_lm")
    rng = np.random.default_rng(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(corpus.vocab)
    losses, start = [], time.perf_counter()
    for _ in range(iterations):
        x, y = lm_windows(corpus.train, seq_len, batch, rng)
        logits = model(torch.from_numpy(corpus.one_hot(x)))
        loss = F.cross_entropy(logits.reshape(-1, n), torch.from_numpy(y).reshape(-1))
        _step(model, optimiser, loss)
        losses.append(loss.item())
    return {"train_bpc": float(np.mean(losses[-20:])) / math.log(2), "seconds": time.perf_counter() - start}


def _detach(state):
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(_detach(s) for s in state)


def bits_per_char(model: nn.Module, corpus: CharCorpus, *, streams: int = 16, seq_len: int = 128) -> float:
    """Bits per character on the held-out text: cut into ``streams`` equal
    parts read side by side in chunks of ``seq_len``, the state carried
    from chunk to chunk."""
    ids = corpus.val
    per = (len(ids) - 1) // streams
    if per < 1:
        raise ModelError(f"bits_per_char: {len(ids)} held-out characters are too few for {streams} streams")
    x = ids[:per * streams].reshape(streams, per).T
    y = ids[1:per * streams + 1].reshape(streams, per).T
    total, state = 0.0, None
    with torch.no_grad():
        for t in range(0, per, seq_len):
            logits = model(torch.from_numpy(corpus.one_hot(x[t:t + seq_len])), state)
            state = _detach(model.last_state)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           torch.from_numpy(y[t:t + seq_len]).reshape(-1), reduction="sum"))
    return total / (per * streams) / math.log(2)


def latency_per_token(model: nn.Module, n_in: int, *, tokens: int = 200) -> float:
    """Median seconds to take one token and give the next one's logits
    (batch 1, the state carried), without gradients."""
    x, state, times = torch.zeros(1, 1, n_in), None, []
    with torch.no_grad():
        for t in range(tokens):
            x.zero_()
            x[0, 0, t % n_in] = 1
            start = time.perf_counter()
            model(x, state)
            state = model.last_state
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def throughput(model: nn.Module, n_in: int, *, batch: int = 64, seq_len: int = 128, repeats: int = 3) -> float:
    """Tokens per second of inference on (seq_len, batch) one-hot sequences, the best of ``repeats``."""
    x = torch.zeros(seq_len, batch, n_in)
    x[..., 0] = 1
    best = math.inf
    with torch.no_grad():
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - start)
    return seq_len * batch / best


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _peak_child(kind, n_in, n_out, budget, seq_len, batch, queue):
    torch.set_num_threads(1)
    from .baselines import build
    model = build(kind, n_in, n_out, budget)
    x, y = torch.zeros(seq_len, batch, n_in), torch.zeros(seq_len * batch, dtype=torch.int64)
    x[..., 0] = 1
    model(x[:1, :1]).sum().backward()                  # one-time costs (autograd's engine) out of the figure
    model.zero_grad()
    with open("/proc/self/clear_refs", "w") as f:       # the peak (VmHWM) restarts from the current size
        f.write("5")
    before = _status_kib("VmRSS")
    loss = F.cross_entropy(model(x).reshape(-1, n_out), y)
    loss.backward()
    queue.put((_status_kib("VmHWM") - before) / 1024)


def peak_training_memory(kind: str, n_in: int, n_out: int, budget: int, *, seq_len: int = 64,
                         batch: int = 32) -> float:
    """MiB by which one training step (forward and backward over
    (seq_len, batch)) raises the peak resident memory of a child process (a
    fork of the caller) that has built the model and run one step of one
    token: Linux's VmHWM, reset just before the step, less the size then."""
    import multiprocessing
    context = multiprocessing.get_context("fork")       # the child has the modules already
    queue = context.Queue()
    child = context.Process(target=_peak_child, args=(kind, n_in, n_out, budget, seq_len, batch, queue))
    child.start()
    result = queue.get(timeout=600)
    child.join()
    return float(result)
