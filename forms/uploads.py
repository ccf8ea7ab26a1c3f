"""Validation of uploaded files: type by content (magic bytes), not only by name, and size;
a PDF must also open, stay within the page limit and carry no active content (issue 11)."""
import hashlib

import pikepdf
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

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
