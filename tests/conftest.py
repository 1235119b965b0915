import os
import sys

import pytest

# Keep compiled numba kernels inside the test session's temp area unless the
# user points SPIKEMEM_CACHE elsewhere; a second run then reuses them.
os.environ.setdefault("SPIKEMEM_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "spikemem", "kernels"))
sys.setrecursionlimit(10000)


@pytest.fixture
def rng():
    import numpy as np
    return np.random.default_rng(1234)
