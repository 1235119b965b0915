"""Our HLOP against the peer's: the rows schedule, the table's figures, and a tiny run merged with another."""
import json

import numpy as np
import pytest

import hlop_vs_peer
from hlop_vs_peer import peer_results, rows_schedule, table_rows


def test_the_schedule_scales_only_the_first_task():
    rows = [[7, 6, 2], [25, 9, 4]]
    assert rows_schedule(rows, ["fc1", "fc2"]) == [{"fc1": 7, "fc2": 25}, {"fc1": 6, "fc2": 9}, {"fc1": 2, "fc2": 4}]
    assert rows_schedule(rows, ["fc1", "fc2"], 2)[0] == {"fc1": 14, "fc2": 50}
    assert rows_schedule(rows, ["fc1", "fc2"], 2)[1:] == rows_schedule(rows, ["fc1", "fc2"])[1:]


def test_the_table_gives_percent_over_seeds_and_names_the_code():
    m0, m1 = [[0.9, 0.1], [0.5, 0.8]], [[1.0, 0.2], [0.7, 0.9]]
    runs = [{"method": "hlop", "seed": s, "acc": float(np.mean(m[-1])), "bwt": m[1][0] - m[0][0], "seconds": 2.0 + s,
             "matrix": m} for s, m in enumerate((m0, m1))]
    (row,) = table_rows(runs)
    assert (row["code"], row["method"], row["seeds"]) == ("spikemem", "hlop", 2)
    assert row["acc"] == pytest.approx(100 * np.mean([0.65, 0.8]))
    assert row["bwt_std"] == pytest.approx(100 * np.std([-0.4, -0.3]))
    assert row["learning_accuracy"] == pytest.approx(100 * np.mean([0.85, 0.95]))
    assert row["seconds"] == 2.5


def test_the_peer_files_keep_its_methods_apart_from_ours():
    peer = peer_results(hlop_vs_peer.PEER)
    assert {r["method"] for r in peer["runs"]} == {"baseline", "peer-hlop", "hlop_spiking"}
    codes = {(r["code"], r["method"]) for r in table_rows(peer["runs"])}
    assert codes == {("HLOP-SNN", "finetune"), ("HLOP-SNN", "hlop"), ("HLOP-SNN", "hlop, spiking lateral neurons")}


def test_runs_side_by_side_merge_into_one_table(tmp_path):
    small = ["--tasks", "2", "--epochs", "1", "--hidden", "16", "--hlop-epochs", "1", "--seeds", "0"]
    for method in ("finetune", "hlop"):
        hlop_vs_peer.main([*small, "--methods", method, "--out", str(tmp_path / f"{method}.json")])
    out = tmp_path / "all.json"
    hlop_vs_peer.main(["--merge", str(tmp_path / "finetune.json"), str(tmp_path / "hlop.json"), "--out", str(out)])
    data = json.loads(out.read_text())
    assert [r["method"] for r in data["runs"]] == ["finetune", "hlop"]
    assert all(np.asarray(r["matrix"]).shape == (2, 2) for r in data["runs"])
    assert data["settings"]["sgd_steps_per_task"] == 22 and data["settings"]["hidden"] == [16, 16]
    assert "--methods finetune hlop" in data["command"] and "--merge" not in data["command"]
    # ours beside the peer's three, which ran with the same (default) rows
    assert [(r["code"], r["method"]) for r in data["rows"]][:2] == [("spikemem", "finetune"),
                                                                     ("spikemem", "hlop, 1 Oja passes")]
    assert len(data["rows"]) == 5
