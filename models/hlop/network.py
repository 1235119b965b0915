"""The network HLOP trains: a layered network of ``Leaky`` neurons (``spikemem.learn.mlp``)."""
from __future__ import annotations


def hlop_network(n_inputs: int = 64, n_hidden: int = 200, n_classes: int = 10, beta: float = 0.9, seed: int = 0):
    """``input`` (``n_inputs`` spike sources) -> ``n_hidden`` Leaky neurons ->
    ``n_classes`` Leaky neurons, all-to-all projections ``fc1``, ``fc2`` with
    ``nn.Linear``-like uniform weights drawn from ``seed``: the spiking network
    of the permuted-digits experiment before training."""
    from spikemem import learn
    return learn.mlp([n_inputs, n_hidden, n_classes], beta=beta, seed=seed)
