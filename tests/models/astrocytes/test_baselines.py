"""Equal parameter counts across the four models."""
import pytest
import torch

from spikemem.errors import ModelError
from spikemem.models.astrocytes.baselines import KINDS, SHARED, SHARED_GROUP, build, count, hidden_for, parameter_count


@pytest.mark.parametrize("kind", [*KINDS, SHARED])
def test_the_counted_parameters_are_the_models(kind):
    model = build(kind, 7, 5, 3000)
    assert count(model) == parameter_count(kind, 7, hidden_for(kind, 3000, 7, 5), 5)
    assert abs(count(model) - 3000) < 0.05 * 3000
    assert model(torch.zeros(4, 2, 7)).shape == (4, 2, 5)


def test_the_hidden_size_is_the_closest_to_the_budget():
    n = hidden_for("lstm", 10_000, 20, 20)
    gap = abs(parameter_count("lstm", 20, n, 20) - 10_000)
    assert gap <= abs(parameter_count("lstm", 20, n + 1, 20) - 10_000)
    assert gap <= abs(parameter_count("lstm", 20, n - 1, 20) - 10_000)
    assert hidden_for("lif", 10_000, 20, 20) > n                      # a gate-less unit is cheaper
    with pytest.raises(ModelError, match="kind 'rnn'"):
        parameter_count("rnn", 2, 3, 4)


def test_the_shared_kind_is_the_amsu_with_groups_of_astrocytes():
    model = build(SHARED, 7, 5, 3000)
    assert model.layer.group == SHARED_GROUP and model.layer.astro
    assert model.layer.tau_a.numel() == -(-model.layer.k.numel() // SHARED_GROUP)
    assert build(SHARED, 7, 5, 3000, group=2).layer.group == 2
