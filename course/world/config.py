"""Sizes and the hand-set coefficients of the world's ground truth.

Every number that shapes behaviour lives here, named, so a teacher can point at it and a
learner can change it and regenerate. The click model they feed is documented in
:mod:`course.world.oracle`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class ClickModel:
    """Coefficients of the true click logit (see :class:`course.world.oracle.Oracle`).

    Interest against quality: with the former 0.8 / 0.8 the small world's true logit was 52 %
    item main effect and the best single list held 32 % of a user's true top-50, so popularity
    matched ItemCF against the oracle (recall@50 0.196 vs 0.200). At 1.05 / 0.4 (bias lowered
    to keep the logged CTR at 0.114): item share 0.32, best list 0.14, ItemCF 0.214 vs
    popularity 0.104, as on real data (ML-100K: 0.45 vs 0.25); the oracle AUC on the logs stays
    0.86. ``course.world.interest_balance`` measures it (tests/test_world_balance.py).
    """

    bias: float = -3.45
    interest_weight: float = 1.05     # x best-matching interest centre . item vector
    drift_weight: float = 0.8         # x short-term (drifting) interest . item vector
    quality_weight: float = 0.4       # x item quality
    age_category_scale: float = 0.5   # std of the age bucket x top category cross table
    gender_category_scale: float = 0.4
    same_city: float = 0.6            # user and note in the same city
    hour_type_scale: float = 0.4      # evening favours video, mornings favour image notes
    followed_author: float = 0.8
    circle_item: float = 5.0          # small-circle member x one of the circle's notes
    position_slope: float = 0.35      # - slope * log2(1 + position)
    fatigue: float = 0.3              # - fatigue * (same-category notes shown above in the slate)


@dataclass(frozen=True)
class WorldConfig:
    """Everything that determines a world. Two worlds with equal configs are identical.

    Parameters
    ----------
    name : str
        ``"tiny"`` (unit tests), ``"small"`` (every notebook) or ``"large"`` (benchmarks).
    seed : int
        The one seed the whole world is generated from.
    """

    name: str
    seed: int
    n_users: int
    n_authors: int
    n_items: int                      # notes published before day 0
    n_days: int                       # logged days 0 .. n_days-1
    n_circles: int
    circle_size: int
    circle_items: int
    latent_dim: int = 16
    content_dim: int = 32
    slate_size: int = 10
    max_item_age_days: int = 45       # older notes are no longer served
    initial_age_days: int = 40        # pre-existing notes were published in [-40, -1]
    new_items_per_author_day: float = 0.06
    video_share: float = 0.4
    requests_per_active_day: float = 1.6   # mean; each request is one slate
    drift_persistence: float = 0.8    # short-term interest: s_t = rho s_{t-1} + noise
    drift_scale: float = 0.5
    click: ClickModel = field(default_factory=ClickModel)

    def with_(self, **changes) -> "WorldConfig":
        """A copy with some fields changed (e.g. ``config.with_(n_days=3)``)."""
        return replace(self, **changes)


SIZES: dict[str, WorldConfig] = {
    "tiny": WorldConfig(name="tiny", seed=7, n_users=400, n_authors=60, n_items=800,
                        n_days=3, n_circles=2, circle_size=10, circle_items=12),
    "small": WorldConfig(name="small", seed=2024, n_users=5000, n_authors=600, n_items=8000,
                         n_days=8, n_circles=6, circle_size=20, circle_items=20),
    "large": WorldConfig(name="large", seed=2025, n_users=50000, n_authors=5000,
                         n_items=80000, n_days=8, n_circles=40, circle_size=25,
                         circle_items=30),
}


def get_config(size: "str | WorldConfig") -> WorldConfig:
    """Look up a preset by name, or pass a :class:`WorldConfig` through unchanged."""
    if isinstance(size, WorldConfig):
        return size
    if not isinstance(size, str):
        raise TypeError(f"size must be a preset name or a WorldConfig, got {type(size).__name__}")
    if size not in SIZES:
        raise ValueError(f"unknown world size {size!r}; expected one of {sorted(SIZES)}")
    return SIZES[size]
