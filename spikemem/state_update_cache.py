"""Brian2's state-update derivations kept on disk, so a new process does not derive them again.

Brian2 turns a model's differential equations into update code with sympy
(``StateUpdateMethod.apply_stateupdater``), which takes seconds for the exact
method and is cached only in memory: every new process, a CLI run, a notebook
kernel, each Dask worker of a sweep, pays it again for the same equations.
``install()`` wraps that function: its result (a string of abstract code) is
stored under a digest of everything it depends on, Brian2's version, the
equations, the method and its options, the time step, and what kind of thing
each name in the equations is (unit, type, scalar, constant, subexpression), and
read back next time. Parameter values are not part of it: the derivation keeps
them as names. Equations that call a function other than Brian2's built-in ones
(a ``TimedArray`` may or may not be constant over a step) are derived as usual,
uncached.
"""
from __future__ import annotations

import hashlib
import os

from .results import atomic_write

#: where derivations are stored: beside the numba kernels (``SPIKEMEM_CACHE``)
CACHE_DIR = os.path.join(os.environ.get("SPIKEMEM_CACHE", os.path.join(os.path.expanduser("~"), ".cache",
                                                                       "spikemem", "kernels")), "state-updates")

_installed = False


def _key(equations, variables, method, method_options) -> str | None:
    """The digest the derivation depends on, or None where it is not cached."""
    import brian2
    from brian2.core.functions import DEFAULT_FUNCTIONS, Function
    if not isinstance(method, str):
        return None                      # a callable or a list tried in turn
    parts = [brian2.__version__, str(equations), method.lower(), repr(sorted((method_options or {}).items()))]
    names = sorted(set(equations.identifiers) | set(equations.names) | {"dt"})
    for name in names:
        var = variables.get(name)
        if var is None:
            parts.append(f"{name}:-")
            continue
        if isinstance(var, Function):
            if DEFAULT_FUNCTIONS.get(name) is not var:
                return None
            parts.append(f"{name}:builtin")
            continue
        if name == "dt":
            parts.append(f"dt:{var.get_value()!r}")
            continue
        parts.append(":".join(str(x) for x in (name, type(var).__name__, var.dim, getattr(var, "dtype", None),
                                               var.scalar, var.constant, getattr(var, "expr", None))))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _cached(apply):
    def apply_stateupdater(equations, variables, method, method_options=None, group_name=None):
        try:
            key = _key(equations, variables, method, method_options)
        except Exception:           # anything unexpected about these variables: derive as usual
            key = None
        path = key and os.path.join(CACHE_DIR, key + ".txt")
        if path and os.path.exists(path):
            try:
                with open(path) as f:
                    return f.read()
            except OSError:
                pass
        code = apply(equations, variables, method, method_options=method_options, group_name=group_name)
        if path and isinstance(code, str):
            try:
                os.makedirs(CACHE_DIR, exist_ok=True)
                with atomic_write(path) as tmp, open(tmp, "w") as f:
                    f.write(code)
            except Exception:       # a cache that cannot be written only costs time
                pass
        return code
    apply_stateupdater.uncached = apply
    return apply_stateupdater


def install() -> None:
    """Wrap Brian2's ``apply_stateupdater`` once per process (the results are the same strings)."""
    global _installed
    if _installed:
        return
    from brian2.stateupdaters.base import StateUpdateMethod
    StateUpdateMethod.apply_stateupdater = staticmethod(_cached(StateUpdateMethod.apply_stateupdater))
    _installed = True
