"""The `course` package: the algorithms of an industrial recommender system, one module per
chapter, plus the simulated platform (`course.world`) they are measured against.

Submodules are imported lazily so that `import course` stays fast; use e.g.
``from course import metrics`` or ``import course.world``.
"""
from course.seed import set_seed

__all__ = ["set_seed"]
__version__ = "0.1.0"
