"""The one training loop for every torch model of the course.

Models only model (see CONTRIBUTING.md): a two-tower retriever, a ranker and a multi-task model all
train through :func:`train`, which knows nothing about them. The model-specific part is a
``loss_fn(model, batch) -> scalar tensor``, so the loop stays the same ~40 lines that a learner
reads once: shuffle, mini-batch, ``zero_grad`` / ``backward`` / ``step``, validate, keep the
best weights, stop when validation stops improving (early stopping, 早停).

Everything runs on the CPU with torch's default number of threads; to share a machine, call
``torch.set_num_threads(n)`` once in the notebook, never inside library code.
"""
from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from course._checks import check_positive_int
from course.seed import private_torch_rng

__all__ = ["TrainingHistory", "batches", "predict", "train"]

Array = np.ndarray | torch.Tensor
OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


@dataclass
class TrainingHistory:
    """What happened during :func:`train`, one entry per completed epoch (轮次).

    Attributes
    ----------
    train_loss : list of float
        Mean training loss of each epoch (weighted by batch size, measured while training).
    valid_loss : list of float
        Mean validation loss after each epoch; empty without validation data.
    valid_metric : list of float
        ``metric(model, valid_data)`` after each epoch; empty without a metric.
    best_epoch : int or None
        0-based index of the best epoch on the validation data, whose weights ``train``
        restores when ``restore_best``; ``None`` without validation data.
    stopped_early : bool
        Whether training stopped before ``epochs`` because of ``patience``.
    """

    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_metric: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False


def batches(
    *arrays: Array, batch_size: int, shuffle: bool = False, seed: int | np.random.Generator = 0
) -> Iterator[tuple[Array, ...]]:
    """Yield aligned mini-batches (小批量) of rows from arrays that share their first axis.

    Parameters
    ----------
    *arrays : ndarray or Tensor, each of shape (n_rows, ...)
        One or more arrays with the same number of rows.
    batch_size : int
        Rows per batch; the last batch holds the remainder.
    shuffle : bool
        Visit the rows in a random order (one permutation shared by all arrays).
    seed : int or numpy.random.Generator
        Source of the permutation when ``shuffle`` is true. Pass one Generator across epochs to
        get a new order each epoch that is still reproducible.

    Yields
    ------
    tuple
        ``(arrays[0][rows], arrays[1][rows], ...)`` for each batch of row indices.

    Examples
    --------
    >>> x, y = np.arange(5), np.arange(5) * 10
    >>> [(a.tolist(), b.tolist()) for a, b in batches(x, y, batch_size=2)]
    [([0, 1], [0, 10]), ([2, 3], [20, 30]), ([4], [40])]
    """
    if not arrays:
        raise ValueError("batches needs at least one array")
    for array in arrays:
        if not isinstance(array, (np.ndarray, torch.Tensor)) or array.ndim == 0:
            raise TypeError(f"expected numpy arrays or torch tensors with a row axis, got {array!r:.60}")
    lengths = [len(array) for array in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"all arrays must have the same number of rows, got lengths {lengths}")
    check_positive_int(batch_size, "batch_size")
    n_rows, order = lengths[0], None
    if shuffle:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        order = rng.permutation(n_rows)

    def generate() -> Iterator[tuple[Array, ...]]:  # inner generator: the checks above run at call time
        for start in range(0, n_rows, batch_size):
            if order is None:  # contiguous slices are views, no copy
                yield tuple(array[start : start + batch_size] for array in arrays)
            else:
                rows = order[start : start + batch_size]
                torch_rows = torch.from_numpy(rows)
                yield tuple(a[torch_rows] if isinstance(a, torch.Tensor) else a[rows] for a in arrays)

    return generate()


def _as_tensors(data, name: str) -> tuple[torch.Tensor, ...]:
    """Convert a tuple of arrays to tensors once; float arrays take torch's default dtype."""
    if isinstance(data, (np.ndarray, torch.Tensor)):
        data = (data,)
    if not isinstance(data, Sequence) or len(data) == 0:
        raise TypeError(f"{name} must be a non-empty tuple of arrays or tensors, got {type(data).__name__}")
    tensors = []
    for array in data:
        if isinstance(array, np.ndarray):
            # torch.from_numpy shares memory and has no read-only tensors (it warns): copy read-only
            # arrays, e.g. the views pandas 3's .to_numpy() returns, so callers need not.
            if not array.flags.writeable:
                array = array.copy()
            array = torch.from_numpy(np.ascontiguousarray(array))
            # numpy defaults to float64, torch parameters to float32: match the model.
            array = array.to(torch.get_default_dtype()) if array.is_floating_point() else array
        if not isinstance(array, torch.Tensor) or array.ndim == 0:
            raise TypeError(f"{name} must hold numpy arrays or tensors with a row axis, got {array!r:.60}")
        tensors.append(array)
    lengths = [len(tensor) for tensor in tensors]
    if len(set(lengths)) > 1 or lengths[0] == 0:
        raise ValueError(f"arrays in {name} must have the same, non-zero number of rows, got {lengths}")
    return tuple(tensors)


def _make_optimizer(optimizer, model: nn.Module, learning_rate, weight_decay) -> torch.optim.Optimizer:
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or an Optimizer, got {optimizer!r}")
    if not (isinstance(learning_rate, (int, float)) and 0 < learning_rate < math.inf):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if not (isinstance(weight_decay, (int, float)) and 0 <= weight_decay < math.inf):
        raise ValueError(f"weight_decay must be a number >= 0, got {weight_decay!r}")
    return OPTIMIZERS[optimizer](model.parameters(), lr=learning_rate, weight_decay=weight_decay)


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    # Quiet in tests and in CI runs of the notebooks, where a bar is only noise in the outputs.
    return not (os.environ.get("COURSE_QUIET") or os.environ.get("PYTEST_CURRENT_TEST"))


def _checked_loss(loss, where: str) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        raise ValueError(f"loss_fn must return a scalar tensor, got {getattr(loss, 'shape', type(loss))}")
    if not torch.isfinite(loss):
        raise FloatingPointError(f"loss became {loss.item()} {where}; try a lower learning rate")
    return loss


def _mean_loss(model: nn.Module, loss_fn, data, batch_size: int) -> float:
    total = 0.0
    for batch in batches(*data, batch_size=batch_size):
        total += _checked_loss(loss_fn(model, batch), "on the validation data").item() * len(batch[0])
    return total / len(data[0])


@private_torch_rng  # seeds torch for this call only: the caller's generator is left alone
def train(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, tuple[torch.Tensor, ...]], torch.Tensor],
    train_data,
    valid_data=None,
    *,
    epochs: int = 10,
    batch_size: int = 1024,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: str | torch.optim.Optimizer = "adam",
    patience: int | None = None,
    metric: Callable[[nn.Module, tuple[torch.Tensor, ...]], float] | None = None,
    restore_best: bool = True,
    seed: int = 0,
    progress: bool | None = None,
) -> TrainingHistory:
    """Train ``model`` in place by mini-batch gradient descent; return its history.

    Each epoch shuffles ``train_data``, and for each batch computes
    ``loss = loss_fn(model, batch)``, then ``zero_grad``, ``backward``, ``step``. With
    ``valid_data`` it then evaluates, in ``model.eval()`` mode under ``torch.no_grad()``, the
    mean validation loss and ``metric``. The best epoch is the highest ``metric`` if one is
    given, otherwise the lowest validation loss; after ``patience`` epochs without improvement
    training stops (early stopping, 早停, Prechelt 1998, "Early Stopping - But When?") and,
    with ``restore_best``, the best epoch's weights are loaded back.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place; left in ``eval()`` mode at the end.
    loss_fn : callable ``(model, batch) -> Tensor of shape ()``
        Mean loss of a batch, a tuple of tensors sliced from ``train_data`` in the same order.
    train_data, valid_data : tuple of ndarray or Tensor, each of shape (n_rows, ...)
        Aligned arrays (e.g. ``(user_ids, item_ids, labels)``). numpy floats become float32.
    epochs, batch_size : int
        Passes over the training data and rows per step.
    learning_rate, weight_decay : float
        Step size (> 0) and L2 penalty (>= 0): ``"adam"`` and ``"sgd"`` add
        ``weight_decay * w`` to the gradient, i.e. minimise ``loss + weight_decay/2 ||w||^2``;
        ``"adamw"`` decays the weights directly (Loshchilov & Hutter 2019).
    optimizer : {"adam", "adamw", "sgd"} or torch.optim.Optimizer
        A name (Adam: Kingma & Ba 2015), or an optimizer already built on
        ``model.parameters()`` (then ``learning_rate`` and ``weight_decay`` are unused).
    patience : int or None
        Epochs without improvement before stopping; ``None`` trains all ``epochs``.
    metric : callable ``(model, valid_data) -> float`` or None
        Higher is better (e.g. AUC or recall@k); called in eval mode under ``no_grad``.
    restore_best : bool
        Load the best epoch's weights at the end (only with ``valid_data``).
    seed : int
        Seeds the shuffling and ``torch.manual_seed`` (dropout, negative sampling in
        ``loss_fn``): same seed and same initial model, same losses.
    progress : bool or None
        Show a tqdm bar over epochs; ``None`` shows it unless the environment variable
        ``COURSE_QUIET`` is set or pytest is running.

    Returns
    -------
    TrainingHistory
        Per-epoch losses and metrics, ``best_epoch`` and ``stopped_early``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> x = torch.linspace(-1, 1, 64).unsqueeze(1)
    >>> model = nn.Linear(1, 1)
    >>> mse = lambda model, batch: ((model(batch[0]) - batch[1]) ** 2).mean()
    >>> history = train(model, mse, (x, 3 * x), epochs=200, batch_size=16, learning_rate=0.05)
    >>> round(model.weight.item(), 2), history.train_loss[-1] < 1e-4
    (3.0, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError("loss_fn must be callable as loss_fn(model, batch)")
    train_data = _as_tensors(train_data, "train_data")
    valid_data = None if valid_data is None else _as_tensors(valid_data, "valid_data")
    check_positive_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size")
    if patience is not None:
        check_positive_int(patience, "patience")
    if valid_data is None and (patience is not None or metric is not None):
        raise ValueError("patience and metric need valid_data")
    step_optimizer = _make_optimizer(optimizer, model, learning_rate, weight_decay)

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)  # one generator: a new, reproducible order each epoch
    history = TrainingHistory()
    best_score, best_state, epochs_without_improvement = -math.inf, None, 0
    epoch_range = range(epochs)
    bar = None
    if _progress_enabled(progress):
        from tqdm.auto import tqdm  # notebook widget in Jupyter, text bar elsewhere

        epoch_range = bar = tqdm(epoch_range, desc="epochs", unit="epoch")

    for epoch in epoch_range:
        model.train()  # dropout and batch norm in training behaviour
        total = 0.0
        for batch in batches(*train_data, batch_size=batch_size, shuffle=True, seed=rng):
            loss = _checked_loss(loss_fn(model, batch), f"in epoch {epoch}")
            step_optimizer.zero_grad()
            loss.backward()
            step_optimizer.step()
            total += loss.item() * len(batch[0])
        history.train_loss.append(total / len(train_data[0]))
        postfix = {"train_loss": history.train_loss[-1]}

        if valid_data is not None:
            model.eval()
            with torch.no_grad():
                history.valid_loss.append(_mean_loss(model, loss_fn, valid_data, batch_size))
                postfix["valid_loss"] = history.valid_loss[-1]
                if metric is not None:
                    history.valid_metric.append(float(metric(model, valid_data)))
                    postfix["valid_metric"] = history.valid_metric[-1]
            score = history.valid_metric[-1] if metric is not None else -history.valid_loss[-1]
            if score > best_score:
                best_score, history.best_epoch, epochs_without_improvement = score, epoch, 0
                # A deep copy: state_dict() returns views that the next steps would overwrite.
                best_state = copy.deepcopy(model.state_dict()) if restore_best else None
            else:
                epochs_without_improvement += 1
        if bar is not None:
            bar.set_postfix(postfix, refresh=False)  # redraw at tqdm's pace, not every epoch
        if patience is not None and epochs_without_improvement >= patience:
            history.stopped_early = epoch < epochs - 1
            break

    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def predict(
    model: nn.Module,
    forward_fn: Callable[[nn.Module, tuple[torch.Tensor, ...]], torch.Tensor] | None,
    data,
    batch_size: int = 8192,
) -> np.ndarray:
    """Run ``forward_fn(model, batch)`` over ``data`` in batches, without gradients.

    Parameters
    ----------
    model : torch.nn.Module
        Evaluated in ``eval()`` mode; its previous mode is restored afterwards.
    forward_fn : callable ``(model, batch) -> Tensor of shape (batch_rows, ...)`` or None
        ``None`` means ``model(*batch)``.
    data : ndarray or Tensor, or tuple of them, each of shape (n_rows, ...)
        Inputs, sliced in row order (no shuffling).
    batch_size : int
        Rows per forward pass; bounds the memory of large scoring jobs.

    Returns
    -------
    ndarray of shape (n_rows, ...)
        The outputs concatenated along the first axis.

    Examples
    --------
    >>> model = nn.Linear(2, 1)
    >>> out = predict(model, None, np.ones((5, 2)), batch_size=2)
    >>> out.shape, bool(np.allclose(out, model(torch.ones(5, 2)).detach().numpy()))
    ((5, 1), True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    data = _as_tensors(data, "data")
    check_positive_int(batch_size, "batch_size")
    forward_fn = forward_fn or (lambda model, batch: model(*batch))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = [forward_fn(model, batch) for batch in batches(*data, batch_size=batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outputs).numpy()
