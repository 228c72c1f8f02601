"""The course glossary: every key term in English and Chinese (the note's own words).

The single source is ``data/glossary.csv`` with columns ``term, chinese, definition, chapter``
(chapter = the notebook that teaches it, e.g. ``"02 recall"``). Notebooks show the slice of a
chapter with :func:`show_glossary`; ``GLOSSARY.md`` at the repository root is a printable copy
rendered by :func:`glossary_markdown`, and a test keeps it in sync with the CSV::

    python -m course.glossary          # rewrite GLOSSARY.md from data/glossary.csv
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

__all__ = ["COLUMNS", "DEFAULT_CSV", "load_glossary", "show_glossary", "glossary_markdown",
           "chapter_glossary"]

COLUMNS = ["term", "chinese", "definition", "chapter"]
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = REPO_ROOT / "data" / "glossary.csv"
_CHAPTER = re.compile(r"^\d{2} \S")  # "02 recall": sorting by the string sorts by chapter number


def load_glossary(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the glossary.

    Parameters
    ----------
    path : str or Path, optional
        A CSV file; defaults to ``data/glossary.csv`` in the repository.

    Returns
    -------
    pandas.DataFrame of shape (n_terms, 4)
        Columns ``term, chinese, definition, chapter``, in file order, all strings.

    Raises
    ------
    ValueError
        Missing or extra columns, an empty field, a duplicate term (case-insensitive), or a
        chapter not written as two digits, a space and a name (``"02 recall"``).

    Examples
    --------
    >>> glossary = load_glossary()
    >>> glossary.loc[glossary.term == "recall", "chinese"].item()
    '召回'
    """
    path = Path(DEFAULT_CSV if path is None else path)
    if not path.is_file():
        raise ValueError(f"glossary file not found: {path}")
    # dtype=str and keep_default_na=False: "NA" or an empty cell stays a string we can check.
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if list(table.columns) != COLUMNS:
        raise ValueError(f"{path.name}: expected columns {COLUMNS}, got {list(table.columns)}")
    table = table.apply(lambda column: column.str.strip())
    empty = table.eq("")
    if empty.any().any():
        row, column = next(zip(*empty.to_numpy().nonzero()))
        raise ValueError(f"{path.name}: empty {COLUMNS[column]!r} in row {row + 2} (term {table.term[row]!r})")
    duplicated = table.term.str.casefold().duplicated(keep=False)
    if duplicated.any():
        raise ValueError(f"{path.name}: duplicate terms {sorted(set(table.term[duplicated]))}")
    bad_chapter = ~table.chapter.str.match(_CHAPTER)
    if bad_chapter.any():
        raise ValueError(
            f"{path.name}: chapters must look like '02 recall', got {sorted(set(table.chapter[bad_chapter]))}"
        )
    return table


def show_glossary(chapter: str | None = None, path: str | Path | None = None) -> pd.DataFrame:
    """The glossary, or the terms of the chapters whose name starts with ``chapter``.

    Parameters
    ----------
    chapter : str, optional
        A prefix such as ``"02"`` or ``"02 recall"`` (case-insensitive).
    path : str or Path, optional
        Glossary CSV (default: the repository's).

    Returns
    -------
    pandas.DataFrame
        Sorted by chapter then term, with a fresh 0..n-1 index.

    Examples
    --------
    >>> {"diversity", "DPP", "MMR"} <= set(show_glossary("06").term)
    True
    """
    table = load_glossary(path)
    if chapter is not None:
        if not isinstance(chapter, str) or not chapter.strip():
            raise ValueError(f"chapter must be a non-empty string such as '02', got {chapter!r}")
        mask = table.chapter.str.casefold().str.startswith(chapter.strip().casefold())
        if not mask.any():
            raise ValueError(f"no glossary chapter starts with {chapter!r}; chapters: {sorted(set(table.chapter))}")
        table = table[mask]
    return _sorted(table)


def chapter_glossary(chapter: str, path: str | Path | None = None):
    """The terms a chapter teaches, as a Markdown table for the end of its notebook.

    Rendered as Markdown (not a DataFrame) so the long definitions wrap and read like the
    rest of the notebook, in JupyterLab and on GitHub alike.

    Parameters
    ----------
    chapter : str
        A prefix such as ``"02"`` (see :func:`show_glossary`).
    path : str or Path, optional
        Glossary CSV (default: the repository's).

    Returns
    -------
    IPython.display.Markdown
        Its ``.data`` is the Markdown text: one row per term (term, 中文, definition).

    Examples
    --------
    >>> rows = chapter_glossary("06").data.splitlines()   # header, rule, then the terms A-Z
    >>> "| diversity | 多样性 | How different the items in a list are from each other; reranking trades it against relevance. |" in rows[2:]
    True
    """
    from IPython.display import Markdown

    table = show_glossary(chapter, path)
    lines = ["| Term | 中文 | Definition |", "|---|---|---|"]
    lines += [f"| {_cell(row.term)} | {_cell(row.chinese)} | {_cell(row.definition)} |"
              for row in table.itertuples(index=False)]
    return Markdown("\n".join(lines))


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    # Case-insensitive term order, so "DPP" sits between "diversity" and "MMR".
    order = table.assign(_key=table.term.str.casefold()).sort_values(["chapter", "_key"], kind="stable")
    return order.drop(columns="_key").reset_index(drop=True)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def glossary_markdown(path: str | Path | None = None, csv_path: str | Path | None = None) -> str:
    """Render the glossary as a printable Markdown table; write it to ``path`` when given.

    Parameters
    ----------
    path : str or Path, optional
        Where to write the Markdown (the repository keeps it as ``GLOSSARY.md``).
    csv_path : str or Path, optional
        Glossary CSV (default: the repository's).

    Returns
    -------
    str
        The Markdown text: a title, a note on the source, and one table sorted by chapter then
        term.

    Examples
    --------
    >>> print(glossary_markdown().splitlines()[0])
    # Glossary 术语表
    """
    table = _sorted(load_glossary(csv_path))
    lines = [
        "# Glossary 术语表",
        "",
        "Generated from `data/glossary.csv` by `python -m course.glossary`; edit the CSV, not this file.",
        "Chinese terms are those of the source note where it has them.",
        "",
        "| Chapter | Term | 中文 | Definition |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {_cell(row.chapter)} | {_cell(row.term)} | {_cell(row.chinese)} | {_cell(row.definition)} |"
        for row in table.itertuples(index=False)
    ]
    text = "\n".join(lines) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    target = REPO_ROOT / "GLOSSARY.md"
    glossary_markdown(target)
    print(f"wrote {target} ({len(load_glossary())} terms)")
