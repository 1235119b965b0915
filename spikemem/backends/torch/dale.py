"""Dale's law for torch training: each trainable weight keeps its projection's sign.

The sign is the one ``Network.build()`` holds the projection to (PyNN's
convention, ``BuiltProjection.sign``); a projection without that rule keeps
the sign its initial weights share. Training projects the weights back onto
that sign (``TorchNetwork.constrain_``) instead of reparametrising them, so
``module.weights`` stay the weights themselves.
"""
from __future__ import annotations

import numpy as np
import torch

from ...errors import ModelError


def _sign(proj) -> int:
    """+1 (w >= 0) or -1 (w <= 0) for one projection; ModelError where it has none."""
    if proj.sign is not None:
        return proj.sign
    if np.all(proj.w >= 0):
        return 1
    if np.all(proj.w <= 0):
        return -1
    raise ModelError(f"Dale's law: projection '{proj.name}' onto '{proj.target}' starts with weights of "
                     f"both signs ({proj.w.min():g} to {proj.w.max():g}); split it by sign or leave it out "
                     f"of dale=[...]")


def dale_signs(built, dale, trainable) -> dict:
    """{projection name: +1 | -1} for the projections ``dale`` names (True: every
    trainable one, False: none, or an iterable of projection names)."""
    if dale is False or dale is None:
        return {}
    if dale is True:
        names = list(trainable)
    elif isinstance(dale, str) or not hasattr(dale, "__iter__"):
        raise ModelError(f"torch backend: dale must be True, False or a list of projection names, got {dale!r}")
    else:
        names = list(dale)
        for p in built.projections:
            if p.name in names:
                p.refuse_convolution("its kernel is fixed on torch (not trained), so Dale's law has nothing "
                                     "to keep; leave it out of dale=[...]")
        unknown = [n for n in names if n not in trainable]
        if unknown:
            raise ModelError(f"torch backend: dale names {unknown}, which are not trainable (static) "
                             f"projections; these are {sorted(trainable)}")
    projs = {p.name: p for p in built.projections}
    return {name: _sign(projs[name]) for name in names}     # build() has held the initial weights to it


def project_(weights, signs: dict) -> None:
    """Clamp each named weight tensor onto its sign, in place; a tensor already
    in sign is left untouched (an in-place write would break a graph that uses it)."""
    with torch.no_grad():
        for name, sign in signs.items():
            w = weights[name]
            if bool((w * sign < 0).any()):
                w.clamp_(min=0) if sign > 0 else w.clamp_(max=0)
