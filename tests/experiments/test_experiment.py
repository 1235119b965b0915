import numpy as np
import pytest
from brian2 import mV, ms

from spikemem.errors import ModelError
from spikemem.experiments import Outcome, Param, chain, experiment
from spikemem.results import Result

from experiment_toys import noisy, test, train


def test_parameters_are_the_keyword_defaults():
    assert list(noisy.params) == ["w", "n", "label"]
    assert noisy.params["w"].unit == "V" and noisy.params["n"].unit == ""
    assert noisy.name == "noisy" and "drawn from the seed" in noisy.doc
    assert not noisy.is_stage and test.is_stage


def test_a_direct_call_checks_parameters_and_passes_the_seed():
    a, b = noisy(seed=3, w=2 * mV), noisy(seed=3, w=2 * mV)
    assert a.metrics == b.metrics and a.metrics["n"] == 10
    assert noisy(seed=4).metrics != noisy(seed=3).metrics
    with pytest.raises(ModelError, match="parameter 'w' of 'noisy'"):
        noisy(w=2 * ms)
    with pytest.raises(ModelError, match="no parameter 'wrong'"):
        noisy(wrong=1)


def test_a_parameter_without_a_default_is_refused():
    def f(seed, tau):
        return {}
    with pytest.raises(ModelError, match="'tau' needs a default"):
        experiment(f)


def test_outcomes_flatten_metrics_and_refuse_non_numbers():
    o = Outcome({"exc": {"rate": 3, "cv": None}, "total": 1.5})
    assert o.metrics["exc.rate"] == 3.0 and np.isnan(o.metrics["exc.cv"]) and o.metrics["total"] == 1.5
    with pytest.raises(ModelError, match="metric 'x.y' is \\[1, 2\\]"):
        Outcome({"x": {"y": [1, 2]}})
    assert Outcome.of(Result(), "f").result is not None
    with pytest.raises(ModelError, match="returned int"):
        Outcome.of(3, "f")


def test_a_stage_receives_the_previous_outcome():
    trained = train(seed=1, lr=2.0)
    assert np.array_equal(trained.state["w"], [4.0, 4.0, 4.0])
    assert test(trained, seed=1, threshold=11.0).metrics["passed"] == 1.0
    with pytest.raises(ModelError, match="is a stage"):
        test(seed=1)


def test_chains_check_their_order_and_share_parameters():
    both = chain(train, test)
    assert both.name == "train+test" and list(both.params) == ["lr", "calls", "threshold"]
    with pytest.raises(ModelError, match="first stage 'test'"):
        chain(test, train)
    with pytest.raises(ModelError, match="stage 'noisy' takes no previous Outcome"):
        chain(train, noisy)

    @experiment
    def other(previous, lr=Param(0.1, "another meaning")):
        return {}
    with pytest.raises(ModelError, match="'lr' is declared differently"):
        chain(train, other)
