"""Self-checking exercises: every exercise has an id, the notebook calls :func:`check`.

A check cell in a notebook is one line, and holds no answer::

    check("02a.1", item_cosine)            # a function the learner wrote
    check("00.2", answer, world=world)     # a value; the notebook data the check needs, by name

* :mod:`course.exercises.registry` maps ids (``"02a.3"``: notebook prefix, exercise number) to
  their reference, case generator, tolerance and hint; :func:`check` runs them, and an unknown
  id raises a ValueError listing the known ids.
* :mod:`course.exercises.ch00`, :mod:`~course.exercises.ch01`, :mod:`~course.exercises.ch02`
  register the exercises of each chapter. Model answers are not here: they are in
  ``solutions/`` at the repository root, for after trying, and a test runs them through
  :func:`check`.
* :mod:`course.exercises.engine` holds the checks themselves, :func:`check_function` and
  :func:`check_answer`, public so that a teacher can write new exercises. Their promises: never
  print the expected value, deterministic output (nbval compares it), and kind errors (a
  learner's exception is reported, a stub is "not attempted yet").
"""
from course.exercises.engine import CaseFailure, CheckResult, check_answer, check_function, summarize
from course.exercises.registry import Exercise, check, get_exercise, known_ids, register

# Importing the chapters registers their exercises.
from course.exercises import ch00, ch01, ch02  # noqa: E402,F401  (imported for their side effect)
from course.exercises import ch03a  # noqa: E402,F401
from course.exercises import ch03b  # noqa: E402,F401
from course.exercises import ch03c  # noqa: E402,F401
from course.exercises import ch03d  # noqa: E402,F401
from course.exercises import ch03e  # noqa: E402,F401
from course.exercises import ch03f  # noqa: E402,F401
from course.exercises import ch04a  # noqa: E402,F401
from course.exercises import ch04b  # noqa: E402,F401
from course.exercises import ch05a  # noqa: E402,F401
from course.exercises import ch05b  # noqa: E402,F401
from course.exercises import ch06a  # noqa: E402,F401
from course.exercises import ch06b  # noqa: E402,F401
from course.exercises import ch07a  # noqa: E402,F401
from course.exercises import ch07b  # noqa: E402,F401
from course.exercises import ch04c  # noqa: E402,F401
from course.exercises import ch02f  # noqa: E402,F401

__all__ = ["check", "known_ids", "get_exercise", "register", "Exercise",
           "CheckResult", "CaseFailure", "check_function", "check_answer", "summarize"]
