"""The experiments: a tiny permuted-digits sequence with its report, the CLI,
the sweep's declaration and bad settings."""
import dataclasses
import json

import numpy as np
import pytest

from spikemem.cli import main as cli_main
from spikemem.errors import ModelError
from spikemem.models.hlop import experiments
from spikemem.models.hlop.continual import Settings
from spikemem.models.hlop.experiments import Setting, evaluate, make_tasks
from spikemem.models.hlop.report import write_report

TINY = Setting(n_tasks=2, methods=("finetune", "hlop"), variants=("ann",), seeds=(0, 1),
               training=Settings(hidden=(16,), epochs=1, steps=3, rows_first_task=None, rows_per_task=4))


@pytest.fixture(scope="module")
def evaluation():
    return evaluate(TINY)


def test_every_method_variant_and_seed_is_run(evaluation):
    runs = evaluation["runs"]["ann"]
    assert set(runs) == {"finetune", "hlop"} and all(len(r) == 2 for r in runs.values())
    assert [r["seed"] for r in runs["hlop"]] == [0, 1]
    s = evaluation["summary"]["ann"]["hlop"]
    assert s["acc"]["values"] == pytest.approx([np.mean(r["matrix"][-1]) for r in runs["hlop"]])
    assert np.asarray(s["matrix"]).shape == (2, 2) and evaluation["n_inputs"] == 64


def test_the_report_holds_the_heat_maps_the_table_and_metrics(evaluation, tmp_path):
    data = write_report(tmp_path, evaluation)
    for name in ("accuracy_matrices.png", "results.csv", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    stored = json.loads((tmp_path / "metrics.json").read_text())
    assert [(r["variant"], r["method"]) for r in stored["rows"]] == [("ann", "finetune"), ("ann", "hlop")]
    assert stored["rows"][1]["acc"] == pytest.approx(100 * data["summary"]["ann"]["hlop"]["acc"]["mean"])
    assert len((tmp_path / "results.csv").read_text().splitlines()) == 3


def test_seeds_draw_different_permutations():
    a, b = make_tasks(TINY, 0), make_tasks(TINY, 1)
    assert not np.array_equal(a[1].x_train, b[1].x_train)


def test_split_and_mnist1d_sequences():
    split = make_tasks(Setting(protocol="split", n_tasks=5), 0)
    assert [t.classes for t in split] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    one_d = make_tasks(Setting(dataset="mnist1d", n_tasks=2, n_samples=200), 0)
    assert one_d[0].n_inputs == 40 and len(one_d) == 2


@pytest.mark.parametrize("bad, match", [
    (dict(dataset="cifar"), "dataset 'cifar'"),
    (dict(protocol="rotated"), "protocol 'rotated'"),
    (dict(n_tasks=0), "n_tasks must be"),
    (dict(methods=("hlop", "replay")), r"methods \['hlop', 'replay'\]"),
    (dict(variants=()), "variants"),
    (dict(seeds=()), "at least one seed"),
])
def test_bad_settings_are_refused(bad, match):
    with pytest.raises(ModelError, match=match):
        Setting(**bad)


def test_cli_runs_an_experiment(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(experiments.SETTINGS, "split-digits",
                        dataclasses.replace(TINY, protocol="split", seeds=(0,), methods=("finetune",)))
    out = tmp_path / "report"
    assert cli_main(["run", "hlop", "--experiment", "split-digits", "--out", str(out), "--no-progress"]) == 0
    assert "ann finetune: ACC" in capsys.readouterr().out
    assert (out / "metrics.json").exists() and (out / "accuracy_matrices.png").exists()


def test_the_sweepable_experiment_declares_its_parameters():
    from spikemem.zoo import MODELS
    declared = MODELS.get("hlop").experiment()
    assert list(declared.params) == ["dataset", "protocol", "n_tasks", "method", "variant", "hidden", "epochs",
                                     "steps"]
    result = declared(seed=0, n_tasks=2, method="finetune", variant="ann", hidden=8, epochs=1)
    assert {"acc", "bwt", "forgetting", "seconds"} <= set(result.metrics)
    with pytest.raises(ModelError, match="replay"):
        declared.resolve({"method": "replay"})
