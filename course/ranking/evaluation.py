"""Evaluating a multi-task ranker: AUC and GAUC per task, and the oracle's ceiling on the same rows.

Click is measured on every impression; a post-click task (like, collect, share, comment,
follow) on the clicked impressions only, since its label means "given a click" and that is
what its head predicts (:func:`course.ranking.masked_multitask_loss`). The oracle's true
probabilities, scored by the same metric on the same rows, are the ceiling no model can pass
in expectation: the labels are coin flips with those probabilities.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course._checks import check_array, check_world
from course.metrics import auc, gauc

__all__ = ["oracle_action_probabilities", "task_metrics"]

CONTEXT = ("day", "hour", "request_id", "user_id", "item_id", "position")


def oracle_action_probabilities(world, impressions: pd.DataFrame) -> pd.DataFrame:
    """The true P(click) and P(action | click) of every logged impression, in its context.

    Each row gets the probabilities the simulator drew its labels from: its day, hour, slot
    position and the same-category notes above it in its slate
    (:func:`course.features.same_category_above`; pass whole slates).

    Parameters
    ----------
    world : course.world.World
    impressions : DataFrame with day, hour, request_id, user_id, item_id, position

    Returns
    -------
    DataFrame, index of ``impressions``, columns click, like, collect, share, comment, follow,
    watch_fraction (the oracle's :meth:`~course.world.oracle.Oracle.action_probabilities`)
    """
    from course.features import same_category_above

    world = check_world(world)
    if not isinstance(impressions, pd.DataFrame):
        raise TypeError(f"impressions must be a pandas DataFrame, got {type(impressions).__name__}")
    missing = [c for c in CONTEXT if c not in impressions]
    if missing:
        raise ValueError(f"impressions lacks the columns {missing} (needs {list(CONTEXT)})")
    n_same = same_category_above(impressions, world.items["category_id"].to_numpy())
    day = impressions["day"].to_numpy()
    parts = []
    for d in np.unique(day):                      # the oracle's drift is per day: few days
        rows = np.flatnonzero(day == d)
        part = impressions.iloc[rows]
        # int64: the logs store position as int8, and np.log2 of an int8 array is float16
        probabilities = world.oracle.action_probabilities(
            part["user_id"].to_numpy(np.int64), part["item_id"].to_numpy(np.int64), day=int(d),
            hour=part["hour"].to_numpy(np.int64), position=part["position"].to_numpy(np.int64),
            n_same_category_before=n_same[rows])
        parts.append(probabilities.set_index(pd.Index(rows)))
    return pd.concat(parts).sort_index().set_index(impressions.index)


def task_metrics(targets: dict, scores: dict, user_ids, tasks=None, click: str = "click") -> pd.DataFrame:
    """AUC and GAUC of each task's scores, click on all rows, the others on clicked rows.

    Parameters
    ----------
    targets : dict of str to 0/1 array of shape (n,)
        Labels per task (``FeatureSet.targets``), with the ``click`` column.
    scores : dict of str to array of shape (n,)
        Predicted scores per task (probabilities or logits: only the order matters).
    user_ids : int array of shape (n,)
        For GAUC, the impression-weighted mean of per-user AUC.
    tasks : sequence of str, optional
        Default: the keys of ``scores``.

    Returns
    -------
    DataFrame indexed by task with columns rows, positive rate, AUC, GAUC

    Examples
    --------
    >>> targets = {"click": np.array([1, 1, 0, 1, 1, 0]), "like": np.array([1, 0, 0, 0, 1, 0])}
    >>> scores = {"click": np.array([0.9, 0.8, 0.1, 0.7, 0.6, 0.2]),
    ...           "like": np.array([0.7, 0.2, 0.9, 0.1, 0.9, 0.9])}   # rows 2, 5: no click, unscored
    >>> task_metrics(targets, scores, np.array([0, 0, 0, 1, 1, 1]))[["rows", "AUC"]]
           rows  AUC
    task
    click     6  1.0
    like      4  1.0
    """
    if not isinstance(targets, dict) or not isinstance(scores, dict):
        raise TypeError("targets and scores must be dicts of task name -> array")
    tasks = tuple(scores) if tasks is None else tuple(tasks)
    user_ids = check_array(user_ids, 1, "user_ids")
    if click not in targets:
        raise ValueError(f"targets must hold the {click!r} labels (post-click tasks use them)")
    clicked = np.asarray(targets[click]) == 1
    rows = []
    for task in tasks:
        if task not in targets or task not in scores:
            raise ValueError(f"task {task!r} needs both targets and scores; targets have "
                             f"{sorted(targets)}, scores {sorted(scores)}")
        y, s = np.asarray(targets[task]), np.asarray(scores[task])
        if y.shape != user_ids.shape or s.shape != user_ids.shape:
            raise ValueError(f"{task}: labels, scores and user_ids must have shape {user_ids.shape}, "
                             f"got {y.shape} and {s.shape}")
        keep = slice(None) if task == click else clicked
        rows.append({"task": task, "rows": int(y[keep].size), "positive rate": float(y[keep].mean()),
                     "AUC": auc(y[keep], s[keep]), "GAUC": gauc(user_ids[keep], y[keep], s[keep])})
    return pd.DataFrame(rows).set_index("task")
