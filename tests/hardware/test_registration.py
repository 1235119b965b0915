"""The targets and their emulator backends register themselves without importing an engine;
a target is data: one ``register_target(Target(...))``."""
import dataclasses
import subprocess
import sys

import pytest

from spikemem.backends import BACKENDS
from spikemem.errors import ModelError
from spikemem.registry import load_object
from spikemem.targets import TARGETS, Target, register_target

VERBS = {"check": "checker", "quantize": "quantizer", "map": "mapper", "export": "exporter", "emulate": "emulator"}


def test_targets_and_their_backends_are_registered():
    assert {"loihi", "spinnaker"} <= set(TARGETS.names())
    for name, module in (("loihi", "spikemem.hardware.loihi.emulator:LoihiSimulation"),
                         ("spinnaker", "spikemem.hardware.spinnaker.emulator:SpiNNakerSimulation")):
        target = TARGETS.get(name)
        assert isinstance(target, Target) and target.name == name and target.summary
        entry = BACKENDS.get(target.backend)
        assert entry.simulation == module and entry.capabilities.emulates == name
        assert not entry.capabilities.spikes_as_numba and entry.capabilities.extra is None
        assert entry.simulation_class().name == target.backend
    with pytest.raises(ModelError, match="loihi"):
        TARGETS.get("truenorth")
    assert {t.name: t.export_format for t in TARGETS.entries()}.items() >= {"loihi": "nir", "spinnaker": "pynn"}.items()


def test_each_verb_is_a_function_named_by_its_string():
    for target in TARGETS.entries():
        assert dataclasses.is_dataclass(target)
        with pytest.raises(dataclasses.FrozenInstanceError):
            target.name = "other"
        for verb, field in VERBS.items():
            assert callable(getattr(target, verb)) and callable(load_object(getattr(target, field)))


def test_a_target_is_one_registration(capsys):
    """A target registered with its verbs' "module:function" names is offered by the
    CLI at once, its export under its format only."""
    from spikemem.cli import main
    loihi = TARGETS.get("loihi")
    register_target(dataclasses.replace(loihi, name="toychip", summary="registered by a test"))
    try:
        assert main(["check", "ca3-cam", "--target", "toychip"]) == 0
        assert "toychip: 'ca3-cam' passes every check" in capsys.readouterr().out
        assert main(["export", "nir", "--help"]) == 0
        assert "--target {loihi,toychip}" in capsys.readouterr().out
        assert main(["export", "pynn", "ca3-cam", "-o", "x", "--duration", "0.1", "--target", "toychip"]) == 2
        assert "invalid choice: 'toychip'" in capsys.readouterr().err
    finally:
        TARGETS.unregister("toychip")


def test_registering_imports_no_engine():
    """The CLI's --help lists the targets: loading them must not import brian2, numba, torch or nir."""
    code = ("import sys, spikemem.hardware; from spikemem.targets import TARGETS; TARGETS.names(); "
            "print(sorted(m for m in ('brian2', 'numba', 'torch', 'nir') if sys.modules.get(m) is not None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_state_type_is_the_one_dtype_offered():
    from brian2 import ms, nA
    from spikemem.backends import simulation
    from spikemem.connectors import AllToAll
    from spikemem.network import Network
    from spikemem.neurons import IF_curr_exp
    net = Network(dt=1 * ms)
    net.spike_source("s", 1, [[0.002]])
    net.population("p", 2, IF_curr_exp())
    net.connect("s", "p", AllToAll(), weight=1 * nA)
    for name in ("loihi", "spinnaker"):
        (dtype,) = BACKENDS.get(name).capabilities.dtypes
        simulation(net, name, dtype=dtype).run(0.005, progress=False)
        with pytest.raises(ModelError, match="dtype 'float64' is not offered"):
            simulation(net, name, dtype="float64")
