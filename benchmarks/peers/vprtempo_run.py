"""The published VPRTempo (``vprtempo`` 1.1.10) trained on given references, scoring given queries.

Runs inside the peers' environment (``benchmarks/peer_env.py``), never the project's:

    python vprtempo_run.py INPUTS.npz PARAMS.json OUT_DIR

INPUTS.npz: ``reference_images`` (n x H x W, uint8), ``reference_places`` (n whole
numbers, several images may show one place), ``query_images`` (m x H x W, uint8).
PARAMS.json (all optional): ``epoch`` (4), ``patches`` (15), ``dims`` ("56,56"),
``max_module`` (500), ``seed`` (0) -- the package's documented defaults.
OUT_DIR/results.npz: ``scores`` (m x n_places), ``place_ids`` (the columns' places,
sorted); OUT_DIR/results.json: ``train_seconds``, ``query_seconds``, ``modules``,
``version``.

The package's own preprocessing (``ProcessImage``: gamma correction, bilinear
resize, patch normalisation, 8-bit amplitudes), layers (``VPRTempoTrain``) and
training loop (``train_model``, feature layer first, then the output layer) are
used as they are. What is ours: the images come from arrays instead of its CSV
and image folders; each module's annealing horizon ``T`` is set to the steps it
actually runs (the package counts ``max_module x traverses x epochs``, which
assumes equal traverses); the modules are counted from the places given
(``main.py``'s count divides by zero when there are fewer places than
``max_module``); data loading runs in this process (no worker processes). The
scores are what the package's inference computes: each module's feature and
output weights applied one after the other (``VPRTempo.forward``), modules side
by side.

On tiny routes mind the package's annealing: it renews the learning rates every
100 steps, so a module trained for fewer steps (images x epochs) keeps its first
rates throughout; at the default 56 x 56 (6272 feature neurons) the output
layer's error-driven rule then overshoots and need not settle (10 places, two
images each, 4 epochs: R@1 0.1; 20 places: 1.0; 28 x 28: 1.0 for both).
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from vprtempo.src.dataset import ProcessImage
from vprtempo.VPRTempoTrain import VPRTempoTrain

DEFAULTS = dict(epoch=4, patches=15, dims="56,56", max_module=500, seed=0)


def package_args(params, n_places):
    """The argument namespace that the package's ``main.py`` would build, with its defaults."""
    return argparse.Namespace(dataset="nordland", data_dir="./vprtempo/dataset/", database_places=n_places,
                              query_places=n_places, max_module=params["max_module"], database_dirs="reference",
                              query_dir="query", GT_tolerance=0, skip=0, filter=1, epoch=params["epoch"],
                              patches=params["patches"], dims=params["dims"], train_new_model=True, quantize=False,
                              PR_curve=False, sim_mat=False, run_demo=False)


def spikes(images, dims, patches):
    """The package's preprocessing of each image (a 1 x H x W uint8 tensor, as its loader reads)."""
    transform = ProcessImage(dims, patches)
    return torch.stack([transform(torch.from_numpy(np.ascontiguousarray(im, dtype=np.uint8))[None])
                        for im in images]).float()


def train(ref, places, params):
    place_ids = np.unique(places)
    dims = [int(v) for v in params["dims"].split(",")]
    x = spikes(ref, dims, params["patches"])
    label = torch.as_tensor(np.searchsorted(place_ids, places))     # 0..n_places-1, module k at k * max_module
    args = package_args(params, len(place_ids))
    size = params["max_module"]
    modules = []
    for k, start in enumerate(range(0, len(place_ids), size)):
        n_out = min(size, len(place_ids) - start)
        model = VPRTempoTrain(args, dims, None, -(-len(place_ids) // size), size,
                              out_dim_remainder=n_out if n_out < size else None)
        model.to(torch.device(model.device))
        rows = ((label >= start) & (label < start + n_out)).nonzero().flatten()
        model.T = int(len(rows) * params["epoch"])       # the steps this module runs (see the docstring)
        data = list(zip(x[rows], label[rows]))
        trained = []
        for name, _ in sorted(model.layer_dict.items(), key=lambda item: item[1]):
            loader = DataLoader(data, batch_size=1, shuffle=True,
                                generator=torch.Generator().manual_seed(params["seed"] + k))
            model.train_model(loader, getattr(model, name), model, k, prev_layers=list(trained))
            trained.append(name)
        model.eval()
        modules.append(model)
    return modules, place_ids


def score(modules, queries, params):
    dims = [int(v) for v in params["dims"].split(",")]
    x = spikes(queries, dims, params["patches"])
    with torch.no_grad():
        out = [m.output_layer.w(m.feature_layer.w(x.to(m.device))).cpu() for m in modules]
    return torch.cat(out, dim=1).numpy().astype(np.float64)


def main(argv=None):
    inputs, params_file, out_dir = (argv or sys.argv[1:])[:3]
    params = {**DEFAULTS, **json.loads(Path(params_file).read_text())}
    data = np.load(inputs)
    ref, places, queries = data["reference_images"], data["reference_places"], data["query_images"]
    torch.manual_seed(params["seed"])       # the package draws weights from torch's and numpy's global generators
    np.random.seed(params["seed"])
    started = time.perf_counter()
    modules, place_ids = train(ref, places, params)
    trained = time.perf_counter()
    scores = score(modules, queries, params)
    done = time.perf_counter()
    np.savez(Path(out_dir) / "results.npz", scores=scores, place_ids=place_ids)
    (Path(out_dir) / "results.json").write_text(json.dumps({
        "train_seconds": trained - started, "query_seconds": done - trained, "modules": len(modules),
        "version": version("vprtempo"),
        "device": modules[0].device, "params": params}))


if __name__ == "__main__":
    main()
