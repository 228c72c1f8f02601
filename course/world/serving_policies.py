"""A personalised serving policy (个性化线上策略): logs as a mature feed would write them.

The world's legacy logs come from a mix of broad channels (popular, fresh, random...): much of
what a user was shown and did not click was never meant for them. In a mature feed every
exposure (曝光) has passed recall (召回) *and* ranking (排序), so the shown-but-unclicked notes
are ones the system judged the user interested in. :func:`noisy_ranking_policy` serves such a
feed in the simulated world without a trained ranker:

1. **recall**: each user's candidates come from any recall model (e.g. a two-tower top-500);
2. **ranking**: a decent but imperfect ranker is *simulated* by the true click probability
   plus noise (the simulator's truth: a teaching device that no real system can read)::

       score(u, i) = log P(click | u, i) + T · G_ui,      G_ui ~ Gumbel(0, 1) i.i.d.

   T = 0 is a perfect ranker; a large T is a random order of the recalled notes;
3. **pages**: the user's j-th request of the day shows ranks ``j·k .. j·k + k - 1``, as if
   the user scrolled on (``k`` = slate size).

By the Gumbel-max trick, the top-k of ``scores + T · Gumbel`` is a draw *without
replacement* from ``softmax(scores / T)`` (the Plackett-Luce model): the first note is i with
probability ``exp(s_i / T) / Σ_j exp(s_j / T)`` (here ``∝ P(click)^(1/T)``), the second is
drawn the same way among the rest, and so on (E. J. Gumbel, 1954; W. Kool, H. van Hoof,
M. Welling, "Stochastic Beams and Where to Find Them", ICML 2019). :func:`gumbel_top_k` does
this for many rows at once.
"""
from __future__ import annotations


import numpy as np
import scipy.sparse as sp

from course._arrays import rank_within_groups
from course._checks import check_array, check_int, check_nonnegative_int, check_real
from course.seed import as_generator

__all__ = ["gumbel_top_k", "noisy_ranking_policy"]

CHUNK_PAIRS = 200_000  # (user, note) pairs per oracle call: its temporaries are ~50 floats per pair


def _check_temperature(temperature) -> float:
    return check_real(temperature, "temperature", low=0)


def gumbel_top_k(scores, k: int, temperature: float = 1.0, rng=0) -> np.ndarray:
    """Column indices of the top-``k`` of ``scores + temperature · Gumbel`` per row, best first.

    Equivalent to drawing ``k`` columns without replacement from ``softmax(scores / T)``;
    ``temperature = 0`` gives the exact top-k. A ``-inf`` score (an excluded column) comes
    after every finite one, so it is returned only if a row has fewer than ``k`` finite scores.

    A sampler, not a recommender: it draws the world's served slates, so it returns indices only
    (no scores, no ``-1`` padding: ``k`` may not exceed the columns) and takes the scores with
    exclusions already applied as ``-inf`` rather than an ``exclude=`` matrix; the recommender
    conventions of CONTRIBUTING.md ("API vocabulary") do not apply.

    Parameters
    ----------
    scores : array-like of shape (n_rows, n_columns)
    k : int, 1 <= k <= n_columns
    temperature : float >= 0
    rng : numpy.random.Generator or int seed

    Returns
    -------
    ndarray of shape (n_rows, k), int64

    Examples
    --------
    >>> gumbel_top_k([[0.1, 3.0, 2.0, -1.0]], k=2, temperature=0).tolist()
    [[1, 2]]
    >>> draws = gumbel_top_k(np.log([[0.7, 0.2, 0.1]] * 10_000), k=1, rng=0)
    >>> (np.bincount(draws.ravel()) / 10_000).round(2)    # softmax(log p) = p
    array([0.69, 0.2 , 0.1 ])
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(f"scores must be a non-empty 2-D array (n_rows, n_columns), "
                         f"got shape {scores.shape}")
    if np.isnan(scores).any() or np.isposinf(scores).any():
        raise ValueError("scores must not hold NaN or +inf (-inf excludes a column)")
    k = check_int(k, "k", minimum=1, maximum=scores.shape[1])
    temperature = _check_temperature(temperature)
    perturbed = scores
    if temperature > 0:
        perturbed = scores + temperature * as_generator(rng).gumbel(size=scores.shape)  # (n_rows, n_columns)
    top = np.argpartition(-perturbed, k - 1, axis=1)[:, :k]  # (n_rows, k), unordered
    order = np.lexsort((top, -np.take_along_axis(perturbed, top, 1)), axis=1)  # by score, then index
    return np.take_along_axis(top, order, 1).astype(np.int64)


def noisy_ranking_policy(environment, recalled, temperature: float = 0.5, exclude=None, seed: int = 0):
    """Serve ``recalled`` notes ranked by the true click probability plus Gumbel noise.

    For each user active on the day, the recalled notes that are available today and not
    excluded are ranked once by ``log P(click) + temperature · Gumbel``; the user's j-th request
    gets ranks ``j·k .. j·k + k - 1`` of that ranking, wrapping around if the user asks for
    more pages than the candidates fill, so a note is shown at most once a day unless the user
    scrolls past every candidate.

    Parameters
    ----------
    environment : course.world.Environment
        Its oracle gives ``P(click)`` of the day (hour averaged, top of the slate).
    recalled : ndarray of shape (n_users, n_candidates), int
        Row u: user u's distinct recalled note ids (any order), ``-1`` for padding.
    temperature : float >= 0
        Ranker noise T: 0 serves each user's truly best recalled notes first.
    exclude : scipy.sparse matrix or bool ndarray of shape (n_users, n_columns), optional
        True where the user must not be shown the note (e.g. already exposed: the filter of
        notebook 02c). Notes with ids >= n_columns are never excluded.
    seed : int
        The noise of day t comes from ``default_rng([seed, t])``: same seed, same slates.

    Returns
    -------
    callable ``policy(requests) -> ndarray of shape (n_requests, slate_size)``
        It raises ``ValueError`` if a user of the day has fewer than ``slate_size`` servable
        candidates.

    Examples
    --------
    >>> from course import world
    >>> env = world.generate("tiny").environment(seed=0)
    >>> recalled = np.tile(env.available_items()[:100], (400, 1))   # the same 100 notes for all
    >>> day = env.step(noisy_ranking_policy(env, recalled, temperature=0.5))
    >>> int(day.impressions.groupby(["user_id", "item_id"]).size().max())  # never twice a day
    1
    """
    temperature = _check_temperature(temperature)
    seed = check_nonnegative_int(seed, "seed")
    recalled = check_array(recalled, 2, "recalled", "iu")
    n_users = len(environment.world.users)
    if recalled.shape[0] != n_users or not np.issubdtype(recalled.dtype, np.integer):
        raise ValueError(f"recalled must be an integer array of shape ({n_users}, n_candidates), "
                         f"got {recalled.dtype} {recalled.shape}")
    ordered = np.sort(recalled, axis=1)
    if ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any():
        raise ValueError("recalled repeats a note within a user's row: each candidate must be distinct")
    if exclude is not None:
        exclude = sp.csr_matrix(exclude, dtype=bool)
        if exclude.shape[0] != n_users:
            raise ValueError(f"exclude must have one row per user ({n_users}), got shape {exclude.shape}")

    def policy(requests) -> np.ndarray:
        k = requests.slate_size
        users, inverse = np.unique(requests.user_ids, return_inverse=True)  # today's users
        candidates = recalled[users]  # (n_today, n_candidates)
        servable = (candidates >= 0) & np.isin(candidates, requests.available_items)
        if exclude is not None:
            rows, cols = np.nonzero(servable & (candidates < exclude.shape[1]))
            seen = np.asarray(exclude[users[rows], candidates[rows, cols]]).ravel()
            servable[rows[seen], cols[seen]] = False
        pages = servable.sum(axis=1) // k  # (n_today,) full slates each user can fill
        if (pages < 1).any():
            user = users[np.argmin(pages)]
            raise ValueError(f"user {user} has fewer than {k} servable recalled notes on day {requests.day}")
        rows, cols = np.nonzero(servable)
        log_probability = np.full(candidates.shape, -np.inf)  # -inf: never ranked above a servable note
        for start in range(0, len(rows), CHUNK_PAIRS):  # chunks bound the oracle's temporaries
            chunk = slice(start, start + CHUNK_PAIRS)
            probability = environment.oracle.click_probability(
                users[rows[chunk]], candidates[rows[chunk], cols[chunk]], day=requests.day)
            # clipped so that a servable note never gets -inf, the mark of a non-servable one
            log_probability[rows[chunk], cols[chunk]] = np.log(np.maximum(probability, 1e-300))
        occurrence = rank_within_groups(requests.user_ids)  # (n_requests,)
        page = occurrence % pages[inverse]  # (n_requests,) wraps for users who scroll past the end
        depth = k * (int(page.max()) + 1)  # ranks needed by the deepest page of the day
        ranking = gumbel_top_k(log_probability, depth, temperature,
                               np.random.default_rng([seed, requests.day]))  # (n_today, depth)
        ranks = page[:, None] * k + np.arange(k)  # (n_requests, k)
        positions = ranking[inverse[:, None], ranks]  # (n_requests, k) columns of `candidates`
        return candidates[inverse[:, None], positions]

    return policy
