"""Tests for course.glossary and the data/glossary.csv it reads."""
import csv
import re
from pathlib import Path

import pytest

from course.glossary import COLUMNS, REPO_ROOT, glossary_markdown, load_glossary, show_glossary

CJK = re.compile(r"[\u4e00-\u9fff]")
SEED_NOTE = REPO_ROOT.parent / "shared" / "seed" / "000_b0dc56803ef60763.txt"


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([COLUMNS, *rows])
    return path


def test_glossary_md_is_up_to_date():
    committed = (REPO_ROOT / "GLOSSARY.md").read_text(encoding="utf-8")
    assert committed == glossary_markdown(), "GLOSSARY.md is stale: run `python -m course.glossary`"


def test_every_row_is_complete_and_chinese_is_chinese():
    glossary = load_glossary()
    assert len(glossary) >= 40
    without_cjk = glossary.term[~glossary.chinese.map(lambda s: bool(CJK.search(s)))].tolist()
    assert without_cjk == []
    # Every chapter of the syllabus (00 welcome .. 08 metrics) has terms.
    assert {f"{i:02d}" for i in range(9)} <= {c[:2] for c in glossary.chapter}


def test_core_terms_use_the_notes_chinese():
    glossary = load_glossary().set_index("term").chinese
    expected = {"recall": "召回", "pre-ranking": "粗排", "ranking": "精排", "reranking": "重排",
                "impression": "曝光", "small circle": "小圈子", "two-tower model": "双塔模型",
                "reverse experiment": "反转实验", "calibration": "校准", "score fusion": "融分"}
    assert {t: glossary[t] for t in expected} == expected
    if SEED_NOTE.is_file():  # the note lives in the shared folder beside the repo, not in it
        note = SEED_NOTE.read_text(encoding="utf-8")
        for term, chinese in expected.items():
            assert chinese in note, term


def test_markdown_table_is_sorted_and_written(tmp_path):
    target = tmp_path / "GLOSSARY.md"
    text = glossary_markdown(target)
    assert target.read_text(encoding="utf-8") == text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| Chapter")]
    assert len(rows) == len(load_glossary())
    keys = [(r.split(" | ")[0][2:], r.split(" | ")[1].casefold()) for r in rows]
    assert keys == sorted(keys)
    assert "| 02 recall | Bloom filter | 布隆过滤器 |" in text


def test_pipe_in_a_field_is_escaped(tmp_path):
    path = write_csv(tmp_path / "g.csv", [["P(click|user)", "点击概率", "a | b", "01 overview"]])
    assert "| P(click\\|user) | 点击概率 | a \\| b |" in glossary_markdown(csv_path=path)


def test_show_glossary_filters_by_chapter_prefix():
    everything = show_glossary()
    recall = show_glossary("02")
    assert set(recall.chapter) == {"02 recall"} and len(recall) < len(everything)
    assert show_glossary("02 Recall").equals(recall)
    assert "双塔模型" in recall.chinese.tolist()
    assert sum(len(show_glossary(f"{i:02d}")) for i in range(9)) == len(everything)
    with pytest.raises(ValueError, match="no glossary chapter"):
        show_glossary("99")
    with pytest.raises(ValueError, match="non-empty"):
        show_glossary("  ")


def test_load_rejects_duplicate_terms(tmp_path):
    path = write_csv(tmp_path / "g.csv", [["recall", "召回", "first stage", "02 recall"],
                                         ["Recall", "召回", "again", "02 recall"]])
    with pytest.raises(ValueError, match="duplicate terms"):
        load_glossary(path)


@pytest.mark.parametrize("row, message", [
    (["recall", "", "first stage", "02 recall"], "empty 'chinese'"),
    (["recall", "召回", "first stage", "recall"], "chapters must look like"),
])
def test_load_rejects_bad_rows(tmp_path, row, message):
    with pytest.raises(ValueError, match=message):
        load_glossary(write_csv(tmp_path / "g.csv", [row]))


def test_load_rejects_wrong_columns_and_missing_file(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("term,chinese,definition\nrecall,召回,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected columns"):
        load_glossary(path)
    with pytest.raises(ValueError, match="not found"):
        load_glossary(tmp_path / "missing.csv")


def test_chapter_glossary_is_a_markdown_table_of_the_chapters_terms():
    from course.glossary import chapter_glossary

    text = chapter_glossary("02").data
    rows = text.splitlines()[2:]
    assert [r.split(" | ")[0].lstrip("| ") for r in rows] == show_glossary("02").term.tolist()
    assert all(r.startswith("| ") and r.endswith(" |") for r in rows)
