"""Brian2 abstract code -> Python source for numba.

Brian2 turns equations into abstract code and then into statements
(``make_statements``: loop invariants hoisted as ``_lio_*``). This module renders
those statements as plain Python with every name mapped to the engine's
arrays and locals; ``engine.py`` stitches the pieces into one kernel.
"""
from __future__ import annotations

import ast

import numpy as np
from brian2.codegen.translation import make_statements
from brian2.parsing.rendering import NodeRenderer

RANDOM_CALLS = {"rand": "np.random.random()", "randn": "np.random.standard_normal()"}


class _Renderer(NodeRenderer):
    """Python rendering with a name map (brian2 name -> kernel expression)."""

    def __init__(self, names: dict):
        super().__init__()
        self.names = names

    def render_Name(self, node):
        return self.names.get(node.id, node.id)

    def render_Call(self, node):
        if node.func.id in RANDOM_CALLS:
            return RANDOM_CALLS[node.func.id]
        args = ", ".join(self.render_node(a) for a in node.args)
        return f"{node.func.id}({args})"


def statements(abstract_code: str, variables: dict):
    """(scalar statements, vector statements) exactly as Brian2's generators get them."""
    return make_statements(abstract_code, variables, np.float64, optimise=True)


def render(stmts, names: dict, indent: str) -> list[str]:
    r = _Renderer(names)
    lines = []
    for s in stmts:
        op = "=" if s.op == ":=" else s.op
        target = names.get(s.var, s.var)
        lines.append(f"{indent}{target} {op} {r.render_expr(s.expr)}")
    return lines


def names_in(stmts) -> set[str]:
    out = set()
    for s in stmts:
        out.add(s.var)
        out |= {n.id for n in ast.walk(ast.parse(s.expr)) if isinstance(n, ast.Name)}
    return out
