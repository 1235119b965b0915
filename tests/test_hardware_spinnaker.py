"""The SpiNNaker target (spikemem.hardware.spinnaker): check against the installed
sPyNNaker's limits, and map with sPyNNaker's own toolchain on a virtual board."""
import os

import pytest
from brian2 import ms, mV, nA

from spikemem.connectors import AllToAll, OneToOne
from spikemem.errors import ModelError
from spikemem.hardware import spinnaker
from spikemem.hardware.pynn import export_pynn
from spikemem.models.ca3_cam import ca3_network
from spikemem.models.cuba import cuba, cuba_curr_exp
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, Izhikevich


def delay_network(delay_steps, n_post=256, dt=1 * ms):
    net = Network(dt=dt, seed=1)
    net.spike_source("inp", 4, [[0.005]] * 4)
    net.population("post", n_post, IF_curr_exp())
    net.connect("inp", "post", AllToAll(), weight=0.5 * nA, delay=delay_steps * dt, name="long")
    net.record_spikes("post")
    return net


def test_limits_come_from_the_installed_spynnaker():
    lim = spinnaker.limits()
    assert lim["max_neurons_per_core"] == 256 and lim["ring_buffer_bits"] == 14
    assert "IF_curr_exp" in lim["binaries"] and "IF_curr_exp_stdp_mad_pair_additive" in lim["binaries"]
    # 256 neurons: 8 atom bits + 1 synapse-type bit leave 5 delay bits: 32 slots, 8 extension stages
    assert spinnaker.max_delay_steps(256, lim) == 32 * 9
    assert spinnaker.max_delay_steps(10, lim) == 2 ** (14 - 4 - 1) * 9


def test_ca3_passes_every_check():
    assert spinnaker.check(ca3_network()) == []


def test_check_lists_every_broken_constraint():
    net = Network(dt=0.5 * ms, seed=0)
    net.spike_source("inp", 2, [[0.01], [0.02]])
    net.population("izh", 2, Izhikevich())
    net.population("lif", 3, IF_curr_exp())
    net.connect("inp", "izh", OneToOne(), weight=1 * mV / ms, name="to_izh")
    net.connect("inp", "lif", AllToAll(), weight=1 * nA, delay=5 * ms, name="to_lif")
    text = "\n".join(map(str, spinnaker.check(net)))
    assert "population 'izh'" in text and "Izhikevich" in text
    assert "projection 'to_izh'" in text
    assert "time step is 0.5 ms" in text          # reported beside the translation's refusals
    bad = spinnaker.check(delay_network(2, dt=0.5 * ms))
    assert [v.what for v in bad] == ["time step"] and "0.5 ms" in str(bad[0])
    assert [v.what for v in spinnaker.check(delay_network(2), neurons_per_core=300)] == ["neurons per core"]


def test_delay_limit_matches_spynnakers_own_mapping(tmp_path):
    """The last delay check accepts maps; one step more is refused by check, and
    sPyNNaker's own toolchain refuses it too (so the limit is not made up)."""
    lim = spinnaker.limits()
    longest = spinnaker.max_delay_steps(256, lim)
    res = spinnaker.map(delay_network(longest), duration=0.02)
    row = {r["population"]: r for r in res.rows}
    assert row["inp"]["delay_cores"] >= 1 and row["post"]["neuron_cores"] >= 1
    too_long = delay_network(longest + 1)
    (v,) = spinnaker.check(too_long)
    assert v.where == "projection 'long'" and v.what == "delay" and f"{longest + 1} steps" == v.value
    with pytest.raises(ModelError, match="delay"):
        spinnaker.map(too_long)
    folder = export_pynn(too_long, tmp_path / "exp", 0.02)
    with pytest.raises(ModelError, match="sPyNNaker's mapping failed"):
        spinnaker.run_mapping(folder)


def test_map_ca3_and_cuba_leave_the_users_config_alone():
    cfg = os.path.expanduser("~/.spynnaker.cfg")
    before = open(cfg).read() if os.path.exists(cfg) else None
    res = spinnaker.map(ca3_network())
    rows = {r["population"]: r for r in res.rows}
    net = ca3_network()
    assert set(rows) == set(net.populations)
    assert all(r["cores"] >= 1 and r["chips"] == 1 for r in rows.values())
    assert res.totals["cores"] == sum(r["cores"] for r in rows.values())
    assert res.totals["system_cores"] >= res.totals["board_chips"]     # a monitor on every chip
    small = spinnaker.map(cuba_curr_exp(n=1000), neurons_per_core=100)
    rows = {r["population"]: r for r in small.rows}
    assert rows["exc"]["neuron_cores"] == 8 and rows["inh"]["neuron_cores"] == 2
    assert rows["exc"]["max_neurons_per_core"] == 100
    assert (open(cfg).read() if os.path.exists(cfg) else None) == before


def test_map_refuses_what_check_refuses_before_running():
    with pytest.raises(ModelError, match="population 'exc'.*CUBA"):
        spinnaker.map(cuba(n=100))


def test_check_finds_weights_lost_to_the_shared_weight_scale():
    """One receptor's weights share a 16-bit scale set by the largest input: a
    tiny weight beside a 50 nA one rounds to 0."""
    net = Network(dt=1 * ms, seed=0)
    net.spike_source("inp", 2, [[0.005], [0.006]])
    net.population("post", 2, IF_curr_exp())
    net.connect("inp", "post", OneToOne(), weight=50 * nA, name="big")
    net.connect("inp", "post", OneToOne(), weight=1e-5 * nA, name="tiny")
    (v,) = spinnaker.check(net)
    assert v.where == "projection 'tiny'" and v.what == "weight resolution" and "rounds" not in v.fix
    net.projections[-1].weight = 0.1 * nA
    assert spinnaker.check(net) == []
