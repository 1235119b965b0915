"""CA3 spike-based content-addressable memory (Casanueva-Morato et al. 2024).

``n`` one-hot cues, ``m`` content bits. A memory is learned in one shot by
pair STDP on two all-to-all projections (cue -> content and content -> cue),
computed as sPyNNaker 7 computes it on the board
(``spikemem.plasticity.spinnaker_stdp``: a pairing applied at the next
presynaptic spike, a post spike in the step before a pre spike depressing
fully); every population integrates as sPyNNaker's neuron core does
(``IF_curr_exp(integration="spinnaker")``) and holds a neuron one step after
its spike (tau_refrac = 1 ms). Built so, the network reproduces the authors'
recordings from a SpiNNaker board spike for spike (``recordings``).

An operation takes ``OPERATION_STEPS`` = 10 steps, as in the paper; the
answer reaches the output layer 5-6 steps after the input. Learning new
content under a used cue forgets the old content: the old bits fire once,
one step before the cue's second spike, and that pairing depresses them.
Recall by cue gates the stored content to the output through ContCond;
recall by content returns the fragment and every cue that shares at least
one bit with it. The parameters are those of the authors' published
configuration (docs/models/ca3-cam.md).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from brian2 import ms, mV, nA, nF

from spikemem.backends import simulation
from spikemem.connectors import AllToAll, FromList, OneToOne
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp
from spikemem.plasticity import spinnaker_stdp, spinnaker_stdp_potentiated

from .recall import Recall, check_content, check_cue, check_size

DT = 1 * ms
LEARN_INPUT_STEPS = 3       # cue and content held on the input layer for 3 steps
OPERATION_STEPS = 10        # every operation, as in the paper's functional experiment
MIN_OPERATION_STEPS = 7     # a recall answers 5-6 steps after its input; a learn's second output
                            # (7 steps after) is left out below 8 steps, its first (5 steps) is decoded

SLOW = dict(cm=0.27 * nF, tau_m=3.0 * ms)       # relays, content, merge and output layers
FAST = dict(cm=0.14 * nF, tau_m=0.5 * ms)       # CueCont, ContCond and its interneuron
COMMON = dict(tau_refrac=1.0 * ms, tau_syn_E=0.3 * ms, tau_syn_I=0.3 * ms,
              v_rest=-60 * mV, v_reset=-60 * mV, v_thresh=-57 * mV)
W = 6 * nA                  # the weight that fires a target on the next step

#: The plastic projections' rule, sPyNNaker's pair STDP (the authors' script: tau 3 ms,
#: A+ = A- = 6, w in [0, 6] nA). sPyNNaker 7 reads an additive A in nA, so a pair moves a
#: weight by up to 6 nA = 1 x w_max: spikemem's A (a fraction of w_max) is 1.
CA3_STDP = dict(tau_plus=3 * ms, tau_minus=3 * ms, A_plus=1.0, A_minus=1.0, w_min=0 * nA, w_max=6 * nA)

#: (pre, post, connector, receptor, weight, delay in steps); weights in units of W
STATIC = [
    ("CueCue", "CueCont", "one", "exc", 1, 2),
    ("CueCue", "CueCont", "all_noself", "inh", "m", 3),
    ("CueCue", "ContCond", "all", "inh", 1, 2),
    ("ContCue", "ContCond", "one", "exc", 1.5, 1),
    ("ContCond", "ContCont", "one", "exc", 1, 1),
    ("ContCue", "ContCondInt", "all", "exc", 1, 1),
    ("ContCondInt", "ContCond", "all", "exc", 1 / 3, 1),
    ("CueCont", "CueCont", "all_noself", "inh", "m", 2),
    ("CueCue", "MergeCue", "one", "exc", 1, 3),
    ("CueCont", "MergeCue", "one", "exc", 1, 1),
    ("ContCue", "MergeCont", "one", "exc", 1, 3),
    ("ContCont", "MergeCont", "one", "exc", 1, 1),
]
PLASTIC = {"cue_to_content": ("CueCue", "ContCue"), "content_to_cue": ("ContCont", "CueCont")}


def ca3_network(n_cues: int = 5, n_content: int = 10, seed: int = 0,
                binary_threshold: float | None = None) -> Network:
    """The memory's circuit; the input layer 'IL' is a spike source without spikes
    (operations give it spikes while the simulation runs). ``binary_threshold``:
    two-state plastic synapses (``spinnaker_stdp``), not the paper's; None is
    the circuit as the board runs it."""
    n = check_size("n_cues", n_cues)
    m = check_size("n_content", n_content)
    net = Network(dt=DT, seed=seed)
    net.spike_source("IL", n + m, [[] for _ in range(n + m)])
    sizes = {"CueCue": n, "CueCont": n, "ContCue": m, "ContCont": m, "ContCond": m,
             "ContCondInt": 1, "MergeCue": n, "MergeCont": m, "OL": n + m}
    fast = {"CueCont", "ContCond", "ContCondInt"}
    for name, size in sizes.items():
        params = {**COMMON, **(FAST if name in fast else SLOW)}
        if name == "OL":
            params["v_thresh"] = -57.5 * mV
        net.population(name, size, IF_curr_exp(integration="spinnaker", **params), init={"v": -60 * mV})
    step = float(DT)
    net.connect("IL", "CueCue", _from_list(range(n), range(n)), weight=W, delay=step, name="IL_to_CueCue")
    net.connect("IL", "ContCue", _from_list(range(n, n + m), range(m)), weight=W, delay=step,
                name="IL_to_ContCue")
    connectors = {"one": OneToOne(), "all": AllToAll(), "all_noself": AllToAll(allow_self=False)}
    for pre, post, conn, receptor, scale, delay in STATIC:
        w = (m if scale == "m" else scale) * W
        net.connect(pre, post, connectors[conn], weight=-w if receptor == "inh" else w,
                    delay=delay * step, receptor=receptor, name=f"{pre}_to_{post}_{receptor}")
    rule = spinnaker_stdp(**CA3_STDP, binary_threshold=binary_threshold)
    for name, (pre, post) in PLASTIC.items():
        net.connect(pre, post, AllToAll(), weight=0 * nA, delay=step, synapse=rule, name=name)
    net.connect("MergeCue", "OL", _from_list(range(n), range(n)), weight=W, delay=step, name="MergeCue_to_OL")
    net.connect("MergeCont", "OL", _from_list(range(m), range(n, n + m)), weight=W, delay=step,
                name="MergeCont_to_OL")
    for name in ["IL", *sizes]:
        net.record_spikes(name)
    return net


def _from_list(pre, post):
    return FromList([[i, j] for i, j in zip(pre, post)])


@dataclass
class Operation:
    """One operation of the memory and what the output layer answered."""
    kind: str                 # "learn", "recall_by_cue", "recall_by_content"
    cue: int | None
    content: frozenset
    start: int                # step the input starts
    steps: int                # steps the operation occupies
    answer: Recall | None = None
    wall_s: float = 0.0


@dataclass
class CA3Memory:
    """The memory as an object: ``learn``, ``recall_by_cue``, ``recall_by_content``.

    Each operation gives the input layer its spikes, runs the simulation for
    the operation's fixed number of steps and decodes the output layer: the
    cue neurons (0..n-1) and content neurons (n..n+m-1) that fired.
    ``start`` schedules an operation at a later step (idle steps in between);
    an operation cannot start before the previous one has finished.
    """
    n_cues: int = 5
    n_content: int = 10
    backend: str = "numba"
    seed: int = 0
    options: dict = field(default_factory=dict)     # the backend's simulation options
    binary_threshold: float | None = None           # two-state synapses (ca3_network)
    operation_steps: int = OPERATION_STEPS
    operations: list = field(default_factory=list)

    def __post_init__(self):
        self.n_cues = check_size("n_cues", self.n_cues)
        self.n_content = check_size("n_content", self.n_content)
        steps = self.operation_steps
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < MIN_OPERATION_STEPS:
            raise ModelError(f"operation_steps must be an integer >= {MIN_OPERATION_STEPS} (the answer arrives "
                             f"up to 6 steps after the input), got {steps!r}")
        self.network = ca3_network(self.n_cues, self.n_content, self.seed, self.binary_threshold)
        self.sim = simulation(self.network, self.backend, **self.options)

    # --- operations
    def learn(self, cue, content_bits, start=None) -> Recall:
        cue = check_cue(cue, self.n_cues)
        bits = check_content(content_bits, self.n_content)
        ids = [cue] + [self.n_cues + b for b in sorted(bits)]
        return self._operate("learn", cue, bits, ids, LEARN_INPUT_STEPS, start)

    def recall_by_cue(self, cue, start=None) -> Recall:
        cue = check_cue(cue, self.n_cues)
        return self._operate("recall_by_cue", cue, frozenset(), [cue], 1, start)

    def recall_by_content(self, bits, start=None) -> Recall:
        bits = check_content(bits, self.n_content)
        ids = [self.n_cues + b for b in sorted(bits)]
        return self._operate("recall_by_content", None, bits, ids, 1, start)

    def _operate(self, kind, cue, bits, ids, input_steps, start) -> Recall:
        steps = self.operation_steps
        now = self.sim.step
        if start is None:
            start = now
        if not isinstance(start, (int, np.integer)) or isinstance(start, bool):
            raise ModelError(f"start must be a step number (int), got {start!r}")
        if start < now:
            raise ModelError(f"{kind} at step {start}: the previous operation is still in flight "
                             f"until step {now}")
        op = Operation(kind, cue, bits, int(start), steps)
        t0 = time.perf_counter()
        times = np.repeat(np.arange(start, start + input_steps), len(ids)) * float(DT)
        self.sim.set_spikes("IL", times, np.tile(ids, input_steps))
        self.sim.run((start + steps - now) * float(DT), progress=False)
        op.answer = self._decode(start, start + steps)
        op.wall_s = time.perf_counter() - t0
        self.operations.append(op)
        return op.answer

    def _decode(self, start, stop) -> Recall:
        """The output layer's spikes after ``start`` and before ``stop``: the
        previous operation's last output can fall on ``start`` itself (a
        learn's second output comes 7 steps after its input)."""
        out = self.sim.result().spikes["OL"]
        steps = np.rint(out.times / float(DT)).astype(np.int64)
        sel = (steps > start) & (steps < stop)
        steps, ids = steps[sel], out.ids[sel]
        n = self.n_cues
        latency = int(max((steps[ids == k].min() for k in set(ids.tolist())), default=start) - start)
        return Recall(frozenset(int(k) for k in ids if k < n), frozenset(int(k) - n for k in ids if k >= n),
                      latency)

    # --- inspection
    @property
    def result(self):
        """The full record: every population's spikes so far."""
        return self.sim.result()

    def weights(self, settled: bool = True) -> dict:
        """The two plastic weight matrices in nA, pre x post: 'cue_to_content'
        (n x m) and 'content_to_cue' (m x n). sPyNNaker applies a pairing's
        potentiation at the presynaptic neuron's next spike, so a memory is
        in the weights only once its cue (or content bit) fires again;
        ``settled`` adds the potentiation waiting for that spike (clipped at
        w_max; not the depression that spike may bring), ``settled=False``
        gives the weights as they stand. The SpiNNaker emulator keeps
        sPyNNaker's spike histories, not the pending potentiation: there
        both give the weights as they stand."""
        out = {}
        for name in PLASTIC:
            proj = self.sim.built_projection(name)
            size = (self.network.populations[proj.pre].size, self.network.populations[proj.post].size)
            w = self.sim.get(name, "w") / float(nA)
            if settled:
                w = spinnaker_stdp_potentiated(w, self._pending(name), CA3_STDP["A_plus"],
                                               float(CA3_STDP["w_min"] / nA), float(CA3_STDP["w_max"] / nA),
                                               self.binary_threshold)
            mat = np.zeros(size)
            mat[proj.i, proj.j] = w
            out[name] = mat
        return out

    def _pending(self, projection) -> np.ndarray | float:
        try:
            return self.sim.get(projection, "pending")
        except ModelError:          # the SpiNNaker emulator keeps sPyNNaker's spike histories instead
            return 0.0

    def stored(self) -> dict:
        """What the weights hold: cue -> content bits with a (near-)maximal weight."""
        w = self.weights()["cue_to_content"]
        return {c: frozenset(np.flatnonzero(w[c] > 3.0).tolist()) for c in range(self.n_cues)
                if np.any(w[c] > 3.0)}
