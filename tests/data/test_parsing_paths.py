"""Import chunks take a fast column-by-column path when every cell is plain and valid; it must give
exactly what the careful row-by-row path gives, down to the stored JSON text."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from perfrules.data.ingest import RowParser

DATASET = {
    "slug": "deals",
    "owner_field": "owner",
    "date_field": "closed_on",
    "fields": [
        {"name": "owner", "type": "employee", "required": True, "label": {"zh": "负责人", "en": "Owner"}},
        {"name": "closed_on", "type": "date", "required": True, "label": {"zh": "日期", "en": "Date"}},
        {"name": "at", "type": "datetime", "label": {"zh": "时间", "en": "At"}},
        {"name": "note", "type": "text", "label": {"zh": "备注", "en": "Note"}},
        {"name": "amount", "type": "decimal", "label": {"zh": "金额", "en": "Amount"}},
        {"name": "paid", "type": "money", "currency": "CNY", "label": {"zh": "回款", "en": "Paid"}},
        {"name": "count", "type": "integer", "label": {"zh": "数量", "en": "Count"}},
        {"name": "won", "type": "boolean", "label": {"zh": "赢单", "en": "Won"}},
        {
            "name": "stage",
            "type": "choice",
            "label": {"zh": "阶段", "en": "Stage"},
            "options": [
                {"value": "won", "label": {"zh": "赢单", "en": "Won"}},
                {"value": "lost", "label": {"zh": "输单", "en": "Lost"}},
            ],
        },
    ],
}
CODES = {"E1": 1, "E2": 2}
COLUMNS = ["external_id", "owner", "closed_on", "at", "note", "amount", "paid", "count", "won", "stage"]

cells = st.fixed_dictionaries(
    {
        "owner": st.sampled_from(["E1", "E2", " E1 "]),
        "closed_on": st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)).map(str),
        "at": st.one_of(
            st.just(""),
            st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1)).map(lambda d: d.isoformat(sep=" ")),
        ),
        "note": st.one_of(
            st.just(""), st.text(min_size=1, max_size=30).filter(lambda t: not t.strip().startswith("="))
        ),
        "amount": st.one_of(
            st.just(""),
            st.floats(-1e12, 1e12, allow_nan=False).map(repr),
            st.sampled_from(["0.1", "1e3", "-5", "120,000.50", " 7 "]),
        ),
        "paid": st.one_of(
            st.just(""),
            st.decimals(-(10**9), 10**9, places=2, allow_nan=False, allow_infinity=False).map(str),
            st.floats(-1e9, 1e9, allow_nan=False).map(repr),
            st.sampled_from(["0.1", "1e3", "-5", "120,000.50", "¥80", "1.005", "0.30000000000000004"]),
        ),
        "count": st.one_of(st.just(""), st.integers(-(10**9), 10**9).map(str)),
        "won": st.sampled_from(["", "true", "false", "yes", "是", "0"]),
        "stage": st.sampled_from(["", "won", "lost", "Won", "赢单"]),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, min_size=1, max_size=30))
def test_fast_and_careful_paths_agree(rows):
    parser = RowParser(DATASET, CODES, COLUMNS)
    chunk = [(number, {"external_id": f"X{number}", **row}) for number, row in enumerate(rows, start=2)]
    fast = parser.parse_chunk(chunk)
    careful = [parser.parse(number, raw) for number, raw in chunk]
    assert [(e, r) for e, r, _ in fast] == [(e, r) for e, r, _ in careful]
    assert [[str(p) for p in problems] for _, _, problems in fast] == [
        [str(p) for p in problems] for _, _, problems in careful
    ]
    for _, record, _ in fast:
        if record is not None:
            assert json.loads(record[2]) is not None


plain_cells = cells.map(
    lambda row: {
        **row,
        "owner": row["owner"].strip(),
        "amount": "" if "," in row["amount"] else row["amount"],
        "paid": row["paid"] if row["paid"] in ("", "0.1", "-5", "120,000.50") else "12.5",
        "stage": row["stage"] if row["stage"] in ("", "won", "lost") else "won",
        "won": row["won"] if row["won"] in ("", "true", "false", "0") else "true",
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(plain_cells, min_size=1, max_size=30))
def test_plain_chunks_take_the_fast_path_and_agree(rows):
    parser = RowParser(DATASET, CODES, COLUMNS)
    chunk = [(number, {"external_id": f"X{number}", **row}) for number, row in enumerate(rows, start=2)]
    careful = [parser.parse(number, raw) for number, raw in chunk]
    calls = []
    parser.parse = lambda *args: calls.append(args)  # the fast path never parses row by row
    fast = parser.parse_chunk(chunk)
    assert calls == []
    assert fast == careful
