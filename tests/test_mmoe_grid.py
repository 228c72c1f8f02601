"""The MMoE paper's grid: ``task_correlation_grid``, ``sines_seed`` and the stored paper-scale run."""
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from course.ranking import (SharedBottom, best_within, mmoe_synthetic, stored_task_correlation_grid,
                            task_correlation_grid)
from course.training import train

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("mmoe_grid_tool", ROOT / "tools" / "mmoe_synthetic_grid.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sines_seed_fixes_the_sines_and_leaves_the_rest():
    a, b = mmoe_synthetic(40, 0.5, d=6, m=3, seed=1), mmoe_synthetic(40, 0.5, d=6, m=3, seed=1, sines_seed=7)
    c = mmoe_synthetic(40, 0.5, d=6, m=3, seed=2, sines_seed=7)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.w, b.w)          # x, u unchanged
    assert not np.array_equal(a.alpha, b.alpha)
    assert np.array_equal(b.alpha, c.alpha) and np.array_equal(b.beta, c.beta)   # shared across seeds
    assert not np.array_equal(b.x, c.x)
    # the labels are rebuilt from the formula with the fixed sines (noise: the residual's part)
    lin = b.x @ b.w.T
    clean = lin + np.sin(b.alpha * lin[:, :, None] + b.beta).sum(axis=2)
    noise = b.y - clean
    assert np.allclose(noise, a.y - (lin + np.sin(a.alpha * lin[:, :, None] + a.beta).sum(axis=2)))


def test_task_one_data_does_not_depend_on_p():
    a, b = mmoe_synthetic(100, 1.0, d=8, seed=3, sines_seed=0), mmoe_synthetic(100, 0.1, d=8, seed=3, sines_seed=0)
    assert np.array_equal(a.y[:, 0], b.y[:, 0]) and not np.array_equal(a.y[:, 1], b.y[:, 1])


def test_grid_equals_a_hand_written_run():
    make = lambda: SharedBottom(6, hidden=(5,), tasks=("y1", "y2"))
    grid = task_correlation_grid({"sb": make}, [0.5], [3], sizes=(120, 40, 60), d=6, m=2, epochs=3,
                                 batch_size=32, learning_rate=0.01, sines_seed=1)
    data = mmoe_synthetic(220, 0.5, d=6, m=2, seed=3, sines_seed=1)
    x, y = torch.from_numpy(data.x.astype(np.float32)), torch.from_numpy(data.y.astype(np.float32))
    torch.manual_seed(3)
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss = lambda m, b: ((m(b[0]) - b[1]) ** 2).mean()
    assert list(grid["epoch"]) == [1, 2, 3]
    for epoch in range(3):
        train(model, loss, (x[:120], y[:120]), epochs=1, batch_size=32, optimizer=optimizer, seed=3000 + epoch)
        with torch.no_grad():
            per_task = ((model(x[160:]) - y[160:]) ** 2).mean(0)
            valid = loss(model, (x[120:160], y[120:160])).item()
        row = grid.iloc[epoch]
        assert row["test_loss"] == pytest.approx(per_task.mean().item(), abs=1e-7)
        assert row["test_loss_y1"] == pytest.approx(per_task[0].item(), abs=1e-7)
        assert row["valid_loss"] == pytest.approx(valid, abs=1e-7)


def test_best_within_is_early_stopping_with_a_budget():
    rng = np.random.default_rng(0)
    grid = pd.DataFrame([{"model": m, "p": p, "seed": s, "epoch": e, "valid_loss": float(rng.integers(0, 5)),
                          "test_loss": rng.random(), "test_loss_y1": 0.0, "test_loss_y2": 0.0}
                         for m in ("a", "b") for p in (1.0, 0.5) for s in (0, 1) for e in range(1, 9)])
    for budget in (1, 3, 8):
        best = best_within(grid, budget)
        assert len(best) == 8
        for _, row in best.iterrows():   # naive: scan the run's epochs up to the budget, first minimum wins
            run = grid[(grid.model == row.model) & (grid.p == row.p) & (grid.seed == row.seed) & (grid.epoch <= budget)]
            first = run.iloc[int(np.argmin(run.valid_loss.to_numpy()))]
            assert row.epoch == first.epoch and row.test_loss == first.test_loss
    with pytest.raises(ValueError):
        best_within(grid, 0)


def test_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="models is empty"):
        task_correlation_grid({}, [1.0], [0])
    with pytest.raises(ValueError, match="sizes"):
        task_correlation_grid({"sb": lambda: SharedBottom(4, hidden=(3,), tasks=("a", "b"))}, [1.0], [0],
                              sizes=(10, 10), d=4)


def test_stored_grid_is_complete():
    grid, tool = stored_task_correlation_grid(), _tool()
    runs = len(tool.LEARNING_RATES) * len(tool.MODELS) * len(tool.CORRELATIONS) * len(tool.SEEDS)
    assert len(grid) == runs * tool.EPOCHS and not grid.isna().any().any()
    assert set(grid["model"]) == set(tool.MODELS) and set(grid["p"]) == set(tool.CORRELATIONS)
    assert set(grid["epoch"]) == set(range(1, tool.EPOCHS + 1))
    assert np.allclose(grid["test_loss"], (grid["test_loss_y1"] + grid["test_loss_y2"]) / 2, rtol=1e-5)


@pytest.mark.slow
def test_stored_grid_reproduces():
    """Re-run one run of the stored grid (MMoE, p = 0.5, seed 1, the larger learning rate): every epoch's losses."""
    tool, stored = _tool(), stored_task_correlation_grid()
    lr, p, seed = tool.LEARNING_RATES[-1], 0.5, 1
    fresh = tool.run(correlations=[p], seeds=[seed], learning_rates=[lr], models={"MMoE": tool.MODELS["MMoE"]})
    old = stored[(stored.learning_rate == lr) & (stored.p == p) & (stored.seed == seed) & (stored.model == "MMoE")]
    merged = fresh.merge(old, on=["model", "p", "seed", "epoch", "learning_rate"], suffixes=("", "_stored"))
    assert len(merged) == tool.EPOCHS
    for column in ("test_loss", "test_loss_y1", "test_loss_y2", "valid_loss"):
        assert np.allclose(merged[column], merged[f"{column}_stored"], rtol=1e-6, atol=0), column
