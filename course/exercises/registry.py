"""The exercise registry: one id per exercise, the reference kept out of the notebook.

A notebook's check cell names the exercise and passes what the learner wrote::

    check("02a.1", item_cosine)                           # a function exercise
    check("00.2", answer, world=world)                    # an answer computed from notebook data

Everything that would give the answer away (the reference implementation or the expression
that computes the reference value, the random case generator, tolerances, the hint) is
registered here by the chapter modules (:mod:`course.exercises.ch00`, ``ch01``, ``ch02``). The
notebook passes only notebook *data* by name (``world=world``), never a reference.

Ids are ``"<notebook prefix>.<number>"``, the number being the exercise's number in that
notebook's Exercises section ("02a.3" is exercise 3 of notebook 02a). Each exercise's reference
is self-contained, so that a chapter's exercises can move between notebooks with their ids.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from course.exercises.engine import CheckResult, check_answer, check_function

__all__ = ["Exercise", "register", "check", "known_ids", "get_exercise"]

_ID = re.compile(r"^(\d\d[a-z]?)\.(\d+)$")
_REGISTRY: dict[str, "Exercise"] = {}


@dataclass(frozen=True)
class Exercise:
    """One registered exercise.

    Attributes
    ----------
    id : str
        ``"02a.3"``: notebook prefix, then the exercise's number in that notebook.
    kind : str
        ``"function"`` (the learner writes a function, compared on random cases) or
        ``"answer"`` (the learner computes a value).
    reference : callable
        For a function exercise, the reference implementation (same signature as the
        learner's). For an answer exercise, ``reference(**data) -> expected value``, where
        ``data`` is the notebook state named in ``needs``.
    make_case : callable or None
        ``make_case(rng) -> dict`` of keyword arguments (function exercises only).
    needs : tuple of str
        Names of the notebook data the check cell must pass (answer exercises).
    hint : str
        Printed after a wrong attempt.
    options : dict
        Passed on to :func:`check_function` (``n_cases``, ``seed``, ``rtol``, ``compare``, ...)
        or :func:`check_answer` (``tolerance``).
    """

    id: str
    kind: str
    reference: Callable
    make_case: Callable | None = None
    needs: tuple[str, ...] = ()
    hint: str = ""
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def notebook_prefix(self) -> str:
        """``"02a"`` for ``"02a.3"``: the notebook whose file name starts with it."""
        return self.id.split(".")[0]


def register(exercise_id: str, kind: str, *, make_case: Callable | None = None,
             needs: tuple[str, ...] = (), hint: str = "", **options: Any) -> Callable:
    """Decorator registering ``reference`` under ``exercise_id``; returns it unchanged.

    >>> @register("99.1", "answer", tolerance=0)          # doctest: +SKIP
    ... def reference():
    ...     return 42
    """
    if not _ID.match(exercise_id):
        raise ValueError(f"exercise ids look like '02a.3', got {exercise_id!r}")
    if kind not in ("function", "answer"):
        raise ValueError(f"kind must be 'function' or 'answer', got {kind!r}")
    if kind == "function" and make_case is None:
        raise ValueError(f"function exercise {exercise_id} needs a make_case")

    def decorator(reference: Callable) -> Callable:
        if exercise_id in _REGISTRY:  # two chapters claiming an id is a bug, not an override
            raise ValueError(f"exercise {exercise_id} is registered twice")
        _REGISTRY[exercise_id] = Exercise(exercise_id, kind, reference, make_case, tuple(needs), hint,
                                          tuple(sorted(options.items())))
        return reference

    return decorator


def _sort_key(exercise_id: str) -> tuple[str, int]:
    prefix, number = _ID.match(exercise_id).groups()
    return prefix, int(number)


def known_ids() -> list[str]:
    """Every registered id, in notebook order (``"02a.2"`` before ``"02a.10"``)."""
    return sorted(_REGISTRY, key=_sort_key)


def get_exercise(exercise_id: str) -> Exercise:
    """The registered :class:`Exercise`; a ValueError listing the known ids otherwise."""
    try:
        return _REGISTRY[exercise_id]
    except (KeyError, TypeError):
        raise ValueError(f"unknown exercise id {exercise_id!r}; known ids: {', '.join(known_ids())}") from None


def check(exercise_id: str, value: Any, *, verbose: bool = True, **data: Any) -> CheckResult:
    """Check the learner's ``value`` for exercise ``exercise_id`` and print a verdict.

    Parameters
    ----------
    exercise_id : str
        ``"02a.1"``; an unknown id raises a ValueError listing the known ones.
    value : callable or object
        The learner's function (function exercises) or answer (answer exercises). A function
        that raises ``NotImplementedError``, or an answer left as ``...``, is "not attempted".
    verbose : bool
        Print the verdict (the returned result holds it as ``message`` either way).
    **data
        The notebook state the exercise needs, by name (the check cell shows which).

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> check("01a.2", ...)
    ✏️ 01a.2: not attempted yet (the answer is still empty). Write your solution, then run this cell again.
    CheckResult(not attempted, 0/1)
    """
    exercise = get_exercise(exercise_id)
    missing = [name for name in exercise.needs if name not in data]
    extra = sorted(set(data) - set(exercise.needs))
    if missing or extra:
        wanted = ", ".join(f"{name}={name}" for name in exercise.needs) or "nothing besides the answer"
        raise TypeError(f"check({exercise_id!r}, ...) takes {wanted}"
                        + (f"; missing: {', '.join(missing)}" if missing else "")
                        + (f"; unexpected: {', '.join(extra)}" if extra else ""))
    options = dict(exercise.options)
    if exercise.kind == "function":
        if not callable(value):
            raise TypeError(f"exercise {exercise_id} expects your function itself, e.g. "
                            f"check({exercise_id!r}, my_function), got a {type(value).__name__}")
        name = f"{exercise_id} {getattr(value, '__name__', 'your function')}"
        return check_function(value, exercise.reference, exercise.make_case, hint=exercise.hint,
                              name=name, verbose=verbose, **options)
    if value is None or value is Ellipsis:
        # Not attempted: skip the reference, which may be slow (a model fit) and is not needed.
        return check_answer(value, None, hint=exercise.hint, name=exercise_id, verbose=verbose)
    expected = exercise.reference(**data)
    return check_answer(value, expected, hint=exercise.hint, name=exercise_id, verbose=verbose, **options)
