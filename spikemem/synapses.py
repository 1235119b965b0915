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

Delivery: a projection delivers ``<target>_post += w`` when the spike arrives
(emission plus delay), with the weight of that moment, unless the projection
states its own ``on_pre`` or the model delivers by itself. A model delivers by
itself when its ``on_pre`` writes the variable the projection drives (for
``receptor="exc"`` of ``IF_curr_exp``: ``isyn_exc_post += U*x*w``, say, a
Tsodyks-Markram synapse): that statement is then the projection's only
delivery, so each spike arrives once. It runs with the rest of ``on_pre``, when
the presynaptic neuron fires, which the neuron feels from the next step on, as
it feels a delivery of one time step's delay; such a projection therefore takes
a delay of one time step and refuses a longer one. (A projection that states
its own ``on_pre`` keeps it, next to the model's.) Models with a ``(summed)``
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
    """Per-synapse equations and the statements run on spikes (see the module text).

    Who delivers a spike: the projection (``<target>_post += w`` on arrival),
    unless ``on_pre`` writes ``<target>_post`` itself (``delivers``): then that
    statement is the only delivery, run when the presynaptic neuron fires, and
    the projection takes a delay of one time step. No ``on_pre=""`` is needed
    on ``connect``; an ``on_pre`` given there replaces the projection's delivery
    only, and the model's statements run as well.
    """
    equations: str = "w : weight"
    on_pre: str = ""
    on_post: str = ""
    params: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)      # default initial values of synaptic variables
    method: str = "exact"
    name: str = "static"
    # the shared parameter that multiplies every weight change (1 learns, 0 keeps the
    # weights; ``Simulation.freeze``), None for a model without one
    switch: str | None = None

    def delivers(self, target: str) -> bool:
        """Whether ``on_pre`` writes ``<target>_post`` (``=``, ``+=``, ``-=``, ...):
        the model then delivers the spike itself, instead of the projection."""
        return re.search(rf"(?:^|;)\s*{re.escape(target)}_post\s*(?:[-+*/%]|\*\*|//)?=(?!=)",
                         self.on_pre, re.MULTILINE) is not None

    def equations_for(self, weight_unit: str) -> str:
        """The equations with ``weight`` replaced by the unit of the driven variable."""
        return _WEIGHT_UNIT.sub(lambda m: m.group(1) + weight_unit, self.equations)

    def spec(self) -> dict:
        from .distributions import to_spec
        return {"equations": self.equations, "on_pre": self.on_pre, "on_post": self.on_post,
                "params": {k: to_spec(plain(v)) for k, v in self.params.items()},
                "init": {k: to_spec(plain(v)) for k, v in self.init.items()},
                "method": self.method, "name": self.name,
                # only where set: the specs (and hashes) of models without a switch stay as they were
                **({"switch": self.switch} if self.switch else {})}

    @classmethod
    def from_spec(cls, spec: dict) -> "SynapseModel":
        from .distributions import from_spec
        spec = dict(spec)
        spec["params"] = {k: from_spec(v) for k, v in spec["params"].items()}
        spec["init"] = {k: from_spec(v) for k, v in spec["init"].items()}
        return cls(**spec)


STATIC = SynapseModel()


def summed(source: str = "s", target: str = "I") -> SynapseModel:
    """A rate projection: ``<target>_post = w*<source>_pre`` summed over the synapses,
    recomputed every step (the rate units of ``spikemem.rates`` read ``s`` and sum
    into ``I``)."""
    for what, name in (("source", source), ("target", target)):
        if not isinstance(name, str) or not name.isidentifier():
            from .errors import ModelError
            raise ModelError(f"summed synapse: {what} must be a variable name, got {name!r}")
    return SynapseModel(f"w : weight\n{target}_post = w*{source}_pre : 1 (summed)", name="summed")
