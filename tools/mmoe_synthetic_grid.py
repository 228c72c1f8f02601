"""The MMoE paper's synthetic experiment at its own scale, stored for notebook 03b.

Ma et al. (KDD 2018, section 3.2) train on two regression tasks whose correlation p is a dial
(``course.ranking.mmoe_synthetic``). At the paper's input dimension d = 100 the models need
about 10,000 training rows and tens of epochs: a few minutes on one core, too long for a
notebook. This script runs that grid once and writes ``data/mmoe_synthetic_grid.csv``;
notebook 03b reads the file, and ``tests/test_mmoe_grid.py`` re-runs one cell of it and checks
that it reproduces the stored losses.

Protocol (``course.ranking.task_correlation_grid``): d = 100, m = 10 sines whose shapes α, β
are fixed across runs (``sines_seed=0``: the paper's "given parameters"); 10,000 / 2,000 /
4,000 rows for train / validation / test; Adam, batch 256, 120 epochs, the validation and
test losses recorded after every epoch (``course.ranking.best_within`` turns them into early
stopping with any budget up to 120 epochs); p in (1.0, 0.9, 0.5, 0.1); seeds 0–4 for data and
initialisation. Models of similar size: a shared bottom of 113 units with a linear head per
task; MMoE with 8 experts of 16 units; PLE (one extraction layer) with 2 experts per task and 4
shared, 16 units each. Two learning rates are tried; for each model and budget the notebook
reports the one with the lower mean *validation* loss (test losses of both are stored).

Usage, under the kernel pins (about 20 minutes on one thread):
    python tools/mmoe_synthetic_grid.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from course.ranking import MMoE, PLE, SharedBottom, best_within, task_correlation_grid  # noqa: E402
from course.reproducibility import missing_pins  # noqa: E402

OUTPUT = ROOT / "data" / "mmoe_synthetic_grid.csv"
D = 100
CORRELATIONS = (1.0, 0.9, 0.5, 0.1)
SEEDS = (0, 1, 2, 3, 4)
LEARNING_RATES = (3e-3, 1e-2)
EPOCHS = 120
PROTOCOL = dict(sizes=(10_000, 2_000, 4_000), d=D, m=10, epochs=EPOCHS, batch_size=256, sines_seed=0)
MODELS = {
    "shared-bottom": lambda: SharedBottom(D, hidden=(113,), tasks=("y1", "y2")),
    "MMoE": lambda: MMoE(D, n_experts=8, expert_hidden=16, tasks=("y1", "y2")),
    "PLE": lambda: PLE(D, n_specific=2, n_shared=4, expert_hidden=16, tasks=("y1", "y2")),
}


def run(correlations=CORRELATIONS, seeds=SEEDS, learning_rates=LEARNING_RATES, models=MODELS,
        epochs=EPOCHS) -> pd.DataFrame:
    """Every (learning rate, model, p, seed, epoch) of the grid, one row each."""
    torch.set_num_threads(1)  # reproducible sums (see course/reproducibility.py)
    parts = []
    for lr in learning_rates:
        grid = task_correlation_grid(models, correlations, seeds, learning_rate=lr, **(PROTOCOL | {"epochs": epochs}))
        parts.append(grid.assign(learning_rate=lr))
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    if missing_pins(os.environ):  # stored numbers are only comparable under the pins
        raise SystemExit(f"run under the kernel pins (course/reproducibility.py); missing: {missing_pins(os.environ)}")
    grid = run()
    grid.to_csv(OUTPUT, index=False, float_format="%.7g")
    for budget in (40, EPOCHS):
        best = best_within(grid, budget)
        print(f"budget {budget} epochs: mean validation loss by learning rate\n",
              best.groupby(["model", "learning_rate"])["valid_loss"].mean().unstack().round(4).to_string())
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(grid)} rows)")


if __name__ == "__main__":
    main()
