"""Labelled data for the training layer: inputs scaled to [0, 1], one integer label each.

A ``Dataset`` holds a train and a test split as numpy arrays: inputs
``(samples, n_inputs)`` float32 in [0, 1] (the firing probabilities of a
Poisson encoding), labels ``(samples,)`` int64 in ``0 .. n_classes - 1``.
Sources, all offline:

- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, 64
  inputs, grey levels 0..16 divided by 16), split per class;
- ``mnist1d``: the MNIST-1D generator (40 inputs, or 80 as on/off pairs), run
  locally with the package's own transformation settings and never its download;
- ``mnist_files`` / ``idx``: MNIST or Fashion-MNIST idx files a user has on
  disk (plain or gzipped; 784 inputs, grey levels divided by 255).
"""
from __future__ import annotations

import gzip
import os
import random
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from .checks import is_whole


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train and a test split of one labelled data set, checked when made:
    inputs are converted to float32 and must be finite and in [0, 1], labels to
    int64 and must lie in ``0 .. n_classes - 1``; neither split may be empty
    and both have the same number of inputs."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ModelError(f"Dataset: the name must be a non-empty string, got {self.name!r}")
        where = f"dataset '{self.name}'"
        if not is_whole(self.n_classes) \
                or self.n_classes < 1:
            raise ModelError(f"{where}: n_classes must be a whole number >= 1, got {self.n_classes!r}")
        object.__setattr__(self, "n_classes", int(self.n_classes))
        check_splits(self, where, self.n_classes)

    @property
    def n_inputs(self) -> int:
        """The number of inputs of one sample."""
        return self.x_train.shape[1]


def check_splits(holder, where: str, n_classes: int | None, labels_ok=None) -> None:
    """Check and set ``holder``'s ``x_train``, ``y_train``, ``x_test`` and
    ``y_test`` (a frozen dataclass's fields): inputs by ``check_inputs``,
    labels by ``check_labels``, then ``labels_ok(y, split)`` if given (it
    raises on a foreign label), and one input width for both splits."""
    for split in ("train", "test"):
        x = check_inputs(getattr(holder, f"x_{split}"), f"{where}: x_{split}")
        y = check_labels(getattr(holder, f"y_{split}"), len(x), n_classes, f"{where}: y_{split}")
        if labels_ok is not None:
            labels_ok(y, split)
        object.__setattr__(holder, f"x_{split}", x)
        object.__setattr__(holder, f"y_{split}", y)
    if holder.x_test.shape[1] != holder.x_train.shape[1]:
        raise ModelError(f"{where}: x_test has {holder.x_test.shape[1]} inputs, x_train {holder.x_train.shape[1]}")


def check_inputs(x, where: str) -> np.ndarray:
    """``x`` as a float32 ``(samples, n_inputs)`` array, refused unless it is
    non-empty, finite and in [0, 1]; ``where`` names it in the message."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise ModelError(f"{where}: expected numbers, got an array of {a.dtype}")
    if a.ndim != 2:
        raise ModelError(f"{where}: expected a (samples, inputs) array, got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ModelError(f"{where} is empty (shape {a.shape})")
    bad = ~np.isfinite(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    if bad.any():
        sample, i = np.argwhere(bad)[0]
        raise ModelError(f"{where}: input {i} of sample {sample} is {a[sample, i]}")
    outside = (a < 0) | (a > 1)
    if outside.any():
        sample, i = np.argwhere(outside)[0]
        raise ModelError(f"{where}: input {i} of sample {sample} is {a[sample, i]}, outside [0, 1]")
    return np.asarray(a, dtype=np.float32)


def check_labels(y, n_samples: int, n_classes: int | None, where: str) -> np.ndarray:
    """``y`` as an int64 ``(n_samples,)`` array, refused unless every label is a
    whole number in ``0 .. n_classes - 1`` (the classes of the output layer;
    ``None``: any whole number)."""
    a = np.asarray(y)
    if a.dtype.kind not in "iu":
        raise ModelError(f"{where}: labels must be whole numbers, got an array of {a.dtype}")
    if a.shape != (n_samples,):
        raise ModelError(f"{where}: expected {n_samples} labels (one per sample), got shape {a.shape}")
    outside = (a < 0) | (a >= n_classes) if n_classes is not None else np.zeros(a.shape, bool)
    if outside.any():
        sample = int(np.argmax(outside))
        raise ModelError(f"{where}: label {a[sample]} of sample {sample} is outside the "
                         f"{n_classes} classes 0..{n_classes - 1}")
    return a.astype(np.int64, copy=False)


def rng_of(seed, where: str) -> np.random.Generator:
    """A numpy generator from a whole-number seed, from a seed drawn from a
    ``torch.Generator``, or the numpy generator itself."""
    if isinstance(seed, np.random.Generator):
        return seed
    if _is_torch_generator(seed):
        return np.random.default_rng(_draw_seed(seed))
    if not is_whole(seed) or seed < 0:
        raise ModelError(f"{where}: seed must be a whole number >= 0 or a numpy or torch Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def digits(*, test_fraction: float = 0.25, seed=0) -> Dataset:
    """scikit-learn's 8x8 digits (1797 images, 10 classes), grey levels /16,
    with ``test_fraction`` of each class drawn into the test split (``seed``:
    a whole number, a numpy Generator or a ``torch.Generator``)."""
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ModelError(f"digits: test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    rng = rng_of(seed, "digits")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ModelError("digits needs scikit-learn: pip install spikemem[torch]") from None
    data = load_digits()
    x, y = data.data / 16.0, data.target
    test = np.zeros(len(y), bool)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test[members[:min(len(members) - 1, max(1, round(test_fraction * len(members))))]] = True
    return Dataset("digits", x[~test], y[~test], x[test], y[test], n_classes=10)


#: how ``mnist1d`` maps the generator's signed signals into [0, 1]
MNIST1D_CODINGS = ("rescaled", "on-off")
#: on-off coding: a channel reaches 1 at this many standard deviations from the input's mean
ON_OFF_SPAN = 2.0


def mnist1d(*, n: int = 5000, test_fraction: float = 0.2, seed=0, coding: str = "rescaled") -> Dataset:
    """MNIST-1D (Greydanus 2020): ``n`` signals of 40 points, ``n / 10`` per
    digit, from the package's generator with its own transformation settings
    and ``seed`` (a whole number, or a numpy or torch Generator that draws
    one); the last ``test_fraction`` form the test split, as the package
    splits. The signals are signed; ``coding`` maps them into [0, 1]:

    - "rescaled" (40 inputs): one affine map, the smallest and largest value
      of all ``n`` to 0 and 1. The inputs then sit around 0.5 with little
      contrast (std ~0.11), and a network without biases learns them slowly:
      the common offset swamps the signal's sign;
    - "on-off" (80 inputs): each point standardised by the training split's
      mean and standard deviation, then split in two channels, like ON and OFF
      cells: inputs ``0..39`` its positive part, ``40..79`` its negative part,
      each divided by ``ON_OFF_SPAN`` and clipped at 1. Mostly zero, they keep
      the sign a bias-free (spiking) network needs.
    """
    if coding not in MNIST1D_CODINGS:
        raise ModelError(f"mnist1d: coding {coding!r} is not one of {list(MNIST1D_CODINGS)}")
    if not is_whole(n) or n < 20 or n % 10:
        raise ModelError(f"mnist1d: n must be a whole multiple of 10 (one share per digit), >= 20, got {n!r}")
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ModelError(f"mnist1d: test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**32))
    elif _is_torch_generator(seed):
        seed = _draw_seed(seed) % 2**32
    if not is_whole(seed) or not 0 <= seed < 2**32:
        raise ModelError(f"mnist1d: seed must be a whole number in [0, 2**32) (the generator seeds numpy's "
                         f"global state) or a numpy or torch Generator, got {seed!r}")
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise ModelError("mnist1d needs the mnist1d package: pip install spikemem[torch]") from None
    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = int(n), int(seed), 1.0 - float(test_fraction)
    # The generator seeds and draws from the global random states: keep the caller's.
    states = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
    if coding == "on-off":
        mean, std = data["x"].mean(axis=0), data["x"].std(axis=0)
        std = np.where(std > 0, std, 1.0)

        def code(x):
            z = (x - mean) / (std * ON_OFF_SPAN)
            return np.clip(np.concatenate([z, -z], axis=1), 0, 1)
        return Dataset("mnist1d", code(data["x"]), data["y"], code(data["x_test"]), data["y_test"], n_classes=10)
    low = min(data["x"].min(), data["x_test"].min())
    span = max(data["x"].max(), data["x_test"].max()) - low
    return Dataset("mnist1d", (data["x"] - low) / span, data["y"], (data["x_test"] - low) / span, data["y_test"],
                   n_classes=10)


def _is_torch_generator(seed) -> bool:
    # Recognised without importing torch, which a numpy-only caller need not have.
    return type(seed).__name__ == "Generator" and type(seed).__module__.startswith("torch")


def _draw_seed(generator) -> int:
    import torch
    return int(torch.randint(0, 2**62, (1,), generator=generator))


#: The four files of MNIST and Fashion-MNIST, as distributed (each may also be gzipped).
MNIST_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
               "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def mnist_files(directory, *, name: str | None = None) -> Dataset:
    """MNIST or Fashion-MNIST from the four idx files in ``directory`` (names as
    in ``MNIST_FILES``, plain or ``.gz``): 784 inputs (row-major pixels / 255),
    10 classes; ``name`` defaults to the directory's name."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ModelError(f"'{directory}' is not a directory")
    paths = {}
    for key, stem in MNIST_FILES.items():
        found = [os.path.join(directory, stem + suffix) for suffix in ("", ".gz")
                 if os.path.isfile(os.path.join(directory, stem + suffix))]
        if not found:
            raise ModelError(f"'{directory}' has no {stem} (nor {stem}.gz)")
        paths[key] = found[0]
    x_train, y_train = idx(paths["x_train"], paths["y_train"])
    x_test, y_test = idx(paths["x_test"], paths["y_test"])
    name = name or os.path.basename(os.path.normpath(os.path.abspath(directory)))
    return Dataset(name, x_train, y_train, x_test, y_test, n_classes=10)


def idx(images, labels) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels from a pair of idx files (plain or gzipped): images
    ``(samples, rows * cols)`` float32 in [0, 1] (grey level / 255), labels
    int64."""
    x = _read_idx(images, dims=3)
    y = _read_idx(labels, dims=1)
    if len(x) != len(y):
        raise ModelError(f"'{os.fspath(images)}' holds {len(x)} images, '{os.fspath(labels)}' {len(y)} labels")
    return x.reshape(len(x), -1).astype(np.float32) / 255.0, y.astype(np.int64)


def _read_idx(path, dims: int) -> np.ndarray:
    # idx: two zero bytes, the type code (0x08: unsigned bytes), the number of
    # dimensions, one big-endian uint32 per dimension, then the data.
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelError(f"'{path}': no such file")
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gzipped else open)(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ModelError(f"'{path}' is not an idx file of unsigned bytes")
    if raw[3] != dims:
        raise ModelError(f"'{path}': expected {dims} dimension(s) ({'images' if dims == 3 else 'labels'}), "
                         f"the file has {raw[3]}")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=dims, offset=4))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ModelError(f"'{path}': the header promises shape {shape} ({int(np.prod(shape))} bytes), "
                         f"the file holds {data.size}")
    return data.reshape(shape)
