"""Run every benchmark and write the results table.

    python -m benchmarks.run            # full sizes, writes benchmarks/RESULTS.md
    python -m benchmarks.run --quick    # small sizes, a smoke run (prints only)
    python -m benchmarks.run --only cf  # the modules whose name contains "cf"

Each ``benchmarks/bench_<topic>.py`` exposes ``run(quick=False) -> list[dict]``; a row names
the baseline and the contender and their seconds, measured in the same run, and the ratio
baseline / contender (above 1: the contender is that many times faster). Ratios, not
seconds, are what carry over from this 2-core machine to a learner's laptop.

A module may also expose ``quality(quick=False) -> dict[str, DataFrame]``: quality tables
(e.g. MovieLens-100K nDCG@10 beside published numbers), printed and written to RESULTS.md
after the timing table, one section per title.
"""
from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
COLUMNS = ["benchmark", "case", "baseline", "contender", "baseline_seconds",
           "contender_seconds", "ratio", "note"]


def discover(only: str | None = None) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    return [n for n in names if only is None or only in n]


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub table (pandas' own to_markdown needs the extra package tabulate)."""
    def cell(value):
        if isinstance(value, float):
            return "" if value != value else f"{value:.4g}"
        return str(value).replace("|", "\\|")
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, print only")
    parser.add_argument("--only", default=None, help="run modules whose name contains this")
    args = parser.parse_args(argv)
    rows, failures, quality = [], [], {}
    for name in discover(args.only):
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            found = module.run(quick=args.quick)
            if hasattr(module, "quality"):
                quality.update(module.quality(quick=args.quick))
        except Exception as error:  # report every module, then fail at the end
            failures.append(f"{name}: {type(error).__name__}: {error}")
            continue
        rows.extend(found)
        print(f"{name}: {len(found)} rows in {time.perf_counter() - start:.1f} s", flush=True)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        for title, extra in quality.items():
            print(f"\n{title}\n" + extra.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if not args.quick and args.only is None and not failures:
        header = (f"# Benchmark results\n\nWritten by `python -m benchmarks.run` on "
                  f"{time.strftime('%Y-%m-%d')} ({platform.machine()}, Python "
                  f"{platform.python_version()}, OMP_NUM_THREADS="
                  f"{os.environ.get('OMP_NUM_THREADS', 'unset')}). ratio = baseline seconds / "
                  f"contender seconds, both measured in this run; `make bench` runs everything, "
                  f"the peer libraries included, on one thread.\n\n")
        sections = "".join(f"\n## {title}\n\n{to_markdown(extra)}\n" for title, extra in quality.items())
        (HERE / "RESULTS.md").write_text(header + to_markdown(table) + "\n" + sections)
        print(f"wrote {HERE / 'RESULTS.md'}")
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
