"""The model search behind the defaults of ``course.evaluation.movielens_two_tower`` (MovieLens-100K).

Everything here is judged on validation, never on test: three validation splits (20 % of each
user's train ratings, seeds 0, 1, 2) carved out of the Microsoft Recommenders train split; each
setting trained once per split and scored after every epoch; the setting and epoch count with
the best mean validation nDCG@10 win. Then, for that setting, the ensemble of three seeds is
compared with the single model on the same three splits. The test split is scored once, at the
end, for the choice alone. Notebook 02e shows the last step (one split, the ensemble), 02f the
test score.

Usage (about 4 minutes of CPU on one thread): python tools/movielens_two_tower_search.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from course.datasets import movielens_100k  # noqa: E402
from course.evaluation.movielens import evaluate_top_k, split_matrices  # noqa: E402
from course.evaluation.movielens_two_tower import (movielens_two_tower, validation_ensemble,  # noqa: E402
                                                   validation_grid)

GRID = [{"weight_decay": 2e-4}, {"weight_decay": 3e-4}, {"weight_decay": 5e-4},
        {"weight_decay": 3e-4, "embedding_dim": 64, "output_dim": 128}]
SPLIT_SEEDS = (0, 1, 2)
MAX_EPOCHS = 10


def main() -> None:
    torch.set_num_threads(1)  # reproducible sums (see course/reproducibility.py)
    movielens = movielens_100k()
    train, test, _, _ = split_matrices(movielens.ratings)
    grid = validation_grid(movielens, train, GRID, epochs=MAX_EPOCHS, split_seeds=SPLIT_SEEDS,
                           temperature=0.1, n_models=1)
    # validation_grid returns the grid's columns; a setting's label is its dict (NaN: not set)
    grid["setting"] = [str({name: (int(value) if name != "weight_decay" else value)
                            for name, value in row.items()
                            if name in ("weight_decay", "embedding_dim", "output_dim") and value == value})
                       for row in grid.to_dict("records")]
    mean = grid.groupby(["setting", "epochs"], sort=False)["valid nDCG@10"].mean().unstack(0)
    print("mean validation nDCG@10 over splits", SPLIT_SEEDS, "\n", mean.round(4).to_string())
    (epochs, setting), best = mean.stack().idxmax(), mean.stack().max()
    print(f"chosen: {setting}, {epochs} epochs (mean validation nDCG@10 {best:.4f})")
    chosen = {**next(s for s in GRID if str(s) == setting), "epochs": int(epochs), "temperature": 0.1}
    single, ensemble = [], []
    for split_seed in SPLIT_SEEDS:
        table = validation_ensemble(movielens, train, n_models=3, split_seed=split_seed, **chosen)
        single.append(table["seed 0"].iloc[-1])
        ensemble.append(table["ensemble"].iloc[-1])
        print(f"split {split_seed}: seed 0 alone {single[-1]:.4f}, ensemble of 3 {ensemble[-1]:.4f}")
    n_models = 3 if sum(ensemble) > sum(single) else 1
    print(f"n_models = {n_models}; now, once, the test split:")
    top = movielens_two_tower(movielens, n_models=n_models, **chosen)(train, 10)
    print({name: round(value, 4) for name, value in evaluate_top_k(top, test, 10).items()})


if __name__ == "__main__":
    main()
