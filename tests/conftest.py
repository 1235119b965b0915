import importlib.util
import os
import sys

import pytest

# Keep compiled numba kernels inside the test session's temp area unless the
# user points SPIKEMEM_CACHE elsewhere; a second run then reuses them.
os.environ.setdefault("SPIKEMEM_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "spikemem", "kernels"))
sys.setrecursionlimit(10000)

# pytest-xdist runs one worker per core; torch's own worker threads on top of
# that oversubscribe the cores, and its OpenMP barriers then spin for
# milliseconds per operation. (A core-only install has no torch.)
if importlib.util.find_spec("torch") is not None:
    import torch
    torch.set_num_threads(1)


@pytest.fixture
def rng():
    import numpy as np
    return np.random.default_rng(1234)
