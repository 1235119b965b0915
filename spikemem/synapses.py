"""Synapse models: per-synapse state and the statements run on spikes.

A ``SynapseModel`` is written the way Brian2 writes a ``Synapses`` object:
``equations`` declare the per-synapse variables (``w`` always, traces as
``(event-driven)`` or ``(clock-driven)`` differential equations, parameters as
``name : unit (constant)``, and rate projections as ``x_post = ... (summed)``);
``on_pre`` and ``on_post`` are the statements run when the presynaptic and
the postsynaptic neuron fire.

The unit of the weight depends on what the projection drives (amperes for a
current synapse, siemens for a conductance, 1 for a rate unit), so a template
writes ``weight`` where that unit goes: ``w_max : weight (constant)``.

Delivery is not part of the model: a projection delivers ``<target>_post += w``
when the spike arrives (emission plus delay), with the weight of that moment,
unless the projection states its own ``on_pre``. Models with a ``(summed)``
equation deliver through it instead.

Timing of the model's statements (every backend): ``on_pre`` runs when the
presynaptic neuron fires and ``on_post`` when the postsynaptic neuron fires,
both after every neuron of that step has been updated, tested and reset, with
``on_pre`` first; clock-driven synaptic equations run just before them. A rule
therefore sees the lag ``t_post - t_pre`` between the two neurons' spike times,
whatever the delay, and a pre and a post spike in the same step count as
pre-before-post. (This is the dendritic-delay reading of PyNN's plastic
synapses, without a back-propagation delay; Brian2's examples put the
statements in the delayed pathway instead.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .units import plain

_WEIGHT_UNIT = re.compile(r"(:\s*)weight\b")


@dataclass(frozen=True)
class SynapseModel:
    equations: str = "w : weight"
    on_pre: str = ""
    on_post: str = ""
    params: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)      # default initial values of synaptic variables
    method: str = "exact"
    name: str = "static"

    def equations_for(self, weight_unit: str) -> str:
        """The equations with ``weight`` replaced by the unit of the driven variable."""
        return _WEIGHT_UNIT.sub(lambda m: m.group(1) + weight_unit, self.equations)

    def spec(self) -> dict:
        from .distributions import to_spec
        return {"equations": self.equations, "on_pre": self.on_pre, "on_post": self.on_post,
                "params": {k: to_spec(plain(v)) for k, v in self.params.items()},
                "init": {k: to_spec(plain(v)) for k, v in self.init.items()},
                "method": self.method, "name": self.name}

    @classmethod
    def from_spec(cls, spec: dict) -> "SynapseModel":
        from .distributions import from_spec
        spec = dict(spec)
        spec["params"] = {k: from_spec(v) for k, v in spec["params"].items()}
        spec["init"] = {k: from_spec(v) for k, v in spec["init"].items()}
        return cls(**spec)


STATIC = SynapseModel()
