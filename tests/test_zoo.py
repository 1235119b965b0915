"""The model registry's experiments: a model's declared one, or the generic one of its network factory."""
import pickle

import pytest
from brian2 import mV, ms, second

from spikemem.errors import ModelError
from spikemem.experiments import Chain, Experiment, sweep
from spikemem.registry import load_object
from spikemem.zoo import MODELS, Model

SMALL = {"n": [200], "duration": [0.1 * second]}


def test_every_model_of_the_zoo_loads_its_entry_points():
    """The zoo's packages register themselves; each named entry point loads and
    each model with a scripted experiment has one to run by default."""
    assert {"ca3-cam", "cuba", "grid-cells", "hlop", "place-recognition", "astrocytes"} <= set(MODELS.names())
    for model in MODELS.entries():
        assert callable(model.factory()), model.name
        if model.run_experiment:
            assert model.experiments and callable(load_object(model.run_experiment)), model.name
        if model.sweep:
            assert isinstance(model.experiment(), (Experiment, Chain)), model.name


def test_a_declared_experiment_is_returned_as_it_is():
    cuba = MODELS.get("cuba")
    assert cuba.experiment() is load_object(cuba.sweep)


def test_a_declared_sweep_that_is_no_experiment_is_refused_by_name():
    model = Model("not-an-experiment", "spikemem.models.cuba.network:cuba",
                  sweep="spikemem.models.cuba.network:cuba")
    with pytest.raises(ModelError, match="not-an-experiment"):
        model.experiment()


def test_the_generic_experiment_takes_the_factory_options_and_duration():
    generic = MODELS.get("cuba-curr-exp").experiment()
    assert isinstance(generic, Experiment) and generic.name == "cuba-curr-exp"
    assert list(generic.params) == ["n", "p", "dt", "tau_syn_I", "duration"]     # no seed, no record_state
    assert generic.params["tau_syn_I"].default == 10 * ms and generic.params["duration"].default == 1 * second
    # an option whose default is no parameter value (None) keeps its default
    assert list(MODELS.get("ca3-cam").experiment().params) == ["n_cues", "n_content", "duration"]
    with pytest.raises(ModelError, match="tau_syn_I"):
        generic.resolve({"tau_syn_I": 5 * mV})             # a wrong unit


def test_the_generic_experiment_runs_after_pickling_as_it_runs_here():
    generic = MODELS.get("cuba-curr-exp").experiment()
    again = pickle.loads(pickle.dumps(generic))
    assert again.params == generic.params and again.code == generic.code
    a = generic(seed=1, n=200, duration=0.1 * second)
    b = again(seed=1, n=200, duration=0.1 * second)
    c = again(seed=2, n=200, duration=0.1 * second)
    assert set(a.metrics) == {"exc.rate_hz", "exc.cv_isi", "inh.rate_hz", "inh.cv_isi"}
    assert a.metrics == b.metrics and a.metrics != c.metrics      # the seed reaches the network
    assert a.metrics["exc.rate_hz"] > 0


def test_the_generic_experiment_runs_on_a_local_dask_cluster():
    generic = MODELS.get("cuba-curr-exp").experiment()
    here = sweep(generic, SMALL, seeds=[0, 1], scheduler="in-process", cache=False, progress=False)
    there = sweep(generic, SMALL, seeds=[0, 1], workers=2, cache=False, progress=False)
    assert there.computed == 2
    assert there.dataset().equals(here.dataset())
