"""benchmarks/hlop.py at a tiny size: the run set it writes (the runs themselves are benchmarks)."""
import json

import pytest

import benchmark_scripts

hlop_benchmark = benchmark_scripts.load("hlop")


def test_a_row_per_variant_and_method_with_the_gap_to_multitask(tmp_path):
    out = tmp_path / "split.json"
    argv = ["split-digits", "--tasks", "2", "--seeds", "0,1", "--variants", "ann", "--methods", "finetune,multitask",
            "--epochs", "1", "--hidden", "16", "--rows-first", "4,4", "--rows", "2,2", "--json", str(out)]
    assert hlop_benchmark.main(argv) == 0
    data = json.loads(out.read_text())
    assert data["benchmark"] == "hlop_split-digits" and data["label"].startswith("split-digits --tasks 2")
    assert [(r["variant"], r["method"]) for r in data["rows"]] == [("ann", "finetune"), ("ann", "multitask")]
    finetune, multitask = data["rows"]
    assert finetune["seeds"] == 2 and multitask["gap_to_multitask"] == 0.0
    assert finetune["gap_to_multitask"] == pytest.approx(finetune["acc"] - multitask["acc"])
    assert data["setting"]["training"]["rows_first_task"] == [4, 4] and data["setting"]["n_tasks"] == 2
    assert len(data["matrices"]["ann"]["finetune"]) == 2


def test_unknown_methods_are_refused(capsys):
    with pytest.raises(SystemExit):
        hlop_benchmark.main(["permuted-digits", "--methods", "hlop,replay"])
    assert "replay" in capsys.readouterr().err
