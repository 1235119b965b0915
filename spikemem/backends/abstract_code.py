"""Brian2 abstract code -> Python source, shared by the numba and torch backends.

Brian2 turns equations into abstract code and then into statements
(``make_statements``: loop invariants hoisted as ``_lio_*``). This module renders
those statements as plain Python with every name mapped to a backend's arrays
and locals; each backend stitches the pieces into its own step.
"""
from __future__ import annotations

import ast
import copy
import re

import numpy as np
import sympy
from brian2.codegen.translation import make_statements
from brian2.parsing.rendering import NodeRenderer, NumpyNodeRenderer
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str

from ..errors import ModelError

# Brian2's random functions, one number per loop item: how each backend draws them
RANDOM_CALLS = {"rand": "np.random.random()", "randn": "np.random.standard_normal()"}


class _Renderer(NodeRenderer):
    """Python rendering with a name map (brian2 name -> kernel expression).
    ``vector=True`` renders boolean operators elementwise (``&``, ``|``,
    ``logical_not``) for whole-array backends."""

    def __init__(self, names: dict, calls: dict = RANDOM_CALLS, vector: bool = False):
        super().__init__()
        self.names, self.calls = names, calls
        if vector:
            self.expression_ops = NumpyNodeRenderer.expression_ops

    def render_UnaryOp(self, node):
        if self.expression_ops is NumpyNodeRenderer.expression_ops:
            return NumpyNodeRenderer.render_UnaryOp(self, node)
        return super().render_UnaryOp(node)

    def render_Name(self, node):
        return self.names.get(node.id, node.id)

    def render_Call(self, node):
        if node.func.id in self.calls:
            return self.calls[node.func.id]
        args = ", ".join(self.render_node(a) for a in node.args)
        return f"{node.func.id}({args})"


#: Brian2's exponential Euler divides by the refractory clamp (its B term) when an
#: "(unless refractory)" variable's equation has it in every term
_CLAMP_DIVISION = re.compile(r"\)\s*/\s*int\(not_refractory\)$")


def statements(abstract_code: str, variables: dict, dtype=np.float64):
    """(scalar statements, vector statements) exactly as Brian2's generators get
    them; ``dtype``: the floating-point type of the values (Brian2's default
    float type), which the statements' own ``dtype`` follows.

    One change: Brian2's exponential Euler computes ``A/B`` for an "(unless
    refractory)" variable as ``(... * int(not_refractory)) / int(not_refractory)``,
    0/0 for a refractory neuron. Brian2's own targets never use that value (they
    write such variables only where not_refractory holds); the backends here
    fold the flag into the update, so the division by the clamp is dropped:
    the same value where the neuron is not refractory (x / 1 is x), and 0
    where it is, which leaves the variable unchanged."""
    scalar, vector = make_statements(abstract_code, variables, dtype, optimise=True)
    for stmt in vector:
        if stmt.var.startswith("_BA_"):          # exponential Euler's A/B of one variable
            stmt.expr = _CLAMP_DIVISION.sub(")", stmt.expr)
        if re.search(r"/\s*int\(not_refractory\)", stmt.expr):
            raise ModelError(f"{stmt.var} = {stmt.expr}: a division by the refractory clamp that is not "
                             f"Brian2's exponential Euler form; integrate this model with another method")
    return scalar, vector


def is_float(stmt) -> bool:
    return np.issubdtype(np.dtype(stmt.dtype), np.floating)


def _statement(s, expr: str, names: dict, inplace: bool, cast: str | None) -> str:
    """Statement ``s`` assigning the rendered ``expr``; ``cast`` as for ``render``."""
    if cast and is_float(s) and np.dtype(s.dtype) != np.float64:     # a float64 time stays one
        expr = f"{cast}({expr})"
    return _assign(names.get(s.var, s.var), s.op, expr, inplace)


def _assign(target: str, op: str, expr: str, inplace: bool) -> str:
    """``x += e``, or ``x = x + (e)`` for tensors, whose augmented assignment
    would change an array other names still refer to."""
    if op == ":=":
        op = "="
    if op != "=" and not inplace:
        return f"{target} = {target} {op[:-1]} ({expr})"
    return f"{target} {op} {expr}"


def render(stmts, names: dict, indent: str, inplace: bool = True, cast: str | None = None,
           **style) -> list[str]:
    """``cast``: a function (e.g. "np.float32") applied to the value of every
    floating-point statement, so that a value computed in float64 is stored
    as the statement's own type."""
    r = _Renderer(names, **style)
    return [f"{indent}{_statement(s, r.render_expr(s.expr), names, inplace, cast)}" for s in stmts]


def render_expr(expr: str, names: dict, **style) -> str:
    return _Renderer(names, **style).render_expr(expr)


def names_in(stmts) -> set[str]:
    out = set()
    for s in stmts:
        out.add(s.var)
        out |= {n.id for n in ast.walk(ast.parse(s.expr)) if isinstance(n, ast.Name)}
    return out


class _Literals(ast.NodeTransformer):
    """Names replaced by literal values."""

    def __init__(self, literals: dict):
        self.literals = literals

    def visit_Name(self, node):
        if node.id in self.literals:
            return ast.copy_location(ast.Constant(self.literals[node.id]), node)
        return node


class _Hoister(_Literals):
    """Replaces the largest subexpressions that do not depend on the loop item
    by names computed once before the loop (same operations, same order, so the
    values are bit-identical); ``literals`` are substituted throughout."""

    def __init__(self, per_item: set, literals: dict, renderer, prefix: str):
        super().__init__(literals)
        self.per_item, self.renderer, self.prefix = per_item, renderer, prefix
        self.hoisted: list[tuple[str, str]] = []

    def _invariant(self, node):
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in self.per_item:
                return False
            if isinstance(n, ast.Call) and n.func.id in self.renderer.calls:
                return False
        return True

    def visit(self, node):
        if isinstance(node, (ast.BinOp, ast.Call, ast.UnaryOp)):
            literal_free = self.visit_children(node)
            if self._invariant(literal_free):
                name = f"{self.prefix}{len(self.hoisted)}"
                self.hoisted.append((name, self.renderer.render_node(literal_free)))
                return ast.Name(name, ast.Load())
            return super().generic_visit(literal_free)
        return super().visit(node)

    def visit_children(self, node):
        # substitute literals inside without hoisting, to test invariance
        return _Literals(self.literals).visit(copy.deepcopy(node))


def render_hoisted(stmts, names: dict, per_item: set, literals: dict, prefix: str,
                   outer: str, inner: str, inplace: bool = True, cast: str | None = None, **style):
    """(lines before the loop, lines inside it) for ``stmts`` with loop
    invariants hoisted; ``cast`` as for ``render``."""
    renderer = _Renderer(names, **style)
    h = _Hoister(per_item | {s.var for s in stmts}, literals, renderer, prefix)
    body = []
    for s in stmts:
        expr = renderer.render_node(h.visit(ast.parse(s.expr, mode="eval").body))
        body.append(f"{inner}{_statement(s, expr, names, inplace, cast)}")
    return [f"{outer}{n} = {e}" for n, e in h.hoisted], body


def render_selected(stmts, names: dict, per_item: set, flag: str, prefix: str,
                    outer: str, inner: str, cast: str | None = None, **style):
    """Like ``render_hoisted`` for a boolean per-item ``flag`` (e.g. not_refractory):
    the invariants are computed for both values of the flag before the loop and
    chosen per item by a select, so one branch-free body (which compilers can
    vectorise) serves every item with exactly the operations of the flag's
    branch. Returns (lines before the loop, lines inside it), or None where the
    flag appears outside the invariants (then the branches differ in code)."""
    renders = [render_hoisted(stmts, names, per_item, {flag: value}, prefix, outer, inner, cast=cast, **style)
               for value in (True, False)]
    (pre_true, body), (pre_false, body_false) = renders
    if body != body_false:
        return None
    before, selects = [], []
    for line_true, line_false in zip(pre_true, pre_false):
        if line_true == line_false:            # does not depend on the flag
            before.append(line_true)
            continue
        name = line_true.split("=", 1)[0].strip()
        before += [line_true.replace(name, f"{name}_t", 1), line_false.replace(name, f"{name}_f", 1)]
        selects.append(f"{inner}{name} = {name}_t if {flag} else {name}_f")
    return before, selects + body


class _FoldedLiterals(_Literals):
    """``_Literals``, and ``int(True)`` becomes ``1`` (so that sympy simplifies)."""

    def visit_Call(self, node):
        node = self.generic_visit(node)
        if (isinstance(node.func, ast.Name) and node.func.id == "int" and len(node.args) == 1
                and isinstance(node.args[0], ast.Constant)):
            return ast.copy_location(ast.Constant(int(node.args[0].value)), node)
        return node


def affine(expr: str, per_item: set, literals: dict):
    """``expr`` (with ``literals`` substituted) as ``(constant, {name: coefficient})``,
    sympy expressions free of the ``per_item`` names, or None where it is not
    affine in them."""
    tree = _FoldedLiterals(literals).visit(ast.parse(expr, mode="eval"))
    try:
        e = str_to_sympy(ast.unparse(tree))
    except (SyntaxError, TypeError, ValueError):
        return None
    if not isinstance(e, sympy.Expr):
        return None
    gens = sorted((x for x in e.free_symbols if x.name in per_item), key=lambda x: x.name)
    coefficients = {}
    for x in gens:
        c = sympy.diff(e, x)
        if c.free_symbols & set(gens):
            return None
        if c != 0:
            coefficients[x.name] = c
    return e.subs({x: 0 for x in gens}), coefficients


def render_affine(stmts, names: dict, per_item: set, flag, prefix: str, outer: str, inner: str,
                  cast: str | None = None, **style):
    """Statements that are affine in the per-item variables (the exact
    integration of linear equations), each as ``c + a1*x1 + ...`` with its
    coefficients computed once before the loop: two or three fused
    multiply-adds per variable instead of the statement's own operations (no
    per-item division). For fast-math only: the sums round differently from
    the statements' order. With a boolean per-item ``flag`` (e.g.
    not_refractory), each statement is folded for both of its values and each
    item selects its result. Returns (lines before the loop, lines inside it),
    or None where a statement is not affine, is not a plain assignment, or
    draws random numbers. ``cast``: a function the coefficients pass through
    (e.g. "np.float32", so that float32 items are updated in float32)."""
    if any(s.op not in ("=", ":=") for s in stmts) or names_in(stmts) & set(RANDOM_CALLS):
        return None
    item = (per_item | {s.var for s in stmts}) - {flag}
    values = (True, False) if flag is not None else (None,)
    forms = []
    for s in stmts:
        forms.append([affine(s.expr, item, {} if v is None else {flag: v}) for v in values])
        if any(f is None for f in forms[-1]):
            return None
    renderer = _Renderer(names, **style)
    before, hoisted = [], {}

    def typed(expr):
        return f"{cast}({expr})" if cast else expr

    def term(c):      # a coefficient: a number, or its name before the loop
        if c.is_Number:
            return typed(repr(float(c)))
        if c not in hoisted:
            hoisted[c] = f"{prefix}{len(hoisted)}"
            before.append(f"{outer}{hoisted[c]} = {typed(renderer.render_expr(sympy_to_str(c)))}")
        return hoisted[c]

    def sum_of(form):
        constant, coefficients = form
        parts = [] if constant == 0 else [term(constant)]
        parts += [names.get(x, x) if c == 1 else f"{term(c)} * {names.get(x, x)}"
                  for x, c in coefficients.items()]
        return " + ".join(parts) or typed("0.0")

    body = []
    for s, per_value in zip(stmts, forms):
        target = names.get(s.var, s.var)
        if all(f == per_value[0] for f in per_value):
            body.append(f"{inner}{target} = {sum_of(per_value[0])}")
            continue
        t, f = f"{prefix}{s.var}_t", f"{prefix}{s.var}_f"
        body += [f"{inner}{t} = {sum_of(per_value[0])}", f"{inner}{f} = {sum_of(per_value[1])}",
                 f"{inner}{target} = {t} if {flag} else {f}"]
    return before, body
