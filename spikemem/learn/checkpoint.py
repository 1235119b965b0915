"""Trained weights and thresholds on disk, and back into a model or a ``Network``.

A checkpoint is one ``torch.save`` file: the kind of model (spiking or ANN),
its layers in order with their shapes (and, for a spiking model, each
projection's pre and post populations), the weights (n_post, n_pre), the
thresholds per population (spiking) or the biases (ANN), in float64 on the CPU.
Loading refuses, by name, a checkpoint whose layers do not fit.
"""
from __future__ import annotations

import torch

from ..errors import ModelError
from ..network import Network
from .network import layered, set_thresholds

FORMAT = "spikemem.learn.checkpoint"
VERSION = 1


def _cpu(t):
    return t.detach().to("cpu", torch.float64).clone()


def save_checkpoint(model, path) -> None:
    """Write ``model`` (a ``SpikingModel`` or an ``ann_mlp``) to ``path``."""
    if not all(hasattr(model, a) for a in ("layers", "weight")):
        raise ModelError(f"save_checkpoint: {type(model).__name__} is not a trainable model (layers, weight)")
    spiking = bool(getattr(model, "spiking", False))
    data = {"format": FORMAT, "version": VERSION, "kind": "spiking" if spiking else "ann",
            "layers": list(model.layers), "weights": {n: _cpu(model.weight(n)) for n in model.layers}}
    if spiking:
        data["input"], data["chain"] = model.input, {}
        for layer in model.plan.layers:
            data["chain"][layer.name] = [layer.pre, layer.post]
            if layer.recurrent:
                data["chain"][layer.recurrent] = [layer.post, layer.post]
        data["thresholds"] = {n: _cpu(v) for n, v in model.thresholds.items()}
    else:
        data["biases"] = {n: _cpu(model.fc[n].bias) for n in model.layers if model.fc[n].bias is not None}
    torch.save(data, path)


def _read(path) -> dict:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelError(f"load_checkpoint: cannot read {str(path)!r}: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"load_checkpoint: {str(path)!r} is not a spikemem.learn checkpoint")
    if data.get("version") != VERSION:
        raise ModelError(f"load_checkpoint: {str(path)!r} has version {data.get('version')}, this spikemem "
                         f"reads {VERSION}")
    return data


def _check_shapes(data, shapes: dict, where: str):
    """Refuse a checkpoint whose layers or their shapes are not ``shapes`` {name: (n_post, n_pre)}."""
    if list(data["layers"]) != list(shapes):
        raise ModelError(f"load_checkpoint: the checkpoint's layers {data['layers']} are not those of "
                         f"{where} {list(shapes)}")
    for name, shape in shapes.items():
        got = tuple(data["weights"][name].shape)
        if got != tuple(shape):
            raise ModelError(f"load_checkpoint: layer '{name}' is {got[0]} x {got[1]} in the checkpoint, "
                             f"{shape[0]} x {shape[1]} in {where}")


def load_checkpoint(path, into):
    """Load the checkpoint at ``path`` into ``into``: a compiled ``SpikingModel``,
    an ``ann_mlp`` or a ``Network`` (weights through ``set_weights``,
    thresholds as the populations' ``v_th``). Returns ``into``."""
    data = _read(path)
    if isinstance(into, Network):
        return _into_network(data, into)
    if not all(hasattr(into, a) for a in ("layers", "weight")):
        raise ModelError(f"load_checkpoint: cannot load into {type(into).__name__}; give a SpikingModel, "
                         f"an ANN or a Network")
    spiking = bool(getattr(into, "spiking", False))
    if data["kind"] != ("spiking" if spiking else "ann"):
        raise ModelError(f"load_checkpoint: the checkpoint holds a {data['kind']} model, not a "
                         f"{'spiking' if spiking else 'ann'} one")
    _check_shapes(data, {n: tuple(into.weight(n).shape) for n in into.layers}, "the model")
    with torch.no_grad():
        if spiking:
            if sorted(data["thresholds"]) != sorted(into.thresholds):
                raise ModelError(f"load_checkpoint: thresholds of {sorted(data['thresholds'])} in the "
                                 f"checkpoint, populations {sorted(into.thresholds)} in the model")
            for name, v in data["thresholds"].items():
                into.thresholds[name].copy_(v)
            into.forget_simulations()
        else:
            for name, b in data["biases"].items():
                if into.fc[name].bias is None:
                    raise ModelError(f"load_checkpoint: layer '{name}' has a bias in the checkpoint, "
                                     f"none in the model")
                into.fc[name].bias.copy_(b)
        for name in into.layers:
            into.weight(name).copy_(data["weights"][name])
    return into


def _into_network(data, net: Network) -> Network:
    if data["kind"] != "spiking":
        raise ModelError("load_checkpoint: an ANN checkpoint does not load into a Network")
    chain = data["chain"]
    plan = layered(net, data["input"], leaky=False)
    shapes = {}
    for layer in plan.layers:
        shapes[layer.name] = (layer.n_post, layer.n_pre)
        if layer.recurrent:
            shapes[layer.recurrent] = (layer.n_post, layer.n_post)
    _check_shapes(data, shapes, "the network")
    runs = {}
    for layer in plan.layers:
        runs[layer.name] = [layer.pre, layer.post]
        if layer.recurrent:
            runs[layer.recurrent] = [layer.post, layer.post]
    for name, ends in runs.items():
        if list(chain.get(name, ["?", "?"])) != ends:
            raise ModelError(f"load_checkpoint: projection '{name}' runs {' -> '.join(ends)} in the network, "
                             f"{' -> '.join(chain.get(name, ['?', '?']))} in the checkpoint")
    thresholds = {name: v.numpy() for name, v in data["thresholds"].items()}
    weights = {name: data["weights"][name].numpy().T.ravel() for name in data["layers"]}
    set_thresholds(net, thresholds, "load_checkpoint")      # checked before anything is written
    net.set_weights(weights)
    return net
