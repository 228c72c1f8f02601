"""User behaviour sequences (用户行为序列建模), chapter 5: notebooks 05a (LastN and DIN),
05b (SIM and long sequences) and 05c (LastN and DIN on MovieLens-100K).

- :mod:`course.behaviour.sequences`: each impression's last N clicks / likes / collects strictly
  before it, padded, with a mask;
- :mod:`course.behaviour.lastn`: ``lastn_mean``, the LastN feature, and ``LastNUserTower``;
- :mod:`course.behaviour.din`: ``TargetAttention``, DIN's activation unit and the softmax variant;
- :mod:`course.behaviour.sim`: SIM's hard and soft search and the long-term interest block;
- :mod:`course.behaviour.ranker`: a click ranker whose only variable part is the pooling;
- :mod:`course.behaviour.lifelong`: long histories drawn from the world's truth (05b);
- :mod:`course.behaviour.experiment`: the notebooks' plumbing (oracle probabilities of logged
  rows, input tensors, one training run).
"""
from course.behaviour.din import ATTENTION_KINDS, TargetAttention
from course.behaviour.lastn import LastNUserTower, lastn_mean
from course.behaviour.ranker import POOLINGS, BehaviourRanker
from course.behaviour.sequences import PAD, Sequences, behaviour_sequences, last_n_events
from course.behaviour.sim import (SEARCH_MODES, TIME_EDGES, SearchBasedInterest, gather_positions,
                                  hard_search, soft_search, time_buckets)

__all__ = ["PAD", "Sequences", "last_n_events", "behaviour_sequences", "lastn_mean", "LastNUserTower",
           "TargetAttention", "ATTENTION_KINDS", "hard_search", "soft_search", "gather_positions",
           "time_buckets", "SearchBasedInterest", "SEARCH_MODES", "TIME_EDGES",
           "BehaviourRanker", "POOLINGS"]
