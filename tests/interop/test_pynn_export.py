"""PyNN export (spikemem.interop.pynn): refusals listed in full, the folder written atomically."""
import os

import pytest
from brian2 import ms, nA

from spikemem.connectors import AllToAll, OneToOne
from spikemem.errors import ModelError
from spikemem.interop.pynn import export_pynn, translate
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, Izhikevich
from spikemem.plasticity import stdp, triplet_stdp

from interop.networks import small_network


def test_unsupported_pieces_are_all_listed(tmp_path):
    net = Network(dt=1 * ms)
    net.spike_source("s", 2, [[2e-3], [3e-3]])
    net.population("izh", 2, Izhikevich())
    net.population("lif", 2, IF_curr_exp())
    net.connect("s", "izh", OneToOne(), weight=1.0)
    net.connect("s", "lif", AllToAll(), weight=1 * nA, synapse=triplet_stdp(w_max=1e-9), name="trip")
    net.connect("s", "lif", OneToOne(), weight=1 * nA, on_pre="v_post += 1*mV", name="custom")
    net.connect("s", "lif", OneToOne(), weight=1 * nA, synapse=stdp(pairing="nearest", w_max=1e-9),
                name="nearest")
    net.step_current("lif", 1 * nA, 5 * ms)
    net.record_state("lif", "v")
    target = tmp_path / "out"
    with pytest.raises(ModelError) as err:
        export_pynn(net, target, 0.01)
    msg = str(err.value)
    for piece in ("population 'izh'", "projection 's_to_izh_0'", "projection 'trip'", "projection 'custom'",
                  "projection 'nearest'", "current input on 'lif'",
                  "state monitor on 'lif'"):
        assert piece in msg, piece
    assert not target.exists() and os.listdir(tmp_path) == []     # nothing written, no temp folder


def test_a_population_with_its_own_dt_is_refused_by_name():
    net = Network(dt=0.1 * ms)
    net.spike_source("s", 1, [[2e-3]])
    net.population("slow", 2, IF_curr_exp(tau_refrac=0 * ms), dt=1 * ms)
    net.connect("s", "slow", AllToAll(), weight=1 * nA)
    with pytest.raises(ModelError, match=r"population 'slow': its own dt 0\.001 s \(every 10 steps of the "
                                         r"network's\) cannot be expressed \(a PyNN simulation has one time step\)"):
        translate(net)


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


def test_a_folder_that_cannot_be_made_is_refused_by_name_before_translation(tmp_path):
    (tmp_path / "afile").write_text("x")
    net = small_network()
    with pytest.raises(ModelError, match=r"afile/sub: cannot be created: '.*afile' is a file"):
        export_pynn(net, tmp_path / "afile" / "sub", 0.01)
    assert sorted(os.listdir(tmp_path)) == ["afile"]                # nothing half-written
