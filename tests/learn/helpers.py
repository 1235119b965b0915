"""Small data for the training tests: separable blobs in [0, 1]."""
import numpy as np


def blobs(n=240, d=12, classes=3, seed=0):
    """``n`` samples of ``d`` features in [0, 1]: each class lights its own third of the inputs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.uniform(0.0, 0.25, (n, d))
    for c in range(classes):
        cols = np.arange(d)[c::classes]
        x[np.ix_(y == c, cols)] += 0.7
    return np.clip(x, 0, 1).astype(np.float32), y.astype(np.int64)
