"""The shared input checks of ``course/_checks.py`` (CONTRIBUTING, "API vocabulary").

Each check: the right type and value passes (and comes back normalised), a wrong type is a
``TypeError``, a bad value a ``ValueError``, and the message names the argument and shows what
came.
"""
import numpy as np
import pytest

from course._checks import (check_array, check_int, check_nonnegative_int, check_positive_int,
                            check_probability, check_real, check_rng, check_world)
from course.seed import as_generator


@pytest.mark.parametrize("value", [0, 3, np.int64(7), np.uint8(2)])
def test_check_nonnegative_int_passes_ints_and_returns_a_python_int(value):
    out = check_nonnegative_int(value, "day")
    assert out == value and type(out) is int


@pytest.mark.parametrize("check, bad_type, bad_value", [
    (check_nonnegative_int, 1.0, -1),
    (check_positive_int, 2.5, 0),
    (lambda v, name: check_int(v, name, minimum=2, maximum=5), "3", 6),
])
def test_int_checks(check, bad_type, bad_value):
    with pytest.raises(TypeError, match=rf"^my_arg .*got {bad_type!r} \({type(bad_type).__name__}\)"):
        check(bad_type, "my_arg")
    with pytest.raises(TypeError, match="my_arg"):
        check(True, "my_arg")                         # a bool is not a count
    with pytest.raises(ValueError, match=rf"^my_arg .*got {bad_value}$"):
        check(bad_value, "my_arg")


def test_check_int_bounds_in_the_message():
    assert check_int(5, "n", minimum=2, maximum=5) == 5
    with pytest.raises(ValueError, match=r"n must be an int in \[2, 5\], got 1"):
        check_int(1, "n", minimum=2, maximum=5)
    with pytest.raises(ValueError, match="n must be an int >= 2, got 1"):
        check_int(1, "n", minimum=2)
    assert check_int(-10, "n") == -10


@pytest.mark.parametrize("value", [0, 0.0, 0.3, 1, np.float32(0.5), np.float64(1.0)])
def test_check_probability_passes_numbers_in_the_unit_interval(value):
    out = check_probability(value, "share")
    assert out == pytest.approx(float(value)) and type(out) is float


@pytest.mark.parametrize("value", [-0.1, 1.01, float("nan"), float("inf")])
def test_check_probability_bad_value(value):
    with pytest.raises(ValueError, match=r"^share must be a number in \[0, 1\], got"):
        check_probability(value, "share")


@pytest.mark.parametrize("value", ["0.5", None, True, [0.5], 1j])
def test_check_probability_wrong_type(value):
    with pytest.raises(TypeError, match=r"^share must be a number in \[0, 1\], got .*\("):
        check_probability(value, "share")


def test_check_probability_open_ends_and_a_lower_top():
    with pytest.raises(ValueError, match=r"rate must be a number in \(0, 1\), got 0"):
        check_probability(0, "rate", low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r"\(0, 1\), got 1"):
        check_probability(1.0, "rate", low_open=True, high_open=True)
    assert check_probability(0.5, "test_share", low_open=True, high=0.5) == 0.5
    with pytest.raises(ValueError, match=r"test_share must be a number in \(0, 0.5\], got 0.6"):
        check_probability(0.6, "test_share", low_open=True, high=0.5)


def test_check_real():
    assert check_real(3, "temperature", low=0) == 3.0
    with pytest.raises(ValueError, match="temperature must be a finite number >= 0, got -1"):
        check_real(-1, "temperature", low=0)
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got 0"):
        check_real(0, "lr", low=0, low_open=True)
    with pytest.raises(ValueError, match="finite"):
        check_real(float("inf"), "lr")
    with pytest.raises(TypeError, match="lr must be .*got '1' \\(str\\)"):
        check_real("1", "lr")


def test_check_rng_and_as_generator():
    generator = np.random.default_rng(0)
    assert check_rng(generator) is generator and as_generator(generator) is generator
    assert check_rng(np.int64(4)).integers(1000) == np.random.default_rng(4).integers(1000)
    with pytest.raises(ValueError, match=r"^rng must be a numpy Generator or a non-negative int seed, got -1$"):
        check_rng(-1)
    with pytest.raises(ValueError, match="^seed must"):
        as_generator(-3, "seed")
    for bad in (0.5, "1", None, True, np.random.RandomState(0)):
        with pytest.raises(TypeError, match="^rng must be a numpy Generator"):
            check_rng(bad)


def test_check_array():
    ids = check_array([3, 1], 1, "user_ids", "iu")
    assert ids.dtype.kind == "i" and ids.tolist() == [3, 1]
    floats = np.arange(6.0).reshape(2, 3)
    assert check_array(floats, 2, "scores", "f") is floats        # returned as is, never cast
    assert check_array(floats, (1, 2), "scores", "iuf").shape == (2, 3)
    assert check_array([], 1, "user_ids", "iu").size == 0         # empty: any dtype
    with pytest.raises(ValueError, match=r"^user_ids must be a 1-D array, got shape \(2, 3\)$"):
        check_array(floats, 1, "user_ids")
    with pytest.raises(ValueError, match=r"scores must be a 1-D or 2-D array, got shape \(\)"):
        check_array(3.0, (1, 2), "scores")
    with pytest.raises(TypeError, match=r"^user_ids must have an integer dtype, got dtype float64$"):
        check_array([1.0], 1, "user_ids", "iu")
    with pytest.raises(TypeError, match="scores must have a floating dtype, got dtype int64"):
        check_array(np.array([1], dtype=np.int64), 1, "scores", "f")
    with pytest.raises(ValueError, match=r"vectors must be non-empty, got shape \(0, 4\)"):
        check_array(np.zeros((0, 4)), 2, "vectors", allow_empty=False)


def test_call_sites_raise_type_error_for_a_wrong_type():
    """Modules that used inline copies now share these checks: a wrong type is a TypeError."""
    import torch

    from course.recall.ann import exact_top_k
    from course.recall.ann.deep_retrieval import PathModel
    from course.recall.ann.ivf import kmeans
    from course.recall.two_tower.losses import pointwise_loss, triplet_hinge_loss
    from course.recall.two_tower.model import Tower

    points = np.arange(12.0).reshape(6, 2)
    with pytest.raises(TypeError, match="embedding_dim"):
        Tower([3], embedding_dim=2.0)
    with pytest.raises(ValueError, match="embedding_dim must be an int >= 1, got 0"):
        Tower([3], embedding_dim=0)
    with pytest.raises(TypeError, match="temperature"):
        pointwise_loss(torch.zeros(2), torch.zeros(2), temperature="1")
    with pytest.raises(ValueError, match="margin must be a finite number >= 0"):
        triplet_hinge_loss(torch.zeros(2), torch.zeros(2), margin=-0.5)
    with pytest.raises(TypeError, match="depth"):
        PathModel(2, 2.0, 3)
    with pytest.raises(ValueError, match="seed"):
        kmeans(points, 2, seed=-1)
    with pytest.raises(TypeError, match="max_iter"):
        kmeans(points, 2, max_iter=2.5)
    with pytest.raises(ValueError, match=r"n_clusters must be an int in \[1, 6\], got 7"):
        kmeans(points, 7)
    with pytest.raises(TypeError, match="queries must have a real"):
        exact_top_k(np.array([["a", "b"]]), points, 2)
    with pytest.raises(ValueError, match=r"item_vectors must be a 2-D array, got shape \(6,\)"):
        exact_top_k(points, points[:, 0], 2)


def test_check_world_is_the_one_world_check(tiny_world):
    from course.recall.yardstick import RecallYardstick
    from course.world.balance import interest_balance, platform_rates

    assert check_world(tiny_world) is tiny_world
    for call in (check_world, platform_rates, interest_balance,
                 lambda world: RecallYardstick.from_world(world, day=1)):
        with pytest.raises(TypeError, match="world must be a course.world.World, got str"):
            call("small")
    with pytest.raises(TypeError, match="env must be a course.world.World, got NoneType"):
        check_world(None, "env")


def test_more_call_sites_follow_the_rule(tiny_world):
    import pandas as pd

    from course.evaluation.movielens import stratified_split
    from course.evaluation.movielens_two_tower import movielens_two_tower
    from course.metrics.online import lt_retention
    from course.recall.yardstick import merge_with_quotas
    from course.world.serving_policies import gumbel_top_k, noisy_ranking_policy

    ratings = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [0, 1, 2]})
    with pytest.raises(ValueError, match=r"ratio must be a number in \(0, 1\), got 1.0"):
        stratified_split(ratings, ratio=1.0)
    with pytest.raises(TypeError, match="seed"):
        stratified_split(ratings, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        stratified_split(ratings, seed=-1)
    with pytest.raises(TypeError, match="epochs"):
        movielens_two_tower(movielens=object(), epochs=2.0)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        movielens_two_tower(movielens=object(), learning_rate=0.0)
    activity = pd.DataFrame({"user_id": [1, 1], "day": [0, 1]})
    with pytest.raises(TypeError, match="start_day"):
        lt_retention(activity, start_day=0.0, horizon=2)
    with pytest.raises(TypeError, match="quotas\\['a'\\]"):
        merge_with_quotas({"a": np.array([[1]])}, {"a": 1.0}, 1)
    with pytest.raises(ValueError, match="quotas\\['a'\\] must be a non-negative int"):
        merge_with_quotas({"a": np.array([[1]])}, {"a": -1}, 1)
    with pytest.raises(TypeError, match="k must be an int in"):
        gumbel_top_k([[1.0, 2.0]], k=1.0)
    with pytest.raises(TypeError, match="temperature"):
        gumbel_top_k([[1.0, 2.0]], k=1, temperature="hot")
    environment = tiny_world.environment(seed=0)
    recalled = np.tile(environment.available_items()[:20], (len(tiny_world.users), 1))
    with pytest.raises(TypeError, match="recalled must have an integer dtype"):
        noisy_ranking_policy(environment, recalled.astype(float))
    with pytest.raises(ValueError, match="seed"):
        noisy_ranking_policy(environment, recalled, seed=-2)
    oracle = tiny_world.oracle
    with pytest.raises(TypeError, match="day"):
        oracle.drift(1.0)
    with pytest.raises(ValueError, match="day must be a non-negative int"):
        oracle.drift(-1)
    with pytest.raises(TypeError, match="k must be a positive int"):
        oracle.top_k([0], 2.0, day=0)
    with pytest.raises(ValueError, match="k must be a positive int"):
        oracle.top_k_by_day([0], 0, days=[0])


def test_check_tensor_and_check_width():
    import torch

    from course._checks import check_tensor, check_width
    x = torch.zeros(2, 3)
    assert check_tensor(x, "x", 2) is x                       # never casts, never copies
    codes = torch.zeros(2, 3, dtype=torch.int64)
    assert check_tensor(codes, "codes", 2, floating=False) is codes
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        check_tensor(np.zeros((2, 3)), "x", 2)
    with pytest.raises(ValueError, match=r"x must be a 3-D tensor, got shape \(2, 3\)"):
        check_tensor(x, "x", 3)
    with pytest.raises(TypeError, match="floating dtype"):
        check_tensor(codes, "codes", 2)
    for bad in (x, codes.bool()):
        with pytest.raises(TypeError, match="integer dtype"):
            check_tensor(bad, "codes", 2, floating=False)
    check_width(x, "x", 1, 3, "fields")
    with pytest.raises(ValueError, match=r"x must have 4 fields \(axis 1\), got shape \(2, 3\)"):
        check_width(x, "x", 1, 4, "fields")


def test_tensor_call_sites_follow_the_rule():
    import torch

    from course.recall.two_tower.losses import in_batch_softmax_loss, pointwise_loss
    with pytest.raises(TypeError, match="positive_scores must be a torch.Tensor"):
        pointwise_loss(np.zeros(3), torch.zeros(3))
    with pytest.raises(TypeError, match="user_vectors must be a torch.Tensor"):
        in_batch_softmax_loss(np.eye(2), torch.eye(2))
    with pytest.raises(ValueError, match="user_vectors must be a 2-D tensor"):
        in_batch_softmax_loss(torch.zeros(2), torch.zeros(2))
