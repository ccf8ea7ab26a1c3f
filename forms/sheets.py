"""Excel workbooks the application writes (exports, templates to fill in): every value a person or the
data gave is written as what it is, never as a formula. openpyxl stores a string beginning with "=" as a
formula, which Excel would run when the file is opened (spreadsheet formula injection: a customer named
"=HYPERLINK(…)"); here such a cell is kept as text. Columns meant for codes are formatted as text, so that
Excel keeps a code such as 0012 as it is typed instead of turning it into the number 12."""
import io

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
