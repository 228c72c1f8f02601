"""Keeping a two-tower model fresh: full update (全量更新) vs incremental update (增量更新).

The note (Part 2, section 5) describes two schedules that industry runs *together*:

* **Full update** (全量更新): every night, start from *yesterday's full checkpoint* (not a random
  initialisation) and train **one epoch** on **yesterday's data, randomly shuffled**; then publish
  the new user tower and rebuild the item vector index. :func:`full_update`.
* **Incremental update** (增量更新, online learning 在线学习): during the day, stream the new
  logs in **time order** (no shuffling: the data arrives that way) and take gradient steps on
  the **id embeddings only** (ID Embedding), every other parameter frozen; publish the fresh
  user id embeddings within hours. :func:`incremental_update`.
* The incremental model is thrown away each night: the next full update starts from the last
  *full* checkpoint, never from the incrementally updated one. :func:`full_plus_incremental`
  serves, on day d, last night's full checkpoint plus day d's incremental updates.

Why not incremental alone? A few hours of data are biased (the evening crowd is not the
morning crowd, interests swing), and non-shuffled, time-ordered steps pull the embeddings
towards whatever came last; the dense layers never adapt at all; and nothing ever resets the
id embeddings, so every noisy step stays in them (with Adam, a row moves by about the learning
rate per step whatever the size of its gradient). The full update, shuffled over a whole day,
keeps the model's overall fit; the incremental one adds freshness.

Both schedules are plain loops over :func:`course.training.train`, the course's one training
loop: a full update is one ``train(..., epochs=1)`` call per day; an incremental update is one
``train`` call per time-ordered mini-batch (a single gradient step each), sharing one optimizer
built over the embedding parameters only, so its moment estimates carry across the stream.
"""
from __future__ import annotations

import copy
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from course._checks import check_positive_int
from course.training import train

__all__ = ["embedding_parameter_names", "id_embedding_rows", "full_update", "incremental_update",
           "full_plus_incremental", "time_ordered"]


def embedding_parameter_names(model: nn.Module) -> list[str]:
    """Names of the weights of every ``nn.Embedding`` inside ``model``, in registration order.

    Examples
    --------
    >>> model = nn.Sequential(nn.Embedding(5, 2), nn.Linear(2, 1))
    >>> embedding_parameter_names(model)
    ['0.weight']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [f"{prefix}.weight" if prefix else "weight"
            for prefix, module in model.named_modules() if isinstance(module, nn.Embedding)]


def time_ordered(times, *arrays) -> tuple[np.ndarray, ...]:
    """Rows of ``arrays`` sorted by ``times`` (stable: ties keep their log order).

    Parameters
    ----------
    times : array-like of shape (n_rows,)
        A sortable time stamp, e.g. ``day * 24 + hour``.
    *arrays : ndarray, each of shape (n_rows, ...)

    Examples
    --------
    >>> time_ordered([3, 1, 3, 0], np.array([10, 11, 12, 13]))
    (array([13, 11, 10, 12]),)
    """
    times = np.asarray(times)
    if times.ndim != 1 or any(len(a) != len(times) for a in arrays):
        raise ValueError("times must be 1-D and every array must have len(times) rows")
    order = np.argsort(times, kind="stable")
    return tuple(np.asarray(a)[order] for a in arrays)


def _check_days(days_data, name: str) -> list[tuple]:
    if not isinstance(days_data, Sequence) or isinstance(days_data, (str, bytes)) or len(days_data) == 0:
        raise ValueError(f"{name} must be a non-empty list with one tuple of arrays per day")
    days = []
    for d, day in enumerate(days_data):
        day = (day,) if isinstance(day, (np.ndarray, torch.Tensor)) else tuple(day)
        if not day or len({len(a) for a in day}) != 1 or len(day[0]) == 0:
            raise ValueError(f"{name}[{d}] must be a tuple of aligned, non-empty arrays")
        days.append(day)
    return days


def full_update(model: nn.Module, days_data, loss_fn: Callable, *, batch_size: int = 512,
                learning_rate: float = 1e-3, optimizer: str = "adam", seed: int = 0) -> list[nn.Module]:
    """Daily full updates: checkpoint_d = one shuffled epoch on day d, from checkpoint_{d-1}.

    Parameters
    ----------
    model : torch.nn.Module
        The starting checkpoint (trained on the history); not modified.
    days_data : list of tuple of ndarray
        ``days_data[d]`` holds the aligned arrays of day d (e.g. ``(user_ids, item_ids)``);
        each day is visited once, every row exactly once, in a shuffled order.
    loss_fn : callable ``(model, batch) -> scalar Tensor``
        As for :func:`course.training.train`.
    batch_size, learning_rate, optimizer
        Passed to ``train``; a fresh optimizer each night, as a nightly job would start one.
    seed : int
        Day d shuffles with ``seed + d``: same seed, same checkpoints.

    Returns
    -------
    list of torch.nn.Module
        ``len(days_data)`` checkpoints; element d has seen days 0..d of ``days_data``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Linear(1, 1, bias=False)
    >>> mse = lambda m, batch: ((m(batch[0]) - 2 * batch[0]) ** 2).mean()
    >>> day = (torch.linspace(-1, 1, 32).unsqueeze(1),)
    >>> checkpoints = full_update(model, [day] * 30, mse, batch_size=4, learning_rate=0.05)
    >>> len(checkpoints), round(checkpoints[-1].weight.item(), 2)
    (30, 2.0)
    """
    days = _check_days(days_data, "days_data")
    checkpoints, current = [], copy.deepcopy(model)
    for d, day in enumerate(days):
        current = copy.deepcopy(current)  # yesterday's checkpoint stays published and untouched
        train(current, loss_fn, day, epochs=1, batch_size=batch_size, learning_rate=learning_rate,
              optimizer=optimizer, seed=seed + d, progress=False)
        checkpoints.append(current)
    return checkpoints


def id_embedding_rows(model: nn.Module) -> dict[str, np.ndarray]:
    """The id rows of a :class:`~course.recall.two_tower.model.TwoTowerModel`'s embedding tables.

    Each tower keeps all its fields in one ``nn.Embedding`` with the id field first, so the id
    embeddings (ID Embedding) are its first ``cardinalities[0]`` rows. Pass the result as
    ``trainable_rows`` to :func:`incremental_update` to update only those, as the note does.

    Returns
    -------
    dict
        ``{"user_tower.embedding.weight": arange(n_users), "item_tower.embedding.weight": arange(n_items)}``
    """
    config = getattr(model, "config", None)
    names = set(embedding_parameter_names(model))
    wanted = {"user_tower.embedding.weight", "item_tower.embedding.weight"}
    if config is None or not wanted <= names:
        raise TypeError(f"expected a TwoTowerModel with tables {sorted(wanted)}, got {sorted(names)}")
    return {"user_tower.embedding.weight": np.arange(config.user_cardinalities[0]),
            "item_tower.embedding.weight": np.arange(config.item_cardinalities[0])}


def _frozen_row_masks(parameters: dict, trainable_rows) -> dict[str, torch.Tensor]:
    """For each restricted table, a bool mask of the rows that must NOT move."""
    masks = {}
    for name, rows in (trainable_rows or {}).items():
        if name not in parameters or not parameters[name].requires_grad:
            raise ValueError(f"trainable_rows names {name!r}, which is not an updated parameter")
        n_rows = parameters[name].shape[0]
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
            raise ValueError(f"trainable_rows[{name!r}] must lie in [0, {n_rows}), got {rows.min()}..{rows.max()}")
        frozen = np.ones(n_rows, dtype=bool)
        frozen[rows] = False
        masks[name] = torch.from_numpy(frozen)
    return masks


def incremental_update(model: nn.Module, stream, loss_fn: Callable, *, batch_size: int = 256,
                       learning_rate: float = 1e-3, parameter_names: Sequence[str] | None = None,
                       trainable_rows: dict | None = None, seed: int = 0) -> list[nn.Module]:
    """Online learning (在线学习) of the embeddings only, on time-ordered mini-batches.

    For each day, the rows are taken **in the given (time) order**, ``batch_size`` at a time, and
    each batch is one Adam step on the parameters in ``parameter_names``; every other parameter
    has ``requires_grad`` off (no gradient is even computed for it) and stays bit-for-bit equal.
    ``trainable_rows`` narrows a table further to some of its rows (the id rows of a table that
    also holds categorical fields): the other rows are written back after every step.

    Parameters
    ----------
    model : torch.nn.Module
        Starting point (e.g. this morning's full checkpoint); not modified.
    stream : list of tuple of ndarray
        ``stream[d]``: day d's aligned arrays, already sorted by time (see :func:`time_ordered`).
    loss_fn : callable ``(model, batch) -> scalar Tensor``
    batch_size : int
        Rows per step (a streaming job's window).
    learning_rate : float
    parameter_names : sequence of str, optional
        Parameters to update; default: every ``nn.Embedding`` weight
        (:func:`embedding_parameter_names`). Each must be an embedding weight.
    trainable_rows : dict of str to array-like of int, optional
        ``{parameter name: rows that may change}``, e.g. :func:`id_embedding_rows`.
    seed : int
        Seeds ``train`` (step i uses ``seed + i``); the order itself is not random.

    Returns
    -------
    list of torch.nn.Module
        The model at the end of each day, carried on from day to day (incremental only,
        never reset by a full update: the schedule whose drift the notebook measures).

    Examples
    --------
    >>> model = nn.Sequential(nn.Embedding(4, 2), nn.Linear(2, 1))
    >>> loss = lambda m, batch: (m(batch[0]).squeeze(1) - 1).pow(2).mean()
    >>> out = incremental_update(model, [(torch.tensor([0, 1, 2, 3]),)], loss, batch_size=2,
    ...                          trainable_rows={"0.weight": [0, 1, 2]})[-1]
    >>> torch.equal(out[1].weight, model[1].weight), torch.equal(out[0].weight[3], model[0].weight[3])
    (True, True)
    >>> torch.equal(out[0].weight[:3], model[0].weight[:3])
    False
    """
    days = _check_days(stream, "stream")
    batch_size = check_positive_int(batch_size, "batch_size")
    allowed = embedding_parameter_names(model)
    names = list(allowed if parameter_names is None else parameter_names)
    unknown = [name for name in names if name not in allowed]
    if not names or unknown:
        raise ValueError(f"parameter_names must be non-empty embedding weights among {allowed}, "
                         f"got unknown {unknown}")
    current = copy.deepcopy(model)
    parameters = dict(current.named_parameters())
    for name, parameter in parameters.items():
        parameter.requires_grad_(name in names)  # frozen: the dense layers (全连接层) stay as published
    frozen_masks = _frozen_row_masks(parameters, trainable_rows)
    frozen_values = {name: parameters[name].detach()[mask].clone() for name, mask in frozen_masks.items()}
    # One optimizer for the whole stream: Adam's moments carry across steps, as in a streaming job.
    step_optimizer = torch.optim.Adam([parameters[name] for name in names], lr=learning_rate)
    snapshots, step = [], 0
    for day in days:
        n_rows = len(day[0])
        for start in range(0, n_rows, batch_size):  # time order: NO shuffling across batches
            batch = tuple(array[start:start + batch_size] for array in day)
            train(current, loss_fn, batch, epochs=1, batch_size=len(batch[0]),
                  optimizer=step_optimizer, seed=seed + step, progress=False)
            with torch.no_grad():  # Adam's momentum would move untouched rows: write them back
                for name, mask in frozen_masks.items():
                    parameters[name][mask] = frozen_values[name]
            step += 1
        snapshot = copy.deepcopy(current)
        for parameter in snapshot.parameters():
            parameter.requires_grad_(True)  # a published model is a normal, trainable model
        snapshots.append(snapshot)
    return snapshots


def full_plus_incremental(model: nn.Module, full_checkpoints: Sequence[nn.Module], stream, loss_fn: Callable,
                          **incremental_options) -> list[nn.Module]:
    """The industry's schedule: day d serves last night's *full* checkpoint plus day d's
    incremental updates; at night the incremental model is discarded (note §5).

    ``served[d] = incremental_update(start_d, [stream[d]])``, with ``start_0 = model`` and
    ``start_d = full_checkpoints[d - 1]``: whatever the stream did to day d-1's model never
    reaches day d (the reset that :func:`incremental_update` alone lacks).

    Parameters
    ----------
    model : torch.nn.Module
        The checkpoint that day 0 starts from (the one ``full_checkpoints`` were trained from).
    full_checkpoints : sequence of torch.nn.Module
        :func:`full_update`'s output on the same days, one per day of ``stream``.
    stream : list of tuple of ndarray
        As for :func:`incremental_update`: day d's rows in time order.
    loss_fn : callable ``(model, batch) -> scalar Tensor``
    **incremental_options
        Passed to :func:`incremental_update` (``batch_size``, ``learning_rate``,
        ``trainable_rows``, ``seed``...); each day's stream starts a fresh optimizer.

    Returns
    -------
    list of torch.nn.Module
        The model served at the end of each day.

    Examples
    --------
    >>> model = nn.Sequential(nn.Embedding(4, 2), nn.Linear(2, 1))
    >>> loss = lambda m, batch: m(batch[0]).pow(2).mean()
    >>> days = [(torch.tensor([0, 1]),), (torch.tensor([2, 3]),)]
    >>> served = full_plus_incremental(model, full_update(model, days, loss), days, loss)
    >>> len(served), torch.equal(served[1][1].weight, full_update(model, days, loss)[0][1].weight)
    (2, True)
    """
    days = _check_days(stream, "stream")
    if len(full_checkpoints) != len(days):
        raise ValueError(f"need one full checkpoint per day of the stream: got {len(full_checkpoints)} "
                         f"checkpoints for {len(days)} days")
    mornings = [model, *full_checkpoints[:-1]]  # the full checkpoint each day starts from
    return [incremental_update(start, [day], loss_fn, **incremental_options)[-1]
            for start, day in zip(mornings, days)]
