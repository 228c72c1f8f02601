"""Two-tower model and its losses against hand-written formulas, brute force and a planted truth."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from course.metrics import recall_at_k
from course.recall.two_tower import (encode, id_features, in_batch_softmax_loss,
                                     listwise_softmax_loss, log_sampling_probability, make_loss_fn,
                                     make_negative_sampler, movielens_features, pointwise_loss,
                                     quantile_buckets, recommend, Tower, TowerFeatures,
                                     triplet_hinge_loss, triplet_logistic_loss, TwoTowerConfig,
                                     TwoTowerModel, world_features)
from course.training import train


def log_sigmoid(x):
    return -math.log1p(math.exp(-x))


@pytest.fixture
def scores():
    generator = torch.Generator().manual_seed(0)
    positive = torch.rand(5, generator=generator, dtype=torch.float64) * 2 - 1
    negative = torch.rand(5, 3, generator=generator, dtype=torch.float64) * 2 - 1
    return positive, negative


# ---------------------------------------------------------------- losses vs loops
def test_pointwise_is_mean_binary_cross_entropy(scores):
    positive, negative = scores
    tau = 0.2
    terms = [-log_sigmoid(p / tau) for p in positive.tolist()]
    terms += [-math.log(1 - 1 / (1 + math.exp(-n / tau))) for row in negative.tolist() for n in row]
    assert pointwise_loss(positive, negative, tau).item() == pytest.approx(np.mean(terms), rel=1e-12)
    labels = torch.cat([torch.ones(5), torch.zeros(15)]).double()
    logits = torch.cat([positive, negative.ravel()]) / tau
    reference = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    assert pointwise_loss(positive, negative, tau).item() == pytest.approx(reference.item())


def test_triplet_hinge_matches_loop_and_vanishes_past_the_margin(scores):
    positive, negative = scores
    margin = 0.4
    loop = np.mean([max(0.0, margin + n - p) for p, row in zip(positive.tolist(), negative.tolist())
                    for n in row])
    assert triplet_hinge_loss(positive, negative, margin).item() == pytest.approx(loop)
    winning = torch.tensor([0.9, 0.8], requires_grad=True)
    loss = triplet_hinge_loss(winning, torch.tensor([[0.3, 0.39], [0.0, 0.1]]), margin=0.5)
    loss.backward()
    assert loss.item() == 0.0 and winning.grad.abs().sum() == 0  # wins by >= m: nothing to learn
    assert triplet_hinge_loss(torch.tensor([0.5]), torch.tensor([0.5]), margin=1.0).item() == 1.0


def test_triplet_logistic_matches_formula(scores):
    positive, negative = scores
    sigma = 5.0
    loop = np.mean([math.log(1 + math.exp(sigma * (n - p))) for p, row in
                    zip(positive.tolist(), negative.tolist()) for n in row])
    assert triplet_logistic_loss(positive, negative, sigma).item() == pytest.approx(loop)
    # one negative given as shape (B,) is the same as (B, 1)
    assert triplet_logistic_loss(positive, negative[:, 0]).item() == pytest.approx(
        triplet_logistic_loss(positive, negative[:, :1]).item())


def test_listwise_is_softmax_cross_entropy_with_the_positive_first(scores):
    positive, negative = scores
    tau = 0.1
    loop = []
    for p, row in zip(positive.tolist(), negative.tolist()):
        logits = np.array([p] + row) / tau
        loop.append(-(logits[0] - np.log(np.exp(logits).sum())))
    assert listwise_softmax_loss(positive, negative, tau).item() == pytest.approx(np.mean(loop))


def naive_in_batch(users, items, log_q, tau, item_ids):
    losses = []
    for i in range(len(users)):
        logits = []
        for j in range(len(items)):
            if j != i and item_ids is not None and item_ids[j] == item_ids[i]:
                continue  # an accidental hit is not a negative
            logit = float(users[i] @ items[j]) / tau - (0.0 if log_q is None else float(log_q[j]))
            logits.append((j == i, logit))
        own = next(value for is_own, value in logits if is_own)
        losses.append(-(own - np.log(sum(np.exp(value) for _, value in logits))))
    return np.mean(losses)


@pytest.mark.parametrize("with_log_q", [False, True])
@pytest.mark.parametrize("with_ids", [False, True])
def test_in_batch_softmax_matches_a_double_loop(with_log_q, with_ids):
    generator = torch.Generator().manual_seed(1)
    users = torch.randn(6, 4, generator=generator, dtype=torch.float64)
    items = torch.randn(6, 4, generator=generator, dtype=torch.float64)
    log_q = torch.log(torch.tensor([0.1, 0.3, 0.05, 0.3, 0.2, 0.05], dtype=torch.float64))
    item_ids = torch.tensor([4, 7, 1, 7, 2, 9])  # rows 1 and 3 hold the same item
    got = in_batch_softmax_loss(users, items, log_q if with_log_q else None, 0.5,
                                item_ids if with_ids else None)
    expected = naive_in_batch(users, items, log_q if with_log_q else None, 0.5,
                              item_ids.tolist() if with_ids else None)
    assert got.item() == pytest.approx(expected)


def test_log_q_correction_with_equal_probabilities_is_the_plain_softmax():
    generator = torch.Generator().manual_seed(2)
    users, items = torch.randn(8, 3, generator=generator), torch.randn(8, 3, generator=generator)
    plain = in_batch_softmax_loss(users, items, temperature=0.3)
    uniform = in_batch_softmax_loss(users, items, torch.full((8,), math.log(1 / 500)), temperature=0.3)
    assert uniform.item() == pytest.approx(plain.item(), rel=1e-6)
    skewed = in_batch_softmax_loss(users, items, torch.log(torch.linspace(0.01, 0.5, 8)), temperature=0.3)
    assert abs(skewed.item() - plain.item()) > 1e-3


def test_log_sampling_probability():
    log_q = log_sampling_probability([2, 0, 6])
    np.testing.assert_allclose(log_q.exp().numpy(), [0.25, 1 / 8, 0.75], rtol=1e-6)  # 0 -> count 1
    with pytest.raises(ValueError):
        log_sampling_probability([0, 0])


@pytest.mark.parametrize("call, message", [
    (lambda: pointwise_loss(torch.zeros(3), torch.zeros(2, 4)), "negative_scores"),
    (lambda: listwise_softmax_loss(torch.zeros(3, 1), torch.zeros(3, 4)), "positive_scores"),
    (lambda: listwise_softmax_loss(torch.zeros(3), torch.zeros(3, 4), temperature=0), "temperature"),
    (lambda: triplet_hinge_loss(torch.zeros(3), torch.zeros(3), margin=-1), "margin"),
    (lambda: in_batch_softmax_loss(torch.zeros(3, 2), torch.zeros(4, 2)), "shape"),
    (lambda: in_batch_softmax_loss(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(2)), "log_q"),
])
def test_losses_reject_bad_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- towers and model
def test_tower_normalises_only_for_cosine():
    categorical, numeric = torch.tensor([[0, 1], [2, 0], [1, 1]]), torch.randn(3, 2)
    cosine = Tower([3, 2], 2, embedding_dim=4, hidden_dims=(8,), output_dim=6)(categorical, numeric)
    torch.testing.assert_close(cosine.norm(dim=1), torch.ones(3))
    linear = Tower([3, 2], 2, embedding_dim=4, hidden_dims=(), output_dim=6, normalize=False)
    raw = linear(categorical, numeric)
    assert raw.shape == (3, 6) and not torch.allclose(raw.norm(dim=1), torch.ones(3))


def test_tower_rejects_bad_input():
    tower = Tower([3, 2], 1, embedding_dim=4, hidden_dims=(), output_dim=2)
    with pytest.raises(ValueError, match="categorical"):
        tower(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 1))
    with pytest.raises(ValueError, match="numeric"):
        tower(torch.zeros(2, 2, dtype=torch.long), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="embedding_dim"):
        Tower([3], embedding_dim=0)
    with pytest.raises(ValueError, match="categorical field"):
        Tower([])


def random_tables(n_users=12, n_items=20, seed=0):
    generator = torch.Generator().manual_seed(seed)
    user_groups = torch.randint(0, 3, (n_users,), generator=generator)
    item_kinds = torch.randint(0, 4, (n_items,), generator=generator)
    users = TowerFeatures(torch.stack([torch.arange(n_users), user_groups], 1),
                          torch.randn(n_users, 2, generator=generator), (n_users, 3), ("id", "group", "x", "y"))
    items = TowerFeatures(torch.stack([torch.arange(n_items), item_kinds], 1),
                          torch.randn(n_items, 1, generator=generator), (n_items, 4), ("id", "kind", "z"))
    return users, items


@pytest.mark.parametrize("cosine", [True, False])
def test_encoders_agree_with_forward_and_recommend_with_brute_force(cosine):
    torch.manual_seed(0)
    users, items = random_tables()
    model = TwoTowerModel(TwoTowerConfig((12, 3), (20, 4), 2, 1, embedding_dim=4, hidden_dims=(8,),
                                         output_dim=5, cosine=cosine))
    user_ids, item_ids = torch.tensor([0, 3, 3, 11]), torch.tensor([19, 0, 5, 7])
    with torch.no_grad():
        scores = model(*users.rows(user_ids), *items.rows(item_ids))
        a, b = model.encode_users(*users.rows(user_ids)), model.encode_items(*items.rows(item_ids))
    torch.testing.assert_close(scores, (a * b).sum(1))
    all_scores = encode(model.user_tower, users) @ encode(model.item_tower, items).T  # (12, 20)
    exclude = np.zeros((3, 20), dtype=bool)
    exclude[1, [2, 5]] = True
    top, scores = recommend(model, users, items, [4, 7, 0], k=5, exclude=exclude)
    assert np.array_equal(top < 0, np.isneginf(scores))
    brute = np.where(exclude, -np.inf, all_scores[[4, 7, 0]])
    np.testing.assert_array_equal(top, np.argsort(-brute, axis=1, kind="stable")[:, :5])


def test_make_loss_fn_computes_the_listwise_loss_of_its_sampler():
    torch.manual_seed(0)
    users, items = random_tables()
    model = TwoTowerModel(TwoTowerConfig((12, 3), (20, 4), 2, 1, embedding_dim=4, hidden_dims=(),
                                         output_dim=3))
    fixed = np.array([[1, 2], [3, 4], [5, 6]])
    loss_fn = make_loss_fn("listwise", users, items, sampler=lambda user_ids, n: fixed, n_negatives=2,
                           temperature=0.5)
    batch = (torch.tensor([0, 1, 2]), torch.tensor([7, 8, 9]))
    a = model.encode_users(*users.rows(batch[0]))
    positive = (a * model.encode_items(*items.rows(batch[1]))).sum(1)
    negative = torch.einsum("bd,bnd->bn", a, model.encode_items(*items.rows(fixed.ravel())).reshape(3, 2, -1))
    torch.testing.assert_close(loss_fn(model, batch), listwise_softmax_loss(positive, negative, 0.5))
    with pytest.raises(ValueError, match="sampler"):
        make_loss_fn("hinge", users, items)
    with pytest.raises(ValueError, match="objective"):
        make_loss_fn("triplet", users, items)


# ---------------------------------------------------------------- features
def test_quantile_buckets_are_monotone_and_balanced():
    values = np.random.default_rng(0).lognormal(size=1000)
    codes, n = quantile_buckets(values, 4)
    assert n == 4 and set(codes.tolist()) == {0, 1, 2, 3}
    order = np.argsort(values)
    assert (np.diff(codes[order]) >= 0).all()
    np.testing.assert_array_equal(np.bincount(codes), [250, 250, 250, 250])
    for data, n_buckets in [(values, 4), (values, 7), (np.round(values, 1), 6)]:
        codes, n = quantile_buckets(data, n_buckets)  # the same buckets as pandas.qcut
        expected = pd.qcut(data, n_buckets, labels=False, duplicates="drop")
        np.testing.assert_array_equal(codes, expected)
        assert n == expected.max() + 1
    codes, n = quantile_buckets(np.r_[np.zeros(8), 1.0, 2.0], 5)  # tied quantiles merge
    assert n < 5 and (codes[:8] == 0).all() and (codes[8:] > 0).all() and codes.max() < n
    codes, n = quantile_buckets(np.full(6, 3.0), 4)
    assert n == 1 and codes.tolist() == [0] * 6
    with pytest.raises(ValueError, match="n_buckets"):
        quantile_buckets([1.0], 0)


def test_world_features_use_only_the_given_logs(tiny_world):
    logs = tiny_world.impressions
    first_day = logs[logs.day == 0]
    users, items = world_features(tiny_world, first_day)
    assert users.categorical.shape == (len(tiny_world.users), len(users.cardinalities))
    assert items.categorical.shape == (len(tiny_world.items), len(items.cardinalities))
    assert len(users.names) == users.categorical.shape[1] + users.numeric.shape[1]
    for table in (users, items):
        assert (table.categorical.max(0).values < torch.tensor(table.cardinalities)).all()
        assert (table.categorical.min() >= 0) and torch.isfinite(table.numeric).all()
        torch.testing.assert_close(table.numeric.mean(0), torch.zeros(table.numeric.shape[1]),
                                   atol=1e-5, rtol=0)
    np.testing.assert_array_equal(users.categorical[:, 0].numpy(), np.arange(len(tiny_world.users)))
    clicks_column = items.names.index("log_clicks") - items.categorical.shape[1]
    day0_clicks = np.bincount(first_day.item_id, first_day.click, minlength=len(tiny_world.items))
    never_clicked = items.numeric[day0_clicks == 0, clicks_column]
    assert torch.allclose(never_clicked, never_clicked[0])  # one value: log(1 + 0), standardised
    _, all_days = world_features(tiny_world, logs)
    assert not torch.allclose(all_days.numeric[:, clicks_column], items.numeric[:, clicks_column])
    with pytest.raises(ValueError, match="click"):
        world_features(tiny_world, logs.drop(columns="click"))


def test_movielens_features_match_the_tables():
    from course.datasets import movielens_100k
    from course.evaluation.movielens import split_matrices
    movielens = movielens_100k()
    train_matrix, _, user_ids, item_ids = split_matrices(movielens.ratings)
    users, items = movielens_features(movielens, user_ids, item_ids, train_matrix)
    assert users.categorical.shape == (943, 4) and users.numeric.shape == (943, 0)
    assert items.categorical.shape == (1682, 2) and items.numeric.shape == (1682, 20)  # 19 genres + 1
    genre_names = [name for name in items.names if name.startswith("genre_")]
    genre_columns = [items.names.index(name) - 2 for name in genre_names]
    table = movielens.items.set_index("item_id").loc[item_ids, "genres"].str.get_dummies("|")
    np.testing.assert_array_equal(items.numeric[:, genre_columns].numpy(),
                                  table[[name[6:] for name in genre_names]].to_numpy())
    train_counts = np.diff(train_matrix.tocsc().indptr)
    log_ratings = items.numeric[:, -1].numpy()
    assert np.corrcoef(log_ratings, np.log1p(train_counts))[0, 1] > 0.9999  # train counts, standardised
    genders = movielens.users.set_index("user_id").loc[user_ids, "gender"].to_numpy()
    assert (users.categorical[:, 2].numpy() == (genders == "M")).all()  # sorted codes: F = 0, M = 1
    with pytest.raises(ValueError, match="shape"):
        movielens_features(movielens, user_ids[:10], item_ids, train_matrix)


# ---------------------------------------------------------------- learning a planted truth
@pytest.mark.parametrize("objective, log_q", [("in_batch", True), ("listwise", False)])
def test_training_recovers_a_planted_low_rank_truth(objective, log_q):
    rng = np.random.default_rng(0)
    n_users, n_items, rank, k = 200, 150, 4, 10
    user_truth, item_truth = rng.normal(size=(n_users, rank)), rng.normal(size=(n_items, rank))
    truth_scores = user_truth @ item_truth.T  # (n_users, n_items)
    # Each user clicks 25 items drawn from softmax(truth): positives only, no labels given.
    probabilities = np.exp(truth_scores - truth_scores.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    cdf = probabilities.cumsum(1)
    draws = rng.random((n_users, 25))
    clicked = np.minimum((draws[:, :, None] > cdf[:, None, :]).sum(-1), n_items - 1)  # (n_users, 25)
    user_ids, item_ids = np.repeat(np.arange(n_users), 25), clicked.ravel()
    relevant = [set(row) for row in np.argsort(-truth_scores, axis=1)[:, :k]]
    # Baselines: random lists, and each user's own click counts (memorising, no generalisation).
    random_lists = np.stack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    counts = np.zeros((n_users, n_items))
    np.add.at(counts, (user_ids, item_ids), 1)
    memorised = np.argsort(-(counts + 1e-3 * rng.random(counts.shape)), axis=1)[:, :k]
    assert recall_at_k(random_lists, relevant, k) < 0.12  # k / n_items on average
    counts_recall = recall_at_k(memorised, relevant, k)

    users, items = id_features(n_users), id_features(n_items)
    item_counts = np.bincount(item_ids, minlength=n_items)
    torch.manual_seed(0)
    model = TwoTowerModel(TwoTowerConfig((n_users,), (n_items,), embedding_dim=8, hidden_dims=(),
                                         output_dim=8, cosine=True))
    loss_fn = make_loss_fn(objective, users, items, n_negatives=16, temperature=0.2,
                           sampler=make_negative_sampler(item_counts, alpha=0.75, seed=0),
                           log_q=log_sampling_probability(item_counts) if log_q else None)
    train(model, loss_fn, (user_ids, item_ids), epochs=15, batch_size=250, learning_rate=0.03, seed=0)
    learned = recall_at_k(recommend(model, users, items, np.arange(n_users), k)[0], relevant, k)
    # The low-rank model generalises across users: it beats memorising one's own clicks.
    assert learned > max(0.5, counts_recall + 0.03), (learned, counts_recall)
