import gzip
import random
import socket

import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.learn import Dataset, digits, idx, mnist1d, mnist_files
from spikemem.learn.datasets import ON_OFF_SPAN


def small(rng, n_train=30, n_test=10, n_inputs=6, n_classes=3):
    return dict(name="toy", x_train=rng.uniform(0, 1, (n_train, n_inputs)), y_train=rng.integers(0, n_classes, n_train),
                x_test=rng.uniform(0, 1, (n_test, n_inputs)), y_test=rng.integers(0, n_classes, n_test),
                n_classes=n_classes)


def test_a_dataset_holds_float32_inputs_and_int64_labels(rng):
    parts = small(rng)
    parts["y_train"] = parts["y_train"].astype(np.int32)
    d = Dataset(**parts)
    assert d.x_train.dtype == np.float32 and d.x_test.dtype == np.float32
    assert d.y_train.dtype == np.int64 and d.y_test.dtype == np.int64
    assert np.allclose(d.x_train, parts["x_train"]) and np.array_equal(d.y_train, parts["y_train"])
    assert d.n_inputs == 6 and d.n_classes == 3


@pytest.mark.parametrize("change, message", [
    (lambda p: p["x_train"].__setitem__((4, 2), np.nan), "x_train: input 2 of sample 4 is nan"),
    (lambda p: p["x_test"].__setitem__((1, 0), 1.5), "x_test: input 0 of sample 1 is 1.5, outside"),
    (lambda p: p["y_train"].__setitem__(7, 3), "y_train: label 3 of sample 7 is outside the 3 classes"),
    (lambda p: p["y_test"].__setitem__(0, -1), "y_test: label -1 of sample 0"),
    (lambda p: p.update(x_test=p["x_test"][:, :5]), "x_test has 5 inputs, x_train 6"),
    (lambda p: p.update(x_test=p["x_test"][:0], y_test=p["y_test"][:0]), "x_test is empty"),
    (lambda p: p.update(y_train=p["y_train"][:-1]), "expected 30 labels"),
    (lambda p: p.update(y_train=p["y_train"] + 0.5), "labels must be whole numbers"),
    (lambda p: p.update(x_train=p["x_train"][0]), "expected a (samples, inputs) array"),
    (lambda p: p.update(n_classes=0), "n_classes must be a whole number >= 1"),
    (lambda p: p.update(name=""), "the name must be a non-empty string"),
])
def test_bad_datasets_are_refused_naming_the_part(rng, change, message):
    parts = small(rng)
    change(parts)
    with pytest.raises(ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Dataset(**parts)


def test_digits_are_split_per_class_and_keep_every_image():
    from sklearn.datasets import load_digits
    d = digits(test_fraction=0.25, seed=3)
    assert d.n_inputs == 64 and d.n_classes == 10
    assert len(d.x_train) + len(d.x_test) == 1797
    assert d.x_train.min() == 0 and d.x_train.max() == 1
    # Each class loses a quarter of its images to the test split (rounded).
    raw = load_digits()
    for label, count in enumerate(np.bincount(raw.target)):
        assert (d.y_test == label).sum() == round(0.25 * count)
    # The splits together are the bundled images and labels, each once.
    ours = np.concatenate([np.c_[d.x_train * 16, d.y_train], np.c_[d.x_test * 16, d.y_test]])
    theirs = np.c_[raw.data, raw.target]
    assert np.array_equal(np.unique(ours, axis=0), np.unique(theirs, axis=0))
    assert len(np.unique(ours, axis=0)) == len(np.unique(theirs, axis=0))


def test_digits_follow_the_seed():
    a, b, c = digits(seed=1), digits(seed=1), digits(seed=np.random.default_rng(2))
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    assert len(a.x_test) == len(c.x_test) and not np.array_equal(a.x_test, c.x_test)


def test_a_torch_generator_seeds_like_a_numpy_one():
    torch = pytest.importorskip("torch")
    a = digits(seed=torch.Generator().manual_seed(4))
    b = digits(seed=torch.Generator().manual_seed(4))
    c = digits(seed=torch.Generator().manual_seed(5))
    assert np.array_equal(a.y_test, b.y_test) and not np.array_equal(a.x_test, c.x_test)
    assert np.array_equal(mnist1d(n=20, seed=torch.Generator().manual_seed(4)).x_train,
                          mnist1d(n=20, seed=torch.Generator().manual_seed(4)).x_train)


@pytest.mark.parametrize("fraction", [0, 1, 1.5, "a"])
def test_digits_refuse_a_test_fraction_outside_zero_and_one(fraction):
    with pytest.raises(ModelError, match="test_fraction"):
        digits(test_fraction=fraction)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset tried to reach the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_mnist1d_is_the_generator_rescaled_to_the_unit_interval(no_network):
    from mnist1d.data import get_dataset_args, make_dataset
    d = mnist1d(n=200, seed=5)
    assert d.n_inputs == 40 and d.n_classes == 10
    assert len(d.x_train) == 160 and len(d.x_test) == 40
    assert np.array_equal(np.bincount(np.concatenate([d.y_train, d.y_test])), [20] * 10)
    both = np.concatenate([d.x_train, d.x_test])
    assert both.min() == 0 and both.max() == 1
    # An affine map of the package's own signals, same seed, same order.
    args = get_dataset_args()
    args.num_samples, args.seed = 200, 5
    raw = make_dataset(args)
    theirs = np.concatenate([raw["x"], raw["x_test"]])
    assert np.array_equal(np.concatenate([d.y_train, d.y_test]), np.concatenate([raw["y"], raw["y_test"]]))
    assert np.allclose(both, (theirs - theirs.min()) / np.ptp(theirs), atol=1e-6)


def test_mnist1d_on_off_coding_splits_each_standardised_point_by_its_sign(no_network):
    rescaled, coded = mnist1d(n=200, seed=5), mnist1d(n=200, seed=5, coding="on-off")
    assert coded.n_inputs == 80 and np.array_equal(coded.y_test, rescaled.y_test)
    on, off = coded.x_train[:, :40], coded.x_train[:, 40:]
    assert not (on * off).any()                      # a point is above or below its mean, never both
    assert on.any() and off.any() and coded.x_train.max() == 1
    # The positive minus the negative channel is the point standardised by the training split, scaled by
    # ON_OFF_SPAN, wherever neither channel is clipped: an affine map of the rescaled inputs, per point.
    x = rescaled.x_train
    z = (x - x.mean(axis=0)) / (x.std(axis=0) * ON_OFF_SPAN)
    inside = np.abs(z) < 1
    assert inside.mean() > 0.9
    assert np.allclose((on - off)[inside], z[inside], atol=1e-4)
    # The test split is coded with the training split's statistics, so it may overshoot less or more.
    test_z = (rescaled.x_test - x.mean(axis=0)) / (x.std(axis=0) * ON_OFF_SPAN)
    assert np.allclose(coded.x_test[:, :40] - coded.x_test[:, 40:], np.clip(test_z, -1, 1), atol=1e-4)


def test_mnist1d_follows_its_seed_and_leaves_the_global_random_state_alone(no_network):
    np.random.seed(11)
    random.seed(11)
    expected = np.random.rand(), random.random()
    np.random.seed(11)
    random.seed(11)
    a = mnist1d(n=100, seed=1)
    assert (np.random.rand(), random.random()) == expected
    b, c = mnist1d(n=100, seed=1), mnist1d(n=100, seed=2)
    assert np.array_equal(a.x_train, b.x_train)
    assert not np.allclose(a.x_train, c.x_train)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=205), "n must be a whole multiple of 10"), (dict(n=10), "n must be"),
    (dict(test_fraction=1.0), "test_fraction"), (dict(seed=-1), "seed must be"), (dict(seed=1.5), "seed must be"),
    (dict(coding="onoff"), "coding 'onoff' is not one of"),
])
def test_mnist1d_refuses_bad_settings(kwargs, message):
    with pytest.raises(ModelError, match=message):
        mnist1d(**kwargs)


def write_idx(path, array, *, gz=False, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_idx_files_read_plain_and_gzipped(tmp_path, rng):
    images = rng.integers(0, 256, (7, 3, 4))
    labels = rng.integers(0, 10, 7)
    write_idx(tmp_path / "im", images)
    write_idx(tmp_path / "lb.gz", labels, gz=True)
    x, y = idx(tmp_path / "im", tmp_path / "lb.gz")
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert np.allclose(x, images.reshape(7, 12) / 255) and np.array_equal(y, labels)


def test_mnist_files_make_a_dataset_from_a_directory(tmp_path, rng):
    parts = {"x_train": rng.integers(0, 256, (12, 28, 28)), "y_train": np.arange(12) % 10,
             "x_test": rng.integers(0, 256, (5, 28, 28)), "y_test": np.arange(5)}
    folder = tmp_path / "fashion"
    folder.mkdir()
    for key, stem in (("x_train", "train-images-idx3-ubyte"), ("y_train", "train-labels-idx1-ubyte"),
                      ("x_test", "t10k-images-idx3-ubyte"), ("y_test", "t10k-labels-idx1-ubyte")):
        write_idx(folder / (stem + (".gz" if key.startswith("x") else "")), parts[key], gz=key.startswith("x"))
    d = mnist_files(folder)
    assert d.name == "fashion" and d.n_inputs == 784 and d.n_classes == 10
    assert np.allclose(d.x_test * 255, parts["x_test"].reshape(5, -1), atol=1e-4)
    assert np.array_equal(d.y_train, parts["y_train"])
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(ModelError, match="has no t10k-labels-idx1-ubyte"):
        mnist_files(folder)


def test_bad_idx_files_are_refused_naming_the_file(tmp_path, rng):
    write_idx(tmp_path / "im", rng.integers(0, 256, (4, 2, 2)))
    write_idx(tmp_path / "lb", rng.integers(0, 10, 3))
    with pytest.raises(ModelError, match="holds 4 images.*3 labels"):
        idx(tmp_path / "im", tmp_path / "lb")
    with pytest.raises(ModelError, match="'.*lb': expected 3 dimension"):
        idx(tmp_path / "lb", tmp_path / "lb")
    write_idx(tmp_path / "floats", rng.integers(0, 10, 3), code=0x0D)
    with pytest.raises(ModelError, match="floats' is not an idx file of unsigned bytes"):
        idx(tmp_path / "im", tmp_path / "floats")
    (tmp_path / "short").write_bytes((tmp_path / "im").read_bytes()[:-1])
    with pytest.raises(ModelError, match="short': the header promises shape"):
        idx(tmp_path / "short", tmp_path / "lb")
    with pytest.raises(ModelError, match="nothing': no such file"):
        idx(tmp_path / "nothing", tmp_path / "lb")
