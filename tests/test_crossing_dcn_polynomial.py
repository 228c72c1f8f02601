"""One cross layer learns the DCN-V2 / TFRS synthetic polynomial and puts its weight on x2·x3.

The data are drawn as in the TensorFlow Recommenders tutorial "Deep & Cross Network (DCN)"
(and the Keras example "Wide, Deep and Cross networks" after it): x1 = country
(200 values), x2 = bananas (24), x3 = cookbooks (6), each scaled to [0, 1), and

    y = 0.1 x1 + 0.4 x2 + 0.7 x3 + 0.1 x1 x2 + 3.1 x2 x3 + 0.1 x3².

One cross layer and a linear head, ``ŷ = hᵀ(x ⊙ (W x + b) + x) + c``, is a quadratic whose
coefficient of x_i x_j is ``h_i W_ij + h_j W_ji`` (of x_i²: ``h_i W_ii``): it can fit y exactly,
which no linear model can.
"""
import numpy as np
import torch
from torch import nn

from course.crossing import CrossLayer
from course.training import train

TRUTH = np.array([[0.0, 0.1, 0.0],   # symmetric cross coefficients: [i, j] multiplies x_i x_j
                  [0.1, 0.0, 3.1],
                  [0.0, 3.1, 0.1]])


def mixer_data(n, seed):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.integers(200, size=n) / 200, rng.integers(24, size=n) / 24,
                         rng.integers(6, size=n) / 6])
    y = 0.1 * x[:, 0] + 0.4 * x[:, 1] + 0.7 * x[:, 2] + (x @ np.triu(TRUTH) * x).sum(1)
    return x, y


class CrossRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.cross, self.head = CrossLayer(3), nn.Linear(3, 1)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        return self.head(self.cross(x0, x0)).squeeze(1)  # (B,)


def test_data_follow_the_tutorial_polynomial():
    x, y = mixer_data(5, seed=1)
    x1, x2, x3 = x.T
    np.testing.assert_allclose(y, 0.1 * x1 + 0.4 * x2 + 0.7 * x3 + 0.1 * x1 * x2 + 3.1 * x2 * x3 + 0.1 * x3 ** 2)


def test_one_cross_layer_learns_the_polynomial_and_its_x2_x3_cross():
    x, y = mixer_data(14_000, seed=0)
    train_x, train_y, test_x, test_y = x[:10_000], y[:10_000], x[10_000:], y[10_000:]
    torch.manual_seed(0)
    model = CrossRegressor()
    train(model, lambda m, batch: ((m(batch[0]) - batch[1]) ** 2).mean(),
          (train_x.astype(np.float32), train_y.astype(np.float32)),
          epochs=150, batch_size=1000, learning_rate=0.1, seed=0)  # ~1 s
    with torch.no_grad():
        predicted = model(torch.tensor(test_x, dtype=torch.float32)).numpy()
    rmse = np.sqrt(np.mean((predicted - test_y) ** 2))
    # The best linear model (least squares with an intercept) cannot represent the crosses.
    design = np.column_stack([np.ones(len(train_x)), train_x])
    coef = np.linalg.lstsq(design, train_y, rcond=None)[0]
    linear_rmse = np.sqrt(np.mean((np.column_stack([np.ones(len(test_x)), test_x]) @ coef - test_y) ** 2))
    assert linear_rmse > 0.25 and rmse < 0.01 and rmse < linear_rmse / 25

    W = model.cross.w.weight.detach().numpy().astype(np.float64)
    h = model.head.weight.detach().numpy()[0].astype(np.float64)
    per_term = h[:, None] * W  # h_i W_ij
    cross = per_term + per_term.T - np.diag(np.diag(per_term))  # coefficient of x_i x_j (and x_i²)
    assert abs(cross[1, 2] - 3.1) < 0.02
    assert np.abs(cross - TRUTH).max() < 0.1
    # The tutorial's picture: the two entries of W linking x2 and x3 are its largest.
    largest_two = set(zip(*np.unravel_index(np.argsort(-np.abs(W), axis=None)[:2], W.shape)))
    assert largest_two == {(1, 2), (2, 1)}
