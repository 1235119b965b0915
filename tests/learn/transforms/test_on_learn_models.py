"""The transforms on the training layer's own models: the ReLU ``ann_mlp``
through the ``Trainer``, and a compiled spiking ``mlp`` fed spike trains."""
import copy

import pytest
import torch

from spikemem import learn
from spikemem.learn.transforms import EWC, GPM, HLOP

pytestmark = pytest.mark.torch


def two_tasks(n=200, width=16, rank=3):
    """Two classification tasks whose inputs fill different rank-3 subspaces of [0, 1]^width."""
    g = torch.Generator().manual_seed(0)
    tasks = []
    for _ in range(2):
        basis = torch.rand(rank, width, generator=g)
        x = torch.rand(n, rank, generator=g) @ basis / rank
        tasks.append((x, torch.randint(0, 3, (n,), generator=g)))
    return tasks


@pytest.mark.parametrize("method, tolerance", [("hlop", 0.01), ("gpm", 1e-4)])
def test_projection_through_the_trainer_keeps_the_first_layer_for_old_inputs(method, tolerance):
    (x_a, y_a), (x_b, y_b) = two_tasks()
    model = learn.ann_mlp([16, 12, 3], seed=0)
    learn.Trainer(model, optimiser="sgd", lr=0.2, epochs=5, batch_size=32).fit(x_a, y_a)
    finetuned = copy.deepcopy(model)
    t = HLOP(model, rows_per_task=3) if method == "hlop" else GPM(model, threshold=0.999)
    t.end_task(model, x_a)
    before = model.fc["fc1"](x_a).detach()
    change = {}
    for m, transforms in ((model, [t]), (finetuned, [])):
        learn.Trainer(m, optimiser="sgd", lr=0.2, epochs=5, batch_size=32, transforms=transforms).fit(x_b, y_b)
        change[m is model] = float((m.fc["fc1"](x_a).detach() - before).norm() / before.norm())
    assert change[False] > 10 * tolerance
    assert change[True] < tolerance


def test_spiking_model_projection_and_penalty():
    (x_a, y_a), _ = two_tasks(n=60)
    model = learn.compile(learn.mlp([16, 12, 3], seed=0))
    spikes = learn.encode(x_a, 8, "poisson", seed=1)
    hlop, gpm, ewc = HLOP(model, rows_per_task=4, epochs=5), GPM(model, threshold=0.9), EWC(model, lam=1.0, samples=10)
    for t in (hlop, gpm):
        t.end_task(model, spikes)
    ewc.end_task(model, spikes, y_a)
    rates = spikes.mean(0)                                       # the input layer's presynaptic rates
    assert hlop.subspaces["fc1"].n_rows == 4 and len(gpm.bases["fc1"]) >= 1
    model.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(spikes), y_a) + ewc.penalty(model)
    loss.backward()
    grad = model.weight("fc1").grad.clone()
    gpm.transform(model)
    assert (model.weight("fc1").grad @ gpm.bases["fc1"].T).abs().max() < 1e-5 * grad.abs().max()
    assert (model.weight("fc1").grad @ rates.T).norm() < (grad @ rates.T).norm()
