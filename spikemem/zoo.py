"""The model registry: each model of the zoo registers itself here by name.

A model is a network factory (its keyword options, ``n`` and ``seed`` among
them, read from its signature) and, where its main job is a scripted
experiment rather than a plain run, the experiment's entry points. Factories
are named as ``"module:function"`` so that listing models imports none.

``Model.experiment()`` is what ``spikemem sweep`` runs: the model's declared
experiment (``Model.sweep``) or, for a model that declares none, a generic one
built from its network factory (``NetworkActivity``).
"""
from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass

from .errors import ModelError
from .registry import Registry, load_object

#: factory options that are not parameters of the generic experiment
NOT_SWEPT = ("seed", "record_state")


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

    def experiment(self):
        """The ``spikemem.experiments`` Experiment of this model: the one ``sweep``
        names, else ``NetworkActivity``'s generic one (its factory's options and
        ``duration`` as parameters; each population's rate and CV of ISIs as metrics)."""
        from .experiments import Chain, Experiment
        if self.sweep is not None:
            declared = load_object(self.sweep)
            if not isinstance(declared, (Experiment, Chain)):
                raise ModelError(f"model '{self.name}': sweep '{self.sweep}' is a {type(declared).__name__}, "
                                 f"not an experiment (made with @experiment or chain())")
            return declared
        activity = NetworkActivity(self.name)
        # the factory's source counts too: a changed model is computed anew
        return Experiment(activity, name=self.name, code=activity.code(),
                          doc=f"Rate and CV of ISIs of each population of '{self.name}', simulated for `duration`.")


class NetworkActivity:
    """The generic experiment of a model: build its network with the given options
    and seed, simulate it for ``duration``, report every recorded population's
    ``rate_hz`` and ``cv_isi`` (``spikemem.analysis``).

    Its parameters are the factory's keyword options with defaults (but for
    ``seed`` and ``record_state``; those whose default is no number, quantity,
    flag or text keep it), plus ``duration`` (1 s). A class rather than a
    closure: Dask sends it to its workers by pickling, and all it holds is the
    model's name.
    """

    def __init__(self, model: str):
        self.model = model
        self.__qualname__ = f"NetworkActivity[{model}]"
        self.__signature__ = self.signature()       # what Experiment reads the declared parameters from

    def __repr__(self):
        return f"NetworkActivity({self.model!r})"

    def factory(self):
        return MODELS.get(self.model).factory()

    def options(self) -> dict:
        """The factory's keyword options that can be parameters (name -> ``Param``)."""
        from .experiments import Param
        out = {}
        for p in inspect.signature(self.factory()).parameters.values():
            if p.name in NOT_SWEPT or p.default is inspect.Parameter.empty or p.kind in (
                    inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            param = Param(p.default, f"option '{p.name}' of the network factory")
            try:
                param.kind()
            except ModelError:          # e.g. None: the factory's default stays
                continue
            out[p.name] = param
        if "duration" in out:
            raise ModelError(f"model '{self.model}': its network factory has an option 'duration', which the "
                             f"generic experiment's simulated time would hide; declare the model's own "
                             f"experiment (Model.sweep)")
        return out

    def signature(self) -> inspect.Signature:
        """``seed``, ``backend``, ``dtype``, then the parameters (their ``Param`` as default)."""
        from brian2 import second

        from .experiments import Param
        keyword = inspect.Parameter.KEYWORD_ONLY
        reserved = [inspect.Parameter(name, keyword) for name in ("seed", "backend", "dtype")]
        params = {**self.options(), "duration": Param(1 * second, "simulated time")}
        return inspect.Signature(reserved + [inspect.Parameter(name, keyword, default=p)
                                             for name, p in params.items()])

    def code(self) -> str:
        """A digest of this class's source and of the factory's module."""
        factory = self.factory()
        text = inspect.getsource(NetworkActivity) + inspect.getsource(inspect.getmodule(factory))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __call__(self, *, seed, backend, dtype, duration, **options):
        from . import analysis
        from .backends import simulation
        from .experiments import Outcome
        factory = self.factory()
        if "seed" in inspect.signature(factory).parameters:
            network = factory(seed=seed, **options)
        else:
            network = factory(**options)
            network.seed = seed
        sim = simulation(network, backend, progress=False, **({"dtype": dtype} if dtype else {}))
        sim.run(duration)
        result = sim.result()
        return Outcome(analysis.activity(result, float(duration)), result)


MODELS = Registry("model")
register_model = MODELS.register
