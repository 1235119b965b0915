"""The ANN counterparts of the CA3 memory and the model-agnostic comparison helpers."""
import functools

import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.ca3_cam.hopfield import ClassicalHopfield, ModernHopfield
from spikemem.models.ca3_cam.compare import (
    capacity_curve, exact_recall_rate, expected_cues, fragment_recall, ops_per_second,
    overwrite_test, random_contents, recalls_exactly, store)
from spikemem.models.ca3_cam.recall import Recall

MODELS = [ClassicalHopfield, ModernHopfield]

# The paper's functional experiment: n = 5 cues, m = 10 bits, three memories.
PAPER = [{0, 1, 2}, {3, 4, 5}, {6, 7, 8}]


# --- classical Hopfield -------------------------------------------------------------

@pytest.mark.parametrize("cue", [0, 2, 4])
def test_classical_recalls_a_single_memory_from_its_cue(cue):
    h = ClassicalHopfield(5, 10)
    h.learn(cue, {1, 4, 7})
    r = h.recall_by_cue(cue)
    assert r == Recall(frozenset({cue}), frozenset({1, 4, 7}), latency=2)  # fill, then confirm


def test_classical_recalls_the_paper_memories_by_cue_and_content():
    h = ClassicalHopfield(5, 10)
    store(h, PAPER)
    for cue, bits in enumerate(PAPER):
        assert recalls_exactly(h, cue, bits)
        r = h.recall_by_content([min(bits)])
        assert r.cues == {cue} and r.content == bits


def test_classical_weights_are_hebbian_with_zero_diagonal():
    h = ClassicalHopfield(2, 3)
    h.learn(1, {0, 2})
    p = np.array([-1, 1, 1, -1, 1])
    expected = np.outer(p, p)
    np.fill_diagonal(expected, 0)
    np.testing.assert_array_equal(h.weights, expected)


def test_classical_capacity_falls_well_beyond_0_14_n():
    # N = 30 + 40 = 70 units; 30 memories is far beyond 0.14 * 70 ~ 10.
    rates = capacity_curve(ClassicalHopfield, 40, [1, 30], np.random.default_rng(0))
    assert rates[0] == 1.0 and rates[1] < 0.5


def test_classical_unlearn_removes_the_old_pattern_exactly():
    h = ClassicalHopfield(5, 10)
    store(h, PAPER)
    h.learn(1, {9, 2})
    fresh = ClassicalHopfield(5, 10)
    store(fresh, [PAPER[0], {9, 2}, PAPER[2]])
    np.testing.assert_array_equal(h.weights, fresh.weights)
    assert recalls_exactly(h, 1, {2, 9})
    assert h.stored() == {0: frozenset(PAPER[0]), 1: frozenset({2, 9}), 2: frozenset(PAPER[2])}


def test_classical_without_unlearn_keeps_the_old_pattern_in_the_weights():
    h = ClassicalHopfield(5, 10, unlearn=False)
    store(h, PAPER)
    h.learn(1, {9, 2})
    fresh = ClassicalHopfield(5, 10)
    store(fresh, [PAPER[0], {9, 2}, PAPER[2]])
    assert not np.array_equal(h.weights, fresh.weights)
    assert h.stored()[1] == {2, 9}


def test_classical_stops_at_max_iter():
    h = ClassicalHopfield(5, 10, max_iter=1)
    h.learn(0, {1})
    assert h.recall_by_cue(0).latency == 1


# --- modern Hopfield ----------------------------------------------------------------

def test_modern_recalls_many_random_memories_exactly_from_their_cues():
    rng = np.random.default_rng(1)
    contents = random_contents(30, 20, 10, rng)
    assert exact_recall_rate(ModernHopfield(30, 20, beta=1.0), contents) == 1.0


def test_modern_with_tiny_beta_blends_every_memory():
    # beta -> 0 averages all stored patterns: no single cue wins.
    m = ModernHopfield(5, 10, beta=1e-3)
    store(m, PAPER)
    assert m.recall_by_cue(0).cues == frozenset()


def test_modern_recall_by_content_returns_the_best_match_not_every_match():
    contents = [{0, 1, 2, 3}, {3, 4}, {7, 8}]
    m = ModernHopfield(5, 10)
    store(m, contents)
    r = m.recall_by_content({1, 2, 3})
    assert r.cues == {0} and r.content == {0, 1, 2, 3}
    # The CA3 answer would also name cue 1, which shares bit 3.
    assert expected_cues(contents, {1, 2, 3}) == {0, 1}
    precision, recall = fragment_recall(ModernHopfield(5, 10), contents, [{1, 2, 3}])
    assert precision == 1.0 and recall == 0.5


def test_modern_overwrite_replaces_the_slot():
    m = ModernHopfield(5, 10)
    result = overwrite_test(m, PAPER, 1, {9, 2})
    assert result.new_recalled and result.others_intact == 1.0
    np.testing.assert_array_equal(m.memories[:, 1], m.pattern(1, frozenset({2, 9})))


# --- both ---------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
def test_overwrite_with_new_content_keeps_the_others(model):
    # The new content shares bit 0 with the content it replaces, none with the others.
    result = overwrite_test(model(5, 10), PAPER, 0, {0, 9})
    assert result.new_recalled and result.others_intact == 1.0


def test_classical_overwrite_sharing_a_bit_with_another_memory_disturbs_it():
    # Unlike the modern network (above, {2, 9} shares bit 2 with memory 0), the
    # classical one loses memory 1 when memory 0's new content shares its bit 4.
    result = overwrite_test(ClassicalHopfield(5, 10), PAPER, 0, {4, 9})
    assert result.new_recalled and result.others_intact < 1.0


@pytest.mark.parametrize("model", MODELS)
def test_empty_memory_answers_with_the_cue_only(model):
    r = model(5, 10).recall_by_cue(3)
    assert r.cues == {3} and r.content == frozenset()


@pytest.mark.parametrize("model", MODELS)
def test_stored_is_a_copy(model):
    m = model(5, 10)
    m.learn(0, [1, 1, 2])
    m.stored()[0] = frozenset({9})
    assert m.stored() == {0: frozenset({1, 2})}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("cue, bits, named", [
    (5, {1}, "5"), (-1, {1}, "-1"), (1.0, {1}, "1.0"), (True, {1}, "True"),
    (1, set(), "at least one bit"), (1, {10}, "10"), (1, {2.0}, "2.0"),
])
def test_bad_learn_raises_and_leaves_the_memory_unchanged(model, cue, bits, named):
    m = model(5, 10)
    store(m, PAPER)
    before = (m.stored(), (m.weights if model is ClassicalHopfield else m.memories).copy())
    with pytest.raises(ModelError) as err:
        m.learn(cue, bits)
    assert named in str(err.value)
    after = (m.stored(), m.weights if model is ClassicalHopfield else m.memories)
    assert after[0] == before[0] and np.array_equal(after[1], before[1])


@pytest.mark.parametrize("model", MODELS)
def test_bad_recall_raises(model):
    m = model(5, 10)
    with pytest.raises(ModelError, match="7"):
        m.recall_by_cue(7)
    with pytest.raises(ModelError, match="at least one bit"):
        m.recall_by_content([])
    with pytest.raises(ModelError, match="12"):
        m.recall_by_content([1, 12])


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kwargs, named", [
    (dict(n_cues=5.0, n_content=10), "5.0"), (dict(n_cues=True, n_content=10), "True"),
    (dict(n_cues=5, n_content=0), "n_content"), (dict(n_cues=5, n_content="10"), "'10'"),
    (dict(n_cues=5, n_content=10, max_iter=0), "max_iter"),
])
def test_bad_sizes_raise_naming_the_value(model, kwargs, named):
    with pytest.raises(ModelError, match=named):
        model(**kwargs)


@pytest.mark.parametrize("beta", [0, -1.0, float("nan"), True])
def test_modern_rejects_bad_beta(beta):
    with pytest.raises(ModelError, match="beta"):
        ModernHopfield(5, 10, beta=beta)


# --- comparison helpers on a fake memory --------------------------------------------

class FakeMemory:
    """Canned answers, to check the scoring rather than any model."""

    n_cues, n_content = 3, 5

    def __init__(self, by_cue, by_content):
        self.by_cue, self.by_content, self.learned = by_cue, by_content, []

    def learn(self, cue, bits):
        self.learned.append((cue, frozenset(bits)))

    def recall_by_cue(self, cue):
        cues, content = self.by_cue[cue]
        return Recall(frozenset(cues), frozenset(content), 1)

    def recall_by_content(self, bits):
        return Recall(frozenset(self.by_content[frozenset(bits)]), frozenset(bits), 1)


CONTENTS = [{0, 1}, {1, 2}, {3}]


def test_fragment_recall_scores_against_or_semantics():
    fake = FakeMemory({}, {
        frozenset({1}): {0},      # wants {0, 1}: precision 1, recall 1/2
        frozenset({3}): {2, 0},   # wants {2}: precision 1/2, recall 1
        frozenset({2}): set(),    # wants {1}: empty answer, precision 1, recall 0
        frozenset({4}): set(),    # wants nothing: precision 1, recall 1
    })
    precision, recall = fragment_recall(fake, CONTENTS, [{1}, {3}, {2}, {4}])
    assert precision == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert recall == pytest.approx((0.5 + 1 + 0 + 1) / 4)
    assert fake.learned == [(i, frozenset(c)) for i, c in enumerate(CONTENTS)]


def test_exact_recall_rate_needs_cue_and_content_exactly():
    fake = FakeMemory({0: ({0}, {0, 1}),          # right
                       1: ({1, 2}, {1, 2}),       # extra cue
                       2: ({2}, {3, 4})}, {})     # extra bit
    assert exact_recall_rate(fake, CONTENTS) == pytest.approx(1 / 3)


def test_capacity_curve_builds_a_fresh_memory_per_count():
    built = []

    def factory(n_cues, n_content):
        built.append((n_cues, n_content))
        return ModernHopfield(n_cues, n_content)

    rates = capacity_curve(factory, 12, [2, 4], np.random.default_rng(0))
    assert built == [(2, 12), (4, 12)] and rates.shape == (2,)
    # Modern Hopfield has room to spare at these sizes; compare the classical curve above.
    assert capacity_curve(functools.partial(ModernHopfield, beta=2.0), 40, [1, 3, 30],
                          np.random.default_rng(0)).tolist() == [1.0, 1.0, 1.0]


def test_random_contents():
    rng = np.random.default_rng(0)
    orth = random_contents(5, 10, 2, rng, orthogonal=True)
    assert len(orth) == 5 and all(len(c) == 2 for c in orth)
    assert len(frozenset().union(*orth)) == 10  # disjoint
    dense = random_contents(20, 6, 3, rng)
    assert all(len(c) == 3 and max(c) < 6 for c in dense)
    assert len(set(dense)) > 1 and any(a & b for a in dense for b in dense if a != b)
    with pytest.raises(ModelError, match="12"):
        random_contents(6, 10, 2, rng, orthogonal=True)
    with pytest.raises(ModelError, match="k_bits"):
        random_contents(2, 10, 11, rng)


def test_ops_per_second_is_positive():
    rate = ops_per_second(ModernHopfield(5, 10), PAPER, rounds=2)
    assert np.isfinite(rate) and rate > 0
