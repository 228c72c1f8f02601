"""Numbers quoted in a notebook's prose are numbers its cells print.

A learner reads "popularity reaches 0.104" and the cell above prints 0.1037: fine. After the
world changes and the notebook is re-executed, the prose would still say 0.104 while the cell
prints something else; this test catches that. Every decimal number in a Markdown cell (e.g.
``0.19``, ``2.05``) must be, after rounding to the decimals the prose shows, a number that
appears in the notebook's outputs or code. Integers are not checked (too many are counts,
years, section numbers).

Not checked, by rule: section numbers ("section 4.1", headings), the source note's own
numbering ("the note's objection (1.2)"), examples ("e.g. 0.12"), arXiv ids. Anything else
that is quoted from outside (a paper's figure) goes into ``QUOTED`` below with its source.
"""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
NUMBER = re.compile(r"(?<![\w.])(-?\d+\.\d+)(?!\w|\.\d)")
# Words that, just before a number, say it is not a computed figure.
NOT_A_FIGURE = re.compile(r"(section|§|e\.g\.|arxiv[: ]|abs/|note's [a-z ]*\(|chapter|part|lecture|version|v)\s*$",
                          re.IGNORECASE)

# (notebook stem, number) -> where the number comes from, for figures quoted from outside.
QUOTED: dict[tuple[str, str], str] = {}


def notebook_texts(path):
    """(list of (markdown cell index, source), the text of every output and code cell)."""
    cells = json.loads(path.read_text())["cells"]
    markdown, printed = [], []
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            markdown.append((index, source))
            continue
        printed.append(source)
        for output in cell.get("outputs", []):
            printed.append("".join(output.get("text", "")))
            for kind in ("text/plain", "text/html", "text/markdown"):
                printed.append("".join(output.get("data", {}).get(kind, "")))
    return markdown, "\n".join(printed)


def quoted_figures(markdown_source):
    """Decimal numbers in prose that claim to be figures (see the module docstring)."""
    for line in markdown_source.splitlines():
        if line.lstrip().startswith("#"):
            continue                                   # headings: section numbers
        for match in NUMBER.finditer(line):
            if NOT_A_FIGURE.search(line[: match.start()][-30:]):
                continue
            yield match.group(1)


def appears(figure: str, printed_numbers: list[float]) -> bool:
    decimals = len(figure.split(".")[1])
    value = float(figure)
    return any(abs(round(p, decimals) - value) < 1e-9 for p in printed_numbers)


def test_rules_on_a_made_up_cell():
    printed = [float(x) for x in NUMBER.findall("recall 0.1937 and 2.049 and -0.5")]
    assert appears("0.19", printed) and appears("0.194", printed) and appears("2.05", printed)
    assert not appears("0.20", printed) and not appears("0.1936", printed)
    text = "### 4.1 Heading 9.9\nSee section 4.2, e.g. 0.12, the note's objection (1.2), arXiv 2010.05525; we got 0.19."
    assert list(quoted_figures(text)) == ["0.19"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_numbers_in_prose_are_printed_by_the_notebook(path):
    markdown, printed = notebook_texts(path)
    printed_numbers = [float(x) for x in NUMBER.findall(printed)]
    missing = [(index, figure) for index, source in markdown for figure in quoted_figures(source)
               if (path.stem, figure) not in QUOTED and not appears(figure, printed_numbers)]
    assert not missing, (f"{path.name}: prose quotes numbers that no cell prints "
                         f"(Markdown cell index, number): {missing}")
