"""Brian2 abstract code rendered as Python: the affine fold of linear updates."""
import math

import numpy as np
import pytest
from brian2.codegen.statements import Statement

from spikemem.backends import abstract_code as codegen

# an exact-integration update of the shape Brian2 writes for CUBA (refractory clamp inside)
V_EXPR = ("(El + ((a * ((ge * int(flag)) * exp(c * int(flag)))) / (b + (tau * int(flag))))"
          " + (v * exp(c * int(flag)))) - (El * exp(c * int(flag)))")
SHARED = {"El": -0.049, "a": 0.3, "b": -0.02, "c": -0.005, "tau": 0.005, "exp": math.exp}


def _statements():
    return [Statement("_ge", ":=", "decay * ge", "", np.float64),
            Statement("_v", ":=", V_EXPR, "", np.float64),
            Statement("ge", "=", "_ge", "", np.float64),
            Statement("v", "=", "_v", "", np.float64)]


def _execute(lines, env):
    exec("\n".join(line.strip() for line in lines), {}, env)
    return env


@pytest.mark.parametrize("flag", [True, False])
def test_affine_gives_the_coefficients_of_a_linear_expression(flag):
    constant, coefficients = codegen.affine(V_EXPR, {"ge", "v"}, {"flag": flag})
    assert set(coefficients) == ({"ge", "v"} if flag else {"v"})
    if not flag:      # the clamp: v is kept, nothing added
        assert constant == 0 and coefficients["v"] == 1
    values = {**SHARED, "flag": flag}
    rng = np.random.default_rng(0)
    for ge, v in rng.normal(0, 0.05, (5, 2)):
        expected = eval(V_EXPR, {}, {**values, "ge": ge, "v": v})
        got = float(constant.subs({s: values[s.name] for s in constant.free_symbols}))
        for name, c in coefficients.items():
            got += float(c.subs({s: values[s.name] for s in c.free_symbols})) * {"ge": ge, "v": v}[name]
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_affine_refuses_what_is_not_linear_in_the_per_item_names():
    for expr in ("v * ge", "exp(v)", "v / ge", "sqrt(v) + 1", "ge ** 2"):
        assert codegen.affine(expr, {"v", "ge"}, {}) is None, expr
    assert codegen.affine("exp(tau) * v", {"v"}, {}) is not None      # nonlinear in a shared name is fine


def test_render_affine_computes_what_the_statements_compute():
    stmts = _statements()
    names = {}
    before, body = codegen.render_affine(stmts, names, {"ge", "v"}, "flag", "_a_", "", "")
    assert not any("/" in line for line in body)          # the divisions went before the loop
    plain = codegen.render(stmts, names, "")
    for flag in (True, False):
        for ge, v in ((0.01, -0.06), (-0.02, -0.05), (0.0, -0.049)):
            env = {**SHARED, "decay": 0.98, "flag": flag, "ge": ge, "v": v}
            want = _execute(plain, dict(env))
            got = _execute(before + body, dict(env))
            assert got["ge"] == pytest.approx(want["ge"], rel=1e-12)
            assert got["v"] == pytest.approx(want["v"], rel=1e-12)
    # the clamped branch keeps v exactly
    got = _execute(before + body, {**SHARED, "decay": 0.98, "flag": False, "ge": 0.3, "v": -0.0612345})
    assert got["v"] == -0.0612345


def test_render_affine_leaves_updates_it_cannot_fold():
    nonlinear = [Statement("v", "=", "v + dt * v * ge", "", np.float64)]
    noisy = [Statement("v", "=", "v + sigma * randn()", "", np.float64)]
    augmented = [Statement("v", "+=", "ge", "", np.float64)]
    for stmts in (nonlinear, noisy, augmented):
        assert codegen.render_affine(stmts, {}, {"v", "ge"}, None, "_a_", "", "") is None


def test_cast_rounds_float_statements_and_coefficients_only():
    """float32 kernels: a float statement's value and every folded coefficient
    pass through the cast; integer and boolean statements do not."""
    stmts = [Statement("_lio_1", ":=", "timestep(0.005, dt)", "", int),
             Statement("_lio_2", ":=", "exp(-dt / tau)", "", np.float32),
             Statement("flag", "=", "step >= 3", "", bool)]
    lines = codegen.render(stmts, {}, "", cast="np.float32")
    assert lines == ["_lio_1 = timestep(0.005, dt)", "_lio_2 = np.float32(exp((- dt) / tau))", "flag = step >= 3"]
    assert codegen.render(stmts, {}, "") == [line.replace("np.float32(exp((- dt) / tau))", "exp((- dt) / tau)")
                                              for line in lines]
    before, body = codegen.render_affine(_statements(), {}, {"ge", "v"}, "flag", "_a_", "", "", cast="np.float32")
    assert before and all(line.split(" = ", 1)[1].startswith("np.float32(") for line in before)
    env = {**SHARED, "decay": 0.98, "flag": True, "ge": np.float32(0.01), "v": np.float32(-0.06), "np": np}
    got = _execute(before + body, env)
    assert isinstance(got["v"], np.float32) and isinstance(got["ge"], np.float32)
    want = _execute(codegen.render(_statements(), {}, ""), {**env, "ge": 0.01, "v": -0.06})
    assert got["v"] == pytest.approx(want["v"], rel=1e-6)


def _state_update(model, refractory=2e-3):
    """The state updater's (abstract code, variables) of one population of ``model``."""
    from spikemem.lowering import lower, prepare
    from spikemem.network import Network
    net = Network(dt=1e-3)
    net.population("p", 1, model)
    objects = lower(net.build())
    prepare(objects)
    updater = objects.groups["p"].state_updater
    return updater.abstract_code, updater.codeobj.variables


def test_the_exponential_euler_clamp_division_is_dropped_and_nothing_else():
    """Brian2's exponential Euler divides A by the refractory clamp: 0/0 for a
    refractory neuron. statements() drops that division in the _BA_ statement
    only; with the clamp 0 the update then leaves v as it is."""
    from brian2 import ms
    from spikemem.neurons import IF_curr_exp
    code, variables = _state_update(IF_curr_exp(integration="spinnaker", tau_refrac=2 * ms))
    assert "/int(not_refractory)" in code.replace(" ", "")             # what Brian2 writes
    _, vector = codegen.statements(code, variables)
    ba = [s for s in vector if s.var.startswith("_BA_")]
    assert ba and all("int(not_refractory)" in s.expr and not s.expr.rstrip().endswith("int(not_refractory)")
                      for s in ba)
    assert [s.var for s in vector if s.var in ("v", "isyn_exc")] == ["isyn_exc", "v"]


def test_a_clamp_division_of_another_form_is_refused(monkeypatch):
    from spikemem.errors import ModelError
    stmt = Statement("x", "=", "(a * int(not_refractory)) / int(not_refractory) + 1", "", np.float64)
    monkeypatch.setattr(codegen, "make_statements", lambda *args, **kw: ([], [stmt]))
    with pytest.raises(ModelError, match="not Brian2's exponential Euler form"):
        codegen.statements("", {})
