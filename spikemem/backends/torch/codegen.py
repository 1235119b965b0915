"""Brian2 statements -> Python functions over torch tensors.

The statements are the ones the numba engine renders (``abstract_code``), so
both engines do the same arithmetic; here each operation acts on a whole
tensor of shape (trials, neurons) or (trials, synapses) at once. Scalars
(Brian2's loop invariants, shared parameters, ``t``) stay Python floats, which
keeps them bit-identical to the numba engine's in float64.
"""
from __future__ import annotations

import ast
import copy
import math

import numpy as np
import torch

from .. import abstract_code as ac


#: functions whose torch (and numpy) versions differ from the C library's in
#: the last bit for some arguments (exp: about 5 %); numba and Brian2's C++
#: targets call the C library
LIBM = ("exp", "log", "log10", "sin", "cos", "tan", "sinh", "cosh", "tanh")
_libm_ufuncs: dict = {}


def _libm_ufunc(name):
    """The C library's ``name`` over a float64 array, compiled once by numba."""
    if name not in _libm_ufuncs:
        from numba import vectorize
        fn = getattr(math, name)
        _libm_ufuncs[name] = vectorize(["float64(float64)"])(lambda x: fn(x))
    return _libm_ufuncs[name]


class _Libm(torch.autograd.Function):
    """Forward: the C library's value (float64 on the CPU: numba's bits);
    backward: torch's derivative."""

    @staticmethod
    def forward(ctx, x, name):
        ctx.save_for_backward(x)
        ctx.name = name
        return torch.from_numpy(np.asarray(_libm_ufunc(name)(x.detach().numpy())))     # 0-d gives a scalar

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            xx = x.detach().requires_grad_()
            return torch.autograd.grad(getattr(torch, ctx.name)(xx), xx, grad)[0], None


def _unary(name):
    tfn, mfn = getattr(torch, name), getattr(math, name)

    def fn(x):
        if not isinstance(x, torch.Tensor):
            return mfn(x)
        if name in LIBM and x.dtype == torch.float64 and x.device.type == "cpu":
            return _Libm.apply(x, name)
        return tfn(x)
    return fn


def _clip(x, low, high):
    if isinstance(x, torch.Tensor):
        return torch.clamp(x, low, high)
    return min(max(x, low), high)


def _int(x):
    return x.to(torch.int64) if isinstance(x, torch.Tensor) else int(x)


def _timestep(t, dt):
    if isinstance(t, torch.Tensor):
        return ((t + 1e-3 * dt) / dt).to(torch.int64)
    return int((t + 1e-3 * dt) / dt)


def _logical_not(x):
    return torch.logical_not(x) if isinstance(x, torch.Tensor) else not x


def _where(cond, new, old):
    """``new`` where ``cond``, else ``old``; keeps ``old`` itself when nothing changes it."""
    if new is old:
        return old
    return torch.where(cond, new, old)


def gather(x, index):
    """``x[..., index]`` (neuron values per synapse); ``index_select`` is the fast
    path in torch. A (trials, 1) value (one per trial) broadcasts as it is."""
    return x if x.shape[-1] == 1 else x.index_select(-1, index)


# Names every generated function can use (Brian2's default functions).
FUNCTIONS = {name: _unary(name) for name in ("exp", "log", "log10", "sqrt", "sin", "cos", "tan",
                                             "sinh", "cosh", "tanh", "floor", "ceil")}
FUNCTIONS.update(abs=lambda x: x.abs() if isinstance(x, torch.Tensor) else abs(x),
                 sign=lambda x: x.sign() if isinstance(x, torch.Tensor) else float((x > 0) - (x < 0)),
                 clip=_clip, int=_int, timestep=_timestep, logical_not=_logical_not,
                 where=_where, gather=gather, torch=torch, inf=math.inf, pi=math.pi, e=math.e)

# One random number per item: ``_shape`` and the generator are bound by the caller.
RANDOM_CALLS = {"rand": "_rand(_shape)", "randn": "_randn(_shape)"}
STYLE = {"calls": RANDOM_CALLS, "vector": True, "inplace": False}


def render(stmts, names, indent="    "):
    return ac.render(stmts, names, indent, **STYLE)


def render_expr(expr, names):
    return ac.render_expr(expr, names, calls=RANDOM_CALLS, vector=True)


def render_hoisted(stmts, names, per_item, literals, prefix, indent="    "):
    return ac.render_hoisted(stmts, names, per_item, literals, prefix, indent, indent, **STYLE)


def named_draws(stmts, indent="    "):
    """(statements, lines): each random call of ``stmts`` drawn once into a local
    of its own (``_draw0 = _rand(_shape)``), so that an expression built from a
    statement again (the threshold's distance, ``threshold_distance``) reads
    the same numbers instead of drawing new ones."""
    lines, out = [], []
    for stmt in stmts:
        tree = ast.parse(stmt.expr, mode="eval")
        for node in ast.walk(tree):
            for field, value in ast.iter_fields(node):
                for k, child in (enumerate(value) if isinstance(value, list) else [(None, value)]):
                    if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) \
                            and child.func.id in RANDOM_CALLS:
                        name = f"_draw{len(lines)}"
                        lines.append(f"{indent}{name} = {RANDOM_CALLS[child.func.id]}")
                        if k is None:
                            setattr(node, field, ast.Name(name, ast.Load()))
                        else:
                            value[k] = ast.Name(name, ast.Load())
        if len(lines) and ast.unparse(tree) != stmt.expr:
            stmt = copy.copy(stmt)
            stmt.expr = ast.unparse(tree)
        out.append(stmt)
    return out, lines


def compile_function(source: str, name: str, namespace: dict):
    """Execute ``source`` (one or more ``def``) with ``namespace`` as its globals
    and return ``name``. The functions read their constants from ``namespace``
    at every call, so changing an entry there changes the constant."""
    for key, value in FUNCTIONS.items():
        namespace.setdefault(key, value)
    exec(compile(source, f"<spikemem torch {name}>", "exec"), namespace)
    return namespace[name]


def threshold_distance(expr: str):
    """The signed distance to threshold of a condition like ``(v > v_thresh) and
    not_refractory``: ``v - v_thresh`` (or ``v_thresh - v`` for ``<``), from its
    first comparison. None when the condition has no comparison."""
    for node in ast.walk(ast.parse(expr, mode="eval")):
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = ast.unparse(node.left), ast.unparse(node.comparators[0])
            if isinstance(node.ops[0], (ast.Gt, ast.GtE)):
                return f"({left}) - ({right})", right
            if isinstance(node.ops[0], (ast.Lt, ast.LtE)):
                return f"({right}) - ({left})", right
    return None
