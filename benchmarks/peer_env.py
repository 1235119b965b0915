"""A separate virtual environment for the published peers of the place-recognition benchmarks.

The published VPRTempo (``vprtempo`` 1.1.10) and BindsNET (``bindsnet`` 0.3.4) need
torch >= 2.14 and torchvision, while the project pins torch 2.13 (CPU) and cannot
import torchvision beside it. So the peers live in their own environment, built
once and reused, and a benchmark hands them its data through files:

    from peer_env import run_in_peer_env
    out = run_in_peer_env("benchmarks/peers/vprtempo_run.py",
                          {"reference_images": ref, "reference_places": ids, "query_images": qry},
                          params={"epochs": 4}, timeout=3600)
    out["scores"]            # an array the script wrote

    python benchmarks/peer_env.py build        # build (or check) the environment
    python benchmarks/peer_env.py where        # print its folder

The environment lies at ``$SPIKEMEM_PEER_ENV`` or ``~/.cache/spikemem/peer-env-torch2.14``.
It is built with pip from the package index this machine is configured with
(about 1.5 minutes from local wheels); the index has torch 2.14.1 only as its
default wheel, built for CUDA, so the environment takes about 6 GB and runs on
the CPU where there is no GPU. A marker file records the requirements it was
built for, so a change of the requirements below builds it anew.

A peer script is run as ``python SCRIPT INPUTS.npz PARAMS.json OUT_DIR`` and
writes ``OUT_DIR/results.json`` (plain values) and/or ``OUT_DIR/results.npz``
(arrays); ``run_in_peer_env`` returns both merged in one dict.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: what the peers need; torchvision 0.29.x is the release built against torch 2.14
REQUIREMENTS = ("torch==2.14.1", "torchvision==0.29.1", "vprtempo==1.1.10", "bindsnet==0.3.4")
#: imported after the build to prove the environment works
CHECK_IMPORTS = ("torch", "torchvision", "vprtempo", "bindsnet")
MARKER = "spikemem-peer-env.json"
DEFAULT_PATH = Path.home() / ".cache" / "spikemem" / "peer-env-torch2.14"


class PeerEnvError(RuntimeError):
    """The peers' environment cannot be built, or a peer script failed in it."""


def peer_env_path() -> Path:
    """Where the environment lies: ``$SPIKEMEM_PEER_ENV`` or the default cache folder."""
    return Path(os.environ.get("SPIKEMEM_PEER_ENV") or DEFAULT_PATH).expanduser()


def _python(path: Path) -> Path:
    return path / "bin" / "python"


def _clean_environ() -> dict:
    """The caller's environment less what would steer pip or Python towards the project's
    own pins and packages (its constraints file pins torch 2.13, its PYTHONPATH holds spikemem)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PIP_CONSTRAINT", "PIP_REQUIREMENT", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return env


def is_built(path: Path | None = None) -> bool:
    """Whether a finished build for the current requirements lies at ``path``."""
    path = Path(path) if path is not None else peer_env_path()
    try:
        marker = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return marker.get("requirements") == list(REQUIREMENTS) and _python(path).exists()


def build(path: Path | None = None, log=None, python: str | None = None) -> Path:
    """Build the environment at ``path`` unless a finished build is already there; the
    folder of the environment. ``log``: a file path that receives pip's output (else
    it goes to this process's stderr). Raises ``PeerEnvError`` naming the step that failed."""
    path = Path(path) if path is not None else peer_env_path()
    if is_built(path):
        return path
    if path.exists() and any(path.iterdir()) and not (path / "pyvenv.cfg").exists():
        raise PeerEnvError(f"{path} exists and is not a virtual environment: choose another "
                           f"folder with SPIKEMEM_PEER_ENV")
    python = python or _base_python()
    out = open(log, "a") if log else None
    started = time.perf_counter()
    try:
        steps = [("create the virtual environment", [python, "-m", "venv", str(path)]),
                 ("upgrade pip", [str(_python(path)), "-m", "pip", "install", "--upgrade", "pip"]),
                 ("install " + " ".join(REQUIREMENTS),
                  [str(_python(path)), "-m", "pip", "install", *REQUIREMENTS]),
                 ("import " + ", ".join(CHECK_IMPORTS),
                  [str(_python(path)), "-c", "import " + ", ".join(CHECK_IMPORTS)])]
        for what, cmd in steps:
            if out:
                print(f"$ {' '.join(cmd)}", file=out, flush=True)
            done = subprocess.run(cmd, stdout=out or sys.stderr, stderr=subprocess.STDOUT, env=_clean_environ())
            if done.returncode != 0:
                where = f"; see {log}" if log else ""
                raise PeerEnvError(f"peer environment at {path}: could not {what} "
                                   f"(exit {done.returncode}){where}")
    finally:
        if out:
            out.close()
    versions = subprocess.run([str(_python(path)), "-m", "pip", "freeze"], capture_output=True, text=True,
                              env=_clean_environ()).stdout.split()
    (path / MARKER).write_text(json.dumps({"requirements": list(REQUIREMENTS), "packages": versions,
                                           "build_seconds": round(time.perf_counter() - started, 1)}, indent=1))
    return path


def _base_python() -> str:
    """A Python with the ``venv`` module: this process's, or its base installation's."""
    for candidate in (sys.executable, getattr(sys, "_base_executable", None), shutil.which("python3")):
        if candidate and subprocess.run([candidate, "-c", "import venv, ensurepip"],
                                        capture_output=True).returncode == 0:
            return candidate
    raise PeerEnvError("no Python with the venv and ensurepip modules to build the peer environment from")


def run_in_peer_env(script, inputs: dict[str, np.ndarray], params: dict | None = None,
                    timeout: float | None = None, path: Path | None = None, build_if_missing: bool = True) -> dict:
    """Run ``script`` in the peers' environment with ``inputs`` (arrays, saved as an npz)
    and ``params`` (plain values, saved as JSON); the script's results.json and
    results.npz merged in one dict. Builds the environment first if it is missing
    (``build_if_missing``), else raises ``PeerEnvError``; a script that fails or
    runs past ``timeout`` seconds raises ``PeerEnvError`` with its last output."""
    script = Path(script).resolve()
    if not script.is_file():
        raise PeerEnvError(f"peer script {script} does not exist")
    bad = [k for k, v in inputs.items() if not isinstance(v, np.ndarray)]
    if bad:
        raise PeerEnvError(f"peer script {script.name}: inputs {bad} are not numpy arrays")
    path = Path(path) if path is not None else peer_env_path()
    if not is_built(path):
        if not build_if_missing:
            raise PeerEnvError(f"no peer environment at {path}: run `python benchmarks/peer_env.py build`")
        build(path)
    with tempfile.TemporaryDirectory(prefix="spikemem-peer-") as tmp:
        tmp = Path(tmp)
        np.savez(tmp / "inputs.npz", **inputs)
        (tmp / "params.json").write_text(json.dumps(params or {}))
        (tmp / "out").mkdir()
        cmd = [str(_python(path)), str(script), str(tmp / "inputs.npz"), str(tmp / "params.json"), str(tmp / "out")]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_clean_environ(),
                                  cwd=tmp)      # peers write their own files (models, logs) beside the cwd
        except subprocess.TimeoutExpired as e:
            raise PeerEnvError(f"peer script {script.name} ran past {timeout} s") from e
        if done.returncode != 0:
            tail = (done.stdout + done.stderr)[-3000:]
            raise PeerEnvError(f"peer script {script.name} failed (exit {done.returncode}):\n{tail}")
        results = {}
        if (tmp / "out" / "results.json").exists():
            results.update(json.loads((tmp / "out" / "results.json").read_text()))
        if (tmp / "out" / "results.npz").exists():
            with np.load(tmp / "out" / "results.npz") as arrays:
                results.update({k: arrays[k] for k in arrays.files})
        if not results:
            raise PeerEnvError(f"peer script {script.name} wrote no results.json nor results.npz")
        return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("build", "where"))
    parser.add_argument("--log", help="a file for pip's output")
    args = parser.parse_args(argv)
    if args.action == "where":
        print(peer_env_path())
        return
    started = time.perf_counter()
    path = build(log=args.log)
    print(f"peer environment ready at {path} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
