"""Tests for course.coldstart: metrics against naive loops, channels against brute force, errors."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course._checks import NotFittedError
from course.coldstart import (ClusterRecall, LookalikeRecall, TagRecall, author_side_metrics, category_tags,
                              consumption, default_id_codes, exposure_curves, high_heat_share,
                              init_from_similar, keyword_tags, last_n_clicks, new_note_click_rate,
                              recall_by_age_pools)


@pytest.fixture
def logs():
    rng = np.random.default_rng(3)
    n = 400
    return pd.DataFrame({"day": rng.integers(0, 6, n), "hour": rng.integers(0, 24, n),
                         "user_id": rng.integers(0, 15, n), "item_id": rng.integers(0, 30, n),
                         "click": (rng.random(n) < 0.3).astype(int)})


@pytest.fixture
def publish():
    return np.random.default_rng(4).integers(-3, 6, 30)


# ------------------------------------------------------------------ metrics
def test_author_side_metrics_matches_a_loop():
    rng = np.random.default_rng(0)
    items = pd.DataFrame({"author_id": rng.integers(0, 10, 60), "publish_day": rng.integers(0, 5, 60)})
    table = author_side_metrics(items, [0, 1, 2, 3, 4, 9], n_active=[10, 10, 8, 8, 8, 5])
    for day, active in zip([0, 1, 2, 3, 4, 9], [10, 10, 8, 8, 8, 5]):
        rows = [a for a, d in zip(items.author_id, items.publish_day) if d == day]
        assert table.loc[day, "penetration"] == pytest.approx(len(set(rows)) / active)
        assert table.loc[day, "posts_per_active"] == pytest.approx(len(rows) / active)
    assert table.loc[9, "notes"] == 0


def test_author_side_metrics_errors():
    items = pd.DataFrame({"author_id": [0], "publish_day": [0]})
    with pytest.raises(ValueError, match="positive"):
        author_side_metrics(items, [0], n_active=0)
    with pytest.raises(ValueError, match="one per day"):
        author_side_metrics(items, [0, 1], n_active=[3, 4, 5])
    with pytest.raises(ValueError, match="lacks"):
        author_side_metrics(items.rename(columns={"author_id": "a"}), [0], 3)
    with pytest.raises(TypeError):
        author_side_metrics(items.to_numpy(), [0], 3)


def test_new_note_click_rate_matches_a_loop(logs, publish):
    table = new_note_click_rate(logs, publish, max_age=1, high_exposure=5)
    shown, clicked = {}, {}
    for d, i, c in zip(logs.day, logs.item_id, logs.click):
        if 0 <= d - publish[i] <= 1:
            shown[i] = shown.get(i, 0) + 1
            clicked[i] = clicked.get(i, 0) + c
    high = [i for i in shown if shown[i] >= 5]
    low = [i for i in shown if shown[i] < 5]
    assert table.loc["high exposure", "notes"] == len(high) and table.loc["low exposure", "notes"] == len(low)
    assert table.loc["high exposure", "click_rate"] == pytest.approx(sum(clicked[i] for i in high) / sum(shown[i] for i in high))
    assert table.loc["low exposure", "mean_note_click_rate"] == pytest.approx(np.mean([clicked[i] / shown[i] for i in low]))
    assert table.loc["all new notes", "impressions"] == sum(shown.values())


def test_metric_errors(logs, publish):
    with pytest.raises(ValueError, match="max_age"):
        new_note_click_rate(logs, publish, max_age=-1, high_exposure=3)
    with pytest.raises(ValueError, match="high_exposure"):
        new_note_click_rate(logs, publish, max_age=1, high_exposure=0)
    with pytest.raises(ValueError, match="unknown notes"):
        new_note_click_rate(logs, publish[:10], max_age=1, high_exposure=3)
    with pytest.raises(ValueError, match="unknown note ids"):
        high_heat_share(logs, publish, [0, 99], window=2, threshold=1)
    with pytest.raises(ValueError, match="threshold"):
        high_heat_share(logs, publish, [0], window=2, threshold=0)
    with pytest.raises(ValueError, match="n_ages"):
        exposure_curves(logs, publish, [0], n_ages=0)


def test_high_heat_share_and_exposure_curves_match_loops(logs, publish):
    notes = np.arange(30)
    clicks = np.zeros(30)
    shown = np.zeros((30, 3), dtype=int)
    for d, i, c in zip(logs.day, logs.item_id, logs.click):
        a = d - publish[i]
        if 0 <= a < 3:
            clicks[i] += c
            shown[i, a] += 1
    assert high_heat_share(logs, publish, notes, window=3, threshold=2) == pytest.approx((clicks >= 2).mean())
    curve, _ = exposure_curves(logs, publish, notes, n_ages=3)
    np.testing.assert_array_equal(curve, shown.cumsum(axis=1))
    per_age, counted = exposure_curves(logs, publish, notes, n_ages=3, cumulative=False)
    np.testing.assert_array_equal(per_age, shown)
    assert counted.sum() == clicks.sum()


def test_consumption_counts_only_active_users():
    days = pd.DataFrame({"day": [0, 0, 0], "active": [True, True, False], "clicks": [2, 4, 0],
                         "impressions": [10, 20, 0], "watch_time": [1.0, 3.0, 0.0],
                         "active_next_day": [True, False, True]})
    row = consumption(days).loc[0]
    assert (row.active_users, row.clicks_per_active, row.return_rate) == (2, 3.0, 0.5)


# ------------------------------------------------------------------ channels
def test_last_n_clicks_matches_a_loop(logs):
    table = last_n_clicks(logs, 15, 4)
    for user in range(15):
        events = sorted([(d * 24 + h, r, i) for r, (d, h, u, i, c) in enumerate(logs.itertuples(index=False))
                         if u == user and c == 1], reverse=True)
        seen, expected = set(), []
        for _, _, item in events:
            if item not in seen:
                seen.add(item)
                expected.append(item)
        expected = (expected[:4] + [-1] * 4)[:4]
        assert table[user].tolist() == expected


def naive_tag_scores(tags, last, users, pool, normalize=True):
    dense = tags.toarray()
    out = np.zeros((len(users), len(pool)))
    for r, u in enumerate(users):
        history = [j for j in last[u] if j >= 0]
        profile = dense[history].sum(axis=0) / (max(len(history), 1) if normalize else 1)
        out[r] = [profile @ dense[i] for i in pool]
    return out


def test_tag_recall_matches_brute_force(logs, publish):
    rng = np.random.default_rng(5)
    tags = sp.csr_matrix((rng.random((30, 6)) < 0.3).astype(float))
    last = last_n_clicks(logs, 15, 5)
    # integer profiles (normalize=False) make equal scores exactly equal, so the tie order is testable
    channel = TagRecall(max_age=2, normalize=False).fit(tags, publish, last, day=5)
    pool = np.flatnonzero((5 - publish >= 0) & (5 - publish <= 2))
    users = np.arange(15)
    items, scores = channel.recommend(users, k=6)
    brute = naive_tag_scores(tags, last, users, pool, normalize=False)
    normalized = TagRecall(max_age=2).fit(tags, publish, last, day=5).recommend(users, k=6)[1]
    counts = np.maximum((last[users] >= 0).sum(axis=1), 1)
    np.testing.assert_allclose(np.sort(normalized, axis=1), np.sort(scores / counts[:, None], axis=1))
    for r in range(15):
        ranked = sorted([(-brute[r, j], -publish[i], i) for j, i in enumerate(pool) if brute[r, j] > 0])[:6]
        expected = [i for _, _, i in ranked] + [-1] * (6 - len(ranked))
        assert items[r].tolist() == expected
        assert np.allclose(scores[r][:len(ranked)], [-s for s, _, _ in ranked])
        assert np.isneginf(scores[r][len(ranked):]).all()


def test_tag_recall_exclude_and_errors(logs, publish):
    tags = category_tags(pd.DataFrame({"c": np.arange(30) % 3}), "c")
    last = last_n_clicks(logs, 15, 5)
    channel = TagRecall(max_age=5).fit(tags, publish, last, day=5)
    items, _ = channel.recommend([0, 1], k=30)
    exclude = np.zeros((2, 30), dtype=bool)
    exclude[0, items[0, 0]] = True
    again, _ = channel.recommend([0, 1], k=30, exclude=exclude)
    assert items[0, 0] not in again[0] and again[1].tolist() == items[1].tolist()
    with pytest.raises(NotFittedError):
        TagRecall().recommend([0], 3)
    with pytest.raises(ValueError, match="unknown users"):
        channel.recommend([99], 3)
    with pytest.raises(ValueError, match="k must"):
        channel.recommend([0], 0)
    with pytest.raises(ValueError, match="exclude must have shape"):
        channel.recommend([0], 3, exclude=np.zeros((1, 5), dtype=bool))
    with pytest.raises(ValueError, match="unknown note ids"):
        TagRecall().fit(tags, publish, np.array([[40]]), day=5)
    with pytest.raises(ValueError, match="max_age"):
        TagRecall(max_age=-1).fit(tags, publish, last, day=5)


def test_keyword_and_category_tags():
    items = pd.DataFrame({"keywords": ["x|y", "y", "z|x|x"], "subcategory_id": [2, 0, 2]})
    tags, vocabulary = keyword_tags(items)
    assert vocabulary.tolist() == ["x", "y", "z"]
    assert tags.toarray().tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert category_tags(items).toarray().tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1]]


def test_cluster_recall_is_tag_recall_on_the_kmeans_labels(logs, publish):
    rng = np.random.default_rng(6)
    content = np.concatenate([rng.normal(0, 0.1, (15, 4)), rng.normal(5, 0.1, (15, 4))]).astype(np.float32)
    last = last_n_clicks(logs, 15, 5)
    cluster = ClusterRecall(n_clusters=2, max_age=2, seed=0).fit(content, publish, last, day=5)
    assert len(set(cluster.labels_[:15])) == 1 and len(set(cluster.labels_[15:])) == 1
    assert cluster.labels_[0] != cluster.labels_[15]
    one_hot = sp.csr_matrix(np.eye(2)[cluster.labels_])
    tag = TagRecall(max_age=2).fit(one_hot, publish, last, day=5)
    for a, b in zip(cluster.recommend(np.arange(15), 8), tag.recommend(np.arange(15), 8)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="rows"):
        ClusterRecall(2).fit(content[:5], publish, last, day=5)


def test_lookalike_vector_is_the_mean_of_seed_users_and_updates():
    rng = np.random.default_rng(7)
    users = rng.normal(size=(6, 3))
    channel = LookalikeRecall(max_age=1).fit(users, [4, 4, 3, 0], day=4)
    channel.update([0, 1], [1, 1])
    channel.update([2], [1])
    unit = users / np.linalg.norm(users, axis=1, keepdims=True)
    np.testing.assert_allclose(channel.note_vectors([1])[0], unit[[0, 1, 2]].mean(axis=0))
    items, scores = channel.recommend([3, 4], k=3)
    assert items[:, 0].tolist() == [1, 1] and (items[:, 1:] == -1).all()      # notes 0, 2: no seeds; 3: too old
    x = unit[[0, 1, 2]].mean(axis=0)
    assert scores[0, 0] == pytest.approx(unit[3] @ x / np.linalg.norm(x))
    with pytest.raises(ValueError, match="unknown note ids"):
        channel.update([0], [9])
    with pytest.raises(ValueError, match="align"):
        channel.update([0, 1], [1])
    with pytest.raises(NotFittedError):
        LookalikeRecall().update([0], [0])


# ------------------------------------------------------------------ id embeddings
def test_default_id_codes_and_errors():
    assert default_id_codes(3, np.array([False, True, False])).tolist() == [3, 1, 3]
    with pytest.raises(ValueError, match="shape"):
        default_id_codes(3, np.array([True]))
    with pytest.raises(TypeError):
        default_id_codes(3, np.array([1, 0, 1]))


def test_init_from_similar_matches_a_loop():
    rng = np.random.default_rng(8)
    E, C = rng.normal(size=(20, 4)), rng.normal(size=(20, 6))
    new, old = np.array([3, 7, 11]), np.setdiff1d(np.arange(20), [3, 7, 11])
    got = init_from_similar(E, C, new, old, k=4)
    for r, i in enumerate(new):
        cos = [(-(C[i] @ C[j]) / np.linalg.norm(C[i]) / np.linalg.norm(C[j]), j) for j in old]
        chosen = [j for _, j in sorted(cos)[:4]]
        np.testing.assert_allclose(got[r], E[chosen].mean(axis=0))
    with pytest.raises(ValueError, match="disjoint"):
        init_from_similar(E, C, [3], [3, 4], k=1)
    with pytest.raises(ValueError, match="unknown ids"):
        init_from_similar(E, C, [30], old, k=1)
    with pytest.raises(ValueError, match="k must"):
        init_from_similar(E, C, new, old, k=len(old) + 1)


def test_recall_by_age_pools_matches_per_pool_brute_force():
    rng = np.random.default_rng(9)
    U, V = rng.normal(size=(5, 3)), rng.normal(size=(40, 3))
    age = rng.integers(-1, 30, 40)
    exclude = rng.random((5, 40)) < 0.2
    items, scores = recall_by_age_pools(U, V, age, [1, 7, 29], [2, 3, 4], exclude=exclude)
    assert items.shape == (5, 9)
    for u in range(5):
        for (low, high), (start, quota) in zip([(-1, 1), (1, 7), (7, 29)], [(0, 2), (2, 3), (5, 4)]):
            members = [i for i in range(40) if low < age[i] <= high and not exclude[u, i]]
            ranked = sorted(members, key=lambda i: (-(U[u] @ V[i]), i))[:quota]
            expected = ranked + [-1] * (quota - len(ranked))
            assert items[u, start:start + quota].tolist() == expected
    with pytest.raises(ValueError, match="increasing"):
        recall_by_age_pools(U, V, age, [7, 1], [2, 2])
    with pytest.raises(ValueError, match="one quota per pool"):
        recall_by_age_pools(U, V, age, [1, 7], [2])
    with pytest.raises(ValueError, match="quota must be"):
        recall_by_age_pools(U, V, age, [1, 7], [0, 2])


# ------------------------------------------------------------------ content similarity
def test_itemcf_positive_pairs_match_brute_force():
    import torch  # noqa: F401  (the module imports torch)
    from course.coldstart.content_similarity import itemcf_positive_pairs

    rng = np.random.default_rng(11)
    R = (rng.random((30, 12)) < 0.3).astype(float)
    groups = rng.integers(0, 2, 12)
    pairs = itemcf_positive_pairs(R, min_clicks=4, groups=groups)
    clicks = R.sum(axis=0)
    norms = np.linalg.norm(R, axis=0)
    expected = []
    for i in range(12):
        best, best_sim = None, 0.0
        for j in range(12):
            if i == j or clicks[i] < 4 or clicks[j] < 4 or groups[i] != groups[j]:
                continue
            sim = R[:, i] @ R[:, j] / (norms[i] * norms[j])
            if sim > best_sim + 1e-12:
                best, best_sim = j, sim
        if best is not None:
            expected.append([i, best])
    assert pairs.tolist() == expected


def test_triplet_training_separates_positives_from_negatives():
    import torch
    from course.coldstart.content_similarity import ContentEncoder, triplet_loss_fn
    from course.training import train

    rng = np.random.default_rng(12)
    centres = rng.normal(size=(4, 6))
    labels = np.repeat(np.arange(4), 25)
    content = (centres[labels] + rng.normal(0, 0.8, (100, 6))).astype(np.float32)
    anchors = np.arange(100)
    positives = np.array([rng.choice(np.flatnonzero(labels == labels[i])) for i in anchors])
    torch.manual_seed(0)
    model = ContentEncoder(6, 16, 4)
    train(model, triplet_loss_fn(content, margin=0.5, seed=0), (anchors, positives), epochs=30,
          batch_size=20, learning_rate=0.01, seed=0)
    with torch.no_grad():
        z = model(torch.from_numpy(content)).numpy()
    cos = z @ z.T
    same = labels[:, None] == labels[None, :]
    assert cos[same].mean() > cos[~same].mean() + 0.3


def test_vector_lastn_recall_matches_brute_force(logs, publish):
    from course.coldstart.content_similarity import VectorLastNRecall

    rng = np.random.default_rng(13)
    z = rng.normal(size=(30, 5))
    last = last_n_clicks(logs, 15, 4)
    channel = VectorLastNRecall(max_age=3).fit(z, publish, last, day=5)
    unit = z / np.linalg.norm(z, axis=1, keepdims=True)
    pool = np.flatnonzero((5 - publish >= 0) & (5 - publish <= 3))
    items, scores = channel.recommend(np.arange(15), k=len(pool))
    for u in range(15):
        history = [j for j in last[u] if j >= 0]
        if not history:
            assert (items[u] == -1).all()
            continue
        s = {i: np.mean([unit[j] @ unit[i] for j in history]) for i in pool}
        expected = sorted(pool, key=lambda i: (-round(s[i], 12), -publish[i], i))
        assert items[u].tolist() == expected
    with pytest.raises(ValueError, match="unknown note ids"):
        VectorLastNRecall().fit(z, publish, np.array([[31]]), day=5)
