"""benchmarks/RESULTS.md and the notebooks print the same MovieLens-100K numbers.

Issue #4: "the ML-100K table is printed by a notebook and matches the benchmark runner". The
runner writes RESULTS.md; notebooks 02a (collaborative filtering) and 02f (the two-tower row)
store their printed tables. Every course row of RESULTS.md must appear in a notebook's output
with the same nDCG@10, precision@10 and recall@10 (RESULTS.md keeps 4 significant digits, the
notebooks 4 decimals: they may differ by rounding only).
"""
import json
import re

import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["02a_collaborative_filtering.ipynb", "02f_two_tower_movielens.ipynb"]
TITLE = "## MovieLens-100K quality"
PRINTED_ROW = re.compile(r"^\s*(?P<model>\S.*?)\s+course\s+(\d\.\d+)\s+(\d\.\d+)\s+(\d\.\d+)\s*$")


def parse_results(text: str) -> dict[str, tuple[float, float, float]]:
    """The course rows of RESULTS.md's MovieLens table: {model: (nDCG, precision, recall)}."""
    assert TITLE in text, "RESULTS.md has no MovieLens-100K section: run `make bench`"
    rows = {}
    for line in text.split(TITLE, 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[1] == "course":
            rows[cells[0]] = tuple(float(c) for c in cells[2:5])
    return rows


def parse_printed(text: str) -> dict[str, tuple[float, float, float]]:
    """The course rows of tables printed by movielens_benchmark_table in a notebook's output."""
    rows = {}
    for line in text.splitlines():
        match = PRINTED_ROW.match(line)
        if match:
            rows[match["model"]] = tuple(float(match[i]) for i in (2, 3, 4))
    return rows


def notebook_text(name: str) -> str:
    notebook = json.loads((ROOT / "notebooks" / name).read_text())
    texts = [output.get("text", "") for cell in notebook["cells"] for output in cell.get("outputs", [])]
    return "\n".join(t if isinstance(t, str) else "".join(t) for t in texts)


def mismatches(results: dict, printed: dict, tolerance: float = 6e-5) -> list[str]:
    """What differs: a results row no notebook prints, or a number beyond rounding."""
    problems = []
    for model, values in results.items():
        if model not in printed:
            problems.append(f"{model!r} of RESULTS.md is printed by no notebook")
        elif any(abs(a - b) > tolerance for a, b in zip(values, printed[model])):
            problems.append(f"{model!r}: RESULTS.md {values}, notebook {printed[model]}")
    return problems


def test_every_course_row_of_results_is_printed_by_a_notebook_with_the_same_numbers():
    results = parse_results((ROOT / "benchmarks" / "RESULTS.md").read_text())
    printed = {}
    for name in NOTEBOOKS:
        printed.update(parse_printed(notebook_text(name)))
    assert {"ItemCF", "UserCF", "Swing", "popularity", "two-tower, in-batch + logQ"} <= set(results)
    assert mismatches(results, printed) == []


def test_the_check_catches_a_changed_digit_and_a_missing_row():
    results = parse_results(f"intro\n{TITLE}\n| model | source | nDCG@10 | precision@10 | recall@10 | seconds |\n"
                            "|---|---|---|---|---|---|\n| BPR | published | 0.442 | 0.3882 | 0.2125 |  |\n"
                            "| ItemCF | course | 0.4007 | 0.344 | 0.1837 | 0.5 |\n"
                            "| two-tower, in-batch + logQ | course | 0.4471 | 0.3981 | 0.213 | 9 |\n")
    assert results == {"ItemCF": (0.4007, 0.344, 0.1837), "two-tower, in-batch + logQ": (0.4471, 0.3981, 0.213)}
    same = parse_printed("    ItemCF    course   0.4007        0.3440     0.1837\n"
                         "two-tower, in-batch + logQ    course   0.4471        0.3981     0.2130\n"
                         "       BPR published   0.4420        0.3882     0.2125\n")
    assert mismatches(results, same) == []
    changed = {**same, "ItemCF": (0.4008, 0.3440, 0.1837)}       # one digit off
    assert mismatches(results, changed) == ["'ItemCF': RESULTS.md (0.4007, 0.344, 0.1837), "
                                            "notebook (0.4008, 0.344, 0.1837)"]
    missing = {"ItemCF": same["ItemCF"]}
    assert mismatches(results, missing) == ["'two-tower, in-batch + logQ' of RESULTS.md is printed by no notebook"]


def test_the_welcome_notebooks_movielens_figures_are_the_results_rows():
    """00_welcome types the course's MovieLens nDCG@10 into a cell (training there would cost
    its time budget); they must be RESULTS.md's popularity and two-tower rows."""
    results = parse_results((ROOT / "benchmarks" / "RESULTS.md").read_text())
    cells = json.loads((ROOT / "notebooks" / "00_welcome.ipynb").read_text())["cells"]
    source = next("".join(c["source"]) for c in cells if "movielens = pd.Series" in "".join(c["source"]))
    typed = {name: float(value) for name, value in re.findall(r'"([^"]+) \(course[^"]*\)": (\d\.\d+)', source)}
    two_tower = next(model for model in results if model.startswith("two-tower"))
    assert typed == pytest.approx({"popularity": results["popularity"][0], "two-tower": results[two_tower][0]},
                                  abs=6e-5)
