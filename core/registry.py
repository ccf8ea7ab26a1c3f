"""Record types: each controlled record type names its number prefix, bilingual
title, the controlled form (number + revision) it is made on and its PDF template.
Apps register their types in AppConfig.ready()."""
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass(frozen=True)
class RecordType:
    code: str
    prefix: str
    title_zh: str
    title_en: str
    form_code: str
    form_revision: str
    pdf_template: str
    # Rebuilds the record's data from the working tables; verify_audit compares it
    # with the latest version to catch edits that bypassed the actions.
    snapshot: Optional[Callable] = field(default=None, compare=False)
    copies: tuple = ()  # e.g. ("财务 Finance", ...) printed as marked copies

    @property
    def title(self):
        return f"{self.title_zh} {self.title_en}"


_REGISTRY: dict[str, RecordType] = {}


def register(record_type: RecordType):
    _REGISTRY[record_type.code] = record_type
    return record_type


def get(code) -> RecordType:
    return _REGISTRY[code]


def all_types():
    return list(_REGISTRY.values())


# Document control (procedures app) tells which form revision is in force for a
# record type; without it, the revision declared here is used.
_form_resolver = None


def set_form_resolver(resolver):
    global _form_resolver
    _form_resolver = resolver


def form_in_force(record_type: RecordType):
    """(form number, form revision) under which a record of this type is made now."""
    if _form_resolver is not None:
        resolved = _form_resolver(record_type)
        if resolved:
            return resolved
    return record_type.form_code, record_type.form_revision


# Status labels for the record pages: each app registers the TextChoices its records use.
_STATUS_LABELS = {}


def register_status_labels(choices):
    for value, label in choices.choices:
        _STATUS_LABELS.setdefault(value, label)


def status_label(code):
    return _STATUS_LABELS.get(code, code)
