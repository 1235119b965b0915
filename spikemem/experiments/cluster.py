"""The Dask side of sweeps: a client for a running cluster or for a local one made for the sweep."""
from __future__ import annotations

import importlib.util
import warnings

from ..errors import ModelError

#: every worker runs one task at a time on one thread: numba, BLAS and torch
#: are kept from starting threads of their own that would fight over the cores
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}

#: a local cluster's workers and nannies wake up less: the statistical profiler
#: samples every thread's stack every 10 ms (a simulation built in Python ran 7 %
#: slower under it) and the monitors poll every 100-500 ms, each time taking the
#: interpreter from the task (the dashboard's profile page stays empty)
QUIET_WORKERS = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "5s",
                 "distributed.worker.memory.monitor-interval": "5s"}

#: seconds to wait for a scheduler before giving up
CONNECT_TIMEOUT_S = 5


def client_for(scheduler: str | None, workers: int | None):
    """A Dask client: connected to ``scheduler``, or to a new local cluster (closed with the client)."""
    from distributed import Client, LocalCluster
    if scheduler is not None:
        try:
            return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise ModelError(f"cannot reach the Dask scheduler at '{scheduler}' within {CONNECT_TIMEOUT_S} s: "
                             f"{e}") from None
    import dask
    from ..backends.numba.engine import available_cores
    dashboard = ":0" if has_bokeh() else None
    with warnings.catch_warnings(), dask.config.set(QUIET_WORKERS):
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=workers or available_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=dashboard, env=WORKER_ENV, silence_logs=40)
    client = Client(cluster, set_as_default=False)
    client._spikemem_cluster = cluster      # closed with the client
    return client


def has_bokeh() -> bool:
    return importlib.util.find_spec("bokeh") is not None


def close(client) -> None:
    cluster = getattr(client, "_spikemem_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()
