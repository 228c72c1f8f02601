"""Rules as filters: each rule against its definition, and MMR / DPP + rules against a naive loop."""
import numpy as np
import pytest

from course.rerank import MaxConsecutive, MaxInFirst, OnePerWindow, allowed_by, dpp, mmr


def satisfies(rule, sequence_types) -> bool:
    """The rule's definition read on a whole list of types (plain Python)."""
    t = list(sequence_types)
    hit = [rule.target is None or x == rule.target for x in t]
    if isinstance(rule, MaxConsecutive):
        return not any(all(hit[p] and t[q] == t[p] for q in range(p, p + rule.max_run + 1))
                       for p in range(len(t) - rule.max_run))
    if isinstance(rule, OnePerWindow):
        return not any(hit[p] and t[p] == t[q] for p in range(len(t)) for q in range(p + 1, len(t))
                       if q - p < rule.window)
    if isinstance(rule, MaxInFirst):
        head = [x for x, h in zip(t[:rule.first], hit) if h]
        return all(head.count(x) <= rule.max_count for x in head)
    raise AssertionError(rule)


def random_rules(rng, n):
    types = rng.integers(0, 3, n)
    target = None if rng.random() < 0.5 else int(rng.integers(0, 3))
    return [MaxConsecutive(types, int(rng.integers(1, 4)), target=target),
            OnePerWindow(rng.integers(0, 4, n), int(rng.integers(1, 5)), target=target),
            MaxInFirst(types, int(rng.integers(1, 3)), int(rng.integers(1, 8)))]


def plain_greedy(n, k, rules, score):
    """Filter then pick, by definition: i is allowed if picked + [i] still satisfies every rule;
    ``score(picked, i)`` is the criterion (None: not feasible); first of ties wins."""
    picked = []
    for _ in range(min(k, n)):
        best, best_score = None, -np.inf
        for i in range(n):
            if i in picked or not all(satisfies(r, r.types[picked + [i]]) for r in rules):
                continue
            s = score(picked, i)
            if s is not None and s > best_score:
                best, best_score = i, s
        if best is None:
            break
        picked.append(best)
    return picked


def test_each_rule_allows_exactly_what_keeps_the_list_valid():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 15))
        picked = []
        rules = random_rules(rng, n)
        for _ in range(n):  # a random valid list, grown one allowed item at a time
            for rule in rules:
                expected = [satisfies(rule, rule.types[picked + [i]]) for i in range(n)]
                assert rule.allowed(picked).tolist() == expected
            options = np.flatnonzero(allowed_by(rules, picked, n) & ~np.isin(np.arange(n), picked))
            if not len(options):
                break
            picked.append(int(rng.choice(options)))


@pytest.mark.parametrize("window", [None, 2])
def test_mmr_with_rules_equals_the_naive_filter_then_pick_loop(window):
    rng = np.random.default_rng(1 + (window or 0))
    for _ in range(60):
        n = int(rng.integers(1, 20))
        rewards, sim = rng.integers(0, 4, n).astype(float), rng.normal(size=(n, n))
        rules, k, theta = random_rules(rng, n), int(rng.integers(1, n + 3)), float(rng.choice([0.3, 0.7, 1.0]))

        def score(picked, i):
            S = picked if window is None else picked[-window:]
            return theta * rewards[i] - (1 - theta) * max(sim[i, j] for j in S) if S else theta * rewards[i]

        picked = mmr(rewards, sim, k, theta, window, rules=rules)
        assert picked.tolist() == plain_greedy(n, k, rules, score)
        assert all(satisfies(r, r.types[picked]) for r in rules)


@pytest.mark.parametrize("window", [None, 3])
def test_dpp_with_rules_equals_the_naive_filter_then_pick_loop(window):
    rng = np.random.default_rng(5 + (window or 0))
    for _ in range(40):
        n = int(rng.integers(1, 16))
        X = rng.normal(size=(n, int(rng.integers(1, n + 2))))
        S, rewards = X @ X.T, rng.normal(size=n)
        rules, k, theta = random_rules(rng, n), int(rng.integers(1, n + 3)), 0.6
        L = np.exp(0.75 * rewards)[:, None] * S * np.exp(0.75 * rewards)[None, :]  # α = 0.6 / 0.8

        def score(picked, i):
            W = picked if window is None else picked[max(0, len(picked) - window + 1):]
            T = W + [i]
            d2 = np.linalg.det(S[np.ix_(T, T)]) / (np.linalg.det(S[np.ix_(W, W)]) if W else 1.0)
            return np.linalg.slogdet(L[np.ix_(T, T)])[1] if d2 >= 1e-10 else None

        picked = dpp(rewards, S, k, theta, window, rules=rules)
        assert picked.tolist() == plain_greedy(n, k, rules, score)
        assert all(satisfies(r, r.types[picked]) for r in rules)


def test_rules_are_never_broken_on_larger_random_inputs():
    rng = np.random.default_rng(9)
    for _ in range(20):
        n = 200
        rewards, X = rng.normal(size=n), rng.normal(size=(n, 8))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        rules = random_rules(rng, n)
        for picked in (mmr(rewards, X @ X.T, 40, 0.7, rules=rules),
                       dpp(rewards, X @ X.T, 40, 0.7, window=5, rules=rules)):
            assert all(satisfies(r, r.types[picked]) for r in rules)


def test_lecture_style_example_by_hand():
    # five video notes (type 1) outrank five image notes (type 0); at most 2 in a row
    rewards = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
    types = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    picked = mmr(rewards, np.eye(10), 10, 1.0, rules=[MaxConsecutive(types, 2)])
    assert picked.tolist() == [0, 1, 5, 2, 3, 6, 4, 7, 8]  # two 0s at the end would make 3 in a row
    # at most one ad (type 1) in any 3 notes, ads only
    picked = mmr(rewards, np.eye(10), 6, 1.0, rules=[OnePerWindow(types, 3, target=1)])
    assert picked.tolist() == [0, 5, 6, 1, 7, 8]
    # at most 1 video among the first 4
    picked = mmr(rewards, np.eye(10), 6, 1.0, rules=[MaxInFirst(types, 1, first=4, target=1)])
    assert picked.tolist() == [0, 5, 6, 7, 1, 2]
    # without a target every type is capped: after one of each, nothing may take place 3
    picked = mmr(rewards, np.eye(10), 6, 1.0, rules=[MaxInFirst(types, 1, first=4)])
    assert picked.tolist() == [0, 5]


@pytest.mark.parametrize("make, error, match", [
    (lambda: MaxConsecutive([0.5, 1.0], 2), TypeError, "types must have an integer dtype"),
    (lambda: MaxConsecutive([[0, 1]], 2), ValueError, "types must be a 1-D array"),
    (lambda: MaxConsecutive([0, 1], 0), ValueError, "max_run must be a positive int"),
    (lambda: MaxConsecutive([0, 1], 2, target=True), TypeError, "target must be an int"),
    (lambda: OnePerWindow([0, 1], 0), ValueError, "window must be a positive int"),
    (lambda: MaxInFirst([0, 1], 1, first=0), ValueError, "first must be a positive int"),
    (lambda: MaxInFirst([0, 1], 0, first=3), ValueError, "max_count must be a positive int"),
    (lambda: allowed_by([MaxConsecutive([0, 1], 1), "no"], [], 2), TypeError, "got a str"),
    (lambda: allowed_by([MaxConsecutive([0, 1], 1)], [], 3), ValueError, r"shape \(3,\)"),
    (lambda: dpp(np.ones(2), np.eye(2), 2, 0.5, rules=[MaxInFirst([0, 1, 2], 1, 2)]), ValueError,
     r"MaxInFirst.types must have shape \(2,\)"),
])
def test_bad_rules_raise_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()
