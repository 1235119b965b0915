import os
import subprocess
import sys

import brian2 as b2
import pytest
from brian2 import ms

from spikemem import state_update_cache
from spikemem.models.cuba.network import CUBA_EQUATIONS

SCRIPT = """
import brian2, sys
from brian2.stateupdaters.base import StateUpdateMethod
import spikemem.lowering
if sys.argv[1] == "cached-only":         # deriving anything now ends the process
    def refuse(*a, **k):
        raise SystemExit("derived again")
    import spikemem.state_update_cache as c
    StateUpdateMethod.apply_stateupdater = staticmethod(c._cached(refuse))
from spikemem.backends import simulation
from spikemem.models.cuba.network import cuba
sim = simulation(cuba(n=50), "numba", progress=False)
sim.run(0.002)
print(sim.result().spikes["exc"].count())
"""


def test_a_new_process_reads_the_derivation_instead_of_deriving_it(tmp_path):
    env = {**os.environ, "SPIKEMEM_CACHE": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", SCRIPT, "derive"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    stored = os.listdir(tmp_path / "state-updates")
    assert stored and all(name.endswith(".txt") for name in stored)
    second = subprocess.run([sys.executable, "-c", SCRIPT, "cached-only"], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr + second.stdout
    assert second.stdout == first.stdout


@pytest.fixture
def group_args():
    group = b2.NeuronGroup(3, CUBA_EQUATIONS, method="exact", namespace={})
    variables = group.resolve_all(group.equations.identifiers | group.equations.names | {"dt"}, {},
                                  user_identifiers=set())
    return group.equations, variables


def test_the_result_is_the_derivation_and_is_read_back(tmp_path, monkeypatch, group_args):
    monkeypatch.setattr(state_update_cache, "CACHE_DIR", str(tmp_path))
    calls = []
    state_update_cache.install()
    original = b2.StateUpdateMethod.apply_stateupdater.uncached

    def derive(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)
    cached = state_update_cache._cached(derive)
    equations, variables = group_args
    first = cached(equations, variables, "exact")
    assert first == original(equations, variables, "exact")
    assert first == cached(equations, variables, "exact") and len(calls) == 1
    assert "exp" in first and len(os.listdir(tmp_path)) == 1


def test_the_key_holds_what_the_derivation_depends_on(group_args):
    equations, variables = group_args
    key = state_update_cache._key(equations, variables, "exact", None)
    assert key == state_update_cache._key(equations, variables, "EXACT", None)
    assert key != state_update_cache._key(equations, variables, "euler", None)
    assert key != state_update_cache._key(b2.Equations(CUBA_EQUATIONS.replace("ge + gi", "ge - gi")), variables,
                                          "exact", None)
    other_dt = dict(variables, dt=b2.NeuronGroup(1, "dv/dt = -v/ms : 1", dt=0.05 * ms).variables["dt"])
    assert key != state_update_cache._key(equations, other_dt, "exact", None)
    assert state_update_cache._key(equations, variables, ["exact", "euler"], None) is None
    timed = b2.TimedArray([1.0, 2.0], dt=1 * ms)
    eqs = b2.Equations("dv/dt = (f(t) - v)/(10*ms) : 1")
    assert state_update_cache._key(eqs, {"f": timed, "dt": variables["dt"]}, "exact", None) is None
