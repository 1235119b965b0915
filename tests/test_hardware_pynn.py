"""PyNN export (spikemem.hardware.pynn): the exported script run on NEST against numba."""
import os
import subprocess
import sys

import numpy as np
import pytest
from brian2 import ms, mV, nA, nF


from spikemem.backends import simulate
from spikemem.connectors import AllToAll, FixedProbability, OneToOne
from spikemem.errors import ModelError
from spikemem.hardware.pynn import export_pynn, read_spikes, translate
from spikemem.network import Network, SpikeSource
from spikemem.neurons import IF_curr_exp, Izhikevich
from spikemem.plasticity import stdp, triplet_stdp


def _run_nest(directory):
    p = subprocess.run([sys.executable, "run.py", "--simulator", "nest"], cwd=directory,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return read_spikes(directory)


def _pairs(train, dt):
    return sorted(zip(np.rint(train.times / dt).astype(int).tolist(), train.ids.tolist()))


def small_network():
    rng = np.random.default_rng(3)
    net = Network(dt=0.1 * ms, seed=5)
    net.spike_source("inp", 20, [np.sort(rng.choice(np.arange(2, 2000), 15, replace=False)) * 1e-4
                                 for _ in range(20)])
    cell = IF_curr_exp(cm=0.25 * nF, tau_m=10 * ms, tau_syn_E=2 * ms, tau_syn_I=4 * ms, tau_refrac=2 * ms,
                       v_rest=-65 * mV, v_reset=-70 * mV, v_thresh=-55 * mV)
    net.population("A", 30, cell, init={"v": -65 * mV})
    net.population("B", 10, cell, init={"v": -65 * mV})
    net.connect("inp", "A", FixedProbability(0.5), weight=1.2 * nA, delay=0.3 * ms, name="exc")
    net.connect("inp", "A", FixedProbability(0.2), weight=-0.8 * nA, delay=0.7 * ms, receptor="inh", name="inh")
    net.connect("A", "B", FixedProbability(0.4), weight=0.9 * nA, delay=1.5 * ms, name="ab")
    for p in ("inp", "A", "B"):
        net.record_spikes(p)
    return net


def test_small_network_nest_vs_numba(tmp_path):
    """Measured: the sources, A (one hop from the sources, exc + inh, delays,
    refractoriness 20 steps; 770 spikes) and B (a neuron -> neuron hop of 15
    steps) fire identically on NEST and numba: run.py takes NEST's extra step of
    a neuron -> neuron hop off the delay (see the module's timing notes)."""
    net = small_network()
    ref = simulate(net, 0.2)
    got = _run_nest(export_pynn(net, tmp_path / "exp", 0.2))
    dt = net.dt
    assert ref.spikes["A"].count() > 500 and ref.spikes["B"].count() > 100
    assert _pairs(got.spikes["inp"], dt) == _pairs(ref.spikes["inp"], dt)
    assert _pairs(got.spikes["A"], dt) == _pairs(ref.spikes["A"], dt)
    assert _pairs(got.spikes["B"], dt) == _pairs(ref.spikes["B"], dt)


# ------------------------------------------------------------------ CA3
OFFSET = 2          # PyNN on NEST drops source spikes at steps 0 and 1


def test_ca3_functional_nest_vs_numba(tmp_path):
    """The functional experiment as one spike-source array, on NEST.

    Measured: every learn (4) and recall by cue (4) gives numba's decoded answer;
    every recall by content (5) gives numba's content but no cue. NEST cannot
    send a neuron's spike in the step it fires, so a one-step neuron -> neuron
    hop takes two steps there (longer delays are compensated by run.py). In the
    first learn, ContCue's excitation of ContCond (one step) arrives together
    with CueCue's inhibition (two steps) on NEST instead of one step before it,
    so ContCond and ContCont fire at s+6 and s+8 (numba: s+2 and s+3), after
    CueCont's burst (s+3..s+5 on both): content -> cue is depressed instead of
    potentiated and no cue is stored for a content fragment to recall.
    """
    from spikemem.models.ca3_cam import DT, LEARN_INPUT_STEPS, OPERATION_STEPS, ca3_network
    from spikemem.models.ca3_experiments import FUNCTIONAL, run_script
    n = 5
    mem, rows, _ = run_script(FUNCTIONAL, 5, 10, "numba")
    times, ids = [], []
    for op in mem.operations:       # CA3Memory._operate's input, as one array
        if op.kind == "learn":
            x, k = [op.cue] + [n + b for b in sorted(op.content)], LEARN_INPUT_STEPS
        elif op.kind == "recall_by_cue":
            x, k = [op.cue], 1
        else:
            x, k = [n + b for b in sorted(op.content)], 1
        for s in range(op.start, op.start + k):
            times += [(s + OFFSET) * float(DT)] * len(x)
            ids += x
    net = ca3_network(5, 10)
    net.populations["IL"].model = SpikeSource(np.asarray(times), np.asarray(ids))
    duration = (mem.operations[-1].start + OPERATION_STEPS + OFFSET) * float(DT)
    whole = simulate(net, duration)
    nest = _run_nest(export_pynn(net, tmp_path / "ca3", duration))

    def decode(res, op):
        out = res.spikes["OL"]
        st = np.rint(out.times / float(DT)).astype(int) - OFFSET
        sel = (st >= op.start) & (st < op.start + OPERATION_STEPS)
        k = out.ids[sel]
        return frozenset(int(c) for c in k if c < n), frozenset(int(c) - n for c in k if c >= n)

    for op in mem.operations:
        numba = (op.answer.cues, op.answer.content)
        assert decode(whole, op) == numba          # one array == operation by operation
        if op.kind == "recall_by_content":
            assert numba[0] and decode(nest, op) == (frozenset(), numba[1]), op
        else:
            assert decode(nest, op) == numba, op


# ------------------------------------------------------------------ bad input
def test_unsupported_pieces_are_all_listed(tmp_path):
    net = Network(dt=1 * ms)
    net.spike_source("s", 2, [[2e-3], [3e-3]])
    net.population("izh", 2, Izhikevich())
    net.population("lif", 2, IF_curr_exp())
    net.connect("s", "izh", OneToOne(), weight=1.0)
    net.connect("s", "lif", AllToAll(), weight=1 * nA, synapse=triplet_stdp(w_max=1e-9), name="trip")
    net.connect("s", "lif", OneToOne(), weight=1 * nA, on_pre="v_post += 1*mV", name="custom")
    net.connect("s", "lif", OneToOne(), weight=-1 * nA, name="neg_exc")
    net.connect("s", "lif", OneToOne(), weight=1 * nA, synapse=stdp(pairing="nearest", w_max=1e-9),
                name="nearest")
    net.step_current("lif", 1 * nA, 5 * ms)
    net.record_state("lif", "v")
    target = tmp_path / "out"
    with pytest.raises(ModelError) as err:
        export_pynn(net, target, 0.01)
    msg = str(err.value)
    for piece in ("population 'izh'", "projection 's_to_izh_0'", "projection 'trip'", "projection 'custom'",
                  "projection 'neg_exc'", "projection 'nearest'", "current input on 'lif'",
                  "state monitor on 'lif'"):
        assert piece in msg, piece
    assert not target.exists() and os.listdir(tmp_path) == []     # nothing written, no temp folder


def test_target_folder_rules(tmp_path):
    net = small_network()
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(ModelError, match="not empty"):
        export_pynn(net, target, 0.01)
    assert os.listdir(target) == ["keep.txt"]
    export_pynn(net, target, 0.01, force=True)
    assert sorted(os.listdir(target)) == ["README.txt", "model.json", "network.npz", "run.py"]
    assert sorted(os.listdir(tmp_path)) == ["out"]                  # no temp or old folder left
    spec = translate(net).spec
    assert [p["receptor"] for p in spec["projections"]] == ["excitatory", "inhibitory", "excitatory"]
