"""Reading import files: CSV (UTF-8, with or without BOM, or GB18030 as Excel saves it in China)
and XLSX (first sheet). Both give the header and (row number, {column: raw value}) pairs, where
the row number is what a person sees in the file: the header is row 1. Non-empty cells beyond
the header's columns are kept under the key EXTRA_CELLS."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from .ingest import ImportRefused

#: the key under which a row's non-empty cells beyond the header's columns are given (as
#: csv.DictReader's restkey); callers that look up their columns by name never see it
EXTRA_CELLS = None


def read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    raise ImportRefused(f"{path.name}: cannot read {suffix or 'files without an extension'}; use .csv or .xlsx")


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(f"{name}: the file is neither UTF-8 nor GB18030 text")


def _header(cells: list, name: str) -> list[str]:
    header = [str(cell).strip() if cell is not None else "" for cell in cells]
    if not header or not any(header):
        raise ImportRefused(f"{name}: the first row must name the columns")
    blank = [i + 1 for i, column in enumerate(header) if not column]
    if blank:
        raise ImportRefused(f"{name}: column {blank[0]} of the header has no name")
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise ImportRefused(f"{name}: column(s) named twice in the header: {', '.join(duplicates)}")
    return header


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    text = _decode(path.read_bytes(), path.name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(next(reader), path.name)
    except StopIteration:
        raise ImportRefused(f"{path.name}: the file is empty") from None

    def rows():
        width = len(header)
        for cells in reader:
            if not any(cells):  # a blank line, or a row of empty cells as spreadsheets save them
                continue
            raw = dict(zip(header, cells))
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                raw[EXTRA_CELLS] = cells[width:]
            yield reader.line_num, raw

    return header, rows()


#: what an XLSX file may unpack to, and how many rows and columns its first sheet may have: a
#: few megabytes of zip can otherwise stand for gigabytes of XML (and openpyxl reads through
#: defusedxml, which refuses XML entity definitions)
MAX_XLSX_UNPACKED = 512 * 2**20
MAX_XLSX_ROWS = 2_000_000
MAX_XLSX_COLUMNS = 1_000


def _check_unpacked_size(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(f"{path.name}: not an XLSX workbook ({exc})") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise ImportRefused(
            f"{path.name}: the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than the "
            f"{MAX_XLSX_UNPACKED // 2**20} MB an import reads; split it, or save it as CSV"
        )


def read_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    from openpyxl import load_workbook

    _check_unpacked_size(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        first = list(next(rows_iter))
    except StopIteration:
        raise ImportRefused(f"{path.name}: the first sheet is empty") from None
    except Exception as exc:  # openpyxl and defusedxml say what they refuse in their own ways
        raise ImportRefused(f"{path.name}: the workbook cannot be read: {exc}") from None
    if len(first) > MAX_XLSX_COLUMNS:
        raise ImportRefused(f"{path.name}: more than {MAX_XLSX_COLUMNS:,} columns")
    header = _header(first, path.name)

    def rows():
        try:
            for number, cells in enumerate(rows_iter, start=2):
                if number > MAX_XLSX_ROWS + 1:
                    raise ImportRefused(f"{path.name}: more than {MAX_XLSX_ROWS:,} rows; split the file")
                if len(cells) > MAX_XLSX_COLUMNS:
                    raise ImportRefused(f"{path.name}, row {number}: more than {MAX_XLSX_COLUMNS:,} columns")
                if not any(cell not in (None, "") for cell in cells):
                    continue
                raw = dict(zip(header, cells))
                if len(cells) > len(header) and any(c not in (None, "") for c in cells[len(header) :]):
                    raw[EXTRA_CELLS] = list(cells[len(header) :])
                yield number, raw
        except ImportRefused:
            raise
        except Exception as exc:  # a sheet is parsed as it is read: its refusals come here
            raise ImportRefused(f"{path.name}: the workbook cannot be read: {exc}") from None
        finally:
            workbook.close()

    return header, rows()
