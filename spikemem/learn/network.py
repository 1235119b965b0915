"""Layered networks of ``Leaky`` neurons: ``mlp`` builds one, ``layered`` reads one
back as the list of layers the training engines run."""
from __future__ import annotations

from ..network import Network


def mlp(sizes, *, beta: float = 0.9, v_th: float = 1.0, dt: float = 1e-3, recurrent: bool = False,
        seed: int = 0) -> Network:
    """A spike source ``input`` of ``sizes[0]`` neurons, then ``Leaky`` layers
    ``hidden1``, ... and ``output`` of ``sizes[1:]`` neurons, joined all-to-all
    by ``fc1``, ``fc2``, ... (and ``rec1``, ... from each hidden layer onto
    itself with ``recurrent``), one step of delay; weights drawn like
    ``nn.Linear``'s, uniform in +-1/sqrt(n_pre), from ``seed``."""
    raise NotImplementedError
