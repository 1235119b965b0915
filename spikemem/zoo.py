"""The model registry: each model of the zoo registers itself here by name.

A model is a network factory (its keyword options, ``n`` and ``seed`` among
them, read from its signature) and, where its main job is a scripted
experiment rather than a plain run, the experiment's entry points. Factories
are named as ``"module:function"`` so that listing models imports none.
"""
from __future__ import annotations

from dataclasses import dataclass

from .registry import Registry, load_object


@dataclass(frozen=True)
class Model:
    """A registered model.

    ``network``: ``"module:function"`` returning a ``Network``.
    ``experiments``: names of its scripted experiments, the first the default.
    ``run_experiment``: ``"module:function"`` called as ``f(experiment, backend, folder)``;
    writes its report into ``folder`` and returns the lines to print.
    ``compare_backends``: ``"module:function"`` called as ``f(experiment, backend)``;
    returns a dict with ``same_answers``, ``operations``, ``differ`` and ``spikes``.
    ``benchmark``: it is a benchmark network (``spikemem bench``).
    ``sweep``: ``"module:object"``, the ``spikemem.experiments.Experiment`` that
    ``spikemem sweep`` runs (its parameters are what can be swept).
    """

    name: str
    network: str
    summary: str = ""
    experiments: tuple = ()
    run_experiment: str | None = None
    compare_backends: str | None = None
    benchmark: bool = False
    sweep: str | None = None

    def factory(self):
        return load_object(self.network)


MODELS = Registry("model")
register_model = MODELS.register
