"""Trained weights and thresholds on disk, and back into a model or a ``Network``."""
from __future__ import annotations


def save_checkpoint(model, path) -> None:
    raise NotImplementedError


def load_checkpoint(path, into):
    raise NotImplementedError
