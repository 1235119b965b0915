"""BindsNET's ``DiehlAndCook2015`` trained on given Poisson rates: seconds per training image.

Runs inside the peers' environment (``benchmarks/peer_env.py``), never the project's:

    python bindsnet_dc_run.py INPUTS.npz PARAMS.json OUT_DIR

INPUTS.npz: ``rates`` (N x n_inputs, Hz; the spec's rates come from
``spikemem.encoding.image_rates``, which the caller applies, since spikemem is
not installed here). PARAMS.json (all optional): ``n_neurons`` (400), ``dt``
(0.5 ms), ``time`` (350 ms of presentation), ``rest`` (150 ms without input),
``seed`` (0), ``threads`` (torch's default when absent). Everything else is
BindsNET 0.3.4's default for the model (its pair-based STDP, ``exc`` 22.5,
``inh`` 17.5, ``norm`` 78.4, ``theta_plus`` 0.05).

OUT_DIR/results.json: ``seconds_per_image`` (the training loop alone: Poisson
trains, presentation and rest; import and build excluded), ``build_seconds``,
``images``, ``exc_spikes`` (counted from the growth of the adaptive thresholds,
``theta_plus`` per spike), the settings and versions.
"""
from __future__ import annotations

import json
import sys
from importlib.metadata import version
import time
from pathlib import Path

import numpy as np
import torch

from bindsnet.encoding import poisson
from bindsnet.models import DiehlAndCook2015

DEFAULTS = dict(n_neurons=400, dt=0.5, time=350.0, rest=150.0, seed=0, threads=None)


def main(argv=None):
    inputs, params_file, out_dir = (argv or sys.argv[1:])[:3]
    params = {**DEFAULTS, **json.loads(Path(params_file).read_text())}
    rates = torch.as_tensor(np.load(inputs)["rates"], dtype=torch.float32)
    if rates.ndim != 2 or not torch.isfinite(rates).all() or (rates < 0).any():
        raise SystemExit(f"rates: expected N x n_inputs finite rates >= 0 Hz, got shape {tuple(rates.shape)}")
    if params["threads"]:
        torch.set_num_threads(int(params["threads"]))
    torch.manual_seed(params["seed"])
    dt, n_in = params["dt"], rates.shape[1]

    started = time.perf_counter()
    net = DiehlAndCook2015(n_inpt=n_in, n_neurons=params["n_neurons"], dt=dt)
    built = time.perf_counter()

    rest = torch.zeros(int(params["rest"] / dt), 1, n_in, dtype=torch.uint8)
    theta0 = net.layers["Ae"].theta.sum().item()
    run_seconds = 0.0
    loop_started = time.perf_counter()
    for r in rates:
        spikes = poisson(datum=r, time=params["time"], dt=dt).view(-1, 1, n_in)
        t = time.perf_counter()
        net.run(inputs={"X": spikes}, time=params["time"])
        if len(rest):
            net.run(inputs={"X": rest}, time=params["rest"])       # the variables decay, as between images
        run_seconds += time.perf_counter() - t
    loop = time.perf_counter() - loop_started

    exc_spikes = (net.layers["Ae"].theta.sum().item() - theta0) / net.layers["Ae"].theta_plus
    (Path(out_dir) / "results.json").write_text(json.dumps({
        "seconds_per_image": loop / len(rates), "run_seconds_per_image": run_seconds / len(rates),
        "build_seconds": built - started, "images": len(rates), "n_inputs": n_in,
        "exc_spikes": round(float(exc_spikes)), "params": params, "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__, "bindsnet": version("bindsnet"),
        "device": "cpu"}))


if __name__ == "__main__":
    main()
