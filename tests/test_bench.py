"""The benchmarks run and end with their JSON line of figures (speed is judged in bench/, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_formula_bench_reports_its_figures():
    completed = subprocess.run(
        [sys.executable, str(BENCH / "formula_bench.py"), "--rows", "3000", "--reference-rows", "300", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = completed.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert {"reference_us_per_row", "fast_us_per_row", "speedup", "rows", "formulas"} <= set(figures)
    assert figures["rows"] == 3000 and figures["formulas"] >= 10
    assert figures["mismatches"] == 0
    ratio = figures["reference_us_per_row"] / figures["fast_us_per_row"]
    assert abs(figures["speedup"] - ratio) <= 0.01 * ratio
    assert any("销售额完成率" in line for line in lines)


def test_ingest_bench_reports_its_figures():
    completed = subprocess.run(
        [sys.executable, str(BENCH / "ingest_bench.py"), "--rows", "3000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert figures["rows"] == 3000
    assert {"rows_per_s", "ratio_to_raw", "raw_rows_per_s", "seconds"} <= set(figures)
    assert figures["rows_per_s"] > 0 and figures["ratio_to_raw"] > 0


def test_run_bench_reports_its_figures():
    completed = subprocess.run(
        [sys.executable, str(BENCH / "run_bench.py"), "--employees", "60", "--small", "20", "--months", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = completed.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["employees"] == 60 and figures["records"] > 0 and figures["kpis"] >= 12
    assert {"total_s", "aggregate_s", "evaluate_s", "write_s", "reviews_s", "sql_s", "ratio_to_sql", "growth"} <= set(
        figures
    )
    assert figures["reviews_s"] > 0  # every repetition opens the reviews again
    assert figures["scorecards"] > 0 and figures["total_s"] > 0 and figures["ratio_to_sql"] > 0
    assert any("bare SQL" in line for line in lines)


def test_pay_bench_reports_its_figures():
    completed = subprocess.run(
        [sys.executable, str(BENCH / "pay_bench.py"), "--employees", "40", "--months", "2", "--databases", "sqlite"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    sqlite = figures["by_database"]["sqlite"]
    assert sqlite["lines"] > 0 and sqlite["records"] > 0 and figures["pay_s"] > 0 and figures["scorecard_s"] > 0
    assert figures["ratio_to_scorecards"] == sqlite["ratio_to_scorecards"]
