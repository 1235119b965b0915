"""Dale's law for torch training: each trainable weight keeps its projection's sign.

The sign is PyNN's convention: a conductance is >= 0; a current on receptor
'exc' is >= 0 and on 'inh' <= 0; a projection onto any other receptor or
variable keeps the sign its initial weights share. Training projects the
weights back onto that sign (``TorchNetwork.constrain_``) instead of
reparametrising them, so ``module.weights`` stay the weights themselves.
"""
from __future__ import annotations

import numpy as np
import torch
from brian2 import amp, siemens

from ...errors import ModelError


def _sign(proj, post) -> int:
    """+1 (w >= 0) or -1 (w <= 0) for one projection; ModelError where it has none."""
    if proj.weight_dim == siemens.dim:
        return 1
    receptor = next((name for name, var in post.model.receptors.items() if var == proj.target), None)
    if proj.weight_dim == amp.dim and receptor in ("exc", "inh"):
        return 1 if receptor == "exc" else -1
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
        unknown = [n for n in names if n not in trainable]
        if unknown:
            raise ModelError(f"torch backend: dale names {unknown}, which are not trainable (static) "
                             f"projections; these are {sorted(trainable)}")
    projs = {p.name: p for p in built.projections}
    signs = {name: _sign(projs[name], built.populations[projs[name].post]) for name in names}
    wrong = {name: int(np.sum(projs[name].w * s < 0)) for name, s in signs.items()}
    wrong = {name: k for name, k in wrong.items() if k}
    if wrong:
        raise ModelError("Dale's law: initial weights of the wrong sign: " + ", ".join(
            f"projection '{n}' has {k} ({'>= 0' if signs[n] > 0 else '<= 0'} required)" for n, k in wrong.items()))
    return signs


def project_(weights, signs: dict) -> None:
    """Clamp each named weight tensor onto its sign, in place; a tensor already
    in sign is left untouched (an in-place write would break a graph that uses it)."""
    with torch.no_grad():
        for name, sign in signs.items():
            w = weights[name]
            if bool((w * sign < 0).any()):
                w.clamp_(min=0) if sign > 0 else w.clamp_(max=0)
