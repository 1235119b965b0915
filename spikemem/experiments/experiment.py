"""An experiment: a function of declared parameters and a seed that returns an ``Outcome``.

``@experiment`` turns a function into one. Its keyword arguments with defaults
are the declared parameters (``params``); ``seed``, ``backend`` and ``dtype``
are passed when the function takes them. A function that takes a first
argument without a default is a *stage*: it receives the previous stage's
``Outcome`` (weights and state as a checkpoint), and ``chain(a, b, c)`` runs
stages in order, each cached on its own.
"""
from __future__ import annotations

import hashlib
import inspect
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from ..results import Result
from .params import RESERVED, Param, as_param, resolve


@dataclass
class Outcome:
    """What one run of an experiment produced.

    ``metrics``: named numbers (a sweep's dataset has one variable per name);
    ``result``: spike trains and traces; ``state``: named arrays, the checkpoint
    a later stage starts from (weights, thresholds); ``provenance``: what
    produced it (filled in by the runner; an experiment may add to it, e.g.
    ``network_hash``).
    """

    metrics: dict = field(default_factory=dict)
    result: Result | None = None
    state: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        self.metrics = flat_metrics(self.metrics)
        self.state = {str(k): np.asarray(v) for k, v in self.state.items()}

    @classmethod
    def of(cls, value, where: str) -> "Outcome":
        """An experiment's return value as an Outcome: an Outcome, a Result, or a dict of metrics."""
        if isinstance(value, Outcome):
            return value
        if isinstance(value, Result):
            return cls(result=value)
        if isinstance(value, dict):
            return cls(metrics=value)
        raise ModelError(f"{where} returned {type(value).__name__}; return an Outcome, a Result or a dict of metrics")


def flat_metrics(metrics: dict, prefix: str = "") -> dict:
    """Nested dicts of numbers flattened to ``{"exc.rate": 3.2}``; None becomes nan."""
    out = {}
    for name, value in metrics.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(flat_metrics(value, key + "."))
            continue
        if value is None:
            value = math.nan
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ModelError(f"metric '{key}' is {value!r}; metrics are numbers (put arrays in state)")
        out[key] = float(value)
    return out


def code_hash(fn) -> str:
    """A digest of the function's source: a changed experiment is computed anew."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):       # no source (built in a REPL): its compiled code instead
        code = getattr(fn, "__code__", None)
        text = repr((code.co_code, code.co_consts)) if code else fn.__qualname__
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Experiment:
    """A function of declared parameters and a seed (see the module's docstring)."""

    def __init__(self, fn, name: str | None = None, doc: str | None = None, code: str | None = None):
        """``code``: what stands for the function's source in cache keys (default: a digest of it)."""
        self.fn = fn
        self.name = name or fn.__name__.replace("_", "-")
        self.doc = doc if doc is not None else (inspect.getdoc(fn) or "").split("\n\n")[0]
        self.code = code or code_hash(fn)
        signature = inspect.signature(fn)
        params = list(signature.parameters.values())
        self.is_stage = bool(params) and params[0].default is inspect.Parameter.empty \
            and params[0].name not in RESERVED and params[0].kind is not inspect.Parameter.KEYWORD_ONLY
        self.takes = {p.name for p in params if p.name in RESERVED}
        self.params: dict[str, Param] = {}
        for p in params[1 if self.is_stage else 0:]:
            if p.name in RESERVED:
                continue
            if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                raise ModelError(f"experiment '{self.name}': *{p.name} cannot be a declared parameter")
            if p.default is inspect.Parameter.empty:
                raise ModelError(f"experiment '{self.name}': parameter '{p.name}' needs a default "
                                 f"(the default declares its unit)")
            self.params[p.name] = as_param(p.default)
            self.params[p.name].kind()         # a default that is no parameter value is refused now

    def __repr__(self):
        return f"<Experiment '{self.name}': {', '.join(self.params) or 'no parameters'}>"

    @property
    def stages(self) -> tuple:
        return (self,)

    def resolve(self, values: dict) -> dict:
        """Every declared parameter's value: defaults, overridden by ``values`` (checked)."""
        return resolve(self.params, values, self.name)

    def call(self, upstream, params: dict, seed: int, backend: str, dtype: str | None) -> Outcome:
        """Run the function once (no cache): ``params`` resolved, ``upstream`` the previous stage's Outcome."""
        extra = {"seed": seed, "backend": backend, "dtype": dtype}
        kwargs = {**{k: params[k] for k in self.params}, **{k: extra[k] for k in self.takes}}
        value = self.fn(upstream, **kwargs) if self.is_stage else self.fn(**kwargs)
        return Outcome.of(value, f"experiment '{self.name}'")

    def __call__(self, *upstream, seed: int = 0, backend: str = "numba", dtype: str | None = None, **params):
        """Run it directly, without cache or provenance."""
        if self.is_stage != bool(upstream):
            raise ModelError(f"experiment '{self.name}' " + ("is a stage: give it the previous stage's Outcome"
                                                              if self.is_stage else "takes no previous Outcome"))
        return self.call(upstream[0] if upstream else None, self.resolve(params), seed, backend, dtype)


class Chain:
    """Stages run in order, each given the previous one's Outcome (see ``chain``)."""

    def __init__(self, stages, name: str | None = None):
        self._stages = tuple(stages)
        if not self._stages:
            raise ModelError("chain() needs at least one stage")
        if self._stages[0].is_stage:
            raise ModelError(f"the first stage '{self._stages[0].name}' takes a previous Outcome; nothing precedes it")
        for s in self._stages[1:]:
            if not s.is_stage:
                raise ModelError(f"stage '{s.name}' takes no previous Outcome (its first argument), so it cannot "
                                 f"follow another stage")
        self.name = name or "+".join(s.name for s in self._stages)
        self.doc = self._stages[-1].doc
        # one parameter name means one value in every stage that declares it
        self.params: dict[str, Param] = {}
        for s in self._stages:
            for pname, p in s.params.items():
                if pname in self.params and self.params[pname] != p:
                    raise ModelError(f"parameter '{pname}' is declared differently by two stages of '{self.name}'")
                self.params[pname] = p

    def __repr__(self):
        return f"<Chain '{self.name}': {' -> '.join(s.name for s in self._stages)}>"

    @property
    def stages(self) -> tuple:
        return self._stages

    def resolve(self, values: dict) -> dict:
        return resolve(self.params, values, self.name)


def experiment(fn=None, *, name: str | None = None):
    """Make ``fn`` an ``Experiment`` (usable as ``@experiment`` or ``@experiment(name="...")``)."""
    if fn is None:
        return lambda f: Experiment(f, name=name)
    return Experiment(fn, name=name)


def chain(*stages, name: str | None = None) -> Chain:
    """Stages run in order (train -> regularise -> test), each cached with its own parameters."""
    return Chain([s if isinstance(s, Experiment) else Experiment(s) for s in stages], name=name)
