"""Brian2 stays out of the user's script (issue 21, item 6): its excepthook, its
debug files in the temporary directory, its "never included in a network"
warnings for spikemem's own objects, and its refractory warning for a model
that holds no refractory step."""
import os
import subprocess
import sys
import textwrap

import pytest
from brian2 import ms
from brian2.utils.logger import catch_logs

from spikemem.backends import simulation
from spikemem.network import Network
from spikemem.neurons import AdEx


def _run(tmp_path, code):
    """``code`` run as a script file, with its own empty temporary directory;
    (stderr, the files left in that directory)."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    return proc.stderr, sorted(os.listdir(tmp))


@pytest.fixture(scope="module")
def user_error(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("user_error"), """
        import spikemem as sm
        sm.Network(dt=0.1 * sm.ms)      # imports brian2
        raise ValueError("mine")
    """)


def test_the_users_error_reads_as_the_users(user_error):
    stderr, _ = user_error
    assert "ValueError: mine" in stderr
    assert "Traceback (most recent call last)" in stderr
    assert "Brian 2 encountered" not in stderr


def test_no_debug_files_are_left(user_error):
    _, left = user_error
    assert not [f for f in left if f.startswith("brian_")], left


def test_the_users_excepthook_is_kept(tmp_path):
    stderr, _ = _run(tmp_path, """
        import sys
        sys.excepthook = lambda t, e, tb: sys.stderr.write(f"user hook: {e}\\n")
        import spikemem as sm
        from brian2 import ms
        raise ValueError("mine")
    """)
    assert "user hook: mine" in stderr
    assert "Brian 2 encountered" not in stderr


def test_no_unused_object_flood_after_an_error(tmp_path):
    stderr, _ = _run(tmp_path, """
        import gc
        import brian2 as b2
        import spikemem as sm
        net = sm.Network(dt=0.1 * sm.ms)
        net.spike_source("s", 1, [[0.002]])
        net.population("p", 2, sm.IF_curr_exp())
        net.connect("s", "p", sm.AllToAll(), weight=1 * sm.nA)
        net.record_spikes("p")
        sm.simulate(net, 0.005, backend="numba", progress=False)
        net.connect("s", "p", sm.AllToAll(), weight=1 * sm.nA, synapse=sm.SynapseModel(on_pre="w += bogus"))
        try:
            sm.simulation(net, "numba")       # fails once its Brian2 objects exist
        except sm.ModelError:
            pass
        gc.collect()
        b2.NeuronGroup(1, "v : 1", name="users_own")   # the user's own unused object still warns
        gc.collect()
        raise ValueError("mine")
    """)
    assert "ValueError: mine" in stderr
    assert stderr.count("never included in a network") == 1, stderr
    assert "'users_own'" in stderr


@pytest.mark.parametrize("backend", ["numba", "brian2"])
def test_adex_without_refractoriness_does_not_warn(backend):
    net = Network(dt=0.1 * ms)
    net.population("p", 2, AdEx())
    with catch_logs() as logs:
        simulation(net, backend)
    assert not [msg for _, name, msg in logs if "refractory" in name or "refractory" in msg], logs
