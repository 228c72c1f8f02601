"""course.world.interaction_matrix: the one way from the logs to a users × items matrix."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course.world import interaction_matrix

LOGS = pd.DataFrame({"user_id": [0, 0, 2, 1], "item_id": [1, 1, 0, 3], "click": [1, 0, 1, 1],
                     "like": [1, 0, 0, 1], "share": [0, 0, 0, 1]})


def test_matches_the_hand_built_matrix_for_every_kind_of_weights():
    weights = {"click": 1, "like": 2, "share": 3}
    cases = [(None, np.ones(len(LOGS))), ("click", LOGS["click"].to_numpy(float)),
             (weights, sum(w * LOGS[c] for c, w in weights.items()).to_numpy(float))]
    for spec, data in cases:
        expected = sp.csr_matrix((data, (LOGS.user_id, LOGS.item_id)), shape=(4, 5))
        got = interaction_matrix(LOGS, 4, 5, weights=spec)
        assert isinstance(got, sp.csr_matrix) and got.shape == (4, 5)
        assert (got != expected).nnz == 0


def test_sizes_are_given_not_guessed():
    # user 3 and items 2, 4 never appear: their row and columns exist all the same
    assert interaction_matrix(LOGS, 4, 5).shape == (4, 5)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        interaction_matrix(LOGS, 2, 5)
    with pytest.raises(ValueError, match="item ids"):
        interaction_matrix(LOGS, 4, 3)


def test_bad_inputs_say_what_was_expected():
    with pytest.raises(TypeError):
        interaction_matrix(LOGS.to_numpy(), 4, 5)
    with pytest.raises(TypeError):
        interaction_matrix(LOGS, 4.0, 5)
    with pytest.raises(ValueError, match="columns"):
        interaction_matrix(LOGS, 4, 5, weights={"collect": 1})
    with pytest.raises(TypeError, match="weights"):
        interaction_matrix(LOGS, 4, 5, weights=[1, 2])
    with pytest.raises(ValueError, match="user"):
        interaction_matrix(LOGS, 4, 5, user_col="user")
