"""Experiments: functions of declared parameters and a seed, run with provenance and a cache,
chained in stages, and swept over parameters, seeds and backends on Dask::

    from spikemem.experiments import experiment, sweep

    @experiment
    def rates(seed, backend, w=0.5*mV, n=1000):
        ...
        return {"rate": ...}

    s = sweep(rates, {"w": [0.25*mV, 0.5*mV]}, seeds=range(4))
    s.dataset()        # an xarray Dataset: w x seed
"""
from . import checkpoint
from .cache import Cache, CorruptEntry
from .dataset import load as load_dataset
from .dataset import save as save_dataset
from .experiment import Chain, Experiment, Outcome, chain, experiment
from .params import Param, parse_seeds
from .runner import IN_PROCESS, Sweep, SweepFailed, run, sweep

__all__ = ["Cache", "Chain", "CorruptEntry", "Experiment", "IN_PROCESS", "Outcome", "Param", "Sweep", "SweepFailed",
           "chain", "checkpoint", "experiment", "load_dataset", "parse_seeds", "run", "save_dataset", "sweep"]
