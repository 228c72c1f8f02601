"""Tests for course.exercises: verdicts, first-failure reporting, secrecy and determinism."""
import numpy as np
import pytest

from course.exercises import CheckResult, check_answer, check_function, summarize


def reference_top_k(scores, k):
    """Indices of the k largest scores, best first (stable on ties)."""
    return np.argsort(-scores, kind="stable")[:k]


def make_case(rng):
    n = int(rng.integers(3, 30))
    return {"scores": rng.random(n), "k": int(rng.integers(1, n + 1))}


def test_correct_function_passes(capsys):
    def learner(scores, k):
        # A different but correct implementation: sort ascending, reverse.
        order = np.lexsort((np.arange(len(scores)), -scores))
        return order[:k]

    result = check_function(learner, reference_top_k, make_case, n_cases=20, seed=1)
    out = capsys.readouterr().out
    assert result.passed and bool(result)
    assert (result.n_passed, result.n_cases, result.status) == (20, 20, "passed")
    assert out == "✅ learner: all 20 random cases passed.\n"


def test_off_by_one_reports_first_failing_case(capsys):
    def learner(scores, k):
        return np.argsort(-scores, kind="stable")[: k + 1]

    result = check_function(learner, reference_top_k, make_case, n_cases=20, seed=1,
                            hint="slice exactly k items")
    out = capsys.readouterr().out
    # Recompute which cases fail independently: every case with k < n (k == n cannot overshoot).
    rng = np.random.default_rng(1)
    cases = [make_case(rng) for _ in range(20)]
    failing = [i + 1 for i, c in enumerate(cases) if c["k"] < len(c["scores"])]
    assert not result.passed and result.status == "failed"
    assert result.first_failure.case == failing[0]
    assert result.n_passed == 20 - len(failing)
    assert f"case {failing[0]} of 20 failed" in out
    assert "expected shape" in out and "Hint: slice exactly k items" in out
    np.testing.assert_array_equal(result.first_failure.inputs["scores"], cases[failing[0] - 1]["scores"])


def test_value_mismatch_names_the_index(capsys):
    result = check_function(lambda x: x * 2 + np.eye(3)[0], lambda x: x * 2,
                            lambda rng: (rng.random(3),), n_cases=3, name="double")
    out = capsys.readouterr().out
    assert "3 of 3 failed" not in out and "case 1 of 3 failed" in out
    assert "1 of 3 values differ; first at index (0,)" in out
    assert "inputs: arg0=array of shape (3,), float64" in out
    assert result.n_passed == 0


def test_exception_is_reported_not_raised(capsys):
    def learner(scores, k):
        return scores[k + 100]

    result = check_function(learner, reference_top_k, make_case, n_cases=5)
    out = capsys.readouterr().out
    assert not result.passed and result.n_passed == 0
    assert "raised IndexError" in out and "(at `return scores[k + 100]`)" in out
    assert isinstance(result.first_failure.error, IndexError)

    def normalise(x):
        # Raised inside numpy: the learner's line is shown, not numpy's.
        return x / np.linalg.norm(x, axis=2)

    result = check_function(normalise, lambda x: x, lambda rng: (rng.random((2, 3)),), n_cases=2)
    out = capsys.readouterr().out
    assert "raised AxisError" in out and "(at `return x / np.linalg.norm(x, axis=2)`" in out


def test_not_implemented_is_not_attempted(capsys):
    def learner(scores, k):
        raise NotImplementedError

    result = check_function(learner, reference_top_k, make_case)
    out = capsys.readouterr().out
    assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in out and "❌" not in out
    assert repr(result) == "CheckResult(not attempted, 0/20)"


def test_inputs_are_not_shared_between_calls():
    def mutating_learner(x):
        x[:] = 0  # a learner bug: editing the input in place must not corrupt the reference
        return x.sum()

    result = check_function(mutating_learner, lambda x: 0.0, lambda rng: (rng.random(4),),
                            n_cases=3, verbose=False)
    assert result.passed
    # And the reference sees the original values, so it can disagree with the learner.
    result = check_function(mutating_learner, lambda x: x.sum(), lambda rng: (rng.random(4) + 1,),
                            n_cases=3, verbose=False)
    assert result.n_passed == 0


def test_same_seed_same_output_and_short_repr(capsys):
    def learner(scores, k):
        return reference_top_k(scores, k)[::-1]

    first = check_function(learner, reference_top_k, make_case, seed=7)
    out1 = capsys.readouterr().out
    second = check_function(learner, reference_top_k, make_case, seed=7)
    out2 = capsys.readouterr().out
    assert out1 == out2 and first == second
    other = check_function(learner, reference_top_k, make_case, seed=8, verbose=False)
    assert other.message != first.message  # a different seed draws different cases
    assert "0x" not in repr(first) and len(repr(first)) < 60
    assert repr(first) == f"CheckResult(failed, {first.n_passed}/20, first_failure=case {first.first_failure.case})"


def test_huge_inputs_are_summarised(capsys):
    check_function(lambda x: x + 1, lambda x: x, lambda rng: (rng.random(100_000),), n_cases=1)
    out = capsys.readouterr().out
    assert "array of shape (100000,)" in out and len(out) < 500


def test_custom_compare_and_containers():
    # Order-insensitive comparison of a recall set.
    result = check_function(lambda scores, k: list(reference_top_k(scores, k))[::-1], reference_top_k, make_case,
                            compare=lambda e, g: set(e.tolist()) == set(g), verbose=False)
    assert result.passed
    ok = check_function(lambda x: {"sum": float(x.sum()), "ids": [1, 2]},
                        lambda x: {"sum": x.sum(), "ids": (1, 2)}, lambda rng: (rng.random(3),),
                        n_cases=2, verbose=False)
    assert ok.passed
    bad = check_function(lambda x: {"sum": x.sum(), "ids": [1, 3]},
                         lambda x: {"sum": x.sum(), "ids": [1, 2]}, lambda rng: (rng.random(3),),
                         n_cases=2, verbose=False)
    assert "at key 'ids'" in bad.first_failure.reason


def test_tolerance_of_default_compare():
    noisy = check_function(lambda x: x * (1 + 1e-9), lambda x: x, lambda rng: (rng.random(5),), verbose=False)
    assert noisy.passed
    wrong = check_function(lambda x: x * (1 + 1e-4), lambda x: x, lambda rng: (rng.random(5),), verbose=False)
    assert not wrong.passed


def test_check_function_validates_arguments():
    with pytest.raises(ValueError, match="n_cases"):
        check_function(len, len, lambda rng: ([1],), n_cases=0)
    with pytest.raises(TypeError, match="make_case"):
        check_function(len, len, lambda rng: [1, 2])
    with pytest.raises(TypeError, match="callables"):
        check_function(3, len, lambda rng: ([1],))


@pytest.mark.parametrize("secret", [0.0731, 12345.0, -2.5])
def test_check_answer_never_prints_expected(capsys, secret):
    for guess in (secret * 2 + 1, secret / 3 - 1, 0.0, "hello", np.array([secret * 5 + 1]), np.zeros(3)):
        result = check_answer(guess, secret, hint="clicks / impressions")
        out = capsys.readouterr().out
        assert not result.passed and out.startswith("❌")
        assert f"{secret:.6g}" not in out and str(secret) not in out and repr(secret) not in result.message


def test_check_answer_direction_and_tolerance(capsys):
    assert "too high" in check_answer(0.06, 0.05, verbose=False).message
    assert "too low" in check_answer(0.04, 0.05, verbose=False).message
    assert check_answer(0.05004, 0.05, verbose=False).passed  # within 0.1 % relative
    assert not check_answer(0.0501, 0.05, verbose=False).passed
    assert check_answer(0.0501, 0.05, tolerance=1e-3, verbose=False).passed
    assert "percentage" in check_answer(5.0, 0.05, verbose=False).message
    assert check_answer(np.float32(0.25), 0.25, verbose=False).passed
    assert check_answer(np.array([0.25]), 0.25, verbose=False).passed  # a size-1 array is a number
    assert not check_answer(float("nan"), 0.25, verbose=False).passed
    check_answer(0.05, 0.05)
    assert capsys.readouterr().out == "✅ your answer: correct.\n"


def test_check_answer_other_types():
    assert check_answer(None, 3).status == "not attempted"
    assert check_answer(..., "recall", verbose=False).status == "not attempted"
    assert check_answer("  Recall ", "recall", verbose=False).passed
    assert not check_answer("ranking", "recall", verbose=False).passed
    assert check_answer({1, 2}, {2, 1}, verbose=False).passed
    assert check_answer(True, True, verbose=False).passed
    array = check_answer(np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 3.0]), verbose=False)
    assert "1 of 3 entries" in array.message and "3" not in array.message.split("entries")[1]
    assert "shape" in check_answer(np.zeros(2), np.zeros(3), verbose=False).message
    assert "a number" in check_answer("abc", 1.0, verbose=False).message
    with pytest.raises(ValueError, match="tolerance"):
        check_answer(1.0, 1.0, tolerance=-1)


def test_summarize_is_deterministic_and_bounded():
    class Thing:
        pass

    assert "0x" not in summarize(Thing())
    assert summarize(list(range(100))) == "list of length 100: [0, 1, 2, 3, 4, ...]"
    assert len(summarize("x" * 1000)) <= 80
    assert isinstance(check_answer(1, 1, verbose=False), CheckResult)
    torch = pytest.importorskip("torch")
    assert summarize(torch.ones(2, 3)).startswith("tensor of shape (2, 3), float32")


def test_split_modules_keep_the_old_import_path():
    # the comparison rules moved to course.exercise_compare; course.exercises still offers them
    import course.exercise_compare as compare
    import course.exercises as exercises

    assert exercises.summarize is compare.summarize
    assert compare.difference({"a": 1}, {"a": 2}, rtol=0, atol=0) == "at key 'a': expected 1, got 2"
    assert compare.answer_difference(5.0, 0.05, tolerance=None).endswith("Answer as a fraction.)")
