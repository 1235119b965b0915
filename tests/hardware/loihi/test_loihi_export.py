"""Loihi's export: a NIR graph with the dequantised values and the integers as metadata (needs nir)."""
import json
import os

import numpy as np
import pytest
from brian2 import ms, nA

from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp
from spikemem.targets import TARGETS

from hardware_networks import bad_network, reset_below_rest

pytestmark = pytest.mark.torch
nir = pytest.importorskip("nir")
loihi = TARGETS.get("loihi")


def test_cli_export_nir_for_loihi(tmp_path, capsys):
    from spikemem.cli import main
    path = tmp_path / "ca3.nir"
    assert main(["export", "nir", "ca3-cam", "-o", str(path), "--target", "loihi"]) == 0
    assert "with loihi's quantised parameters" in capsys.readouterr().out
    assert "spikemem.loihi" in nir.read(str(path)).nodes["CueCue"].metadata
    assert main(["export", "nir", "ca3-cam", "-o", str(path), "--target", "loihi"]) == 2     # exists


def test_export_writes_nir_with_the_integers(tmp_path):
    from spikemem.models.ca3_cam.network import ca3_network
    path = tmp_path / "ca3_loihi.nir"
    assert loihi.export(ca3_network(), path) == str(path)
    assert os.listdir(tmp_path) == ["ca3_loihi.nir"]
    graph = nir.read(str(path))
    lnet = loihi.quantize(ca3_network())
    node = graph.nodes["CueCue"]
    assert isinstance(node, nir.CubaLIF)
    pop = lnet.populations["CueCue"]
    assert np.allclose(node.v_threshold, -0.057, atol=1e-6)
    assert np.allclose(node.tau_mem, 1e-3 * 4096 / pop.decay_v)
    meta = json.loads(node.metadata["spikemem.loihi"])
    assert meta["vth_mant"] == pop.vth_mant.tolist() and meta["decay_u"] == pop.decay_u.tolist()
    aff = graph.nodes["IL_to_CueCue"]
    assert int(aff.metadata["spikemem.loihi.w_exp"]) == lnet.projections[0].w_exp
    assert "CueCue_to_CueCont_inh_delay" in graph.nodes                    # 3 steps: Loihi delay 2
    assert np.allclose(node.v_leak, node.v_reset)                         # CA3 resets to rest: no drive
    with pytest.raises(ModelError):
        loihi.export(bad_network(), tmp_path / "bad.nir")
    assert sorted(os.listdir(tmp_path)) == ["ca3_loihi.nir"]
    # a reset below rest: NIR's leak goes to v_leak = v_rest, v = v_reset after a spike
    v_rest = np.array([-49.0, -51.67, -63.3]) * 1e-3
    node = nir.read(loihi.export(reset_below_rest(v_rest), tmp_path / "reset.nir")).nodes["p"]
    assert np.allclose(node.v_leak, v_rest, rtol=0, atol=1e-12) and np.all(node.v_reset == -60e-3)
    assert np.allclose(node.v_threshold, -50e-3, rtol=0, atol=1e-12)


def test_export_refuses_a_bias_nir_cannot_carry(tmp_path):
    net = Network(dt=1 * ms)
    net.population("alone", 2, IF_curr_exp(i_offset=0.5 * nA))
    with pytest.raises(ModelError, match=r"population\(s\) \['alone'\]"):
        loihi.export(net, tmp_path / "x.nir")
    assert os.listdir(tmp_path) == []
