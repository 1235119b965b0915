"""Gradient transforms for continual learning: ``HLOP`` (Hebbian subspace,
orthogonal projection), ``GPM`` (exact-SVD orthogonal projection) and
``EWC`` (a quadratic penalty weighted by the Fisher information); their
protocol is ``GradientTransform`` (``base``)."""
from .base import GradientTransform
from .ewc import EWC
from .gpm import GPM
from .hlop import HLOP

__all__ = ["EWC", "GPM", "GradientTransform", "HLOP"]
