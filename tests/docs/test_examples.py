"""Every Python example of the README and the user-facing docs runs as written.

The developer guide's blocks are skeletons of a new backend, model or target
(``my_backend``, ``my_model``): they name packages that do not exist.
"""
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").rglob("*.md")
                                      if "_build" not in p.parts and "developer" not in p.parts)
EXAMPLES = [(page, k, code) for page in PAGES
            for k, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))]


def test_examples_found():
    assert len(EXAMPLES) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("page, k, code", EXAMPLES,
                         ids=[f"{p.relative_to(ROOT)}-{k}" for p, k, _ in EXAMPLES])
def test_example_runs_as_written(page, k, code, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{page.relative_to(ROOT)} example {k}:\n{done.stderr[-3000:]}"


@pytest.mark.parametrize("page, heading", [("README.md", "## Command line"), ("docs/guide/cli.md", "")])
def test_command_lines_are_valid_commands(page, heading):
    """The command lines of the README and the CLI guide parse as written (running
    them is the CLI tests' job)."""
    from spikemem.cli import build_parser
    text = (ROOT / page).read_text()
    block = re.search(re.escape(heading) + r"[^`]*```\n(spikemem .*?)```", text, re.S).group(1)
    lines = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert len(lines) >= 5
    parser = build_parser()
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "spikemem", line
        parser.parse_args(words[1:])       # exits (fails the test) on anything argparse refuses
