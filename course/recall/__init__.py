"""Recall (召回): the first stage of the funnel, chapter 2 of the course.

One subpackage per notebook:

- :mod:`course.recall.cf`: collaborative filtering (ItemCF, Swing, UserCF, the n·k index), 02a;
- :mod:`course.recall.two_tower`: the two-tower model, its losses, features, negatives and
  updates, 02b and 02c;
- :mod:`course.recall.ann`: vector search (exact, IVF) and deep retrieval, 02c;
- :mod:`course.recall.channels`: author, geo, same-city and cache channels, Bloom and exposure
  filters, 02d.

Nothing is imported here, so ``import course.recall.cf`` does not load torch.
"""
