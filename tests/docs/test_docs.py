"""The documentation site builds with warnings as errors, and the README stays short."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < 160, f"README.md has {len(lines)} lines; user documentation goes to docs/"


def test_benchmark_results_say_where_they_come_from():
    files = sorted(RESULTS.rglob("*.json"))
    assert files
    for path in files:
        run = json.loads(path.read_text())
        missing = {"benchmark", "command", "machine", "date", "rows"} - set(run)
        assert not missing, f"{path.relative_to(ROOT)}: no {sorted(missing)}"
        assert isinstance(run["rows"], list) and run["rows"], path


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    for module in ("sphinx", "myst_nb", "furo"):
        pytest.importorskip(module, reason="the docs extra: pip install -e '.[docs]'")
    out = tmp_path / "html"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]

    for page in ("index", "getting-started", "guide/index", "models/ca3-cam", "models/cuba",
                 "notebooks/ca3_cam", "validation/index", "api/index", "api/network", "developer/backend"):
        assert (out / f"{page}.html").is_file(), page

    # the performance page holds a table rendered from the benchmark JSON
    performance = (out / "performance.html").read_text()
    assert 'class="benchmark-table' in performance
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", performance))
    run = json.loads((RESULTS / "cuba" / "01-strict-repeat3.json").read_text())
    assert f"{run['rows'][0]['run_s']['numba']:.3f} s" in text
    assert re.sub(r"\s+", " ", run["command"]) in text
