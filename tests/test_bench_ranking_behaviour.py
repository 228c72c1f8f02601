"""The benchmarks of chapters 3-5 (benchmarks/bench_ranking.py, bench_behaviour.py): their quick
runs give well-formed rows whose "same outputs" claims hold, their naive twins agree with the
course on worked examples, and their checks fail when a contender is wrong."""
import re

import numpy as np
import pytest
import torch

from benchmarks import bench_behaviour, bench_ranking
from benchmarks.run import COLUMNS
from course.behaviour import TargetAttention, hard_search
from course.crossing import fm_interaction
from course.ranking import request_cost


@pytest.fixture(scope="module")
def rows():
    return {"ranking": bench_ranking.run(quick=True), "behaviour": bench_behaviour.run(quick=True)}


def number(pattern: str, note: str) -> float:
    match = re.search(pattern, note)
    assert match, f"{pattern!r} not in {note!r}"
    return float(match[1].replace(",", ""))


def test_quick_rows_are_well_formed_and_their_equality_claims_hold(rows):
    assert [r["benchmark"] for r in rows["ranking"]] == ["FM pair term"] * 2 + ["pre-ranking"] * 3
    assert [r["benchmark"] for r in rows["behaviour"]] == (["SIM vs DIN"] * 2 + ["DIN by category pairs"] * 2
                                                          + ["DIN target attention"])
    for row in rows["ranking"] + rows["behaviour"]:
        assert list(row) == COLUMNS
        assert row["baseline_seconds"] > 0 and row["contender_seconds"] > 0
        assert row["ratio"] == pytest.approx(row["baseline_seconds"] / row["contender_seconds"])
        note = row["note"]
        assert note.startswith(("same", "different models by design")), note
        if note.startswith("same"):
            difference = number(r"max \|difference\| ([0-9.e+-]+)", note)
            scale = number(r"largest \|value\|\D*?([0-9.]+)", note) if "largest" in note else 1.0
            tolerance = 1e-6 if row["benchmark"] == "DIN target attention" else 1e-5
            assert difference <= tolerance * max(scale, 1.0), note


def test_the_pre_ranking_rows_count_the_multiply_adds_of_notebook_03e(rows):
    ranker, pre_ranker = bench_ranking.preranking_models()
    assert request_cost(pre_ranker.model, 500).loc["total", "multiply-adds"] == 1_435_776
    assert request_cost(ranker.model, 500).loc["total", "multiply-adds"] == 80_928_000
    design = rows["ranking"][2]["note"]            # 50 candidates: the same per-candidate costs
    assert "multiply-adds 8,092,800 vs 154,176 (52.5x)" in design


def test_the_naive_fm_versions_give_the_worked_example():
    v = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])          # 04a's toy: 11 + 17 + 39
    assert bench_ranking.fm_pair_loop(v).tolist() == bench_ranking.fm_all_pairs(v).tolist() == [67.0]
    many = torch.randn(7, 6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(bench_ranking.fm_pair_loop(many), fm_interaction(many), rtol=0, atol=1e-12)


def test_the_attention_loop_is_din_on_the_real_events_only():
    torch.manual_seed(0)
    attention = TargetAttention(3, hidden=(4,))
    candidate, history = torch.randn(3, 3), torch.randn(3, 4, 3)
    mask = torch.tensor([[True, True, False, False], [False] * 4, [True] * 4])
    with torch.no_grad():
        looped = bench_behaviour.attention_loop(attention, candidate, history, mask)
        one = attention(candidate[:1], history[:1, :2], mask[:1, :2])       # the padding cut off
        torch.testing.assert_close(looped, attention(candidate, history, mask), rtol=0, atol=1e-6)
    torch.testing.assert_close(looped[:1], one, rtol=0, atol=1e-6)
    assert looped[1].tolist() == [0.0, 0.0, 0.0]                           # empty history


def test_the_checks_fail_when_a_contender_is_wrong(monkeypatch):
    monkeypatch.setattr(bench_ranking, "fm_interaction", lambda v: fm_interaction(v) + 1e-2)
    with pytest.raises(AssertionError, match="differ"):
        bench_ranking.fm_rows(16, 5, 4)
    category, batch = bench_behaviour.one_request(5, 60)
    sim = bench_behaviour.ranker(category, "sim", k=bench_behaviour.K, search="hard")
    bench_behaviour.check_searches(sim, category, batch)                    # the real search passes
    shifted = lambda *args: tuple(torch.roll(x, 1, dims=1) for x in hard_search(*args))  # noqa: E731
    monkeypatch.setattr(bench_behaviour, "hard_search", shifted)
    with pytest.raises(AssertionError, match="hard search"):
        bench_behaviour.check_searches(sim, category, batch)


def test_run_restores_the_callers_thread_count():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        bench_behaviour.run(quick=True)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_benchmarks_leave_torchs_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    bench_ranking.preranking_models()
    bench_behaviour.ranker(np.arange(4), "din")
    bench_behaviour.seeded_attention(4)
    assert torch.equal(torch.rand(3), expected)
