"""SpiNNaker's map: sPyNNaker's own toolchain on a virtual board (the hardware extra)."""
import os

import pytest

from spikemem.errors import ModelError
from spikemem.hardware.spinnaker.check import limits, max_delay_steps
from spikemem.hardware.spinnaker.mapping import run_mapping
from spikemem.interop.pynn import export_pynn
from spikemem.models.ca3_cam.network import ca3_network
from spikemem.models.cuba.network import cuba, cuba_curr_exp
from spikemem.targets import TARGETS

from hardware_networks import delay_network

pytestmark = pytest.mark.hardware
pytest.importorskip("spynnaker")
spinnaker = TARGETS.get("spinnaker")


def test_delay_limit_matches_spynnakers_own_mapping(tmp_path):
    """The last delay check accepts maps; one step more is refused by check, and
    sPyNNaker's own toolchain refuses it too (so the limit is not made up)."""
    lim = limits()
    longest = max_delay_steps(256, lim)
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
        run_mapping(folder)


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
