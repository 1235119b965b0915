"""benchmarks/amsu.py: a tiny run writes every model's recall and language-modelling figures, per seed and
as the mean and spread over seeds, and takes earlier runs instead of running them again."""
import json

import numpy as np
import pytest

import benchmark_scripts

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

bench = benchmark_scripts.load("amsu")

_TINY = ["--delays", "3", "8", "--recall-iterations", "2", "--recall-budget", "800", "--lm-iterations", "2",
         "--lm-budget", "2000", "--max-chars", "3000", "--no-plots"]


def test_a_tiny_run_writes_every_model_and_seed_at_equal_parameter_counts(tmp_path):
    path = tmp_path / "amsu.json"
    bench.main([*_TINY, "--seeds", "0", "1", "--models", *bench.KINDS, "amsu_shared", "--out", str(path)])
    data = json.loads(path.read_text())
    kinds = set(bench.KINDS) | {"amsu_shared"}
    assert data["benchmark"] == "amsu" and data["machine"] and data["threads"] == 1
    assert {(r["model"], r["delay"], r["seed"]) for r in data["recall"]} == {
        (k, d, s) for k in kinds for d in (3, 8) for s in (0, 1)}
    assert all(0 <= r["accuracy"] <= 1 and r["chance"] == 0.25 for r in data["recall"])
    assert {(r["model"], r["seed"]) for r in data["lm"]["rows"]} == {(k, 0) for k in kinds}   # the first seed
    rows = data["rows"]                     # one per model: the docs' table
    assert {r["kind"] for r in rows} == kinds
    for r in rows:
        assert set(r["recall"]) == {"3", "8"} and abs(r["recall_parameters"] - 800) < 0.1 * 800
        runs = [x["accuracy"] for x in data["recall"] if x["model"] == r["kind"] and x["delay"] == 8]
        assert r["recall"]["8"] == pytest.approx(np.mean(runs)) and r["recall_seeds"]["8"] == 2
        assert r["recall_std"]["8"] == pytest.approx(np.std(runs, ddof=1))
        assert r["recall_pm"]["8"] == f"{np.mean(runs):.3f} ± {np.std(runs, ddof=1):.3f}"
        assert abs(r["lm_parameters"] - 2000) < 0.1 * 2000 and r["lm_seeds"] == 1 and r["val_bpc_std"] == 0
        assert r["val_bpc"] > 0 and r["latency_ms"] > 0 and r["tokens_per_s"] > 0 and r["peak_train_mib"] >= 0


def test_earlier_runs_are_taken_not_run_again(tmp_path):
    first = tmp_path / "first.json"
    bench.main([*_TINY, "--seeds", "0", "--models", "lif", "gru", "--out", str(first)])
    lines = tmp_path / "more.jsonl"             # a recall row run elsewhere, with its settings
    lines.write_text(json.dumps({"model": "lif", "delay": 3, "seed": 1, "iterations": 2, "budget": 800,
                                 "parameters": 790, "accuracy": 0.5, "loss": 1.0, "seconds": 123.0,
                                 "chance": 0.25}) + "\n")
    second = tmp_path / "second.json"
    bench.main([*_TINY, "--seeds", "0", "1", "--models", "lif", "gru", "--resume", str(first), str(lines),
                "--out", str(second)])
    old, new = json.loads(first.read_text()), json.loads(second.read_text())
    for row in old["recall"]:               # the same run, its own seconds
        assert row in new["recall"]
    assert old["lm"]["rows"][0] in new["lm"]["rows"]
    taken = next(r for r in new["recall"] if (r["model"], r["delay"], r["seed"]) == ("lif", 3, 1))
    assert taken["seconds"] == 123.0 and taken["accuracy"] == 0.5
    ran = next(r for r in new["recall"] if (r["model"], r["delay"], r["seed"]) == ("gru", 3, 1))
    assert ran["seconds"] < 100
    third = tmp_path / "third.json"             # run nothing: what the earlier runs hold, with its seeds counted
    bench.main([*_TINY, "--seeds", "0", "1", "2", "--delays", "3", "5", "--models", "lif", "gru", "--collect",
                "--resume", str(second), "--out", str(third)])
    data = json.loads(third.read_text())
    assert {(r["delay"], r["seed"]) for r in data["recall"]} == {(3, 0), (3, 1)}
    assert all(r["recall_seeds"] == {"3": 2} for r in data["rows"])
