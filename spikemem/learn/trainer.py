"""``Trainer``: minibatch training of any ``Trainable`` model."""
from __future__ import annotations


class Trainer:
    def __init__(self, model, *, loss="cross_entropy", optimiser="adam", lr=1e-3, epochs=1, batch_size=64,
                 steps=20, encoding="poisson", transforms=(), callbacks=(), patience=None, seed=0, progress=None):
        raise NotImplementedError

    def fit(self, x_train, y_train, x_val=None, y_val=None) -> list:
        raise NotImplementedError

    def evaluate(self, x, y) -> float:
        raise NotImplementedError
