"""forms.uploads' import of a table from a CSV or XLSX file (read_rows, parse_rows), as the KANO
questionnaires and the survey responses use it, without any procedure: the rows of both kinds of
file, a file over the size limit, and the row and column named for each bad cell."""
import io

import openpyxl
import pytest
from django.utils import translation

from core.errors import InvalidInput
from forms import uploads

LAYOUT = ["name", "score"]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def _xlsx(rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _checker():
    def check(row, column):
        if not row[1].isdigit():
            column(1, "not a number")
        return {"name": row[0], "score": int(row[1]) if row[1].isdigit() else None}

    return check


def _parse(name, content, **kwargs):
    return uploads.parse_rows(name, content, LAYOUT, checker=_checker, max_rows=kwargs.pop("max_rows", 10),
                              too_many="At most %(n)s rows.", nothing="No row.", **kwargs)


def test_csv_and_xlsx_give_the_same_rows():
    csv_content = "name,score\n Ann , 3\n\nBob,4\n".encode("utf-8-sig")
    assert uploads.read_rows("t.csv", csv_content, max_rows=10) == [["name", "score"], ["Ann", "3"], [],
                                                                    ["Bob", "4"]]
    xlsx_content = _xlsx([["name", "score"], [" Ann ", 3], [None, None], ["Bob", "4"]])
    assert uploads.read_rows("T.XLSX", xlsx_content, max_rows=10) == [["name", "score"], ["Ann", "3"], ["", ""],
                                                                      ["Bob", "4"]]
    expected = ([(2, {"name": "Ann", "score": 3}), (4, {"name": "Bob", "score": 4})], {})
    assert _parse("t.csv", csv_content) == expected
    assert _parse("t.xlsx", xlsx_content) == expected


def test_gb18030_text_is_read():
    assert uploads.read_rows("t.csv", "name,score\n张三,5\n".encode("gb18030"), max_rows=10)[1] == ["张三", "5"]


def test_a_file_over_the_limit_is_refused():
    content = b"name,score\n" + b"a,1\n" * 300
    assert uploads.read_rows("t.csv", content, max_rows=1000, max_bytes=len(content))[-1] == ["a", "1"]
    with pytest.raises(InvalidInput) as refused:
        uploads.read_rows("t.csv", content, max_rows=1000, max_bytes=len(content) - 1)
    assert refused.value.message == "The file is too large."
    with pytest.raises(InvalidInput) as refused:
        _parse("t.csv", b"x" * (uploads.MAX_IMPORT_BYTES + 1))
    assert (refused.value.message, refused.value.field_errors) == ("The file is too large.",
                                                                   {"file": ["At most 2 MB."]})


@pytest.mark.parametrize("name, content, message", [
    ("t.txt", b"name,score\n", "Upload a .csv or .xlsx file."),
    ("t.xlsx", b"name,score\n", "This is not an Excel workbook."),
    ("t.xlsx", b"PK\x03\x04 not a zip", "This is not an Excel workbook."),
    ("t.csv", b"name,score\n\x00\n", "The file is not a text file."),
])
def test_an_unreadable_file_is_refused(name, content, message):
    with pytest.raises(InvalidInput) as refused:
        uploads.read_rows(name, content, max_rows=10)
    assert refused.value.message == message
    assert list(refused.value.field_errors) == ["file"]


def test_each_bad_row_is_named_with_its_columns_and_nothing_is_kept():
    parsed, errors = _parse("t.csv", b"name,score\nAnn,3\nBob,x\nCid,,extra,more\n")
    assert parsed == [(2, {"name": "Ann", "score": 3})]
    assert errors == {"row 3": ["column B (score): not a number"],
                      "row 4": ["2 values beyond the last column", "column B (score): not a number"]}


def test_the_header_the_row_count_and_an_empty_file():
    assert _parse("t.csv", b"") == ([], {"file": ["The file is empty."]})
    assert _parse("t.csv", b"name\nAnn\n") == ([], {"row 1": [
        "The header has 1 columns; the layout has 2: name, score."]})
    assert _parse("t.csv", b"name,score,,\nAnn,3\n")[0] == [(2, {"name": "Ann", "score": 3})]  # trailing blanks
    assert _parse("t.csv", b"name,score\na,1\nb,2\nc,3\n", max_rows=2) == ([], {"file": ["At most 2 rows."]})
    assert _parse("t.csv", b"name,score\n,\n") == ([], {"file": ["No row."]})


def test_column_letters():
    assert [uploads.column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]
