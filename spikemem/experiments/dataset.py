"""A sweep's metrics as an xarray Dataset, and the files it is saved as (netCDF, zarr)."""
from __future__ import annotations

import json
import os

import numpy as np

from ..errors import ModelError
from ..results import atomic_write, output_problem, staged_dir
from .cache import canonical
from .provenance import git_revision, versions


def to_dataset(sweep):
    """One dimension per swept parameter (in the order given), then ``seed``,
    then ``backend`` when several were swept; one variable per metric (nan
    where a point did not report it; one named like a dimension is called
    ``metric.<name>``). Quantities are in SI, their unit in the coordinate's
    ``units`` attribute."""
    import xarray as xr
    experiment = sweep.experiment
    # coordinates rounded as cache keys are (-4.5*mV is -0.0045, so .sel(w=-4.5e-3) finds it)
    si = lambda name, value: canonical(experiment.params[name].si(value))
    axes = {name: list(dict.fromkeys(si(name, v) for v in values)) for name, values in sweep.grid.items()}
    axes["seed"] = list(sweep.seeds)
    if len(sweep.backends) > 1:
        axes["backend"] = list(sweep.backends)
    index = {d: {v: i for i, v in enumerate(values)} for d, values in axes.items()}
    shape = tuple(len(values) for values in axes.values())
    names = sorted({m for o in sweep.outcomes.values() for m in o.metrics})
    data = {m: np.full(shape, np.nan) for m in names}
    for point, outcome in sweep.outcomes.items():
        at = {**{name: canonical(v) for name, v in point.params}, "seed": point.seed, "backend": point.backend}
        where = tuple(index[d][at[d]] for d in axes)
        for m, v in outcome.metrics.items():
            data[m][where] = v
    coords = {d: (d, values, {"units": experiment.params[d].unit} if d in sweep.grid and experiment.params[d].unit
                  else {}) for d, values in axes.items()}
    first = sweep.points[0]
    attrs = {"experiment": experiment.name, "spikemem": versions()["spikemem"], "git_revision": git_revision() or "",
             "dtype": first.dtype or "",
             "fixed": json.dumps({k: v for k, v in first.params if k not in sweep.grid})}
    # a metric named like a dimension (``n`` measured while ``n`` is swept) keeps its value under "metric.n"
    named = {(f"metric.{m}" if m in axes else m): a for m, a in data.items()}
    return xr.Dataset({m: (list(axes), a) for m, a in named.items()}, coords=coords, attrs=attrs)


def save(dataset, path: str | os.PathLike, force: bool = True) -> None:
    """Write ``dataset`` as netCDF (``.nc``) or zarr (``.zarr``), atomically."""
    path = os.fspath(path)
    if path.endswith(".nc"):
        problem = output_problem(path, folder=False, force=force)
        if problem:
            raise ModelError(f"'{path}': {problem}")
        with atomic_write(path) as tmp:
            dataset.to_netcdf(tmp, engine="h5netcdf")
    elif path.endswith(".zarr"):
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise ModelError("writing zarr needs the zarr package: pip install 'spikemem[experiments]'") from None

        def check(out):
            problem = output_problem(out, folder=True, force=force)
            if problem:
                raise ModelError(f"'{path}': {problem}")
        check(path)
        with staged_dir(path, check) as tmp:
            dataset.to_zarr(tmp, mode="w")
    else:
        raise ModelError(f"'{path}': write a dataset as .nc (netCDF) or .zarr")


def load(path: str | os.PathLike):
    """A dataset written by ``save``."""
    import xarray as xr
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    if path.endswith(".zarr"):
        return xr.open_zarr(path).load()
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
