"""Validation of uploaded files: type by content (magic bytes), not only by name, and size;
a PDF must also open, stay within the page limit and carry no active content (issue 11).
And the import of a CSV / XLSX table (read_rows, parse_rows; import_posted_file for a page,
import_api_file for the API), as the KANO questionnaires and the survey responses use it."""
import csv
import hashlib
import io
import zipfile

import pikepdf
from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.errors import DomainError, InvalidInput
from core.rest.base import reject_unknown

from .pdfsafety import TooComplex, active_content, open_pdf

# dictionaries and arrays the check of one PDF upload visits at most (forms.pdfsafety; the
# logical structure of a tagged PDF is not visited): over 100 a page for the longest
# document accepted (MAX_PDF_PAGES), and a few seconds of a worker's time at worst
MAX_PDF_OBJECTS = 250_000

# extension → (content types, leading bytes that files of that type start with)
ALLOWED = {
    "pdf": (["application/pdf"], [b"%PDF-"]),
    "png": (["image/png"], [b"\x89PNG\r\n\x1a\n"]),
    "jpg": (["image/jpeg"], [b"\xff\xd8\xff"]),
    "jpeg": (["image/jpeg"], [b"\xff\xd8\xff"]),
    "docx": (["application/vnd.openxmlformats-officedocument.wordprocessingml.document"], [b"PK\x03\x04"]),
    "xlsx": (["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"], [b"PK\x03\x04"]),
}


def max_upload_bytes():
    return settings.QMS.get("MAX_UPLOAD_MB", 10) * 1024 * 1024


def max_pdf_pages():
    return settings.QMS.get("MAX_PDF_PAGES", 2000)


def check_pdf(data, *, name, embedded_files=False):
    """Raise ValidationError unless `data` is a readable PDF within the page limit and
    without active content (scripts, automatic actions, launching programs, sending or
    importing data, multimedia, XFA; embedded files unless `embedded_files`). The file is
    refused, never altered: what is stored is what was checked (forms.pdfsafety)."""
    try:
        pdf = open_pdf(data)
    except pikepdf.PasswordError:
        raise forms.ValidationError(_("%(name)s is password-protected; upload it without a password.")
                                    % {"name": name}, code="pdf_password") from None
    except pikepdf.PdfError:
        raise forms.ValidationError(_("%(name)s cannot be read as a PDF.") % {"name": name},
                                    code="pdf_unreadable") from None
    with pdf:
        pages = len(pdf.pages)
        if pages > max_pdf_pages():
            raise forms.ValidationError(_("%(name)s has %(pages)s pages; at most %(max)s are accepted.")
                                        % {"name": name, "pages": pages, "max": max_pdf_pages()},
                                        code="pdf_too_many_pages")
        try:
            found = active_content(pdf, embedded_files=embedded_files, max_objects=MAX_PDF_OBJECTS)
        except TooComplex:
            raise forms.ValidationError(_("%(name)s is too complex to be checked (more than %(n)s objects).")
                                        % {"name": name, "n": MAX_PDF_OBJECTS}, code="pdf_too_complex") from None
    if found:
        raise forms.ValidationError(
            _("%(name)s contains active content: %(found)s. Such a PDF is refused: save it again without it "
              "(for example, print it to a new PDF) and upload it again.")
            % {"name": name, "found": "; ".join(found.labels())}, code="pdf_active_content")


def validate_upload(upload, *, embedded_files=False):
    """Raise ValidationError unless `upload` is an allowed type (by extension *and*
    content) and not larger than the limit, and, for a PDF, passes check_pdf(). Returns
    (content_type, sha256) — the SHA-256 of the very bytes that were checked."""
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED:
        raise forms.ValidationError(_("%(name)s: file type not allowed (allowed: %(types)s).")
                                    % {"name": name, "types": ", ".join(sorted(ALLOWED))})
    if upload.size > max_upload_bytes():
        raise forms.ValidationError(_("%(name)s is larger than %(mb)s MB.")
                                    % {"name": name, "mb": settings.QMS.get("MAX_UPLOAD_MB", 10)})
    content_types, signatures = ALLOWED[extension]
    upload.seek(0)
    head = upload.read(16)
    if not any(head.startswith(sig) for sig in signatures):
        raise forms.ValidationError(_("%(name)s is not really a .%(ext)s file.") % {"name": name, "ext": extension})
    upload.seek(0)
    data = b"".join(upload.chunks())  # at most MAX_UPLOAD_MB
    upload.seek(0)
    if extension == "pdf":
        check_pdf(data, name=name, embedded_files=embedded_files)
    return content_types[0], hashlib.sha256(data).hexdigest()


def validate_attachment(upload):
    """validate_upload() for files attached to records as evidence (and a revision's
    source files): a PDF may hold embedded files there (a customer's PDF/A-3 invoice with
    its XML), never scripts or actions. Controlled PDFs use validate_upload() itself."""
    return validate_upload(upload, embedded_files=True)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field, each validated with validate_attachment()."""

    check_upload = staticmethod(validate_attachment)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        cleaned, errors = [], []
        for upload in files:
            try:
                upload = super().clean(upload, initial)
                content_type, sha256 = self.check_upload(upload)
                cleaned.append((upload, content_type, sha256))
            except forms.ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise forms.ValidationError(errors)
        if self.required and not cleaned:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return cleaned


IMAGE_TYPES = ("png", "jpg", "jpeg")


def validate_image(upload):
    """validate_upload() for photos: PNG or JPEG only (by extension and content)."""
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in IMAGE_TYPES:
        raise forms.ValidationError(_("%(name)s is not a photo (allowed: PNG, JPEG).") % {"name": name})
    return validate_upload(upload)


class MultipleImageField(MultipleFileField):
    """Several photos in one field, each a real PNG or JPEG within the size limit."""

    check_upload = staticmethod(validate_image)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/png,image/jpeg"}))
        super().__init__(*args, **kwargs)


# --- import of a table from a CSV or XLSX file ----------------------------------------------------------------------

MAX_IMPORT_BYTES = 2 * 1024 * 1024
IMPORT_KINDS = ("csv", "xlsx")


def _too_large(max_bytes):
    return InvalidInput(gettext("The file is too large."),
                        field_errors={"file": [gettext("At most %(mb)s MB.") % {"mb": max_bytes // (1024 * 1024)}]})


def column_letter(index):
    """The spreadsheet name of the column at `index` (0 → A, 25 → Z, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_rows(name, content, *, max_rows, max_bytes=MAX_IMPORT_BYTES):
    """The rows of an uploaded CSV or XLSX file as lists of stripped strings (the first sheet of a workbook, of
    which at most max_rows + 2 rows are read: enough to tell that there are too many). InvalidInput (on "file")
    for another kind of file, one over max_bytes, or one that cannot be read."""
    kind = (name or "").rsplit(".", 1)[-1].lower() if "." in (name or "") else ""
    if kind not in IMPORT_KINDS:
        message = gettext("Upload a .csv or .xlsx file.")
        raise InvalidInput(message, field_errors={"file": [message]})
    if len(content) > max_bytes:
        raise _too_large(max_bytes)
    if kind == "xlsx":
        not_excel = gettext("This is not an Excel workbook.")
        if not content.startswith(b"PK\x03\x04"):
            raise InvalidInput(not_excel, field_errors={"file": [not_excel]})
        import openpyxl  # noqa: PLC0415 — only for an import

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise InvalidInput(not_excel, field_errors={"file": [not_excel]}) from None
        rows = []
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            rows.append(["" if v is None else str(v).strip() for v in row])
            if len(rows) > max_rows + 1:
                break
        workbook.close()
        return rows
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(gettext("The file is not UTF-8 or GB18030 text."),
                           field_errors={"file": [gettext("Unreadable text.")]})
    if "\x00" in text:
        raise InvalidInput(gettext("The file is not a text file."),
                           field_errors={"file": [gettext("Unreadable text.")]})
    try:
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as error:
        raise InvalidInput(gettext("The CSV file cannot be read: %(error)s") % {"error": error},
                           field_errors={"file": [str(error)]}) from None


def parse_rows(name, content, layout, *, checker, max_rows, too_many, nothing, max_bytes=MAX_IMPORT_BYTES):
    """The rows of an import file (read_rows) checked one by one against `layout`, the names of its columns (the
    first row is the header): ([(row number, data)], errors {"row N": ["column X (header): problem", …]}, or
    {"file": [problem]}). Blank rows are passed over.

    checker() is called once, when the header is accepted; it returns check(row, column), called for each row with
    its cells (padded or cut to the layout's width) and column(index, message), which records a problem of a cell;
    check returns the row's data, kept when the row has no problem. too_many: the message (with %(n)s) for a file
    of more than max_rows rows; nothing: the one for a file without a row of data."""
    rows = read_rows(name, content, max_rows=max_rows, max_bytes=max_bytes)
    width = len(layout)
    if not rows:
        return [], {"file": [gettext("The file is empty.")]}
    header = rows[0]
    while header and header[-1] == "":
        header = header[:-1]
    if len(header) != width:
        return [], {"row 1": [gettext("The header has %(given)s columns; the layout has %(width)s: %(layout)s.")
                              % {"given": len(header), "width": width, "layout": ", ".join(layout)}]}
    if len(rows) - 1 > max_rows:
        return [], {"file": [too_many % {"n": max_rows}]}
    check = checker()
    parsed, errors = [], {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell for cell in row):
            continue  # a blank line
        problems = []

        def column(index, message, problems=problems):
            problems.append(gettext("column %(letter)s (%(header)s): %(message)s") % {
                "letter": column_letter(index), "header": header[index], "message": message})

        extra = [cell for cell in row[width:] if cell]
        if extra:
            problems.append(gettext("%(n)s values beyond the last column") % {"n": len(extra)})
        data = check((row + [""] * width)[:width], column)
        if problems:
            errors[f"row {number}"] = problems
        else:
            parsed.append((number, data))
    if not parsed and not errors:
        errors["file"] = [nothing]
    return parsed, errors


def import_posted_file(request, import_file, *, max_bytes=MAX_IMPORT_BYTES):
    """The page side of an import: the POSTed `file` given to import_file(name, content) in one transaction.
    Returns (what import_file returned, []) or, on a DomainError, shown as a message, (None, [(field, problem)])."""
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise DomainError(gettext("Choose a file."), field_errors={"file": [gettext("Required.")]})
        if upload.size > max_bytes:
            raise _too_large(max_bytes)
        with transaction.atomic():
            return import_file(upload.name, upload.read()), []
    except DomainError as error:
        messages.error(request, error.message)
        return None, [(name, problem) for name, problems in error.field_errors.items() for problem in problems]


def import_api_file(request, import_file, *, max_bytes=MAX_IMPORT_BYTES):
    """The API side of an import: the multipart `file` (and nothing else) given to import_file(name, content) in
    one transaction; 201 {"imported": what it returned (the count)}."""
    if not request.content_type.startswith("multipart/"):
        raise ValidationError({"file": ["Send the file as multipart/form-data."]})
    unexpected = sorted(set(request.data) - {"file"})
    if unexpected:
        reject_unknown({k: None for k in unexpected}, set())
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError({"file": ["Required."]})
    if upload.size > max_bytes:
        raise InvalidInput("The file is too large.",
                           field_errors={"file": [f"At most {max_bytes // (1024 * 1024)} MB."]})
    content = upload.read()
    with transaction.atomic():
        count = import_file(upload.name, content)
    return Response({"imported": count}, status=201)
