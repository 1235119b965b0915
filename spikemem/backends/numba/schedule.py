"""Which work of a step the numba kernel can skip without changing what it computes.

A population with its own ``dt`` (``Network.population(dt=...)``) updates only
on the steps its clock ticks. Two consequences are exploited here:

- a summed variable only that population reads (its target) is needed on its
  ticks only, and one that reads only that population's variables (and
  constants) changes only on the step after a tick (``summed_gate``);
- clock-driven synaptic equations that are linear, read only the synapse's own
  variables and constants, and whose values nothing reads every step are
  integrated exactly over whatever time has passed when something reads them
  (``integrated_when_read``), as Brian2 integrates event-driven equations: at
  the synapse's events, before a gated sum reads or writes them, and at the
  end of each run. The exact solution over n steps is the one step solution
  applied n times, so only rounding differs.
"""
from __future__ import annotations

import re
from functools import lru_cache

from brian2 import Equations
from brian2.equations.equations import DIFFERENTIAL_EQUATION, PARAMETER

from ...lowering import clock_driven

#: names whose value changes every step or at random: an equation reading them is not
#: the same over n steps as over one
_STEPWISE = {"t", "dt", "t_in_timesteps", "rand", "randn", "lastupdate", "lastspike", "not_refractory"}


def _assigns(code: str, name: str) -> bool:
    """Whether statements ``code`` assign to ``name`` (``=``, ``+=``, ...)."""
    return re.search(rf"(^|\n)\s*{re.escape(name)}\s*[-+*/]?=(?!=)", code or "") is not None


def _sums_onto(p, name: str) -> bool:
    """Whether projection ``p`` sums into population ``name`` (or convolves into it)."""
    if p.conv is not None:
        return p.post == name and p.conv.source is not None
    return any((p.pre if eq.varname.endswith("_pre") else p.post) == name for eq in _summed(p))


def _written_between_ticks(built, name: str) -> bool:
    """Whether something other than the slow population's own step can write population
    ``name`` between its ticks: an input, an event of a synapse model (delivery, on_pre,
    on_post) or a sum onto it not on its clock (a delayed one)."""
    if any(inp.population == name for inp in built.inputs):
        return True
    return any((p.post == name and p.linked != "post" and p.on_pre)
               or (name in (p.pre, p.post) and (p.plastic_pre or p.on_post))
               or (_sums_onto(p, name) and (p.summed_delay > 1 or p.conv is not None)) for p in built.projections)


def _target_written_elsewhere(built, proj, var: str) -> bool:
    """Whether anything but ``proj``'s sum writes its target variable ``var`` (a
    population's, or a linked projection's synapses'): Brian2 sets a summed target
    every step, so a value written between two sums would be overwritten."""
    if proj.linked == "post":
        linked = built.projections[built.linked_index(proj)]
        return any(_assigns(code, var) for code in (linked.on_pre, linked.plastic_pre, linked.on_post))
    pop = built.populations[proj.post]
    if pop.kind != "neuron" or _assigns(pop.model.reset, var):
        return True
    if any(inp.population == proj.post and inp.variable == var for inp in built.inputs):
        return True
    return any((p.post == proj.post and p.linked != "post"
                and ((p.on_pre and p.target == var) or _assigns(p.on_pre, f"{var}_post")
                     or _assigns(p.plastic_pre, f"{var}_post") or _assigns(p.on_post, f"{var}_post")))
               or (p.pre == proj.post and p.linked != "pre"
                   and (_assigns(p.plastic_pre, f"{var}_pre") or _assigns(p.on_post, f"{var}_pre")))
               for p in built.projections if p is not proj)


def _neighbours(built, proj) -> set:
    """Names that, in ``proj``'s synaptic equations, mean a variable of the pre- or
    postsynaptic population (Brian2 reads a bare name that the synapses lack as the
    postsynaptic neuron's), or a signal."""
    out = set()
    for side in (proj.pre, proj.post):
        pop = built.populations.get(side)
        if pop is not None and pop.parsed is not None:
            out |= set(pop.parsed.dims)
    return out | {n for sig in built.signals for n in sig.names}


@lru_cache(maxsize=None)
def _equations(text: str) -> Equations:
    """A projection's parsed equations: each is read by several of the rules here."""
    return Equations(text)


def _summed(proj) -> list:
    return [eq for eq in _equations(proj.equations).values() if "summed" in eq.flags]


def summed_gate(built, proj, side: str) -> tuple[int, int] | None:
    """(every, phase): ``proj``'s sum onto ``side`` is needed only on the steps where
    ``step % every == phase`` (and the first step of a run), or None: every step.

    Onto a population with its own clock: on its ticks (phase 0), where it reads
    the sum. From one: a sum that reads only the presynaptic population's
    variables and constants changes only after that population's tick (phase 1),
    provided nothing but its step writes that population, the projection's own
    variables never change (no events, no equations) and nothing else writes the
    sum's target."""
    if proj.summed_delay > 1:       # its ring of coming values moves every step
        return None
    target = proj.pre if side == "pre" else proj.post
    if proj.linked != side and built.populations[target].every > 1:
        return built.populations[target].every, 0
    if side != "post" or proj.linked == "pre" or proj.on_pre or proj.plastic_pre or proj.on_post:
        return None
    source = built.populations[proj.pre]
    if source.kind != "neuron" or source.every == 1 or _written_between_ticks(built, proj.pre):
        return None
    eqs = _equations(proj.equations)
    if any(eq.type == DIFFERENTIAL_EQUATION for eq in eqs.values()):
        return None
    if any(_target_written_elsewhere(built, proj, eq.varname[:-len("_post")]) for eq in _summed(proj)):
        return None
    constants = set(proj.namespace) | {n for n, eq in eqs.items() if eq.type == PARAMETER}
    reads = {n for eq in _summed(proj) for n in eq.identifiers}
    if reads & (_STEPWISE | _neighbours(built, proj)):      # a bare name is a postsynaptic variable
        return None
    if all(n.endswith("_pre") or n in constants for n in reads) and any(n.endswith("_pre") for n in reads):
        return source.every, 1 % source.every
    return None


def integrated_when_read(built, shared_traces: bool = False) -> set[str]:
    """Names of the projections whose clock-driven synaptic equations the kernel
    integrates only when read (see the module text): linear equations (method
    "exact" or "linear") over the synapse's own variables and constants; no sum
    of its own; every projection that sums into its synapses or reads them runs
    on a slower clock (``summed_gate``) and has no events."""
    out = set()
    for k, proj in enumerate(built.projections):
        if proj.linked or proj.method not in ("exact", "linear") or shared_traces or _summed(proj):
            continue
        eqs = _equations(proj.equations)
        clock = list(clock_driven(eqs).values())
        if not clock:
            continue
        subexpressions = {n for n, eq in eqs.items() if eq.type not in (DIFFERENTIAL_EQUATION, PARAMETER)}
        reads = {n for eq in clock for n in eq.identifiers} - set(eqs.keys() - subexpressions)
        if reads & (_STEPWISE | subexpressions | _neighbours(built, proj)) \
                or any(re.search(r"_(pre|post)$", n) or n.startswith("xi") for n in reads):
            continue
        linked = [q for q in built.projections if q.linked and built.linked_index(q) == k]
        if all(not (q.on_pre or q.plastic_pre or q.on_post)
               and all(summed_gate(built, q, eq.varname.rsplit("_", 1)[1]) is not None for eq in _summed(q))
               for q in linked):
            out.add(proj.name)
    return out

