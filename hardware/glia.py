"""What a board cannot hold of a network with glia (``spikemem.glia``), named
part by part for ``check``: astrocytes, the neurons that read them, AM-SUs,
and the projections that drive astrocytes, scale their weights by a neuron's
state, sum a value every step, or whose synapses another projection reads or
writes. (A projection whose pre or post is another projection is
``common.linked_violations``'s.)

Both boards run leaky integrate-and-fire neurons that send each other spikes,
each spike adding a fixed weight to a current; none of these is that. An
AM-SU network becomes one once its astrocytic state is held fixed:
``spikemem.glia.freeze_modulation``.
"""
from __future__ import annotations

from spikemem.equations import parse
from spikemem.glia.amsu import is_amsu
from spikemem.network import BuiltNetwork
from spikemem.neurons import template_of
from spikemem.synapses import SynapseModel
from spikemem.targets import Violation

#: how each glia population's dynamics differ from a board's neuron
POPULATION_REASONS = {
    "LiRinzel": "is an astrocyte (LiRinzel: Li-Rinzel calcium dynamics, three nonlinear equations, no threshold: "
                "it never spikes, and neurons read its calcium through a summed projection)",
    "GChI": "is an astrocyte (GChI: the G-ChI calcium dynamics, nonlinear, no threshold: it never spikes, and it "
            "reads the neurotransmitter of the synapses it contacts every step)",
    "AdEx_SIC": "is an AdEx neuron with an astrocyte's slow inward current I_SIC (set every step by a summed "
                "projection from astrocytes)",
    "GChI_glio": "is a releasing astrocyte (GChI with gliotransmission: the G-ChI calcium dynamics, nonlinear; it "
                 "releases gliotransmitter when its calcium crosses C_Theta, held by a refractory condition while "
                 "it stays above, not for a fixed period)",
    "AMSU": "is an AM-SU: its astrocytic state a moves with each of its spikes, scales every weight arriving at "
            "it (m = 1 + k*a) and lowers its threshold (v + b*a > v_th)",
    "AMSUShared": "is an AM-SU reading a shared astrocyte (AMSUShared): its a and m are set every step by a summed "
                  "projection from the astrocyte, m scales every weight arriving at it and b*a shifts its threshold",
    "AMSUAstrocyte": "is a shared astrocyte (AMSUAstrocyte: a state c with no threshold: it never spikes, each "
                     "spike of its neurons moves c a fraction of the way to 1, and its neurons read c every step)"}
#: the astrocytes: populations that never fire a neuron's spike, driven by or read through projections
ASTROCYTES = ("LiRinzel", "GChI", "GChI_glio", "AMSUAstrocyte")

#: what to do instead (an AM-SU can be held fixed; the others stay off the board)
GLIA_FIX = "run it on numba, brian2 or torch"
AMSU_FIX = ("hold the AM-SU's astrocytic state fixed: spikemem.glia.freeze_modulation(network, a) gives "
            "the IF_curr_exp network a board runs (or run it on numba, brian2 or torch)")
SHARED_FIX = ("run it on numba, brian2 or torch (freeze_modulation does not handle shared astrocytes: only an "
              "AMSU with its own astrocytic state can be held fixed)")
#: the fix of a part by its population's kind
FIXES = {"AMSU": AMSU_FIX, "AMSUShared": SHARED_FIX, "AMSUAstrocyte": SHARED_FIX}


def glia_kind(model) -> str | None:
    """The key of ``POPULATION_REASONS`` a neuron model is, or None."""
    if is_amsu(model):
        return "AMSU"
    if model.name in ("AMSUShared", "AMSUAstrocyte"):
        return model.name
    kind = template_of(model)
    return kind if kind in POPULATION_REASONS else None


def glia_violations(built: BuiltNetwork, board: str, neuron: str) -> list:
    """A ``Violation`` for each part of ``built`` that is glia or wired to it,
    saying what it is and why ``board`` (whose neuron is ``neuron``, in words)
    cannot hold it."""
    out, kinds = [], {}
    for name, pop in built.populations.items():
        kind = glia_kind(pop.model) if pop.kind == "neuron" else None
        if kind:
            kinds[name] = kind
            out.append(Violation(f"population '{name}'", f"{POPULATION_REASONS[kind]}; {board}'s neuron is "
                                 f"{neuron}", None, None, FIXES.get(kind, GLIA_FIX)))
    targeted = {}           # projection -> the synapse-targeting projections on its synapses
    for p in built.projections:
        if p.linked:
            targeted.setdefault(p.pre if p.linked == "pre" else p.post, []).append(p.name)
    for p in built.projections:
        if p.linked:
            continue            # common.linked_violations names it
        why = _projection_reason(p, built, kinds, targeted.get(p.name, []))
        if why:
            fix = FIXES.get(kinds.get(p.post)) or FIXES.get(kinds.get(p.pre), GLIA_FIX)
            out.append(Violation(f"projection '{p.name}'", f"{why}; {board} adds a fixed weight to a neuron's "
                                 f"current at each spike", None, None, fix))
    return out


def _projection_reason(p, built, kinds, readers) -> str | None:
    """Why projection ``p`` is no board projection, or None (then it is)."""
    post_kind = kinds.get(p.post)
    summed = [name for name, eq in parse(SynapseModel(p.equations), f"projection '{p.name}'").equations.items()
              if "summed" in eq.flags]
    if summed:
        sides = {name: p.post if name.endswith("_post") else p.pre for name in summed}
        parts = [f"{name.rsplit('_', 1)[0]} of '{side}'" for name, side in sides.items()]
        return (f"sets {', '.join(parts)} every step to a sum over its synapses (a summed variable, not a "
                f"spike)")
    if readers:
        state = sorted(k for k in p.dims if k != "w" and k not in p.namespace)
        return (f"its synapses hold their own state ({', '.join(state) or 'w'}), which the synapse-targeting "
                f"projection(s) {readers} read or write")
    if post_kind in ("AMSU", "AMSUShared"):
        return (f"its weights arrive scaled by the AM-SU efficacy m of '{p.post}' ('{p.on_pre}'), which the "
                f"astrocytic state moves")
    if post_kind in ASTROCYTES:
        return f"drives astrocyte '{p.post}' ('{p.on_pre}'), not a neuron's current"
    if kinds.get(p.pre) in ASTROCYTES:
        return f"carries the state of astrocyte '{p.pre}', which never spikes"
    return None
