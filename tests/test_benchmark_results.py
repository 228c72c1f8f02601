"""benchmarks/RESULTS.md and the notebooks print the same MovieLens-100K numbers.

Issue #4: "the ML-100K table is printed by a notebook and matches the benchmark runner". The
runner writes RESULTS.md; notebooks 02a (collaborative filtering) and 02b (the two-tower row)
store their printed tables. Every course row of RESULTS.md must appear in a notebook's output
with the same nDCG@10, precision@10 and recall@10 (RESULTS.md keeps 4 significant digits, the
notebooks 4 decimals: they may differ by rounding only).
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["02a_collaborative_filtering.ipynb", "02b_two_tower.ipynb"]
TITLE = "## MovieLens-100K quality"


def results_rows() -> dict[str, tuple[float, float, float]]:
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    assert TITLE in text, "RESULTS.md has no MovieLens-100K section: run `make bench`"
    rows = {}
    for line in text.split(TITLE, 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[1] == "course":
            rows[cells[0]] = tuple(float(c) for c in cells[2:5])
    return rows


def notebook_rows() -> dict[str, tuple[float, float, float]]:
    pattern = re.compile(r"^\s*(?P<model>\S.*?)\s+course\s+(\d\.\d+)\s+(\d\.\d+)\s+(\d\.\d+)\s*$")
    rows = {}
    for name in NOTEBOOKS:
        notebook = json.loads((ROOT / "notebooks" / name).read_text())
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                text = output.get("text", "")
                for line in (text if isinstance(text, str) else "".join(text)).splitlines():
                    match = pattern.match(line)
                    if match:
                        rows[match["model"]] = tuple(float(match[i]) for i in (2, 3, 4))
    return rows


def test_every_course_row_of_results_is_printed_by_a_notebook_with_the_same_numbers():
    results, printed = results_rows(), notebook_rows()
    assert {"ItemCF", "UserCF", "Swing", "popularity", "two-tower, in-batch + logQ"} <= set(results)
    for model, values in results.items():
        assert model in printed, f"{model!r} of RESULTS.md is printed by no notebook"
        assert printed[model] == pytest.approx(values, abs=6e-5), model


def test_the_parser_sees_a_difference():
    # the comparison can fail: a changed digit is caught
    printed = notebook_rows()["ItemCF"]
    assert (printed[0] + 0.001, *printed[1:]) != pytest.approx(results_rows()["ItemCF"], abs=6e-5)
