"""The check engine: compare a learner's function or answer with a reference.

The notebooks call :func:`course.exercises.check` with an exercise id; the registry
(:mod:`course.exercises.registry`) looks the exercise up and calls the two checks below, which
stay public so that a teacher can write exercises of their own::

    check_function(my_cosine, reference_cosine, make_case, hint="normalise both vectors")
    check_answer(my_ctr, expected_ctr, hint="clicks / impressions")

The check prints one friendly verdict and returns a :class:`CheckResult`. Three promises:

* **never the solution**: :func:`check_answer` never prints the expected value (only "too high"
  or "too low"); :func:`check_function` shows one failing case, which the learner could compute
  by hand anyway, but not the reference's code.
* **deterministic output**: cases are drawn from ``numpy.random.default_rng(seed)``, messages
  contain no timings and no memory addresses, and the result's repr is short. nbval compares
  the stored output of every check cell, so the same notebook must print the same text twice.
* **kind errors**: an exception in the learner's code is reported (type, message, line), not
  raised; ``NotImplementedError`` (the stub every exercise starts with) and an answer left as
  ``...`` or ``None`` read as "not attempted yet".

This module runs the checks and words the verdicts; how values are summarised and compared
(shapes, tolerances, "too high") is in :mod:`course.exercise_compare`.
"""
from __future__ import annotations

import copy
import sysconfig
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from course._checks import check_positive_int
# summarize is part of this module's public API; the comparison rules live next to it.
from course.exercise_compare import answer_difference, as_numpy, difference, strip_addresses, summarize

__all__ = ["CheckResult", "CaseFailure", "check_function", "check_answer", "summarize"]


@dataclass(frozen=True)
class CaseFailure:
    """The first case that failed: its number (1-based), inputs, and what went wrong."""

    case: int
    inputs: dict = field(repr=False)
    reason: str = ""
    expected: Any = field(default=None, repr=False)
    got: Any = field(default=None, repr=False)
    error: BaseException | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a check.

    Attributes
    ----------
    passed : bool
        True when every case passed (``bool(result)`` is the same).
    n_passed, n_cases : int
        Cases that passed, cases tried.
    status : str
        ``"passed"``, ``"failed"`` or ``"not attempted"``.
    first_failure : CaseFailure or None
        The first failing case (None when all passed or not attempted).
    message : str
        The verdict that was printed.
    """

    passed: bool
    n_passed: int
    n_cases: int
    status: str
    # Compared through `message`, which describes the failure; CaseFailure holds arrays.
    first_failure: CaseFailure | None = field(default=None, compare=False)
    message: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        # Short and free of addresses: a check cell's Out[] is compared by nbval.
        case = "" if self.first_failure is None else f", first_failure=case {self.first_failure.case}"
        return f"CheckResult({self.status}, {self.n_passed}/{self.n_cases}{case})"


# --------------------------------------------------------------------------- reporting
def _error_text(error: BaseException) -> str:
    """Exception type, message and the learner's source line, without paths or addresses."""
    text = f"{type(error).__name__}: {strip_addresses(str(error))}".rstrip(": ")
    frames = traceback.extract_tb(error.__traceback__)
    # Point at the learner's line, not at the numpy/torch internals that raised.
    libraries = tuple(sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib"))
    own = [f for f in frames if f.filename != __file__ and not f.filename.startswith(libraries)]
    if own and own[-1].line:
        text += f" (at `{own[-1].line.strip()}`)"
    return text


def _emit(result: CheckResult, verbose: bool) -> CheckResult:
    if verbose:
        print(result.message)
    return result


def _not_attempted(name: str, n_cases: int, verbose: bool, what: str) -> CheckResult:
    message = f"✏️ {name}: not attempted yet ({what}). Write your solution, then run this cell again."
    return _emit(CheckResult(False, 0, n_cases, "not attempted", None, message), verbose)


# --------------------------------------------------------------------------- public checks
def check_function(
    learner_fn: Callable,
    reference_fn: Callable,
    make_case: Callable[[np.random.Generator], dict | tuple],
    n_cases: int = 20,
    seed: int | np.random.Generator = 0,
    compare: Callable[[Any, Any], bool] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hint: str = "",
    name: str | None = None,
    verbose: bool = True,
) -> CheckResult:
    """Run ``learner_fn`` and ``reference_fn`` on ``n_cases`` random cases and print a verdict.

    Parameters
    ----------
    learner_fn, reference_fn : callable
        Called with the same (deep-copied) inputs, so neither sees the other's in-place edits.
    make_case : callable
        ``make_case(rng) -> dict`` of keyword arguments, or a tuple of positional arguments.
    n_cases : int
        Number of random cases (>= 1). All are run; the first failure is reported.
    seed : int or numpy.random.Generator
        Seeds ``numpy.random.default_rng``: the same seed draws the same cases.
    compare : callable, optional
        ``compare(expected, got) -> bool``. Default: arrays, tensors and numbers must have the
        same shape and agree within ``numpy.isclose(rtol, atol)``; lists, tuples and dicts are
        compared element by element; anything else with ``==``.
    rtol, atol : float
        Tolerances of the default comparison.
    hint : str
        Printed after a failure.
    name : str, optional
        Shown in the verdict; defaults to ``learner_fn.__name__``.
    verbose : bool
        Print the verdict (the returned result holds it as ``message`` either way).

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> def reference(x): return x.sum()
    >>> def mine(x): return float(sum(x))
    >>> check_function(mine, reference, lambda rng: {"x": rng.random(4)}, n_cases=5)
    ✅ mine: all 5 random cases passed.
    CheckResult(passed, 5/5)
    """
    if not callable(learner_fn) or not callable(reference_fn) or not callable(make_case):
        raise TypeError("learner_fn, reference_fn and make_case must be callables")
    check_positive_int(n_cases, "n_cases")
    name = name or getattr(learner_fn, "__name__", "your function")
    rng = np.random.default_rng(seed)
    n_passed, first = 0, None
    for case in range(1, n_cases + 1):
        inputs = make_case(rng)
        if isinstance(inputs, dict):
            args, kwargs = (), inputs
        elif isinstance(inputs, tuple):
            args, kwargs = inputs, {}
        else:
            raise TypeError(f"make_case must return a dict of kwargs or a tuple of args, got {type(inputs).__name__}")
        expected = reference_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        try:
            got = learner_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except NotImplementedError:
            return _not_attempted(name, n_cases, verbose, "it raises NotImplementedError")
        except Exception as error:  # the learner's bug is reported, not raised
            failure = CaseFailure(case, dict(kwargs) or {f"arg{i}": a for i, a in enumerate(args)},
                                  f"raised {_error_text(error)}", expected, None, error)
        else:
            if compare is None:
                why = difference(expected, got, rtol, atol)
            else:
                why = None if compare(expected, got) else f"expected {summarize(expected)}, got {summarize(got)}"
            if why is None:
                n_passed += 1
                continue
            failure = CaseFailure(case, dict(kwargs) or {f"arg{i}": a for i, a in enumerate(args)},
                                  why, expected, got)
        if first is None:  # later failures only count; the first one is shown
            first = failure
    if first is None:
        message = f"✅ {name}: all {n_cases} random cases passed."
        return _emit(CheckResult(True, n_passed, n_cases, "passed", None, message), verbose)
    inputs_text = ", ".join(f"{k}={summarize(v)}" for k, v in first.inputs.items())
    message = (
        f"❌ {name}: case {first.case} of {n_cases} failed ({n_passed} of {n_cases} passed).\n"
        f"   inputs: {inputs_text}\n   {first.reason}"
    )
    if hint:
        message += f"\n   Hint: {hint}"
    return _emit(CheckResult(False, n_passed, n_cases, "failed", first, message), verbose)


def check_answer(
    learner_value: Any,
    expected: Any,
    tolerance: float | None = None,
    hint: str = "",
    name: str = "your answer",
    verbose: bool = True,
) -> CheckResult:
    """Check a numeric or free answer and print a verdict that never reveals ``expected``.

    Numbers pass when ``|value - expected| <= tolerance``; with ``tolerance=None`` a relative
    tolerance of 0.1 % is used (``math.isclose(rel_tol=1e-3, abs_tol=1e-12)``). A wrong number
    is reported as too high or too low. Arrays must match in shape and within the tolerance
    (only the count of wrong entries is printed). Strings are compared ignoring case and
    surrounding spaces; anything else with ``==``. ``None`` or ``...`` means not attempted.

    Parameters
    ----------
    learner_value : object
        The learner's answer.
    expected : object
        The reference answer (never printed).
    tolerance : float, optional
        Absolute tolerance for numbers and arrays (>= 0).
    hint : str
        Printed after a wrong answer.
    name : str
        What the answer is called in the verdict.
    verbose : bool
        Print the verdict.

    Returns
    -------
    CheckResult
        With ``n_cases = 1``.

    Examples
    --------
    >>> check_answer(0.05, 0.05, name="CTR")
    ✅ CTR: correct.
    CheckResult(passed, 1/1)
    >>> check_answer(0.5, 0.05, name="CTR", hint="clicks / impressions")
    ❌ CTR: 0.5 is too high. Hint: clicks / impressions
    CheckResult(failed, 0/1, first_failure=case 1)
    """
    if tolerance is not None and not (tolerance >= 0):
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    if learner_value is None or learner_value is Ellipsis:
        return _not_attempted(name, 1, verbose, "the answer is still empty")
    why = answer_difference(as_numpy(learner_value), expected, tolerance)
    if why is None:
        return _emit(CheckResult(True, 1, 1, "passed", None, f"✅ {name}: correct."), verbose)
    message = f"❌ {name}: {why}" + (f" Hint: {hint}" if hint else "")
    failure = CaseFailure(1, {}, why)
    return _emit(CheckResult(False, 0, 1, "failed", failure, message), verbose)
