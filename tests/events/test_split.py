import numpy as np
import pytest

from turbosim_hep.events.split import split_mask, split_uniform


def test_split_is_a_pure_function_of_run_and_event():
    rng = np.random.default_rng(0)
    run = rng.integers(1, 4, 20_000)
    event = rng.permutation(20_000).astype(np.uint64)
    test = split_mask(run, event, "test")
    perm = rng.permutation(20_000)
    np.testing.assert_array_equal(split_mask(run[perm], event[perm], "test"), test[perm])
    chunks = np.concatenate([split_mask(run[i : i + 777], event[i : i + 777], "test") for i in range(0, 20_000, 777)])
    np.testing.assert_array_equal(chunks, test)


def test_splits_partition_the_events_with_the_asked_fractions():
    event = np.arange(100_000)
    masks = [split_mask(1, event, s, fractions=(0.6, 0.2, 0.2)) for s in ("train", "validation", "test")]
    np.testing.assert_array_equal(sum(m.astype(int) for m in masks), 1)
    np.testing.assert_allclose([m.mean() for m in masks], [0.6, 0.2, 0.2], atol=0.01)


def test_run_number_changes_the_assignment():
    u1 = split_uniform(np.ones(1000), np.arange(1000))
    u2 = split_uniform(np.full(1000, 2), np.arange(1000))
    assert np.mean(u1 == u2) < 0.01
    assert 0.0 <= u1.min() and u1.max() < 1.0


def test_bad_split_arguments_are_refused():
    with pytest.raises(ValueError, match="'tset'"):
        split_mask(1, np.arange(3), "tset")
    with pytest.raises(ValueError, match="summing to 1"):
        split_mask(1, np.arange(3), "test", fractions=(0.5, 0.2, 0.2))
