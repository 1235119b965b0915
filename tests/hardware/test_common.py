"""What both targets share (``spikemem.hardware.common``): the check says
precisely why rate units, stochastic firing and signals cannot go to a board."""
import numpy as np
import pytest
from brian2 import ms, nA

import spikemem as sm
from spikemem.network import Network
from spikemem.targets import TARGETS

#: each target: the words its check must use for each refusal
WORDS = {"spinnaker": ("sPyNNaker has no rate neuron", "no PyNN cell type on SpiNNaker", "constant i_offset"),
         "loihi": ("Loihi 1's compartments send each other spikes only", "no counterpart on Loihi 1",
                   "constant bias")}


def grid_like():
    net = Network(dt=1 * ms, seed=1)
    net.signal("v", np.zeros((100, 2)), dt=0.02)
    net.population("sheet", 16, sm.PoissonUnit(drive="1 + v_x", equations=""))
    net.population("rates", 16, sm.ReLURate())
    net.population("lif", 4, sm.IF_curr_exp())
    net.connect("sheet", "lif", sm.AllToAll(), weight=1 * nA)
    return net


@pytest.mark.parametrize("target", sorted(WORDS))
def test_check_names_each_population_and_why(target):
    if target == "spinnaker":
        pytest.importorskip("spynnaker")          # the check reads the installed sPyNNaker's limits
    rate, stochastic, signal = WORDS[target]
    lines = [str(v) for v in TARGETS.get(target).check(grid_like())]
    mine = [line for line in lines if line.startswith(("population 'sheet'", "population 'rates'"))]
    assert any(line.startswith("population 'rates': is a ReLURate") and rate in line for line in mine), lines
    assert any(line.startswith("population 'sheet': is a PoissonUnit: stochastic firing ('rand() < rate*dt'")
               and stochastic in line for line in mine), lines
    assert any(line.startswith("population 'sheet': reads signal 'v' (v_x)") and signal in line
               for line in mine), lines
    assert len(mine) == 3           # one line per reason, not the generic "no cell type" beside it
    assert not any(line.startswith("population 'lif'") for line in lines)


@pytest.mark.parametrize("target", sorted(WORDS))
def test_check_names_synapse_targeting_projections(target):
    """A projection onto or from another's synapses gets one line of its own, naming
    the synapses, and none of the generic ones beside it."""
    if target == "spinnaker":
        pytest.importorskip("spynnaker")
    net = Network(dt=1 * ms)
    net.spike_source("src", 2, [[0.01], [0.02]])
    net.population("lif", 2, sm.IF_curr_exp())
    syn = net.connect("src", "lif", sm.AllToAll(), weight=1 * nA, name="syn",
                      synapse=sm.SynapseModel("w : amp\nG_A : 1"))
    net.population("astro", 1, sm.NeuronModel("dG/dt = -G/second : 1"))
    net.connect("astro", syn, sm.AllToAll(), synapse=sm.SynapseModel("G_A_post = G_pre : 1 (summed)"), name="glio")
    lines = [str(v) for v in TARGETS.get(target).check(net)]
    mine = [line for line in lines if line.startswith("projection 'glio'")]
    assert len(mine) == 1 and "sums onto the synapses of 'syn' (a synapse-targeting projection)" in mine[0], lines
