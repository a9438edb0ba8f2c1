"""Formula benchmark: the row-by-row reference path (simpleeval) against the vectorised path.

Evaluates typical KPI formulas over synthetic CRM facts for many employees, checks that both
paths give the same results on the sampled rows, prints a table, and ends with one JSON line.

    python bench/formula_bench.py [--rows 100000] [--reference-rows 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import math
import time
import unicodedata

import numpy as np

from perfrules.formula import BOOLEAN, NUMBER, TEXT, compile_formula

CATALOGUE = {
    "sales_amount": NUMBER,
    "target.sales_amount": NUMBER,
    "prev.sales_amount": NUMBER,
    "opportunities": NUMBER,
    "won": NUMBER,
    "calls": NUMBER,
    "visits": NUMBER,
    "collected": NUMBER,
    "receivable": NUMBER,
    "satisfaction": NUMBER,
    "nps": NUMBER,
    "employee.tenure_months": NUMBER,
    "is_new": BOOLEAN,
    "status": TEXT,
}

ATTAINMENT = "sales_amount / target.sales_amount"
FORMULAS = {
    "销售额完成率 sales attainment": ATTAINMENT,
    "capped attainment score": f"clamp({ATTAINMENT} * 100, 0, 120)",
    "转化率 conversion": "IF(opportunities > 0, won / opportunities, 0)",
    "回款率 collection rate": "round(collected / receivable * 100, 1)",
    "banded score": (
        f"IF({ATTAINMENT} >= 1.2, 120, IF({ATTAINMENT} >= 1, 100, "
        f"IF({ATTAINMENT} >= 0.8, 80, IF({ATTAINMENT} >= 0.6, 60, 0))))"
    ),
    "growth vs previous": "(sales_amount - prev.sales_amount) / prev.sales_amount",
    "weighted total": (
        f"0.5 * min({ATTAINMENT}, 1.2) * 100 + 0.2 * min(collected / receivable, 1) * 100"
        " + 0.2 * coalesce(satisfaction, 3) * 20 + 0.1 * min(calls / 100, 1) * 100"
    ),
    "activity score": "min(calls / 100, 1) * 50 + min(visits / 20, 1) * 50",
    "NPS band": "IF(nps >= 50, 100, IF(nps >= 0, 60 + nps * 0.8, 0))",
    "bonus eligibility": (f"status == 'active' and employee.tenure_months >= 6 and {ATTAINMENT} >= 0.8 and not is_new"),
    "tiered commission": "IF(collected > 1000000, collected * 0.05, collected * 0.03)",
    "satisfaction score": "round(coalesce(satisfaction, 3) / 5 * 100)",
}


def make_data(rows: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Synthetic monthly facts per salesperson, with some missing values and zeros."""
    rng = np.random.default_rng(seed)
    target = rng.choice([300_000.0, 500_000.0, 800_000.0, 0.0], size=rows, p=[0.4, 0.4, 0.19, 0.01])
    sales = np.round(rng.lognormal(13, 0.5, rows), 2)
    data = {
        "sales_amount": sales,
        "target.sales_amount": target,
        "prev.sales_amount": np.round(sales * rng.normal(1, 0.2, rows), 2),
        "opportunities": rng.poisson(30, rows).astype(float),
        "calls": rng.poisson(80, rows).astype(float),
        "visits": rng.poisson(15, rows).astype(float),
        "receivable": np.round(sales * 1.1, 2),
        "nps": rng.integers(-100, 101, rows).astype(float),
        "employee.tenure_months": rng.integers(0, 120, rows).astype(float),
        "satisfaction": rng.uniform(1, 5, rows),
        "is_new": rng.random(rows) < 0.1,
        "status": rng.choice(np.array(["active", "leave", "probation"], dtype=object), rows),
    }
    data["won"] = np.minimum(rng.poisson(8, rows), data["opportunities"]).astype(float)
    data["collected"] = np.round(data["receivable"] * rng.uniform(0.5, 1, rows), 2)
    for name in ("satisfaction", "prev.sales_amount", "sales_amount"):  # 2% missing
        values = data[name]
        values[rng.random(rows) < 0.02] = np.nan
    return data


def _pad(text: str, width: int) -> str:
    """Left-align text in a column of terminal width, counting CJK characters as two."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - shown)


def _plain(value):
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--reference-rows",
        type=int,
        default=10_000,
        help="rows evaluated on the slow reference path (per-row time is reported)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="fast-path runs; the best is kept")
    args = parser.parse_args()
    reference_rows = min(args.reference_rows, args.rows)

    data = make_data(args.rows)
    sample = [{name: _plain(column[i]) for name, column in data.items()} for i in range(reference_rows)]

    header = f"{'formula':34} {'reference µs/row':>17} {'fast µs/row':>12} {'speedup':>9}"
    print(f"{args.rows:,} rows (reference on {reference_rows:,}), {len(FORMULAS)} formulas")
    print(header)
    print("-" * len(header))
    total_reference = total_fast = 0.0
    mismatches = 0
    for label, text in FORMULAS.items():
        compiled = compile_formula(text, CATALOGUE)
        columns = {name: data[name] for name in compiled.names}

        started = time.perf_counter()
        expected = [compiled.evaluate({name: row[name] for name in compiled.names}) for row in sample]
        reference = (time.perf_counter() - started) / reference_rows

        fast = math.inf
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = compiled.evaluate_columns(columns)
            fast = min(fast, (time.perf_counter() - started) / args.rows)

        mismatches += sum(result.row(i) != expected[i] for i in range(reference_rows))
        total_reference += reference
        total_fast += fast
        print(f"{_pad(label, 34)} {reference * 1e6:17.3f} {fast * 1e6:12.4f} {reference / fast:9.0f}")

    count = len(FORMULAS)
    figures = {
        "rows": args.rows,
        "reference_rows": reference_rows,
        "formulas": count,
        "reference_us_per_row": round(total_reference / count * 1e6, 4),
        "fast_us_per_row": round(total_fast / count * 1e6, 5),
        "speedup": round(total_reference / total_fast, 1),
        "fast_ms_per_formula": round(total_fast / count * args.rows * 1e3, 3),
        "mismatches": mismatches,
    }
    print("-" * len(header))
    print(
        f"{'mean per formula':34} {figures['reference_us_per_row']:17.3f} "
        f"{figures['fast_us_per_row']:12.4f} {figures['speedup']:9.0f}"
    )
    print(
        f"paths agree on {reference_rows:,} sampled rows × {count} formulas: "
        f"{'yes' if not mismatches else f'NO, {mismatches} mismatches'}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
