"""The experiments: every method and ablation on a small route, the report,
the CLI, and errors before any work."""
import json

import numpy as np
import pytest

from spikemem.cli import main as cli_main
from spikemem.errors import ModelError
from spikemem.models.place_recognition import experiments
from spikemem.models.place_recognition.experiments import Setting, evaluate

TINY = Setting(n_places=10, region=5, n_e=8, epochs=1, seeds=(0, 1), present=0.1, rest=0.05, image_size=32,
               tempo_epochs=1)


@pytest.fixture(scope="module")
def evaluation():
    return evaluate(TINY)


def test_every_method_is_measured(evaluation):
    methods = evaluation["results"]
    assert set(methods) == {"modular system", "modular system + regularisation", "ensemble",
                            "ensemble + regularisation", "SAD", "VPRTempo-style"}
    for m in methods.values():
        recall = list(m["recall"].values())
        assert all(0 <= r <= 1 for r in recall) and recall == sorted(recall)
        assert 0 <= m["auc"] <= 1
    # two modules of 5 places, every query place covered
    assert sorted(evaluation["place_ids"].tolist()) == list(range(10))
    assert list(evaluation["recall_at_1_by_modules"]) == [1, 2]
    assert len(evaluation["thresholds"]) == 2


def test_the_ensemble_sums_its_systems(evaluation):
    systems = evaluation["ensemble"].systems
    assert len(systems) == len(TINY.seeds)
    first = systems[0].modules[0].state["input_to_exc.w"]
    assert not np.array_equal(first, systems[1].modules[0].state["input_to_exc.w"]), "seeds differ"
    # the unregularised ensemble is the sum of the systems' unregularised scores
    query = evaluation["route"].traverses[evaluation["route"].query]
    responses = [s.respond(query.images) for s in systems]
    np.testing.assert_allclose(evaluation["scores"]["ensemble"], sum(s.scores(r, np.inf)
                                                                     for s, r in zip(systems, responses)))


def test_report_files(evaluation, tmp_path):
    from spikemem.models.place_recognition.report import write_report
    data = write_report(tmp_path, evaluation)
    for name in ("samples.png", "receptive_fields.png", "scores.png", "pr_curve.png", "ablation.csv",
                 "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    stored = json.loads((tmp_path / "metrics.json").read_text())
    assert stored["methods"]["SAD"]["recall"]["1"] == data["methods"]["SAD"]["recall"][1]
    rows = (tmp_path / "ablation.csv").read_text().splitlines()
    assert rows[0].startswith("method,R@1,R@5") and len(rows) == 1 + len(data["methods"])


def test_a_region_larger_than_the_route_is_refused_before_work():
    with pytest.raises(ModelError, match=r"region of 30 places is larger than the route \(10 places\)"):
        evaluate(Setting(n_places=10, region=30))


def test_cli_runs_the_route_experiment(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(experiments.SETTINGS, "route", TINY)
    out = tmp_path / "report"
    assert cli_main(["run", "place-recognition", "--out", str(out), "--no-progress"]) == 0
    assert "ensemble + regularisation: R@1" in capsys.readouterr().out
    assert (out / "metrics.json").exists() and (out / "pr_curve.png").exists()


def test_cli_refuses_options_the_experiments_set(tmp_path):
    assert cli_main(["run", "place-recognition", "--n", "5", "--out", str(tmp_path / "x")]) != 0
    assert not (tmp_path / "x").exists()


def test_the_sweepable_experiment_declares_its_parameters():
    from spikemem.zoo import MODELS
    params = MODELS.get("place-recognition").experiment().params
    assert {"n_places", "difficulty", "n_e", "epochs", "region", "systems"} <= set(params)
