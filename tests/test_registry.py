"""Registries: look-ups, plugins that fail, and backends whose extra is missing."""
from importlib.metadata import EntryPoint

import pytest

from spikemem import registry
from spikemem.backends import BACKENDS, Backend, Capabilities, register, simulation
from spikemem.errors import ModelError
from spikemem.models.cuba.network import cuba


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ModelError, match="unknown backend 'nope'; choose one of .*numba"):
        BACKENDS.get("nope")


def test_a_name_registered_twice_for_two_things_is_refused():
    with pytest.raises(ModelError, match="registered already"):
        register(Backend("numba", "somewhere:Else"))


def test_a_plugin_that_fails_is_reported_and_the_others_still_load(monkeypatch):
    loaded = []
    good = EntryPoint("good", "tests_plugin_good:x", registry.PLUGIN_GROUP)
    bad = EntryPoint("bad", "no_such_module_anywhere", registry.PLUGIN_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [bad, good])
    monkeypatch.setattr(EntryPoint, "load", lambda ep: loaded.append(ep.name) if ep.name == "good" else
                        (_ for _ in ()).throw(ImportError("no module")))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    with pytest.warns(RuntimeWarning, match="plugin 'bad'.*left out"):
        registry.load_plugins()
    assert loaded == ["good"] and registry._plugins_loaded


def test_a_backend_whose_extra_is_missing_names_the_extra():
    register(Backend("needs-extra", "no_such_engine_module:Simulation", Capabilities(extra="torch")))
    try:
        with pytest.raises(ModelError, match=r"backend 'needs-extra' cannot load.*pip install 'spikemem\[torch\]'"):
            simulation(cuba(n=20), "needs-extra")
    finally:
        BACKENDS.unregister("needs-extra")
