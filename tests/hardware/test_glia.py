"""spikemem.hardware.glia: both targets' check names each glia part of a
network (astrocytes, the neurons that read them, AM-SUs, the projections wired
to them) with what it is, one line each; a frozen AM-SU network passes."""
import numpy as np
import pytest
from brian2 import ms, nA, pA

import spikemem as sm
from spikemem.glia import AMSU, GChI, LiRinzel, freeze_modulation, glutamate_synapse, sic_synapse, synapses_to_astrocyte
from spikemem.network import Network
from spikemem.targets import TARGETS

#: where -> words its line must hold
EXPECTED = {
    "population 'astro'": "is an astrocyte (LiRinzel",
    "population 'gchi'": "is an astrocyte (GChI",
    "population 'post'": "astrocyte's slow inward current I_SIC",
    "population 'amsu'": "is an AM-SU: its astrocytic state a",
    "projection 'to_astro'": "drives astrocyte 'astro' ('IP3_post += delta_IP3_post*w')",
    "projection 'sic'": "sets I_SIC of 'post' every step to a sum over its synapses",
    "projection 'glu'": "its synapses hold their own state (Y_S), which the synapse-targeting projection(s) ['s2a']",
    "projection 's2a'": "sums from the synapses of 'glu' (a synapse-targeting projection)",
    "projection 'to_amsu'": "scaled by the AM-SU efficacy m of 'amsu'",
}


def glia_network():
    net = Network(dt=1 * ms)
    net.spike_source("inp", 2, [[0.01], [0.02]])
    net.population("astro", 2, LiRinzel())
    net.population("post", 1, sm.AdEx(sic=True))
    net.population("lif", 2, sm.IF_curr_exp())
    net.population("gchi", 1, GChI())
    net.population("amsu", 3, AMSU(k=0.5, b=0.2))
    net.connect("inp", "astro", sm.AllToAll(), weight=1.0, receptor="ip3", name="to_astro")
    net.connect("astro", "post", sm.AllToAll(), weight=1 * pA, receptor="sic", synapse=sic_synapse(), name="sic")
    glu = net.connect("inp", "lif", sm.AllToAll(), weight=1 * nA, synapse=glutamate_synapse(), name="glu")
    net.connect(glu, "gchi", sm.AllToAll(), synapse=synapses_to_astrocyte(), name="s2a")
    net.connect("inp", "amsu", sm.AllToAll(), weight=0.5, name="to_amsu")
    net.connect("inp", "lif", sm.AllToAll(), weight=1 * nA, name="plain")
    return net


@pytest.mark.parametrize("target", ["spinnaker", "loihi"])
def test_check_names_every_glia_part_once_and_why(target):
    if target == "spinnaker":
        pytest.importorskip("spynnaker")          # the check reads the installed sPyNNaker's limits
    violations = TARGETS.get(target).check(glia_network())
    lines = {}
    for v in violations:
        lines.setdefault(v.where, []).append(str(v))
    for where, words in EXPECTED.items():
        assert len(lines.get(where, [])) == 1 and words in lines[where][0], (where, lines.get(where))
    board = {"spinnaker": "SpiNNaker", "loihi": "Loihi"}[target]
    assert f"{board}'s neuron is" in lines["population 'astro'"][0]
    assert "freeze_modulation" in lines["population 'amsu'"][0] and "freeze_modulation" in lines[
        "projection 'to_amsu'"][0]
    assert "freeze_modulation" not in lines["population 'astro'"][0]
    assert not any(where in lines for where in ("population 'lif'", "projection 'plain'", "population 'inp'"))


@pytest.mark.parametrize("target", ["spinnaker", "loihi"])
def test_a_frozen_am_su_network_passes_where_the_am_su_did_not(target):
    if target == "spinnaker":
        pytest.importorskip("spynnaker")
    net = Network(dt=1 * ms)
    net.spike_source("inp", 2, [[0.01], [0.02]])
    net.population("amsu", 3, AMSU(k=np.array([0.5, -0.2, 0.0]), b=0.2))
    net.connect("inp", "amsu", sm.AllToAll(), weight=np.array([0.5, -0.3, 0.4, 0.6, 0.45, -0.5]), name="to_amsu")
    net.connect("amsu", "amsu", sm.OneToOne(), weight=0.3, name="self")
    check = TARGETS.get(target).check
    assert {v.where for v in check(net)} == {"population 'amsu'", "projection 'to_amsu'", "projection 'self'"}
    assert check(freeze_modulation(net, [0.1, 0.5, 0.9])) == []


def test_spikemem_check_on_a_saved_network_prints_the_glia_lines(tmp_path, capsys):
    from spikemem.cli import main
    path = tmp_path / "glia.json"
    glia_network().save(path)
    assert main(["check", str(path), "--target", "loihi"]) == 1
    out = capsys.readouterr().out
    assert all(where in out for where in EXPECTED) and "freeze_modulation" in out


def test_loihi_quantize_and_export_refuse_an_am_su_in_checks_words(tmp_path):
    from spikemem.errors import ModelError
    net = Network(dt=1 * ms)
    net.spike_source("inp", 1, [[0.01]])
    net.population("amsu", 2, AMSU(k=0.5))
    net.connect("inp", "amsu", sm.AllToAll(), weight=0.5, name="to_amsu")
    loihi = TARGETS.get("loihi")
    for verb in (lambda: loihi.quantize(net), lambda: loihi.export(net, tmp_path / "amsu.nir")):
        with pytest.raises(ModelError, match="population 'amsu': is an AM-SU") as err:
            verb()
        assert "freeze_modulation" in str(err.value) and "projection 'to_amsu'" in str(err.value)
    assert not (tmp_path / "amsu.nir").exists()


def shared_network():
    net = Network(dt=1 * ms)
    net.spike_source("inp", 2, [[0.01], [0.02]])
    net.population("glio", 1, GChI(gliotransmission=True))
    net.population("s", 4, sm.AMSUShared(k=0.3))
    sm.shared_astrocytes(net, "s", 2, name="ac")
    net.connect("inp", "s", sm.AllToAll(), weight=0.5, name="to_s")
    return net


SHARED_EXPECTED = {
    "population 'glio'": "releases gliotransmitter when its calcium crosses C_Theta, held by a refractory condition",
    "population 's'": "is an AM-SU reading a shared astrocyte (AMSUShared)",
    "population 'ac'": "is a shared astrocyte (AMSUAstrocyte",
    "projection 'ac_in'": "drives astrocyte 'ac'",
    "projection 'ac_out'": "sets a of 's', m of 's' every step to a sum",
    "projection 'to_s'": "scaled by the AM-SU efficacy m of 's'",
}


@pytest.mark.parametrize("target", ["spinnaker", "loihi"])
def test_check_names_the_releasing_astrocyte_and_shared_astrocytes_once_and_why(target):
    if target == "spinnaker":
        pytest.importorskip("spynnaker")
    lines = {}
    for v in TARGETS.get(target).check(shared_network()):
        lines.setdefault(v.where, []).append(str(v))
    for where, words in SHARED_EXPECTED.items():
        assert len(lines.get(where, [])) == 1 and words in lines[where][0], (where, lines.get(where))
    for where in ("population 's'", "population 'ac'", "projection 'ac_in'", "projection 'to_s'"):
        assert "freeze_modulation does not handle shared astrocytes" in lines[where][0], where
    assert "freeze_modulation" not in lines["population 'glio'"][0]


def test_a_summed_variable_of_the_presynaptic_side_is_named_with_its_population():
    from spikemem.hardware.glia import glia_violations
    from spikemem.synapses import SynapseModel
    net = Network(dt=1 * ms)
    net.population("a", 2, sm.AdEx(sic=True))
    net.population("b", 2, sm.IF_curr_exp())
    summed = SynapseModel("w : 1\nI_SIC_pre = w*nA : amp (summed)\n")
    net.connect("a", "b", sm.OneToOne(), weight=1.0, receptor="isyn_exc", on_pre="isyn_exc_post += w*nA",
                synapse=summed, name="back")
    (line,) = [str(v) for v in glia_violations(net.build(), "Loihi", "x") if v.where == "projection 'back'"]
    assert "sets I_SIC of 'a'" in line


def test_loihi_names_a_neuron_model_and_its_refractory_condition_together():
    from spikemem.hardware.loihi.check import model_violation
    from spikemem.neurons import NeuronModel
    model = NeuronModel(name="Odd", equations="dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                        refractory="v > 0.5", method="exact")
    net = Network(dt=1 * ms)
    net.population("odd", 2, model)
    v = model_violation(net.build().populations["odd"])
    assert "IF_curr_exp" in str(v) and "'v > 0.5'" in str(v) and "give a duration" in str(v)
