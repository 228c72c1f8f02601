"""The MMoE paper's synthetic experiment on a fuller grid than notebook 03b can afford.

Not a speed benchmark (``benchmarks.run`` does not collect it): notebook 03b runs 3 seeds, 2,000
training rows and 10 epochs to stay within its time budget, and says so; this script runs the
same models and protocol with more seeds and epochs, and at the issue's d = 100 with more rows,
so the notebook's reading can be checked. Run it under the kernel pins:

    python -m benchmarks.mmoe_synthetic_grid            # prints the tables

Protocol as in the notebook: mmoe_synthetic(p, seed) split train / validation / test, the epoch
chosen on validation (``train`` keeps the best one), the loss measured once on test; mean ± sd
over seeds, and the paired change from p = 1 (each seed against itself).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from course.ranking import MMoE, PLE, SharedBottom, mmoe_synthetic
from course.training import train

CORRELATIONS = (1.0, 0.9, 0.5, 0.1)
SETTINGS = {  # name: (d, train/valid/test rows, epochs, seeds, shared-bottom width)
    "d=10, 2000 rows, 40 epochs, 8 seeds": (10, (2000, 1000, 2000), 40, range(8), 34),
    "d=100, 10000 rows, 20 epochs, 3 seeds": (100, (10000, 2000, 4000), 20, range(3), 40),
}


def _mse(model, batch):
    return ((model(batch[0]) - batch[1]) ** 2).mean()


def run_setting(d, sizes, epochs, seeds, width, batch_size=256, learning_rate=0.03) -> pd.DataFrame:
    models = {"shared-bottom": lambda: SharedBottom(d, hidden=(width,), tasks=("y1", "y2")),
              "MMoE": lambda: MMoE(d, n_experts=4, expert_hidden=8, tasks=("y1", "y2")),
              "PLE": lambda: PLE(d, n_specific=1, n_shared=2, expert_hidden=8, tasks=("y1", "y2"))}
    rows = []
    for p in CORRELATIONS:
        for seed in seeds:
            data = mmoe_synthetic(sum(sizes), p, d=d, seed=seed)
            cuts = np.cumsum(sizes)[:-1]
            parts = [(torch.from_numpy(a.astype(np.float32)), torch.from_numpy(b.astype(np.float32)))
                     for a, b in zip(np.split(data.x, cuts), np.split(data.y, cuts))]
            for name, make in models.items():
                torch.manual_seed(seed)
                model = make()
                train(model, _mse, parts[0], parts[1], epochs=epochs, batch_size=batch_size,
                      learning_rate=learning_rate, seed=seed)
                with torch.no_grad():
                    rows.append({"model": name, "p": p, "seed": seed, "loss": _mse(model, parts[2]).item()})
    return pd.DataFrame(rows)


def main() -> None:
    import os

    from course.reproducibility import missing_pins
    if missing_pins(os.environ):  # stored numbers are only comparable under the pins
        raise SystemExit(f"run under the kernel pins (course/reproducibility.py); missing: {missing_pins(os.environ)}")
    torch.set_num_threads(1)
    for title, (d, sizes, epochs, seeds, width) in SETTINGS.items():
        results = run_setting(d, sizes, epochs, seeds, width)
        summary = results.groupby(["model", "p"])["loss"].agg(["mean", "std"]).round(4)
        paired = results.pivot_table(index=["model", "seed"], columns="p", values="loss")
        change = paired.sub(paired[1.0], axis=0).groupby("model").agg(["mean", "std"]).round(4)
        print(f"\n### {title}\n\ntest loss, mean and sd over seeds\n\n{summary.unstack('model').to_string()}"
              f"\n\nchange from p = 1, paired by seed\n\n{change.to_string()}")


if __name__ == "__main__":
    main()
