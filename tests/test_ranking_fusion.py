"""course.ranking.fusion against plain Python loops, examples worked by hand and properties."""
import math

import numpy as np
import pytest

from course.ranking.fusion import (ecommerce_fusion, linear_fusion, multiplicative_fusion,
                                   rank_fusion, video_fusion)

RNG = np.random.default_rng(0)
N_ITEMS, N_TARGETS = 30, 4
P_CLICK = RNG.uniform(size=N_ITEMS)
OTHERS = RNG.uniform(size=(N_ITEMS, N_TARGETS))
WEIGHTS = RNG.uniform(0.5, 3.0, size=N_TARGETS)
EXPONENTS = RNG.uniform(0.2, 2.0, size=N_TARGETS)


def loop_linear(p_click, others, weights):
    return [p_click[i] + sum(weights[x] * others[i][x] for x in range(len(weights)))
            for i in range(len(p_click))]


def loop_multiplicative(p_click, others, weights):
    return [p_click[i] * (1 + sum(weights[x] * others[i][x] for x in range(len(weights))))
            for i in range(len(p_click))]


def loop_video(predictions, weights, exponents):
    scores = []
    for row in predictions:
        score = 1.0
        for t, p in enumerate(row):
            score *= (1 + weights[t] * p) ** exponents[t]
        scores.append(score)
    return scores


def loop_rank(predictions, weights, alpha, beta):
    n, n_targets = len(predictions), len(predictions[0])
    scores = [0.0] * n
    for t in range(n_targets):
        for i in range(n):
            # rank = 1 + items strictly better + equal items with a smaller index
            rank = 1 + sum(1 for j in range(n) if predictions[j][t] > predictions[i][t]
                           or (predictions[j][t] == predictions[i][t] and j < i))
            scores[i] += weights[t] / (rank ** alpha[t] + beta[t])
    return scores


def loop_ecommerce(p_click, p_cart, p_pay, price, exponents):
    a1, a2, a3, a4 = exponents
    return [p_click[i] ** a1 * p_cart[i] ** a2 * p_pay[i] ** a3 * price[i] ** a4
            for i in range(len(p_click))]


def test_linear_and_multiplicative_against_loops():
    np.testing.assert_allclose(linear_fusion(P_CLICK, OTHERS, WEIGHTS),
                               loop_linear(P_CLICK, OTHERS, WEIGHTS), rtol=1e-12)
    np.testing.assert_allclose(multiplicative_fusion(P_CLICK, OTHERS, WEIGHTS),
                               loop_multiplicative(P_CLICK, OTHERS, WEIGHTS), rtol=1e-12)


def test_linear_and_multiplicative_by_hand_and_one_target_as_a_vector():
    # click 0.2, like 0.5 (w 2), share 0.1 (w 10): 0.2 + 1 + 1 = 2.2 and 0.2 · (1 + 2) = 0.6
    assert linear_fusion([0.2], [[0.5, 0.1]], [2.0, 10.0]) == pytest.approx([2.2])
    assert multiplicative_fusion([0.2], [[0.5, 0.1]], [2.0, 10.0]) == pytest.approx([0.6])
    np.testing.assert_allclose(linear_fusion(P_CLICK, OTHERS[:, 0], 2.0),
                               linear_fusion(P_CLICK, OTHERS[:, :1], [2.0]))
    # a scalar weight is broadcast over the targets
    np.testing.assert_allclose(linear_fusion(P_CLICK, OTHERS, 1.5),
                               linear_fusion(P_CLICK, OTHERS, [1.5] * N_TARGETS))


def test_video_against_loop_and_by_hand():
    np.testing.assert_allclose(video_fusion(OTHERS, WEIGHTS, EXPONENTS),
                               loop_video(OTHERS, WEIGHTS, EXPONENTS), rtol=1e-12)
    # (1 + 1·0.5)^2 · (1 + 3·1)^0.5 = 2.25 · 2
    assert video_fusion([[0.5, 1.0]], [1.0, 3.0], [2.0, 0.5]) == pytest.approx([4.5])
    np.testing.assert_array_equal(video_fusion(OTHERS, 0.0, EXPONENTS), 1.0)  # no weight: all 1


def test_rank_against_loop_with_ties():
    predictions = RNG.integers(0, 4, size=(N_ITEMS, N_TARGETS)).astype(float)  # many ties
    beta = RNG.uniform(0, 2, size=N_TARGETS)
    np.testing.assert_allclose(rank_fusion(predictions, WEIGHTS, EXPONENTS, beta),
                               loop_rank(predictions, WEIGHTS, EXPONENTS, beta), rtol=1e-12)
    np.testing.assert_allclose(rank_fusion(OTHERS, WEIGHTS, EXPONENTS, beta),
                               loop_rank(OTHERS, WEIGHTS, EXPONENTS, beta), rtol=1e-12)


def test_rank_fusion_three_items_two_targets_by_hand():
    predictions = [[0.2, 0.9],   # ranks (2, 1)
                   [0.3, 0.1],   # ranks (1, 3)
                   [0.1, 0.5]]   # ranks (3, 2)
    # w = (1, 1), α = (1, 2), β = (0, 1): 1/r1 + 1/(r2² + 1)
    expected = [1 / 2 + 1 / 2, 1 / 1 + 1 / 10, 1 / 3 + 1 / 5]
    assert rank_fusion(predictions, [1.0, 1.0], [1.0, 2.0], [0.0, 1.0]) == pytest.approx(expected)


def test_rank_fusion_ties_go_to_the_smaller_index():
    # all equal: items get ranks 1, 2, 3 in index order
    assert rank_fusion([[0.5], [0.5], [0.5]], 1.0, 1.0, 0.0) == pytest.approx([1, 1 / 2, 1 / 3])


def test_rank_fusion_is_invariant_to_increasing_transforms_of_each_target():
    predictions = RNG.uniform(0.01, 0.99, size=(N_ITEMS, 3))
    transformed = np.column_stack([np.log(predictions[:, 0] / (1 - predictions[:, 0])),  # logit
                                   1000 * predictions[:, 1] ** 3 + 7,
                                   np.exp(predictions[:, 2])])
    np.testing.assert_array_equal(rank_fusion(predictions, [1, 2, 3], 0.7, 1.0),
                                  rank_fusion(transformed, [1, 2, 3], 0.7, 1.0))


def test_ecommerce_against_loop_and_expected_revenue():
    p_click, p_cart, p_pay = RNG.uniform(size=(3, N_ITEMS))
    price = RNG.uniform(1, 500, size=N_ITEMS)
    exponents = [0.8, 1.2, 0.5, 0.3]
    np.testing.assert_allclose(ecommerce_fusion(p_click, p_cart, p_pay, price, exponents),
                               loop_ecommerce(p_click, p_cart, p_pay, price, exponents), rtol=1e-12)
    # all α = 1: the expected revenue, which a simulation of the funnel agrees with
    revenue = ecommerce_fusion(p_click, p_cart, p_pay, price, [1, 1, 1, 1])
    np.testing.assert_allclose(revenue, p_click * p_cart * p_pay * price, rtol=1e-12)
    rng = np.random.default_rng(1)
    n = 200_000
    click = rng.uniform(size=n) < p_click[0]
    cart = click & (rng.uniform(size=n) < p_cart[0])
    pay = cart & (rng.uniform(size=n) < p_pay[0])
    simulated = pay.mean() * price[0]
    sd = price[0] * math.sqrt(revenue[0] / price[0] * (1 - revenue[0] / price[0]) / n)
    assert simulated == pytest.approx(revenue[0], abs=4 * sd)


def test_ecommerce_zero_exponent_drops_a_factor():
    np.testing.assert_allclose(ecommerce_fusion([0.1, 0.0], [0.5, 0.5], [0.2, 0.2], [30.0, 10.0],
                                                [1, 1, 1, 0]), [0.01, 0.0])


BAD_COMMON = [
    ("weights", lambda: linear_fusion(P_CLICK, OTHERS, [1.0, 2.0]), ValueError, "length 4"),
    ("weights nan", lambda: multiplicative_fusion(P_CLICK, OTHERS, [1, 2, np.nan, 1]), ValueError,
     "finite"),
    ("weights str", lambda: linear_fusion(P_CLICK, OTHERS, "1"), TypeError, "weights"),
    ("weights 2-D", lambda: linear_fusion(P_CLICK, OTHERS, np.ones((2, 2))), ValueError, "weights"),
    ("p nan", lambda: linear_fusion([np.nan] + [0.1] * 29, OTHERS, WEIGHTS), ValueError, "finite"),
    ("p negative", lambda: linear_fusion(-P_CLICK, OTHERS, WEIGHTS), ValueError, r"\[0, 1\]"),
    ("p above 1", lambda: multiplicative_fusion(P_CLICK, OTHERS + 1, WEIGHTS), ValueError, r"\[0, 1\]"),
    ("rows", lambda: linear_fusion(P_CLICK[:5], OTHERS, WEIGHTS), ValueError, "one row per item"),
    ("p_click 2-D", lambda: linear_fusion(OTHERS, OTHERS, WEIGHTS), ValueError, "1-D"),
    ("p str", lambda: linear_fusion(["a"], [[0.1]], [1.0]), TypeError, "p_click"),
    ("video weights negative", lambda: video_fusion(OTHERS, -WEIGHTS, EXPONENTS), ValueError, ">= 0"),
    ("video exponents", lambda: video_fusion(OTHERS, WEIGHTS, [1.0]), ValueError, "length 4"),
    ("video 1-D", lambda: video_fusion(P_CLICK, WEIGHTS, EXPONENTS), ValueError, "2-D"),
    ("rank alpha", lambda: rank_fusion(OTHERS, WEIGHTS, 0.0, 1.0), ValueError, "alpha must be > 0"),
    ("rank beta", lambda: rank_fusion(OTHERS, WEIGHTS, 1.0, -1.0), ValueError, "beta must be >= 0"),
    ("rank weights", lambda: rank_fusion(OTHERS, WEIGHTS[:3], 1.0, 1.0), ValueError, "length 4"),
    ("rank nan", lambda: rank_fusion(np.full((2, 2), np.nan), 1.0, 1.0, 1.0), ValueError, "finite"),
    ("rank bool", lambda: rank_fusion(np.ones((2, 2), dtype=bool), 1.0, 1.0, 1.0), TypeError,
     "predictions"),
    ("ecommerce exponents", lambda: ecommerce_fusion(P_CLICK, P_CLICK, P_CLICK, P_CLICK, [1, 1, 1]),
     ValueError, "length 4"),
    ("ecommerce exponent negative",
     lambda: ecommerce_fusion(P_CLICK, P_CLICK, P_CLICK, P_CLICK, [1, 1, 1, -1]), ValueError, ">= 0"),
    ("ecommerce price", lambda: ecommerce_fusion(P_CLICK, P_CLICK, P_CLICK, -P_CLICK, [1, 1, 1, 1]),
     ValueError, "price must be >= 0"),
    ("ecommerce lengths", lambda: ecommerce_fusion(P_CLICK, P_CLICK[:3], P_CLICK, P_CLICK, [1] * 4),
     ValueError, "p_cart must have length 30"),
    ("ecommerce pay", lambda: ecommerce_fusion(P_CLICK, P_CLICK, P_CLICK + 1, P_CLICK, [1] * 4),
     ValueError, "p_pay"),
    ("ecommerce price inf", lambda: ecommerce_fusion([0.1], [0.1], [0.1], [np.inf], [1] * 4),
     ValueError, "finite"),
]


@pytest.mark.parametrize("call, error, match", [case[1:] for case in BAD_COMMON],
                         ids=[case[0] for case in BAD_COMMON])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
