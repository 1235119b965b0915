import numpy as np
import pytest
from brian2 import mV

from spikemem.errors import ModelError
from spikemem.experiments import IN_PROCESS, load_dataset, save_dataset, sweep

from experiment_toys import noisy


@pytest.fixture
def swept(tmp_path):
    return sweep(noisy, {"n": [10, 20, 30], "w": [1 * mV, 2 * mV]}, seeds=[0, 5], scheduler=IN_PROCESS,
                 cache=tmp_path / "cache")


def test_one_dimension_per_swept_parameter_then_seed(swept):
    ds = swept.dataset()
    assert list(ds["value"].dims) == ["n", "w", "seed"] and ds["value"].shape == (3, 2, 2)
    assert list(ds["n"].values) == [10, 20, 30] and list(ds["seed"].values) == [0, 5]
    assert ds["w"].values == pytest.approx([0.001, 0.002]) and ds["w"].attrs["units"] == "V"
    for point, outcome in swept.outcomes.items():
        p = dict(point.params)
        at = ds["value"].sel(n=p["n"], w=p["w"], seed=point.seed)
        assert float(at) == outcome.metrics["value"]
    assert np.array_equal(ds["metric.n"].sel(seed=0, w=0.001).values, [10, 20, 30])
    assert ds.attrs["experiment"] == "noisy" and '"label": "a"' in ds.attrs["fixed"]


def test_several_backends_add_a_dimension(tmp_path):
    ds = sweep(noisy, seeds=[1], backends=["numba", "brian2"], scheduler=IN_PROCESS, cache=tmp_path).dataset()
    assert list(ds["value"].dims) == ["seed", "backend"] and list(ds["backend"].values) == ["numba", "brian2"]


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_datasets_are_saved_and_read_back(swept, tmp_path, suffix):
    path = tmp_path / f"metrics{suffix}"
    save_dataset(swept.dataset(), path)
    back = load_dataset(path)
    assert np.array_equal(back["value"].values, swept.dataset()["value"].values)
    assert back["w"].attrs["units"] == "V" and back.attrs["experiment"] == "noisy"


def test_a_dataset_needs_a_known_suffix(swept, tmp_path):
    with pytest.raises(ModelError, match=r"\.nc \(netCDF\) or \.zarr"):
        save_dataset(swept.dataset(), tmp_path / "metrics.csv")
    assert not (tmp_path / "metrics.csv").exists()
