"""Loihi's resources: cores and chips from compartments, synapse memory and axons."""
from brian2 import ms, nA

from spikemem.connectors import AllToAll
from spikemem.models.cuba.network import cuba_curr_exp
from spikemem.network import Network
from spikemem.targets import TARGETS

from hardware_networks import cell

loihi = TARGETS.get("loihi")


def test_map_counts_cores_and_chips():
    net = cuba_curr_exp(n=4000, tau_syn_I=5 * ms)
    res = loihi.map(net)
    rows = {r["population"]: r for r in res.rows}
    assert list(rows) == ["exc", "inh"] and rows["exc"]["compartments"] == 3200
    assert rows["exc"]["cores"] >= 4 and rows["inh"]["cores"] >= 1     # 1024 compartments per core
    assert res.totals["chips"] == 1 and res.totals["cores"] == rows["exc"]["cores"] + rows["inh"]["cores"]
    assert any("Loihi 2" in a for a in res.assumptions)
    assert res.totals["loihi2_cores"] < res.totals["cores"]
    big = Network(dt=1 * ms)
    big.spike_source("src", 10, [[] for _ in range(10)])
    big.population("p", 200_000, cell())
    big.connect("src", "p", AllToAll(), weight=1 * nA)
    assert loihi.map(big).totals["chips"] == 2                           # 196 cores
