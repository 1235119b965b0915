"""Separate virtual environments for the published peers of the benchmarks.

Three environments, each built once and reused, named on the command line and in
``run_in_peer_env(..., env=NAME)``:

- ``torch`` (the default), for the place-recognition peers: see below.
- ``canns``, for the grid-cell peer: ``canns`` 1.5.0 (Continuous Attractor Neural
  Networks, on BrainPy 2.8.2 and JAX 0.10.2, CPU wheels). canns wants Python >= 3.11
  and BrainPy 2.9 wants 3.12, so on Python 3.11 BrainPy is pinned to 2.8.2. canns
  depends on Jupyter, Sphinx and Textual as well, so the environment takes about
  1.7 GB; it builds in about 40 s from local wheels. It lies at
  ``$SPIKEMEM_CANNS_ENV`` or ``~/.cache/spikemem/peer-env-canns``.
- ``hlop``, for the continual-learning peer (the HLOP authors' code, pkuxmq/HLOP-SNN,
  which is not installed: ``benchmarks/hlop_peer.py`` takes its folder): torch 2.14.1
  and torchvision 0.29.1 (the index's CUDA builds, about 6 GB, run on the CPU here) and
  numpy; it builds in about 100 s from local wheels. It lies at ``$SPIKEMEM_HLOP_ENV``
  or ``~/.cache/spikemem/peer-env-hlop``.

The published VPRTempo (``vprtempo`` 1.1.10) and BindsNET (``bindsnet`` 0.3.4) need
torch >= 2.14 and torchvision, while the project pins torch 2.13 (CPU) and cannot
import torchvision beside it. So the peers live in their own environment, built
once and reused, and a benchmark hands them its data through files:

    from peer_env import run_in_peer_env
    out = run_in_peer_env("benchmarks/peers/vprtempo_run.py",
                          {"reference_images": ref, "reference_places": ids, "query_images": qry},
                          params={"epochs": 4}, timeout=3600)
    out["scores"]            # an array the script wrote

    python benchmarks/peer_env.py build        # build (or check) the torch environment
    python benchmarks/peer_env.py where        # print its folder
    python benchmarks/peer_env.py build canns  # the same for the canns environment (or hlop)

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: what the peers need; torchvision 0.29.x is the release built against torch 2.14
REQUIREMENTS = ("torch==2.14.1", "torchvision==0.29.1", "vprtempo==1.1.10", "bindsnet==0.3.4")
#: imported after the build to prove the environment works
CHECK_IMPORTS = ("torch", "torchvision", "vprtempo", "bindsnet")
MARKER = "spikemem-peer-env.json"
DEFAULT_PATH = Path.home() / ".cache" / "spikemem" / "peer-env-torch2.14"


@dataclass(frozen=True)
class Peers:
    """One environment: what it installs, what proves it works, where it lies."""
    requirements: tuple
    imports: tuple
    default_path: Path
    variable: str           # the environment variable that moves it


ENVIRONMENTS = {
    "torch": Peers(REQUIREMENTS, CHECK_IMPORTS, DEFAULT_PATH, "SPIKEMEM_PEER_ENV"),
    # jax and brainpy pinned to the releases canns 1.5.0 was checked against (brainpy 2.9 needs Python 3.12)
    "canns": Peers(("canns==1.5.0", "brainpy==2.8.2", "jax==0.10.2", "jaxlib==0.10.2"),
                   ("canns", "brainpy", "jax"), DEFAULT_PATH.parent / "peer-env-canns", "SPIKEMEM_CANNS_ENV"),
    # the HLOP authors' code (pkuxmq/HLOP-SNN): its MLP path needs torch and numpy only, its scripts torchvision
    "hlop": Peers(("torch==2.14.1", "torchvision==0.29.1", "numpy<2.4"), ("torch", "torchvision", "numpy"),
                  DEFAULT_PATH.parent / "peer-env-hlop", "SPIKEMEM_HLOP_ENV"),
}


class PeerEnvError(RuntimeError):
    """The peers' environment cannot be built, or a peer script failed in it."""


def _peers(env: str) -> Peers:
    if env not in ENVIRONMENTS:
        raise PeerEnvError(f"no peer environment named {env!r}: choose one of {sorted(ENVIRONMENTS)}")
    return ENVIRONMENTS[env]


def build_command(env: str = "torch") -> str:
    """The command line that builds environment ``env``."""
    return "python benchmarks/peer_env.py build" + ("" if env == "torch" else f" {env}")


def peer_env_path(env: str = "torch") -> Path:
    """Where environment ``env`` lies: its environment variable (``$SPIKEMEM_PEER_ENV`` for
    ``torch``, ``$SPIKEMEM_CANNS_ENV`` for ``canns``, ``$SPIKEMEM_HLOP_ENV`` for ``hlop``) or its
    default cache folder."""
    peers = _peers(env)
    return Path(os.environ.get(peers.variable) or peers.default_path).expanduser()


def _python(path: Path) -> Path:
    return path / "bin" / "python"


def _clean_environ() -> dict:
    """The caller's environment less what would steer pip or Python towards the project's
    own pins and packages (its constraints file pins torch 2.13, its PYTHONPATH holds spikemem)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PIP_CONSTRAINT", "PIP_REQUIREMENT", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return env


def is_built(path: Path | None = None, env: str = "torch") -> bool:
    """Whether a finished build of environment ``env`` for its current requirements lies at ``path``."""
    path = Path(path) if path is not None else peer_env_path(env)
    try:
        marker = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return marker.get("requirements") == list(_peers(env).requirements) and _python(path).exists()


def build(path: Path | None = None, log=None, python: str | None = None, env: str = "torch") -> Path:
    """Build environment ``env`` at ``path`` unless a finished build is already there; the
    folder of the environment. ``log``: a file path that receives pip's output (else
    it goes to this process's stderr). Raises ``PeerEnvError`` naming the step that failed."""
    requirements, imports = _peers(env).requirements, _peers(env).imports
    path = Path(path) if path is not None else peer_env_path(env)
    if is_built(path, env):
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
                 ("install " + " ".join(requirements),
                  [str(_python(path)), "-m", "pip", "install", *requirements]),
                 ("import " + ", ".join(imports),
                  [str(_python(path)), "-c", "import " + ", ".join(imports)])]
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
    (path / MARKER).write_text(json.dumps({"requirements": list(requirements), "packages": versions,
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
                    timeout: float | None = None, path: Path | None = None, build_if_missing: bool = True,
                    env: str = "torch") -> dict:
    """Run ``script`` in the peers' environment ``env`` with ``inputs`` (arrays, saved as
    an npz) and ``params`` (plain values, saved as JSON); the script's results.json and
    results.npz merged in one dict. Builds the environment first if it is missing
    (``build_if_missing``), else raises ``PeerEnvError``; a script that fails or
    runs past ``timeout`` seconds raises ``PeerEnvError`` with its last output."""
    _peers(env)
    script = Path(script).resolve()
    if not script.is_file():
        raise PeerEnvError(f"peer script {script} does not exist")
    bad = [k for k, v in inputs.items() if not isinstance(v, np.ndarray)]
    if bad:
        raise PeerEnvError(f"peer script {script.name}: inputs {bad} are not numpy arrays")
    path = Path(path) if path is not None else peer_env_path(env)
    if not is_built(path, env):
        if not build_if_missing:
            raise PeerEnvError(f"no peer environment at {path}: build it with: {build_command(env)}")
        build(path, env=env)
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
    parser.add_argument("env", nargs="?", default="torch", choices=sorted(ENVIRONMENTS),
                        help="which environment (default: torch)")
    parser.add_argument("--log", help="a file for pip's output")
    args = parser.parse_args(argv)
    if args.action == "where":
        print(peer_env_path(args.env))
        return
    started = time.perf_counter()
    path = build(log=args.log, env=args.env)
    print(f"peer environment ready at {path} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
