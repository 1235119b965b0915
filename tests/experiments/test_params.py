import pytest
from brian2 import mV, ms, second
from brian2.units.fundamentalunits import Quantity

from spikemem.errors import ModelError
from spikemem.experiments import Param, parse_seeds
from spikemem.experiments.params import parse_assignment, resolve

PARAMS = {"tau": Param(20 * ms), "n": Param(100), "p": Param(0.1), "on": Param(True),
          "mode": Param("a", choices=("a", "b"))}


def test_values_are_parsed_with_their_units():
    name, values = parse_assignment("tau=10ms, 2.5 ms,0.03*second,0.04s", PARAMS, "x")
    assert name == "tau"
    assert [float(v) for v in values] == pytest.approx([0.01, 0.0025, 0.03, 0.04])
    assert all(isinstance(v, Quantity) for v in values)
    assert parse_assignment("n=5,6", PARAMS, "x") == ("n", [5, 6])
    assert parse_assignment("p=1e-2", PARAMS, "x") == ("p", [0.01])
    assert parse_assignment("on=false,yes", PARAMS, "x") == ("on", [False, True])
    assert parse_assignment("mode=b", PARAMS, "x") == ("mode", ["b"])


@pytest.mark.parametrize("text, words", [
    ("tau_m=10ms", ["no parameter 'tau_m'", "tau, n, p, on, mode"]),
    ("tau=10mV", ["tau", "units of s"]),
    ("tau=10", ["no unit", "'10ms'"]),
    ("tau=10 parsecs", ["unknown unit 'parsecs'"]),
    ("n=2.5", ["whole number"]),
    ("n=", ["empty value"]),
    ("n=1,,2", ["empty value"]),
    ("mode=c", ["'c' is not one of"]),
    ("tau", ["NAME=VALUE"]),
])
def test_bad_assignments_name_what_is_wrong(text, words):
    with pytest.raises(ModelError) as e:
        parse_assignment(text, PARAMS, "x")
    for word in words:
        assert word in str(e.value)


def test_resolve_fills_defaults_and_checks_units():
    values = resolve(PARAMS, {"tau": 5 * ms}, "x")
    assert float(values["tau"]) == pytest.approx(0.005) and values["n"] == 100
    with pytest.raises(ModelError, match="parameter 'tau' of 'x'.*units of s"):
        resolve(PARAMS, {"tau": 5 * mV}, "x")
    with pytest.raises(ModelError, match="no parameter 'q'"):
        resolve(PARAMS, {"q": 1}, "x")
    with pytest.raises(ModelError, match="whole number"):
        resolve(PARAMS, {"n": True}, "x")
    assert float(resolve({"d": Param(1 * second)}, {"d": 2 * second}, "x")["d"]) == 2.0


def test_seed_ranges():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("7") == [7]
    assert parse_seeds("0,4-5,4") == [0, 4, 5]
    with pytest.raises(ModelError, match="5-2 runs backwards"):
        parse_seeds("5-2")
    with pytest.raises(ModelError, match="'x' is not a seed"):
        parse_seeds("1,x")
