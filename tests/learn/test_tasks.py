import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.learn import (Dataset, Task, check_tasks, load_tasks, permutations, permute, permuted, save_tasks,
                            split)


def toy(rng, n_inputs=8, n_classes=6, per_class=(5, 3)) -> Dataset:
    """Every class in both splits, samples in a shuffled order."""
    y_train = rng.permutation(np.repeat(np.arange(n_classes), per_class[0]))
    y_test = rng.permutation(np.repeat(np.arange(n_classes), per_class[1]))
    return Dataset("toy", rng.uniform(0, 1, (len(y_train), n_inputs)), y_train,
                   rng.uniform(0, 1, (len(y_test), n_inputs)), y_test, n_classes=n_classes)


def test_permute_reorders_the_inputs_of_every_sample(rng):
    x = rng.uniform(0, 1, (4, 5))
    p = np.array([3, 0, 4, 1, 2])
    out = permute(x, p)
    for sample in range(4):
        for i in range(5):
            assert out[sample, i] == x[sample, p[i]]


@pytest.mark.parametrize("p, message", [
    ([0, 1, 1, 3], "input 2 is missing and input 1 appears 2 times"),
    ([0, 1, 2], "the permutation has 3 entries, the data 4 inputs"),
    ([0, 1, 2, 4], "entry 3 of the permutation, 4, is no input index 0..3"),
    ([0, -1, 2, 3], "entry 1 of the permutation, -1"),
    ([0.0, 1.0, 2.0, 3.0], "1-D array of whole numbers"),
    ([[0, 1, 2, 3]], "1-D array of whole numbers"),
])
def test_permute_refuses_what_is_not_a_permutation(rng, p, message):
    with pytest.raises(ModelError, match=message):
        permute(rng.uniform(0, 1, (2, 4)), p)


def test_permutations_are_seeded_and_start_with_the_identity():
    orders = permutations(20, 4, seed=7)
    assert np.array_equal(orders[0], np.arange(20))
    assert all(np.array_equal(np.sort(p), np.arange(20)) for p in orders)
    assert len({tuple(p) for p in orders}) == 4
    again = permutations(20, 4, seed=np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip(orders, again))
    with pytest.raises(ModelError, match="permutations: seed must be a whole number >= 0"):
        permutations(20, 2, seed="7")
    shuffled = permutations(20, 2, seed=7, first_identity=False)
    assert not np.array_equal(shuffled[0], np.arange(20))


def test_permuted_tasks_are_the_dataset_in_each_order(rng):
    d = toy(rng)
    tasks = permuted(d, 3, seed=2)
    orders = permutations(d.n_inputs, 3, seed=2)
    assert [t.name for t in tasks] == ["toy-permuted-0", "toy-permuted-1", "toy-permuted-2"]
    for task, order in zip(tasks, orders):
        assert task.classes == tuple(range(6))
        assert np.array_equal(task.x_train[:, np.argsort(order)], d.x_train)
        assert np.array_equal(task.x_test[:, np.argsort(order)], d.x_test)
        assert np.array_equal(task.y_train, d.y_train) and np.array_equal(task.y_test, d.y_test)
    assert not np.array_equal(tasks[1].x_train, tasks[2].x_train)


def test_split_tasks_hold_disjoint_classes_with_global_labels(rng):
    d = toy(rng)
    tasks = split(d, 3)
    assert [t.classes for t in tasks] == [(0, 1), (2, 3), (4, 5)]
    for task in tasks:
        assert set(task.y_train) == set(task.classes) and set(task.y_test) == set(task.classes)
    # Every sample lands in the task of its class, once.
    assert sum(len(t.y_train) for t in tasks) == len(d.y_train)
    rows = np.concatenate([np.c_[t.x_train, t.y_train] for t in tasks])
    assert np.array_equal(np.unique(rows, axis=0), np.unique(np.c_[d.x_train, d.y_train], axis=0))
    assert [t.classes for t in split(d, 4)] == [(0, 1), (2, 3), (4,), (5,)]


def test_split_refuses_more_tasks_than_classes_and_empty_tasks(rng):
    d = toy(rng)
    with pytest.raises(ModelError, match="n_tasks must be a whole number from 1 to the dataset's 6 classes"):
        split(d, 7)
    keep = d.y_test < 4
    sparse = Dataset("sparse", d.x_train, d.y_train, d.x_test[keep], d.y_test[keep], n_classes=6)
    with pytest.raises(ModelError, match="task 'sparse-split-2': x_test is empty"):
        split(sparse, 3)
    with pytest.raises(ModelError, match="expected a Dataset"):
        permuted(d.x_train, 2)


def test_saved_tasks_load_as_they_were_in_the_documented_format(rng, tmp_path):
    tasks = split(toy(rng), 3)
    path = tmp_path / "tasks"                     # no suffix added
    save_tasks(tasks, path)
    with np.load(path) as data:
        keys = set(data.files)
        assert int(data["n_tasks"]) == 3 and list(data["names"]) == [t.name for t in tasks]
        assert data["x_train_1"].dtype == np.float32 and data["y_test_2"].dtype == np.int64
        assert list(data["classes_2"]) == [4, 5]
    assert keys == {"n_tasks", "names"} | {f"{k}_{t}" for t in range(3)
                                           for k in ("x_train", "y_train", "x_test", "y_test", "classes")}
    with pytest.raises(ModelError, match="class 5 is outside the head's 5 classes"):
        load_tasks(path, n_classes=5)
    loaded = load_tasks(path, n_classes=6)
    for a, b in zip(tasks, loaded):
        assert a.name == b.name and a.classes == b.classes
        for part in ("x_train", "y_train", "x_test", "y_test"):
            assert np.array_equal(getattr(a, part), getattr(b, part))
            assert getattr(a, part).dtype == getattr(b, part).dtype


def test_load_tasks_refuses_incomplete_or_foreign_files(rng, tmp_path):
    task = split(toy(rng), 2)[0]
    partial = tmp_path / "partial.npz"
    np.savez(partial, n_tasks=np.int64(1), names=np.array([task.name]), x_train_0=task.x_train,
             y_train_0=task.y_train, x_test_0=task.x_test, y_test_0=task.y_test)
    with pytest.raises(ModelError, match="partial.npz': the task file has no 'classes_0'"):
        load_tasks(partial)
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    with pytest.raises(ModelError, match="text.npz' is not a task file"):
        load_tasks(text)
    with pytest.raises(ModelError, match="no such file"):
        load_tasks(tmp_path / "absent.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, n_tasks=np.int64(2), names=np.array(["a"]))
    with pytest.raises(ModelError, match="names must be 2 strings"):
        load_tasks(bad)


def test_a_task_checks_its_labels_against_its_classes(rng):
    x = rng.uniform(0, 1, (4, 3))
    with pytest.raises(ModelError, match="task 't': y_test: label 2 of sample 1 is not one of the task's classes"):
        Task("t", x, np.array([0, 1, 0, 1]), x, np.array([0, 2, 0, 1]), classes=(0, 1))
    with pytest.raises(ModelError, match="task 't': x_train: input 1 of sample 0 is nan"):
        Task("t", np.where(np.eye(4, 3, 1) > 0, np.nan, x), np.zeros(4, int), x, np.zeros(4, int), classes=[0])
    with pytest.raises(ModelError, match="classes .* name a class twice"):
        Task("t", x, np.zeros(4, int), x, np.zeros(4, int), classes=[0, 0])
    with pytest.raises(ModelError, match="classes must be a non-empty list"):
        Task("t", x, np.zeros(4, int), x, np.zeros(4, int), classes=[])
    with pytest.raises(ModelError, match="y_train: label -1 of sample 0 is not one of the task's classes"):
        Task("t", x, np.full(4, -1), x, np.zeros(4, int), classes=[0])
    with pytest.raises(ModelError, match="task 't': x_test has 2 inputs, x_train 3"):
        Task("t", x, np.zeros(4, int), x[:, :2], np.zeros(4, int), classes=[0])
    assert Task("t", x, np.full(4, 3), x, np.full(4, 1), classes=[3, 1]).classes == (1, 3)


def test_check_tasks_refuses_mixed_inputs_names_and_classes_outside_the_head(rng):
    tasks = permuted(toy(rng), 2)
    other = split(toy(rng, n_inputs=9), 1)[0]
    with pytest.raises(ModelError, match="task 'toy-split-0' has 9 inputs, the first task .* 8"):
        check_tasks([tasks[0], other])
    with pytest.raises(ModelError, match="two tasks are named 'toy-permuted-0'"):
        check_tasks([tasks[0], tasks[0]])
    with pytest.raises(ModelError, match="class 5 is outside the head's 4 classes 0..3"):
        check_tasks(tasks, n_classes=4)
    with pytest.raises(ModelError, match="task 1 is a ndarray, not a Task"):
        check_tasks([tasks[0], np.zeros(3)])
    with pytest.raises(ModelError, match="the list of tasks is empty"):
        save_tasks([], "unused.npz")
    assert check_tasks(tuple(tasks), n_classes=6) == tasks
