"""``spikemem sweep``: CUBA at a tiny size, in this process, against the API's sweep."""
import json
import os
import shutil

import pytest
import xarray as xr
from brian2 import mV, ms

from spikemem.cli import main
from spikemem.experiments import load_dataset, sweep
from spikemem.zoo import MODELS

SETS = ["--set", "n=200", "--set", "duration=100ms", "--set", "w_inh=-9mV,-4.5mV"]
GRID = {"n": [200], "duration": [100 * ms], "w_inh": [-9 * mV, -4.5 * mV]}
FIGURES = {f"{pop}.{m}-vs-w_inh.png" for pop in ("exc", "inh") for m in ("rate_hz", "cv_isi")}


def run_cli(*argv):
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def swept(tmp_path_factory, cache):
    out = tmp_path_factory.mktemp("sweep") / "out"
    status = run_cli("sweep", "cuba", *SETS, "--seeds", "0-1", "--scheduler", "in-process", "--cache", cache,
                     "--out", out, "--no-progress")
    assert status == 0
    return out


def counts(out):
    return json.loads((out / "provenance.json").read_text())["counts"]


def test_writes_dataset_provenance_and_figures(swept):
    assert set(os.listdir(swept)) == {"metrics.nc", "provenance.json"} | FIGURES
    assert os.listdir(swept.parent) == ["out"]          # nothing left beside it


def test_dataset_equals_the_api_sweep_at_the_same_points(swept, cache):
    api = sweep(MODELS.get("cuba").experiment(), GRID, seeds=[0, 1], scheduler="in-process", cache=cache,
                progress=False)
    assert api.computed == 0                            # the CLI cached exactly these points
    written, expected = load_dataset(swept / "metrics.nc"), api.dataset()
    assert list(written["exc.rate_hz"].dims) == ["n", "duration", "w_inh", "seed"]
    xr.testing.assert_allclose(written, expected)
    assert written["w_inh"].attrs["units"] == "V"
    assert (written["exc.rate_hz"] > 0).all()


def test_provenance_records_the_request_counts_and_every_point(swept):
    record = json.loads((swept / "provenance.json").read_text())
    assert record["request"]["grid"]["w_inh"] == pytest.approx([-9e-3, -4.5e-3])
    assert record["request"]["seeds"] == [0, 1] and record["request"]["backends"] == ["numba"]
    assert record["counts"]["points"] == 4 == len(record["points"])
    assert record["counts"]["computed"] + record["counts"]["cached"] == 4
    keys = {p["provenance"]["key"] for p in record["points"]}
    assert len(keys) == 4
    for point in record["points"]:
        assert point["provenance"]["params"] == point["params"]
        assert point["provenance"]["seed"] == point["seed"]
        assert point["provenance"]["network_hash"]


def test_rerun_reads_every_point_from_the_cache(swept, cache, tmp_path, capsys):
    out = tmp_path / "again"
    assert run_cli("sweep", "cuba", *SETS, "--seeds", "0-1", "--scheduler", "in-process", "--cache", cache,
                   "--out", out, "--no-progress", "--format", "zarr") == 0
    assert counts(out) == {"points": 4, "computed": 0, "cached": 4, "damaged": 0}
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "4 points, 0 computed, 4 from the cache" in last and str(out) in last
    xr.testing.assert_allclose(load_dataset(out / "metrics.zarr"), load_dataset(swept / "metrics.nc"))


def test_list_shows_parameters_with_defaults_units_and_docs(capsys):
    assert run_cli("sweep", "cuba", "--list") == 0
    text = capsys.readouterr().out
    for expected in ("tau_m", "20 ms", "membrane time constant", "w_inh", "-9 mV", "1 s"):
        assert expected in text
    # a model without a declared experiment: its factory's options, and duration
    assert run_cli("sweep", "cuba-curr-exp", "--list") == 0
    text = capsys.readouterr().out
    assert "tau_syn_I" in text and "duration" in text and "record_state" not in text


@pytest.mark.parametrize("argv, named", [
    (["nosuch"], "nosuch"),
    (["cuba", "--set", "tau=10ms"], "'tau'"),
    (["cuba", "--set", "tau_m=10mV"], "tau_m"),                      # wrong unit
    (["cuba", "--set", "tau_m="], "tau_m"),                          # no values
    (["cuba", "--set", "tau_m=20ms", "--set", "tau_m=15ms"], "tau_m"),
    (["cuba", "--seeds", "5-2"], "5-2"),
    (["cuba", "--backend", "nosuch"], "nosuch"),
    (["cuba", "--backend", "numba,"], "--backend"),
    (["cuba", "--workers", "0"], "workers must be a whole number >= 1, got 0"),
    (["cuba", "--scheduler", "localhost"], "localhost"),
])
def test_bad_input_exits_2_naming_it_and_writes_nothing(argv, named, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("sweep", *argv, "--out", out, "--cache", tmp_path / "cache", "--no-progress") == 2
    err = capsys.readouterr().err
    assert err.startswith("spikemem: error:") and named in err
    assert not out.exists()


def test_unwritable_cache_and_taken_out_dir_are_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = tmp_path / "out"
    assert run_cli("sweep", "cuba", "--cache", blocker / "cache", "--out", out) == 2
    assert "cache directory" in capsys.readouterr().err and not out.exists()
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert run_cli("sweep", "cuba", "--cache", tmp_path / "cache", "--out", out) == 2
    assert "--out" in capsys.readouterr().err
    assert os.listdir(out) == ["keep.txt"] and not (tmp_path / "cache").exists()


def test_a_damaged_cache_entry_is_reported_on_stderr_and_computed_again(swept, cache, tmp_path, capsys):
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    entry = sorted(copy.rglob("*.h5"))[0]
    entry.write_bytes(b"not an outcome")
    out = tmp_path / "out"
    assert run_cli("sweep", "cuba", *SETS, "--seeds", "0-1", "--scheduler", "in-process", "--cache", copy,
                   "--out", out, "--no-progress") == 0
    assert str(entry) in capsys.readouterr().err
    assert counts(out) == {"points": 4, "computed": 1, "cached": 3, "damaged": 1}
    xr.testing.assert_allclose(load_dataset(out / "metrics.nc"), load_dataset(swept / "metrics.nc"))
