"""Plumbing of the chapter 5 experiments (tested, so the notebooks stay short): the oracle's
click probability of logged rows, the ranker's input tensors, and one training run.

The protocol: histories are each impression's last N clicks strictly before it (from the whole
log, so a test-day row sees the test day's earlier requests, as a served request would); the
ranker trains on a sample of early days' rows, picks its epoch on a validation day, and is
scored on the last day against the oracle's probabilities of the same rows (the ceiling).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from course._checks import check_positive_int, check_world
from course.behaviour.ranker import BehaviourRanker
from course.behaviour.sequences import Sequences
from course.features import same_category_above
from course.metrics import auc, gauc
from course.seed import private_torch_rng
from course.training import train

__all__ = ["logged_click_probability", "ranker_inputs", "fit_ranker", "ranker_scores",
           "evaluate_scores"]


def logged_click_probability(world, impressions: pd.DataFrame) -> np.ndarray:
    """The oracle's P(click) of each logged row (its day, hour, position and the same-category
    notes above it in its slate): the probabilities the clicks were drawn from, shape (n,).
    Pass whole slates (the same-category count is taken among the rows given)."""
    check_world(world)
    n_same = same_category_above(impressions, world.oracle.items["category"])
    probability = np.zeros(len(impressions))
    days = impressions["day"].to_numpy()
    for day in np.unique(days):                       # a loop over the few days of the log
        rows = days == day
        part = impressions[rows]
        probability[rows] = world.oracle.click_probability(
            part["user_id"].to_numpy(), part["item_id"].to_numpy(), day=int(day),
            hour=part["hour"].to_numpy(), position=part["position"].to_numpy(),
            n_same_category_before=n_same[rows])
    return probability


def ranker_inputs(impressions: pd.DataFrame, sequences: Sequences, rows, features=None) -> tuple:
    """``(user_ids, item_ids, history_items, mask, hours_ago, clicks)`` tensors of ``rows``
    (positions into ``impressions`` and ``sequences``, which must be aligned), then
    ``(categorical, numeric)`` of a :class:`course.features.FeatureSet` aligned with them."""
    if len(sequences) != len(impressions):
        raise ValueError(f"sequences must have one row per impression ({len(impressions)}), "
                         f"got {len(sequences)}")
    rows = np.asarray(rows)
    return (torch.as_tensor(impressions["user_id"].to_numpy(np.int64)[rows]),
            torch.as_tensor(impressions["item_id"].to_numpy(np.int64)[rows]),
            torch.as_tensor(sequences.items[rows]), torch.as_tensor(sequences.mask[rows]),
            torch.as_tensor(sequences.hours_ago[rows]),
            torch.as_tensor(impressions["click"].to_numpy()[rows], dtype=torch.float32),
            *(() if features is None else (torch.as_tensor(features.categorical[rows]),
                                           torch.as_tensor(features.numeric[rows]))))


def _loss(model, batch):
    return torch.nn.functional.binary_cross_entropy_with_logits(model(*batch[:5], *batch[6:]), batch[5])


def ranker_scores(model, data: tuple, batch_size: int = 8192) -> np.ndarray:
    """The model's click logits for ``data`` (from :func:`ranker_inputs`), shape (n,)."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(*(x[i:i + batch_size] for x in data[:5] + data[6:]))
                          for i in range(0, len(data[0]), batch_size)]).numpy()


def _auc_metric(model, batch):
    return auc(batch[5].numpy(), ranker_scores(model, batch))


@private_torch_rng
def fit_ranker(item_category, train_data: tuple, valid_data: tuple, pooling: str, seed: int = 0,
               *, epochs: int = 4, batch_size: int = 1024, learning_rate: float = 1e-2,
               **model_options) -> BehaviourRanker:
    """Build a :class:`BehaviourRanker` with ``torch.manual_seed(seed)`` and train it with
    :func:`course.training.train` on binary cross-entropy, keeping the epoch of best validation
    AUC (patience 1). ``model_options`` go to the ranker (``dim``, ``n_users``, …);
    ``feature_cardinalities``, ``n_numeric`` (and ``feature_dim``) add a
    :class:`course.features.FeatureEmbedding` of those fields."""
    check_positive_int(epochs, "epochs")
    torch.manual_seed(seed)
    options = {"n_users": 0, "dim": 8, "hidden": (32,), "attention_hidden": (16,),
               "item_ids_in_sequence": False} | model_options
    if "feature_cardinalities" in options:           # built here, after the seed
        from course.features import FeatureEmbedding
        cards, n_numeric = options.pop("feature_cardinalities"), options.pop("n_numeric")
        options["features"] = FeatureEmbedding(cards, n_numeric=n_numeric, dim=options.pop("feature_dim", 4))
    model = BehaviourRanker(item_category, pooling=pooling, **options)
    train(model, _loss, train_data, valid_data, epochs=epochs, batch_size=batch_size,
          learning_rate=learning_rate, metric=_auc_metric, patience=1, seed=seed)
    return model


def evaluate_scores(user_ids, clicks, scores: dict) -> pd.DataFrame:
    """AUC and GAUC of each named score array on the same rows, one row per name."""
    return pd.DataFrame([{"model": name, "AUC": auc(clicks, s), "GAUC": gauc(user_ids, clicks, s)}
                         for name, s in scores.items()]).set_index("model")
