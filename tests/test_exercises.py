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


# =========================================================================== the registry
# The notebooks call check("02a.1", my_function); the references live in course.exercises.
import json
import re
import types
from pathlib import Path

import pandas as pd
import scipy.sparse as sp
from scipy import stats

from course.exercises import check, get_exercise, known_ids

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
SOLUTIONS = REPO / "solutions"


def test_unknown_id_lists_the_known_ids():
    with pytest.raises(ValueError, match="unknown exercise id '02z.1'") as error:
        check("02z.1", 1)
    for exercise_id in known_ids():
        assert exercise_id in str(error.value)
    with pytest.raises(ValueError, match="known ids"):
        check(None, 1)


def test_ids_name_a_notebook_and_every_chapter_registers():
    prefixes = {get_exercise(i).notebook_prefix for i in known_ids()}
    assert {"00", "01a", "01b", "02a", "02b", "02c", "02d", "02e"} <= prefixes
    for prefix in prefixes:
        assert len(list(NOTEBOOKS.glob(f"{prefix}_*.ipynb"))) == 1, prefix


def test_check_asks_for_the_notebook_data_it_needs():
    with pytest.raises(TypeError, match=r"takes update_recall=update_recall; missing: update_recall"):
        check("02c.2", 0.5)
    with pytest.raises(TypeError, match="unexpected: world"):
        check("01a.2", 0.5, world=None)
    with pytest.raises(TypeError, match="expects your function itself"):
        check("02a.1", np.eye(3))


def test_not_attempted_is_deterministic_and_skips_the_reference(capsys):
    def item_cosine(R):
        raise NotImplementedError

    first = check("02a.1", item_cosine)
    second = check("02a.1", item_cosine)
    # the answer exercise needs data, but a blank answer must not evaluate the reference
    blank = check("02c.2", ..., update_recall=None)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == out[1] == ("✏️ 02a.1 item_cosine: not attempted yet (it raises NotImplementedError). "
                                "Write your solution, then run this cell again.")
    assert out[2].startswith("✏️ 02c.2: not attempted yet (the answer is still empty)")
    assert first == second and first.status == blank.status == "not attempted"


def test_wrong_attempts_fail_without_showing_the_reference(capsys):
    wrong = check("02d.3", 10.0)
    out = capsys.readouterr().out
    assert not wrong.passed and "10 is too low" in out and "Hint:" in out
    assert "14.4" not in out                                       # the expected value stays hidden

    def ctr_by_position(positions, clicks, n_positions):
        return np.zeros(n_positions)                               # forgets NaN and the clicks

    result = check("00.1", ctr_by_position)
    assert result.status == "failed" and "00.1 ctr_by_position: case 1 of 20 failed" in result.message


# =========================================================================== model answers
# solutions/<notebook>.md holds one "## <id> — title" section per exercise. The python blocks of
# a registered id are run here, in order, in one namespace per file, with small stand-ins for
# the notebook state they use; each block ends with the notebook's check call.

def solution_sections(path: Path) -> dict[str, list[str]]:
    """{exercise id: [python code blocks]} of one solutions file (think exercises included)."""
    sections, current = {}, None
    for part in re.split(r"^(## .*)$", path.read_text(encoding="utf-8"), flags=re.M):
        heading = re.match(r"## (\d\d[a-z]?\.\d+)\b", part)
        if heading:
            current = heading.group(1)
            sections.setdefault(current, [])
        elif current is not None:
            sections[current] += re.findall(r"^```python\n(.*?)^```", part, flags=re.M | re.S)
    return sections


def notebook_state(prefix: str) -> dict:
    """Small stand-ins for the notebook variables the model answers of one notebook read."""
    rng = np.random.default_rng(0)
    state = {"np": np, "pd": pd, "sp": sp, "stats": stats}
    if prefix == "00":
        n = 400
        impressions = pd.DataFrame({"day": rng.integers(0, 6, n), "item_id": rng.integers(0, 30, n),
                                    "click": rng.integers(0, 2, n)})
        items = pd.DataFrame({"item_id": np.arange(30), "note_type": rng.choice(["image", "video"], 30)})
        state["world"] = types.SimpleNamespace(impressions=impressions, items=items)
    elif prefix == "02a":
        from course.recall.cf import UserCF, user_to_last_items

        n_users, n_items, n = 40, 30, 600
        log = pd.DataFrame({"user": rng.integers(0, n_users, n), "item": rng.integers(0, n_items, n),
                            "weight": rng.integers(1, 4, n).astype(float), "time": rng.permutation(n)})
        R = sp.csr_matrix((log["weight"], (log["user"], log["item"])), shape=(n_users, n_items))
        truth = np.argsort(-rng.random((10, n_items)), axis=1)[:, :10]

        def top_unblocked(scores):
            dense = scores.toarray() if sp.issparse(scores) else np.asarray(scores)
            return np.argsort(-dense, axis=1, kind="stable")[:, :20]

        def recall_vs_truth(recommended, k):
            return (recommended[:, :k, None] == truth[:, None, :k]).any(-1).sum(1).mean() / k

        state.update(log=log, R=R, n_users=n_users, eval_users=np.arange(10), top_unblocked=top_unblocked,
                     recall_vs_truth=recall_vs_truth, USERCF_NEIGHBOURS=5, N_RECALL=10,
                     UserCF=UserCF, user_to_last_items=user_to_last_items)
    elif prefix == "02b":
        item_clicks = rng.integers(0, 100, 50)
        state.update(item_clicks=item_clicks, head=np.argsort(-item_clicks, kind="stable")[:5])
    elif prefix == "05c":
        state.update(seqs=types.SimpleNamespace(lengths=rng.integers(0, 4, 50)),
                     parts=[np.arange(10), np.arange(10, 20), np.arange(20, 50)])
    elif prefix == "05a":
        state.update(seqs=types.SimpleNamespace(lengths=rng.integers(0, 4, 50)), test_rows=np.arange(30))
    elif prefix == "02c":
        state["update_recall"] = {"frozen": [0.5, 0.5], "full only": [0.6, 0.62], "incremental": [0.55, 0.6]}
    elif prefix == "03a":
        from course.ranking import calibrate_downsampled

        state.update(p_click=rng.uniform(0.01, 0.9, 500), calibrate_downsampled=calibrate_downsampled)
    return state


@pytest.mark.parametrize("prefix", sorted(path.name.split("_")[0] for path in SOLUTIONS.glob("0*.md")))
def test_model_answers_pass_their_checks(prefix, capsys):
    (path,) = SOLUTIONS.glob(f"{prefix}_*.md")
    sections = solution_sections(path)
    ids = [i for i in known_ids() if get_exercise(i).notebook_prefix == prefix]
    results = {}

    def recording_check(exercise_id, value, **data):
        results[exercise_id] = check(exercise_id, value, verbose=False, **data)
        return results[exercise_id]

    namespace = notebook_state(prefix) | {"check": recording_check}
    for exercise_id in ids:
        blocks = sections.get(exercise_id)
        assert blocks, f"{path.name} has no model answer code for {exercise_id}"
        for block in blocks:
            assert f'check("{exercise_id}"' in block, f"{exercise_id}'s model answer must end with its check"
            exec(compile(block, f"{path.name}:{exercise_id}", "exec"), namespace)
        assert results[exercise_id].passed, results[exercise_id].message


def test_every_exercise_is_checked_once_in_its_notebook_and_answered():
    for exercise_id in known_ids():
        prefix = get_exercise(exercise_id).notebook_prefix
        (notebook,) = NOTEBOOKS.glob(f"{prefix}_*.ipynb")
        code = "\n".join("".join(cell["source"]) for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                         if cell["cell_type"] == "code")
        assert len(re.findall(rf'\bcheck\("{re.escape(exercise_id)}"', code)) == 1, (exercise_id, notebook.name)
        (solutions,) = SOLUTIONS.glob(f"{notebook.stem}.md")
        assert exercise_id in solution_sections(solutions), (exercise_id, solutions.name)


def test_every_think_exercise_has_a_written_answer():
    # A section without a registered check (a "think" exercise) needs prose, not just code.
    for path in sorted(SOLUTIONS.glob("0*.md")):
        for exercise_id, _ in solution_sections(path).items():
            if exercise_id in known_ids():
                continue
            text = re.split(rf"^## {re.escape(exercise_id)}\b.*$", path.read_text(encoding="utf-8"), flags=re.M)[1]
            prose = re.sub(r"```.*?```", "", text.split("\n## ")[0], flags=re.S)
            assert prose.count(". ") >= 3, f"{path.name} {exercise_id}: write a 3-8 sentence answer"


# =========================================================================== give-aways
def giveaways(notebook_dir: Path) -> list[str]:
    """What in the notebooks gives an answer away: reference code, direct checks, solution cells."""
    found = []
    for notebook in sorted(Path(notebook_dir).glob("*.ipynb")):
        for number, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
            source = "".join(cell["source"])
            where = f"{notebook.name} cell {number}"
            if re.search(r"^#+ *Solutions?\b", source, flags=re.M):
                found.append(f"{where}: a Solutions cell")
            if cell["cell_type"] != "code":
                continue
            if re.search(r"\bdef reference_\w*|\breference(_\w+)? *(:?=)", source):
                found.append(f"{where}: defines a reference")
            if re.search(r"\bcheck_(answer|function)\(", source):
                found.append(f"{where}: calls check_answer/check_function with the reference in the notebook")
            metadata = cell.get("metadata", {})
            # The one allowed hidden cell: the collapsed "checks" cell asserting the prose's claims,
            # which holds no exercise check.
            claims_cell = "checks" in metadata.get("tags", []) and not re.search(r"\bcheck\(", source)
            if metadata.get("jupyter", {}).get("source_hidden") and not claims_cell:
                found.append(f"{where}: a hidden code cell (it still renders on GitHub)")
    return found


def test_notebooks_hold_no_answers():
    assert giveaways(NOTEBOOKS) == []


def test_giveaway_scan_finds_reference_code_and_solution_cells(tmp_path):
    cells = [{"cell_type": "code", "metadata": {}, "source": ["check_answer(answer, reference := 0.5)"]},
             {"cell_type": "code", "metadata": {}, "source": ["def reference_ctr(x):\n", "    return x"]},
             {"cell_type": "code", "metadata": {"jupyter": {"source_hidden": True}},
              "source": ["# Solutions (expand to read)\n", "check(\"00.1\", f)"]},
             {"cell_type": "code", "metadata": {}, "source": ["check(\"00.1\", ctr_by_position)"]}]
    cells.append({"cell_type": "code", "metadata": {"jupyter": {"source_hidden": True}, "tags": ["checks"]},
                  "source": ["# Checks of the claims above (for the course's tests)\n", "assert 1 < 2"]})
    (tmp_path / "x.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    found = giveaways(tmp_path)
    assert [line.split(":")[0] for line in found] == ["x.ipynb cell 0", "x.ipynb cell 0", "x.ipynb cell 1",
                                                      "x.ipynb cell 2", "x.ipynb cell 2"]
