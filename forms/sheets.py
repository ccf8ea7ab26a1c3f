"""Excel workbooks the application writes (exports, templates to fill in): every value a person or the
data gave is written as what it is, never as a formula. openpyxl stores a string beginning with "=" as a
formula, which Excel would run when the file is opened (spreadsheet formula injection: a customer named
"=HYPERLINK(…)"); here such a cell is kept as text. Columns meant for codes are formatted as text, so that
Excel keeps a code such as 0012 as it is typed instead of turning it into the number 12.

CSV files have no cell types: a spreadsheet opening one takes any cell beginning with "=", "+", "-" or "@"
(or a tab or carriage return before one) for a formula. `csv_writer` writes such a value with a leading
apostrophe, as OWASP recommends, so that it is shown and never run; a plain number ("-5", "+3.2") stays as
it is. The exact values are where the CSV came from (the screen, the record, the bundle's JSON)."""
import csv
import io
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")

TEXT_FORMAT = "@"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(title):
    """(a new workbook, its first sheet named `title`)."""
    from openpyxl import Workbook  # noqa: PLC0415 — only when a workbook is written

    book = Workbook()
    sheet = book.active
    sheet.title = title
    return book, sheet


def append(sheet, values):
    """Append a row of `values`; a string that openpyxl would take for a formula stays text."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


def text_columns(sheet, letters, rows):
    """Format columns `letters` as text for the first `rows` rows (what is typed there stays as typed)."""
    for letter in letters:
        for row in range(1, rows + 1):
            sheet[f"{letter}{row}"].number_format = TEXT_FORMAT


def save(book):
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_cell(value):
    """`value` as a CSV cell that a spreadsheet cannot run (see the module docstring)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class _SafeRows:
    """A csv.writer or csv.DictWriter whose rows pass through `csv_cell`."""

    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        if isinstance(row, dict):
            return self._writer.writerow({key: csv_cell(value) for key, value in row.items()})
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)

    def __getattr__(self, name):  # writeheader, dialect
        return getattr(self._writer, name)


def csv_writer(out, fieldnames=None):
    """csv.writer(out), or csv.DictWriter(out, fieldnames) when `fieldnames` is given, writing no formulas."""
    return _SafeRows(csv.DictWriter(out, fieldnames=fieldnames) if fieldnames else csv.writer(out))
