"""Item similarity: the tag hierarchy against a pairwise loop, cosine against scikit-learn's
formula, neighbour quality against a brute-force loop, and the two-tower vectors on the world."""
import numpy as np
import pytest

from course import world as W
from course.rerank import (cosine_similarity, dpp, neighbour_quality, tag_similarity,
                           two_tower_item_vectors)


def loop_tag_similarity(category, subcategory, keywords, weights=(0.5, 0.3, 0.2)):
    n = len(category)
    S = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            a, b = set(filter(None, keywords[i].split("|"))), set(filter(None, keywords[j].split("|")))
            overlap = len(a & b) / np.sqrt(len(a) * len(b)) if a and b else 0.0
            S[i, j] = (weights[0] * (category[i] == category[j]) + weights[1] * (subcategory[i] == subcategory[j])
                       + weights[2] * overlap)
    return S


def random_tags(rng, n):
    subcategory = rng.integers(0, 6, n)
    category = subcategory // 2                       # nested: two subcategories per category
    words = np.array(["a", "b", "c", "d", "e"])
    keywords = ["|".join(words[rng.random(5) < 0.4]) for _ in range(n)]
    return category, subcategory, keywords


def test_tag_similarity_equals_the_pairwise_loop_and_is_a_psd_kernel():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 25))
        category, subcategory, keywords = random_tags(rng, n)
        weights = tuple(rng.random(3))
        S = tag_similarity(category, subcategory, keywords, weights)
        np.testing.assert_allclose(S, loop_tag_similarity(category, subcategory, keywords, weights), atol=1e-12)
        np.testing.assert_array_equal(S, S.T)
        assert np.linalg.eigvalsh(S).min() > -1e-10


def test_tag_similarity_keeps_the_lectures_order_on_the_world():
    items = W.generate("tiny").items
    S = tag_similarity(items.category_id, items.subcategory_id, items.keywords.tolist())
    same_sub = items.subcategory_id.to_numpy()[:, None] == items.subcategory_id.to_numpy()[None, :]
    same_cat = items.category_id.to_numpy()[:, None] == items.category_id.to_numpy()[None, :]
    off = ~np.eye(len(items), dtype=bool)
    cousins = S[same_cat & ~same_sub]                 # same category, other subcategory: 0.5 (± rounding)
    assert cousins.max() - cousins.min() < 1e-12 and cousins.max() == pytest.approx(0.5)
    assert S[same_sub & off].min() > 0.8 - 1e-12 > 0.5 + 1e-12 > S[~same_cat].max()
    np.testing.assert_allclose(np.diag(S), 1.0)  # every world note has a keyword
    assert len(dpp(np.zeros(len(S)), S, 20, 0.0, check_kernel=False)) == 20  # usable as a DPP kernel


def test_cosine_similarity_is_the_normalised_gram_matrix():
    X = np.random.default_rng(1).normal(size=(7, 3))
    expected = X @ X.T / np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1))
    np.testing.assert_allclose(cosine_similarity(X), expected, atol=1e-12)
    assert cosine_similarity(np.array([[0, 0], [1, 2]]))[0].tolist() == [0.0, 0.0]


def loop_neighbour_quality(vectors, truth, queries, k):
    unit = lambda x: x / np.linalg.norm(x)  # noqa: E731
    cos = lambda X, i, j: unit(X[i]) @ unit(X[j])  # noqa: E731
    true_cosine, overlap = [], []
    for i in queries:
        others = [j for j in range(len(vectors)) if j != i]
        found = sorted(others, key=lambda j: (-cos(vectors, i, j), j))[:k]
        best = sorted(others, key=lambda j: (-cos(truth, i, j), j))[:k]
        true_cosine.append(np.mean([cos(truth, i, j) for j in found]))
        overlap.append(len(set(found) & set(best)) / k)
    return np.array(true_cosine), np.array(overlap)


def test_neighbour_quality_equals_the_brute_force_loop(monkeypatch):
    import course.rerank.similarity as similarity

    monkeypatch.setattr(similarity, "CHUNK", 4)  # several blocks
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(30, 4))
    for noise in (0.0, 0.5, 3.0):
        vectors = np.hstack([truth, np.zeros((30, 1))]) + noise * rng.normal(size=(30, 5))
        queries = rng.choice(30, 11, replace=False)
        for k in (1, 5):
            got = neighbour_quality(vectors, truth, queries, k)
            expected = loop_neighbour_quality(vectors, truth, queries, k)
            np.testing.assert_allclose(got[0], expected[0], atol=1e-12)
            np.testing.assert_array_equal(got[1], expected[1])
    assert (neighbour_quality(truth, truth, np.arange(30), 5)[1] == 1).all()


@pytest.mark.slow
def test_on_the_world_two_tower_neighbours_of_the_long_tail_are_poor_content_ones_are_not():
    world = W.load("small")
    logs = world.impressions
    clicks = np.bincount(logs.item_id[logs.click == 1], minlength=len(world.items))
    truth = world.item_truth[[f"latent_{j}" for j in range(world.config.latent_dim)]].to_numpy()
    queries = np.random.default_rng(0).choice(len(truth), 1500, replace=False)
    tail, head = clicks[queries] == 0, clicks[queries] >= 10
    two_tower = neighbour_quality(two_tower_item_vectors(world, logs), truth, queries)[0]
    content = neighbour_quality(world.item_content, truth, queries)[0]
    assert two_tower[tail].mean() < 0.1 < 0.2 < two_tower[head].mean()  # random pairs: about 0
    assert content[tail].mean() > 0.85 and abs(content[tail].mean() - content[head].mean()) < 0.05


def test_two_tower_item_vectors_are_deterministic_and_leave_torch_alone():
    import torch

    world = W.generate("tiny")
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    first = two_tower_item_vectors(world, world.impressions, epochs=1, output_dim=4, seed=3)
    assert torch.rand(1) == before
    assert first.shape == (len(world.items), 4)
    np.testing.assert_array_equal(first, two_tower_item_vectors(world, world.impressions, epochs=1,
                                                                output_dim=4, seed=3))
    assert two_tower_item_vectors(world, world.impressions, features="world", epochs=1).shape[0] == len(world.items)


@pytest.mark.parametrize("call, error, match", [
    (lambda: tag_similarity([0, 1], [0], ["a", "b"]), ValueError, "same length"),
    (lambda: tag_similarity([0.5, 1.0], [0, 1], ["a", "b"]), TypeError, "category_ids must have an integer"),
    (lambda: tag_similarity([0, 1], [0, 1], ["a", 3]), TypeError, "keywords must be strings"),
    (lambda: tag_similarity([0, 1], [0, 1], ["a", "b"], weights=(1, 2)), ValueError, "three numbers"),
    (lambda: tag_similarity([0, 1], [0, 1], ["a", "b"], weights=(1, -2, 0)), ValueError, "weights"),
    (lambda: cosine_similarity(np.ones(3)), ValueError, "2-D"),
    (lambda: cosine_similarity([[np.nan, 1.0]]), ValueError, "finite"),
    (lambda: neighbour_quality(np.eye(3), np.eye(4), [0], 1), ValueError, "one row per item"),
    (lambda: neighbour_quality(np.eye(3), np.eye(3), [3], 1), ValueError, r"queries must be item ids in \[0, 3\)"),
    (lambda: neighbour_quality(np.eye(3), np.eye(3), [0], 3), ValueError, "k must be below"),
    (lambda: neighbour_quality(np.eye(3), np.eye(3), [0], 0), ValueError, "k must be a positive int"),
    (lambda: two_tower_item_vectors("small", None), TypeError, "world must be"),
])
def test_bad_inputs_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_two_tower_bad_options():
    world = W.generate("tiny")
    with pytest.raises(ValueError, match="features must be 'id' or 'world'"):
        two_tower_item_vectors(world, world.impressions, features="content")
    with pytest.raises(ValueError, match="no click"):
        two_tower_item_vectors(world, world.impressions[world.impressions.click == 2])
