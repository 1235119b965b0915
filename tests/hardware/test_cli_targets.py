"""The hardware commands without the hardware extra: ``--target`` read from the
registry, Loihi's check, quantize, map and emulate, and ``export pynn``."""
import json
import os

from spikemem.cli import main


def run_cli(*argv):
    return main([str(a) for a in argv])


def test_target_choices_come_from_the_registry(capsys):
    assert run_cli("check", "ca3-cam", "--target", "truenorth") == 2          # argparse refuses
    err = capsys.readouterr().err
    assert "'loihi'" in err and "'spinnaker'" in err
    # each export format offers the targets that export to it
    assert run_cli("export", "nir", "ca3-cam", "-o", "x.nir", "--target", "spinnaker") == 2
    assert "invalid choice: 'spinnaker' (choose from 'loihi')" in capsys.readouterr().err
    assert run_cli("export", "pynn", "ca3-cam", "-o", "x", "--duration", 0.1, "--target", "loihi") == 2
    assert "invalid choice: 'loihi' (choose from 'spinnaker')" in capsys.readouterr().err


def test_help_names_the_registered_models(capsys):
    from spikemem.zoo import MODELS
    assert run_cli("emulate", "--help") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert all(name in out for name in MODELS.names())
    assert "For ca3-cam: its functional experiment, answer by answer." in out


def test_loihi_check_quantize_map_emulate(capsys):
    # cuba-curr-exp's receptors have different tau_syn: one violation per population
    assert run_cli("check", "cuba-curr-exp", "--n", 100, "--target", "loihi", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert {v["what"] for v in data["violations"]} == {"tau_syn_E != tau_syn_I"}
    assert run_cli("check", "ca3-cam", "--target", "loihi") == 0
    assert "passes every check" in capsys.readouterr().out
    assert run_cli("quantize", "ca3-cam", "--target", "loihi") == 0
    assert "| population 'CueCue' | tau_m |" in capsys.readouterr().out
    assert run_cli("map", "ca3-cam", "--target", "loihi", "--json") == 0
    assert json.loads(capsys.readouterr().out)["totals"]["chips"] == 1
    assert run_cli("emulate", "ca3-cam", "--target", "loihi") == 0           # the model's own experiment
    # Loihi does not forget at the overwrite (tests/hardware/loihi/test_loihi_emulator.py, CA3_AGREE)
    assert "functional experiment: 11/13 decoded answers as on numba" in capsys.readouterr().out
    assert run_cli("emulate", "ca3-cam", "--target", "loihi", "--duration", 0.1) == 2


def test_export_pynn(tmp_path, capsys):
    out = tmp_path / "exp"
    assert run_cli("export", "pynn", "ca3-cam", "-o", out, "--duration", 0.05) == 0
    assert sorted(os.listdir(out)) == ["README.txt", "model.json", "network.npz", "run.py"]
    assert "spikemem.interop.pynn" in (out / "run.py").read_text()
    assert run_cli("export", "pynn", "ca3-cam", "-o", out, "--duration", 0.05) == 2      # not empty
    assert "not empty" in capsys.readouterr().err
    assert run_cli("export", "pynn", "cuba", "--n", 100, "-o", tmp_path / "c", "--duration", 0.05) == 2
    assert sorted(os.listdir(tmp_path)) == ["exp"]            # the refused export wrote nothing


def test_loihi_map_refuses_what_check_rejects(capsys):
    # cuba-curr-exp breaks Loihi's one-tau_syn rule: map says so instead of "fits: yes"
    assert run_cli("map", "cuba-curr-exp", "--n", 100, "--target", "loihi") == 2
    captured = capsys.readouterr()
    assert "fits" not in captured.out
    assert "population 'exc'" in captured.err and "tau_syn_E != tau_syn_I" in captured.err
