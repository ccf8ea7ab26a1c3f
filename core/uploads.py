"""Validation of uploaded files: type by content (magic bytes), not only by name, and size."""
import hashlib

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

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


def validate_upload(upload):
    """Raise ValidationError unless `upload` is an allowed type (by extension *and*
    content) and not larger than the limit. Returns (content_type, sha256)."""
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
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return content_types[0], digest.hexdigest()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field, each validated with validate_upload()."""

    check_upload = staticmethod(validate_upload)

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
