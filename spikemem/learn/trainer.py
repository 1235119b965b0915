"""``Trainer``: minibatch training of any ``Trainable`` model, spiking or not.

Static data (samples, n_in) (firing probabilities in [0, 1] for Poisson
spikes, any finite current when repeated) is shuffled per epoch and, for a
spiking model, encoded per minibatch into ``steps`` time steps (``encode``).
Gradient transforms (HLOP, EWC, GPM) join each step: their ``penalty`` is
added to the loss, their ``transform`` edits the gradients before the
optimiser's step. Everything random (order, spikes) comes from ``seed``.
"""
from __future__ import annotations

import copy
import time

import numpy as np
import torch
from torch import nn

from ..errors import ModelError
from ..progress import progress as progress_bar
from . import checks
from .datasets import check_inputs
from .encoding import HOW, encode
from .step import gradient_step

LOSSES = {"cross_entropy": nn.functional.cross_entropy,
          # squared error against one-hot targets (the logits' scale: counts or membrane)
          "mse": lambda logits, y: nn.functional.mse_loss(
              logits, nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype))}
OPTIMISERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}


class Trainer:
    """Trains ``model`` (a ``SpikingModel`` or any ``Trainable``, e.g. ``ann_mlp``).

    ``loss``: "cross_entropy", "mse" or a function (logits, labels) -> loss;
    ``optimiser``: "adam", "sgd", "adamw" or a ``torch.optim.Optimizer`` over
    the model's parameters; ``steps`` and ``encoding`` ("poisson" or
    "repeat") apply to spiking models; ``callbacks``: functions (epoch,
    metrics) called after each epoch, returning True to stop; ``patience``:
    stop once the validation accuracy has not improved for that many epochs,
    and go back to the best epoch's parameters; ``progress``: a bar per epoch
    (None: on terminals and in notebooks only)."""

    def __init__(self, model, *, loss="cross_entropy", optimiser="adam", lr=1e-3, epochs=1, batch_size=64,
                 steps=20, encoding="poisson", transforms=(), callbacks=(), patience=None, seed=0, progress=None):
        if not isinstance(model, nn.Module) or not all(hasattr(model, a) for a in ("layers", "weight")):
            raise ModelError(f"Trainer: model must be a trainable nn.Module (layers, weight(name)), "
                             f"got {type(model).__name__}")
        self.model = model
        self.spiking = bool(getattr(model, "spiking", False))
        if isinstance(loss, str):
            if loss not in LOSSES:
                raise ModelError(f"Trainer: loss must be one of {sorted(LOSSES)} or a function, got {loss!r}")
            loss = LOSSES[loss]
        elif not callable(loss):
            raise ModelError(f"Trainer: loss must be one of {sorted(LOSSES)} or a function, got {loss!r}")
        self.loss = loss
        if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0):
            raise ModelError(f"Trainer: lr must be a number > 0, got {lr!r}")
        if isinstance(optimiser, str):
            if optimiser not in OPTIMISERS:
                raise ModelError(f"Trainer: optimiser must be one of {sorted(OPTIMISERS)} or a torch "
                                 f"optimiser, got {optimiser!r}")
            optimiser = OPTIMISERS[optimiser]([p for p in model.parameters() if p.requires_grad], lr=lr)
        elif not isinstance(optimiser, torch.optim.Optimizer):
            raise ModelError(f"Trainer: optimiser must be one of {sorted(OPTIMISERS)} or a torch optimiser, "
                             f"got {type(optimiser).__name__}")
        self.optimiser = optimiser
        self.epochs = checks.whole(epochs, "Trainer: epochs", 1)
        self.batch_size = checks.whole(batch_size, "Trainer: batch_size", 1)
        self.steps = checks.whole(steps, "Trainer: steps", 1)
        if encoding not in HOW:
            raise ModelError(f"Trainer: encoding must be one of {list(HOW)}, got {encoding!r}")
        self.encoding = encoding
        self.transforms = tuple(transforms)
        for t in self.transforms:
            if not (callable(getattr(t, "penalty", None)) and callable(getattr(t, "transform", None))):
                raise ModelError(f"Trainer: transform {t!r} needs penalty(model) and transform(model)")
        self.callbacks = tuple(callbacks)
        for c in self.callbacks:
            if not callable(c):
                raise ModelError(f"Trainer: callback {c!r} is not callable")
        self.patience = checks.whole(patience, "Trainer: patience", 1, none=True)
        self.seed = checks.seed(seed, "Trainer")
        self.progress = progress
        self.history = []

    # --- data
    def _data(self, x, y, what):
        param = next(self.model.parameters())
        host = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        x = x.to(dtype=param.dtype, device=param.device)
        y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).to(param.device)
        if x.dim() != 2:
            raise ModelError(f"Trainer: {what} x must be (samples, inputs), got shape {tuple(x.shape)}")
        if y.shape != (x.shape[0],) or y.dtype.is_floating_point or y.dtype == torch.bool:
            raise ModelError(f"Trainer: {what} y must be integer labels, one per sample ({x.shape[0]}), "
                             f"got shape {tuple(y.shape)} {y.dtype}")
        if x.shape[0] == 0:
            raise ModelError(f"Trainer: {what} data is empty")
        n_in = self.model.weight(self.model.layers[0]).shape[1]
        if x.shape[1] != n_in:
            raise ModelError(f"Trainer: {what} x has {x.shape[1]} inputs per sample, the model's first layer "
                             f"'{self.model.layers[0]}' takes {n_in}")
        if not bool(torch.isfinite(x).all()):
            raise ModelError(f"Trainer: {what} x contains NaN or inf")
        if self.spiking and self.encoding == "poisson":
            check_inputs(host, f"Trainer: {what} x")     # firing probabilities: in [0, 1]
        y = y.long()
        n_out = self.model.weight(self.model.layers[-1]).shape[0]
        if bool((y < 0).any()) or bool((y >= n_out).any()):
            raise ModelError(f"Trainer: {what} y has labels outside the model's {n_out} outputs "
                             f"[0, {n_out - 1}]: {int(y.min())}..{int(y.max())}")
        return x, y

    def _input(self, xb, generator):
        if not self.spiking:
            return xb
        return encode(xb, self.steps, self.encoding, generator=generator)

    # --- training
    def fit(self, x_train, y_train, x_val=None, y_val=None) -> list:
        """Train for ``epochs`` epochs; returns one dict per epoch: ``epoch``,
        ``loss`` (mean over the minibatches), ``accuracy`` (on the training
        minibatches as they were trained), ``val_accuracy`` (None without
        validation data) and ``seconds``."""
        if self.patience is not None and x_val is None:
            raise ModelError(f"Trainer: patience={self.patience} needs validation data (x_val, y_val)")
        x, y = self._data(x_train, y_train, "training")
        val = self._data(x_val, y_val, "validation") if x_val is not None else None
        gen = torch.Generator(device=x.device).manual_seed(self.seed)
        step = getattr(self.model, "train_step", None)
        best, best_state, waited, history = -1.0, None, 0, []
        for epoch in range(self.epochs):
            t0 = time.perf_counter()
            self.model.train()
            order = torch.randperm(x.shape[0], generator=gen, device=x.device)
            total, correct, n_batches = 0.0, 0, 0
            batches = range(0, x.shape[0], self.batch_size)
            with progress_bar(len(batches), f"epoch {epoch + 1}/{self.epochs}", self.progress, "batch") as bar:
                for start in batches:
                    idx = order[start:start + self.batch_size]
                    xb, yb = self._input(x[idx], gen), y[idx]
                    if step is not None:
                        value, logits = step(xb, yb, self.loss, self.optimiser, self.transforms)
                    else:
                        value, logits = gradient_step(self.model, xb, yb, self.loss, self.optimiser, self.transforms)
                    if not np.isfinite(value):
                        raise ModelError(f"Trainer: the loss became {value} in epoch {epoch + 1}; lower lr")
                    total += value
                    correct += int((logits.argmax(1) == yb).sum())
                    n_batches += 1
                    bar.update()
            metrics = {"epoch": epoch + 1, "loss": total / n_batches, "accuracy": correct / x.shape[0],
                       "val_accuracy": self.evaluate(*val) if val is not None else None,
                       "seconds": time.perf_counter() - t0}
            history.append(metrics)
            stop = any(bool(c(epoch + 1, metrics)) for c in self.callbacks)
            if self.patience is not None and val is not None:
                if metrics["val_accuracy"] > best:
                    best, waited = metrics["val_accuracy"], 0
                    best_state = copy.deepcopy(self.model.state_dict())
                else:
                    waited += 1
                    stop = stop or waited >= self.patience
            if stop:
                break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.history += history
        return history

    @torch.no_grad()
    def evaluate(self, x, y) -> float:
        """Accuracy on (x, y); a spiking model's input spikes drawn from ``seed``
        (the same accuracy on every call)."""
        x, y = self._data(x, y, "evaluation")
        gen = torch.Generator(device=x.device).manual_seed(self.seed + 1)
        was_training = self.model.training
        self.model.eval()
        correct = 0
        for start in range(0, x.shape[0], self.batch_size):
            logits = self.model(self._input(x[start:start + self.batch_size], gen))
            correct += int((logits.argmax(1) == y[start:start + self.batch_size]).sum())
        self.model.train(was_training)
        return correct / x.shape[0]
