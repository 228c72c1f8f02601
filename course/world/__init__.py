"""The simulated platform ("the world"): a small Xiaohongshu-like feed whose truth is known.

>>> from course import world
>>> w = world.generate("tiny")       # or world.load("small") for the shipped default
>>> sorted(w.impressions.columns)[:4]
['click', 'collect', 'comment', 'completion']
"""
from course.world.config import SIZES, ClickModel, WorldConfig, get_config
from course.world.core import World, generate
from course.world.environment import DayResult, Environment, Requests, route_by_group

__all__ = ["SIZES", "ClickModel", "WorldConfig", "get_config", "World", "generate",
           "DayResult", "Environment", "Requests", "route_by_group"]

from course.world.storage import ChecksumError, load, save  # noqa: E402

__all__ += ["load", "save", "ChecksumError"]
from course.world.splits import leave_last_out, split_by_day  # noqa: E402

__all__ += ["split_by_day", "leave_last_out"]
from course.world.policies import oracle_policy, random_policy  # noqa: E402

__all__ += ["oracle_policy", "random_policy"]
from course.world.balance import interest_balance, platform_rates, served_ctr  # noqa: E402

__all__ += ["interest_balance", "platform_rates", "served_ctr"]
from course.world.matrices import interaction_matrix  # noqa: E402

__all__ += ["interaction_matrix"]
