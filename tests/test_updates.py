"""Full vs incremental update schedules: what they touch, the order they visit rows, determinism."""
import numpy as np
import pytest
import torch
from torch import nn

from course.recall.two_tower import (embedding_parameter_names, full_plus_incremental, full_update,
                                     id_embedding_rows, id_features, incremental_update,
                                     make_loss_fn, time_ordered, TowerFeatures, TwoTowerConfig,
                                     TwoTowerModel)


def tiny_model(seed=0):
    torch.manual_seed(seed)
    # items carry a second categorical field, so the item table holds id rows AND category rows
    config = TwoTowerConfig(user_cardinalities=(6,), item_cardinalities=(9, 3), embedding_dim=4,
                            hidden_dims=(8,), output_dim=4)
    return TwoTowerModel(config)


def tiny_features():
    items = TowerFeatures(torch.stack([torch.arange(9), torch.arange(9) % 3], 1), torch.zeros(9, 0),
                          (9, 3), ("item_id", "category"))
    return id_features(6), items


def days_of_clicks(n_days=2, n_rows=40, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.integers(6, size=n_rows), rng.integers(9, size=n_rows)) for _ in range(n_days)]


def recording_loss(record):
    """A loss (a small weight penalty) that records the row ids of every batch it is given."""
    def loss_fn(model, batch):
        record.append(batch[0].clone())
        return sum((p ** 2).sum() for p in model.parameters() if p.requires_grad) * 1e-3
    return loss_fn


def test_incremental_changes_only_embeddings():
    model = tiny_model()
    users, items = tiny_features()
    loss_fn = make_loss_fn("in_batch", users, items, temperature=0.1)
    out = incremental_update(model, days_of_clicks(), loss_fn, batch_size=8, learning_rate=0.05)[-1]
    before, after = model.state_dict(), out.state_dict()
    embeddings = set(embedding_parameter_names(model))
    assert embeddings == {"user_tower.embedding.weight", "item_tower.embedding.weight"}
    for name in before:
        if name in embeddings:
            assert not torch.equal(before[name], after[name]), name
        else:
            assert torch.equal(before[name], after[name]), name  # dense layers bit-for-bit equal
    assert all(p.requires_grad for p in out.parameters()) and all(p.requires_grad for p in model.parameters())


def test_incremental_id_rows_leave_category_rows_alone():
    model = tiny_model()
    users, items = tiny_features()
    loss_fn = make_loss_fn("in_batch", users, items, temperature=0.1)
    rows = id_embedding_rows(model)
    np.testing.assert_array_equal(rows["item_tower.embedding.weight"], np.arange(9))
    out = incremental_update(model, days_of_clicks(), loss_fn, batch_size=8, learning_rate=0.05,
                             trainable_rows=rows)[-1]
    old, new = model.item_tower.embedding.weight, out.item_tower.embedding.weight
    assert torch.equal(old[9:], new[9:])  # the 3 category rows did not move (Adam momentum undone)
    assert not torch.equal(old[:9], new[:9])


def test_full_update_visits_each_row_once_per_day_shuffled():
    model = nn.Linear(1, 1)
    record = []
    days = [(np.arange(50),), (np.arange(50, 87),)]
    checkpoints = full_update(model, days, recording_loss(record), batch_size=8, seed=3)
    assert len(checkpoints) == 2
    seen = torch.cat(record).numpy()
    first, second = seen[:50], seen[50:]
    np.testing.assert_array_equal(np.sort(first), np.arange(50))  # every row exactly once
    np.testing.assert_array_equal(np.sort(second), np.arange(50, 87))  # day 2 after day 1
    assert not np.array_equal(first, np.arange(50))  # shuffled, not in log order


def test_incremental_keeps_time_order():
    model = nn.Sequential(nn.Embedding(100, 2), nn.Linear(2, 1))
    record = []
    incremental_update(model, [(np.arange(30),), (np.arange(30, 45),)], recording_loss(record), batch_size=7)
    assert [len(r) for r in record] == [7, 7, 7, 7, 2, 7, 7, 1]  # one step per window, per day
    # inside one step the loop may permute rows, but each window is the next slice of time
    windows = [np.arange(s, min(s + 7, 30)) for s in range(0, 30, 7)] + \
        [np.arange(s, min(s + 7, 45)) for s in range(30, 45, 7)]
    for seen, expected in zip(record, windows):
        np.testing.assert_array_equal(np.sort(seen.numpy()), expected)


def test_schedules_are_deterministic_given_seed():
    users, items = tiny_features()
    loss_fn = make_loss_fn("in_batch", users, items, temperature=0.1)
    days = days_of_clicks()
    runs = [full_update(tiny_model(), days, loss_fn, batch_size=8, learning_rate=0.01, seed=s)[-1]
            for s in (1, 1, 2)]
    for name, value in runs[0].state_dict().items():
        assert torch.equal(value, runs[1].state_dict()[name])
    assert any(not torch.equal(v, runs[2].state_dict()[n]) for n, v in runs[0].state_dict().items())
    inc = [incremental_update(tiny_model(), days, loss_fn, batch_size=8, seed=0)[-1] for _ in range(2)]
    assert all(torch.equal(v, inc[1].state_dict()[n]) for n, v in inc[0].state_dict().items())


def test_full_update_leaves_the_input_checkpoint_untouched_and_chains():
    model = tiny_model()
    users, items = tiny_features()
    loss_fn = make_loss_fn("in_batch", users, items, temperature=0.1)
    original = {n: v.clone() for n, v in model.state_dict().items()}
    days = days_of_clicks(3)
    checkpoints = full_update(model, days, loss_fn, batch_size=8, seed=5)
    assert all(torch.equal(v, model.state_dict()[n]) for n, v in original.items())
    # day 2's checkpoint = one more day of training on day 1's checkpoint (seed + day index)
    again = full_update(checkpoints[1], days[2:], loss_fn, batch_size=8, seed=7)[0]
    assert all(torch.equal(v, checkpoints[2].state_dict()[n]) for n, v in again.state_dict().items())


def same_weights(a, b):
    return all(torch.equal(v, b.state_dict()[n]) for n, v in a.state_dict().items())


def test_full_plus_incremental_resets_every_night():
    users, items = tiny_features()
    loss_fn = make_loss_fn("in_batch", users, items, temperature=0.1)
    model, days = tiny_model(), days_of_clicks(3)
    checkpoints = full_update(model, days, loss_fn, batch_size=8, seed=1)
    options = dict(batch_size=8, learning_rate=0.05, seed=2)
    served = full_plus_incremental(model, checkpoints, days, loss_fn, **options)
    # brute force: rebuild each day by hand from the right morning checkpoint
    mornings = [model] + checkpoints[:-1]
    for d in range(3):
        by_hand = incremental_update(mornings[d], [days[d]], loss_fn, **options)[-1]
        assert same_weights(served[d], by_hand)
        # the dense layers are last night's full checkpoint's, bit for bit
        assert torch.equal(served[d].user_tower.mlp[0].weight, mornings[d].user_tower.mlp[0].weight)
    # the reset: changing day 0's stream leaves day 1's served model alone ...
    other_day0 = [days_of_clicks(1, seed=9)[0]] + days[1:]
    again = full_plus_incremental(model, checkpoints, other_day0, loss_fn, **options)
    assert not same_weights(again[0], served[0]) and same_weights(again[1], served[1])
    # ... while incremental updates alone carry day 0 into day 1
    carried = [incremental_update(model, stream, loss_fn, **options)[1] for stream in (days, other_day0)]
    assert not same_weights(*carried)
    with pytest.raises(ValueError, match="one full checkpoint per day"):
        full_plus_incremental(model, checkpoints[:2], days, loss_fn)


def test_time_ordered_is_a_stable_sort():
    (users,) = time_ordered(np.array([2, 0, 2, 1]), np.array([10, 11, 12, 13]))
    np.testing.assert_array_equal(users, [11, 13, 10, 12])


def test_errors():
    model = tiny_model()
    with pytest.raises(ValueError, match="non-empty"):
        full_update(model, [], lambda m, b: None)
    with pytest.raises(ValueError, match="embedding weights"):
        incremental_update(model, days_of_clicks(), lambda m, b: None, parameter_names=["user_tower.mlp.0.weight"])
    with pytest.raises(ValueError, match="lie in"):
        incremental_update(model, days_of_clicks(), lambda m, b: None,
                           trainable_rows={"user_tower.embedding.weight": [99]})
    with pytest.raises(TypeError):
        id_embedding_rows(nn.Linear(1, 1))
    with pytest.raises(ValueError, match="aligned"):
        full_update(model, [(np.arange(3), np.arange(4))], lambda m, b: None)
